// Issue 24 item 2 and issue 21 item 10: the embedded broker over mutual TLS. A device proves its client id with a
// certificate naming it (CN), as on AWS IoT; connecting as `dev-b` with another certificate is refused with a log
// line and does not knock dev-b off (on plain MQTT it did, and took dev-b's topics); no certificate, no connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { MqttClient } from '../../src/mqtt/client.js';
import type { TlsOptions } from '../../src/ports/socket.js';
import { startAisBroker } from '../../emulator/broker.js';
import { captureLogger } from '../support/log.js';
import { createTestPki } from '../support/pki.js';
import { until } from '../support/wait.js';

test('over mutual TLS a device connects only as the client id its certificate names; the impostor is refused and the owner stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-broker-identity-'));
  const pki = createTestPki({ dir, clientNames: ['ais-service', 'dev-a', 'dev-b'] });
  const denied: string[] = [];
  const broker = await startAisBroker(0, {
    topicRoot: '$aws/alexa', serviceClientId: 'ais-service', servicePassword: 'unused-here', onDenied: (l) => denied.push(l),
    tls: { ca: pki.ca.certPem, cert: pki.server.certPem, key: pki.server.keyPem },
  });
  const clients: MqttClient[] = [];
  const connect = (clientId: string, tls: TlsOptions) => {
    const events: string[] = [];
    const client = new MqttClient({
      socket: createSocket, clock: new NodeClock(), log: captureLogger(clientId).log, host: '127.0.0.1', port: broker.port, tls, clientId, reconnect: false,
      onConnect: () => events.push('connected'),
      onMessage: () => undefined,
      onDisconnect: (error) => events.push(`disconnected: ${error?.message ?? 'closed'}`),
    });
    clients.push(client);
    client.connect();
    return events;
  };
  const certOf = (cn: string): TlsOptions => ({ ca: pki.ca.certPem, certificate: pki.client(cn).certPem, key: pki.client(cn).keyPem, serverName: 'localhost' });
  try {
    const owner = connect('dev-b', certOf('dev-b'));
    await until('dev-b connected with its certificate', () => owner.length > 0);
    assert.deepEqual(owner, ['connected']);

    const impostor = connect('dev-b', certOf('dev-a'));
    await until('the impostor answered', () => impostor.length > 0);
    assert.match(impostor[0], /^disconnected: broker refused the connection: .*\(CONNACK code 5\)$/);
    assert.deepEqual(denied, ['CONNECT as dev-b refused: the client certificate names "dev-a"']);

    const anonymous = connect('dev-b', { ca: pki.ca.certPem, serverName: 'localhost' });
    await until('the client without a certificate answered', () => anonymous.length > 0);
    assert.match(anonymous[0], /^disconnected: /);
    assert.notEqual(anonymous[0], 'connected');

    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(owner, ['connected'], 'dev-b was never knocked off');
    assert.ok(clients[0].connected);
  } finally {
    for (const c of clients) c.end();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
