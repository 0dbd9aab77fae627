// The emulator's broker over WebSocket (what a browser speaks): a client of the npm `mqtt` package connects to
// ws://…/mqtt, is held to the same AIS access rules as over TCP (its own topics only), and the AIS service answers
// its Connect on connection/fromservice through the same broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { startCloud } from '../../emulator/cloud.js';
import { captureLogger } from '../support/log.js';
import { until } from '../support/wait.js';

test('MQTT over WebSocket: the AIS rules hold and the service answers a Connect', async () => {
  const log = captureLogger('cloud', 'info');
  const cloud = await startCloud({ voice: false, log: log.log, mqttWebSocketPort: 0 });
  const url = cloud.mqttWebSocketUrl!;
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
  const root = '$aws/alexa/ais/v1/ws-dev-1';
  const client = await connectAsync(url, { clientId: 'ws-dev-1', protocolVersion: 4, reconnectPeriod: 0 });
  try {
    assert.deepEqual((await client.subscribeAsync(`${root}/connection/fromservice`)).map((g) => g.qos), [0]);
    // Another device's topic: SUBACK failure (0x80), which the client reports as an error.
    await assert.rejects(client.subscribeAsync('$aws/alexa/ais/v1/other/directive'), /Subscribe error/);
    assert.ok(log.lines.some((l) => l.endsWith('SUBSCRIBE from ws-dev-1 to $aws/alexa/ais/v1/other/directive refused')), log.lines.join('\n'));
    const received: string[] = [];
    client.on('message', (_topic, payload) => received.push(payload.toString()));
    // Not registered: the service answers INVALID_CLIENT_ID, which proves the whole path both ways.
    await client.publishAsync(`${root}/connection/fromclient`, JSON.stringify({
      header: { name: 'Connect', messageId: 'm-1' }, payload: { awsAccountId: '000000000000', clientId: 'ws-dev-1' },
    }));
    await until('the Acknowledge', () => received.length > 0);
    assert.equal((JSON.parse(received[0]) as { payload: { code: string } }).payload.code, 'INVALID_CLIENT_ID');
  } finally {
    await client.endAsync(true);
    await cloud.close();
  }
});
