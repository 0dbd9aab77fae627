// The emulator's AIS service against a misbehaving device: a raw MQTT client that speaks the envelope itself,
// so it can break the rules our own device never breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { Envelope } from '../../src/ais/envelope.js';
import { encodeJson } from '../../src/ais/message.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { AisTestbed, AWS_ACCOUNT, CAPABILITIES, crypto, until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';

const ROOT = '$aws/alexa/ais/v1/rogue-1';

/** Connects as `rogue-1`, opens the AIS connection by hand and publishes whatever a test wants. */
async function rogue(bed: AisTestbed) {
  const key = bed.register('rogue-1');
  const envelope = new Envelope({ crypto, maxMessageBytes: 8000 });
  const inbound: { topic: string; payload: Uint8Array }[] = [];
  const { log } = captureLogger('rogue');
  let connected = false;
  const client = new MqttClient({
    socket: createSocket, clock: new NodeClock(), log, host: '127.0.0.1', port: bed.broker.port, clientId: 'rogue-1', reconnect: false,
    onConnect: () => { connected = true; },
    onMessage: (topic, payload) => inbound.push({ topic, payload: payload.slice() }),
  });
  client.subscribe(['directive', 'capabilities/acknowledge', 'connection/fromservice'].map((leaf) => `${ROOT}/${leaf}`), 0);
  client.connect();
  await until('MQTT', () => connected);
  const counters: Record<string, number> = { event: 0, 'capabilities/publish': 0, microphone: 0 };
  const sealed = new Uint8Array(8000);
  const send = (leaf: 'event' | 'capabilities/publish' | 'microphone', body: Uint8Array) => {
    const length = envelope.seal(key, counters[leaf]++, body, sealed);
    client.publish(`${ROOT}/${leaf}`, sealed, { length });
  };
  client.publish(`${ROOT}/connection/fromclient`, encodeJson({ header: { name: 'Connect', messageId: 'c1' }, payload: { awsAccountId: AWS_ACCOUNT, clientId: 'rogue-1' } }));
  await until('Acknowledge', () => inbound.some((m) => m.topic.endsWith('connection/fromservice')));
  /** Decrypted directive names and payloads received so far. */
  const directives = () => inbound.filter((m) => m.topic.endsWith('/directive')).flatMap((m) => {
    const opened = envelope.open(key, m.payload);
    assert.ok(opened.ok, opened.error?.message);
    return (JSON.parse(new TextDecoder().decode(opened.body())) as { directives: { header: { name: string }; payload: Record<string, unknown> }[] }).directives;
  });
  return { client, send, directives, publishCapabilities: () => send('capabilities/publish', encodeJson({ header: { name: 'Publish', messageId: 'p1' }, payload: { capabilities: CAPABILITIES } })) };
}

const event = (name: string, payload: Record<string, unknown> = {}) => encodeJson({ events: [{ header: { name, messageId: `m-${name}` }, payload }] });

test('a first event other than SynchronizeState is answered with Exception INVALID_REQUEST in the words ESP#129 shows', async () => {
  const bed = await new AisTestbed().start();
  try {
    const r = await rogue(bed);
    r.publishCapabilities();
    r.send('event', event('VolumeChanged', { volume: 10 }));
    await until('an Exception', () => r.directives().length === 1);
    assert.deepEqual(r.directives()[0].header.name, 'Exception');
    assert.deepEqual(r.directives()[0].payload, { code: 'INVALID_REQUEST', description: 'Invalid first event, event: VolumeChanged, desired: SynchronizeState' });
    r.client.end();
  } finally {
    await bed.stop();
  }
});

test('wrong topic use: binary stream entries on the event topic and malformed JSON get Exception INVALID_REQUEST, the connection stays', async () => {
  const bed = await new AisTestbed().start();
  try {
    const r = await rogue(bed);
    r.publishCapabilities();
    r.send('event', event('SynchronizeState', { alerts: { allAlerts: [] } }));
    await until('synchronized', () => bed.service.deviceState('rogue-1')?.synchronizedState !== undefined);
    // A microphone entry (length 8+4, type 0, count 0, offset 0, 4 bytes of PCM) where JSON events belong.
    r.send('event', Uint8Array.from([12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
    r.send('event', new TextEncoder().encode('{"events": [ {"header": '));
    r.send('event', encodeJson({ notEvents: [] }));
    await until('three Exceptions', () => r.directives().length === 3);
    const descriptions = r.directives().map((d) => `${d.payload.code}: ${String(d.payload.description).replace(/: .*$/, '')}`);
    assert.deepEqual(descriptions, ['INVALID_REQUEST: event #1', 'INVALID_REQUEST: event #2', 'INVALID_REQUEST: event #3']);
    assert.match(String(r.directives()[2].payload.description), /body has no "events" array/);
    assert.equal(bed.service.isConnected('rogue-1'), true);
    r.client.end();
  } finally {
    await bed.stop();
  }
});

test('capabilities published after the first event are rejected, and unknown interfaces are named', async () => {
  const bed = await new AisTestbed().start();
  try {
    const r = await rogue(bed);
    r.send('capabilities/publish', encodeJson({ header: { name: 'Publish', messageId: 'p0' }, payload: { capabilities: [...CAPABILITIES, { type: 'AisInterface', interface: 'Teleporter', version: '1.0' }] } }));
    r.publishCapabilities();
    r.send('event', event('SynchronizeState'));
    await until('synchronized', () => bed.service.deviceState('rogue-1')?.synchronizedState !== undefined);
    r.publishCapabilities();
    await until('three acknowledgements', () => bed.serviceLog.lines.filter((l) => /rogue-1: capabilities CAPABILITIES_/.test(l)).length === 3);
    assert.deepEqual(bed.serviceLog.lines.filter((l) => /rogue-1: capabilities CAPABILITIES_/.test(l)).map((l) => l.replace(/^INFO \[service\] rogue-1: capabilities /, '')), [
      'CAPABILITIES_REJECTED: capability 2: unknown interface "Teleporter"',
      'CAPABILITIES_ACCEPTED',
      'CAPABILITIES_REJECTED: capabilities may only be published right after Acknowledge',
    ]);
    r.client.end();
  } finally {
    await bed.stop();
  }
});
