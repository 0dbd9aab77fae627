// The emulator's AIS service against a misbehaving device: a raw MQTT client that speaks the envelope itself,
// so it can break the rules our own device never breaks, or vanish without a word (its socket destroyed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { Envelope } from '../../src/ais/envelope.js';
import { encodeJson } from '../../src/ais/message.js';
import { MqttClient } from '../../src/mqtt/client.js';
import type { SocketFactory } from '../../src/ports/socket.js';
import { PRESENCE_DISCONNECTED } from '../../emulator/broker.js';
import { AlertService, type AlertRinger } from '../../emulator/ais/alerts.js';
import { AisTestbed, AWS_ACCOUNT, CAPABILITIES, crypto, until } from '../support/ais.js';
import { cuttableNetwork } from '../support/cuttable-network.js';
import { captureLogger } from '../support/log.js';
import { connect } from 'node:net';
import { FakeClock } from '../support/service-clock.js';
import { VoiceSessions } from '../../emulator/ais/voice-session.js';
import { requirePocketsphinx } from './voice/tools.js';
import { DeviceStore } from '../../emulator/ais/device-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = '$aws/alexa/ais/v1/rogue-1';

/** Connects as `rogue-1`, opens the AIS connection by hand and publishes whatever a test wants. */
async function rogue(bed: AisTestbed, socket: SocketFactory = createSocket) {
  const key = bed.register('rogue-1');
  const envelope = new Envelope({ crypto, maxMessageBytes: 8000 });
  const inbound: { topic: string; payload: Uint8Array }[] = [];
  const { log } = captureLogger('rogue');
  let connected = false;
  const client = new MqttClient({
    socket, clock: new NodeClock(), log, host: '127.0.0.1', port: bed.broker.port, clientId: 'rogue-1', reconnect: false,
    onConnect: () => { connected = true; },
    onMessage: (topic, payload) => inbound.push({ topic, payload: payload.slice() }),
  });
  client.subscribe(['directive', 'speaker', 'capabilities/acknowledge', 'connection/fromservice'].map((leaf) => `${ROOT}/${leaf}`), 0);
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
  /** Speaker messages so far: MQTT payload size and decrypted body. */
  const speaker = () => inbound.filter((m) => m.topic.endsWith('/speaker')).map((m) => {
    const opened = envelope.open(key, m.payload);
    assert.ok(opened.ok, opened.error?.message);
    return { size: m.payload.length, body: opened.body().slice() };
  });
  /** Decrypted capabilities acknowledgements. */
  const acknowledgements = () => inbound.filter((m) => m.topic.endsWith('/capabilities/acknowledge')).map((m) => {
    const opened = envelope.open(key, m.payload);
    assert.ok(opened.ok, opened.error?.message);
    return (JSON.parse(new TextDecoder().decode(opened.body())) as { payload: { code: string; description?: string } }).payload;
  });
  /** The next message on `leaf` is never sent: a gap. */
  const skip = (leaf: 'event' | 'capabilities/publish' | 'microphone') => { counters[leaf]++; };
  return { client, send, skip, directives, speaker, acknowledgements, publishCapabilities: () => send('capabilities/publish', encodeJson({ header: { name: 'Publish', messageId: 'p1' }, payload: { capabilities: CAPABILITIES } })) };
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

/** Capabilities and SynchronizeState listing `alerts`: the AIS connection is open. */
async function synchronize(bed: AisTestbed, r: Awaited<ReturnType<typeof rogue>>, alerts: string[] = []) {
  const connections = bed.service.deviceState('rogue-1')?.connections ?? 0; // one SynchronizeState per connection
  r.publishCapabilities();
  r.send('event', event('SynchronizeState', { alerts: { allAlerts: alerts } }));
  await until('synchronized', () => bed.serviceLog.lines.filter((l) => /rogue-1: state synchronized/.test(l)).length === connections);
}

test('a device that vanishes without Disconnect is seen as lost from the broker\'s presence event, and says why', async (t) => {
  const bed = await new AisTestbed().start();
  const network = cuttableNetwork(createSocket);
  const events: Record<string, unknown>[] = [];
  bed.broker.aedes.subscribe(`${PRESENCE_DISCONNECTED}+`, (packet, done) => {
    events.push(JSON.parse(packet.payload.toString()) as Record<string, unknown>);
    done();
  }, () => undefined);
  try {
    const r = await rogue(bed, network.socket);
    await synchronize(bed, r);
    assert.equal(bed.service.isConnected('rogue-1'), true);
    const cutAt = performance.now();
    network.cut(); // the socket destroyed: no AIS Disconnect, no MQTT DISCONNECT
    await until('seen as lost', () => !bed.service.isConnected('rogue-1'), 1000);
    const lostMs = performance.now() - cutAt;
    assert.ok(bed.serviceLog.lines.includes('WARN [service] rogue-1: connection lost (CONNECTION_LOST)'), bed.serviceLog.lines.join('\n'));
    assert.equal(events.length, 1);
    const { timestamp, ...rest } = events[0];
    assert.deepEqual(rest, { clientId: 'rogue-1', eventType: 'disconnected', clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST', versionNumber: 0 });
    assert.ok(typeof timestamp === 'number' && Math.abs(timestamp - Date.now()) < 5000, `timestamp ${String(timestamp)}`);
    r.client.end();

    // Back, then an MQTT DISCONNECT without the AIS Disconnect: lost too, as the client's own doing.
    network.restore();
    const again = await rogue(bed);
    await synchronize(bed, again);
    assert.equal(bed.service.isConnected('rogue-1'), true);
    again.client.end();
    await until('seen as gone', () => !bed.service.isConnected('rogue-1'), 1000);
    assert.ok(bed.serviceLog.lines.includes('WARN [service] rogue-1: connection lost (CLIENT_INITIATED_DISCONNECT)'), bed.serviceLog.lines.join('\n'));
    assert.equal(events.length, 2);
    assert.equal(events[1].clientInitiatedDisconnect, true);
    assert.ok(!events.some((e) => e.clientId === 'ais-service'));
    t.diagnostic(`lost ${lostMs.toFixed(0)} ms after the socket was destroyed`);
  } finally {
    await bed.stop();
  }
});

test('a device may not subscribe to presence events (SUBACK failure), nor publish them', async () => {
  const bed = await new AisTestbed().start();
  try {
    const { log } = captureLogger('snoop-1');
    let connected = false;
    const client = new MqttClient({
      socket: createSocket, clock: new NodeClock(), log, host: '127.0.0.1', port: bed.broker.port, clientId: 'snoop-1', reconnect: false,
      onConnect: () => { connected = true; },
      onMessage: () => undefined,
    });
    client.connect();
    await until('MQTT', () => connected);
    let result: { error?: Error; granted?: number[] } | undefined;
    client.subscribe(['$aws/events/presence/#', `${PRESENCE_DISCONNECTED}rogue-1`], 0, (error, granted) => { result = { error, granted }; });
    await until('SUBACK', () => result !== undefined);
    assert.deepEqual(result!.granted, [0x80, 0x80]);
    assert.match(String(result!.error?.message), /refused the subscription/);
    client.publish(`${PRESENCE_DISCONNECTED}rogue-1`, new TextEncoder().encode('{"clientId":"rogue-1"}'));
    await until('publish refused', () => bed.denied.some((l) => l.startsWith(`PUBLISH from snoop-1 to ${PRESENCE_DISCONNECTED}rogue-1 refused`)));
    assert.deepEqual(bed.denied.slice(0, 2), ['SUBSCRIBE from snoop-1 to $aws/events/presence/# refused', `SUBSCRIBE from snoop-1 to ${PRESENCE_DISCONNECTED}rogue-1 refused`]);
    client.end();
  } finally {
    await bed.stop();
  }
});

test('an alert due while the device is lost is not rung into the void: it rings when the device is back and lists it', async () => {
  const { log, lines } = captureLogger('alerts');
  const alerts = new AlertService({ log, durationMs: 3000 });
  // The cloud's speech is the boundary here (it needs pocketsphinx): a ringer that records what it was asked to ring.
  const rings: string[] = [];
  const ringer: AlertRinger = { ring: (clientId, text, _ms, onEnd) => { rings.push(`${clientId}: ${text}`); return () => onEnd(true); } };
  const bed = await new AisTestbed().start(alerts.serviceHooks());
  alerts.attach(bed.service, ringer);
  const network = cuttableNetwork(createSocket);
  try {
    const r = await rogue(bed, network.socket);
    await synchronize(bed, r);
    const token = alerts.set('rogue-1', 'TIMER', alerts.nowSeconds() + 3, '3 second');
    await until('SetAlert', () => r.directives().some((d) => d.header.name === 'SetAlert'));
    r.send('event', event('SetAlertSucceeded', { token }));
    await until('confirmed', () => alerts.list('rogue-1')[0]?.confirmed === true);
    network.cut();
    await until('seen as lost', () => !bed.service.isConnected('rogue-1'), 1000);
    await until('due while lost', () => lines.some((l) => l.includes(`alert ${token} due while the device is offline`)), 5000);
    assert.deepEqual(rings, [], 'nothing rung into the void');
    assert.deepEqual(alerts.list('rogue-1').map((a) => [a.token, a.rung]), [[token, false]], 'still pending for the device');
    r.client.end();

    network.restore();
    const back = await rogue(bed);
    await synchronize(bed, back, [token]);
    await until('rung now', () => rings.length === 1);
    assert.deepEqual(rings, ['rogue-1: Your 3 second timer is done.']);
    assert.ok(lines.some((l) => l.includes(`alert ${token} came due while the device was away; ringing now`)), lines.join('\n'));
    back.client.end();
  } finally {
    alerts.close();
    await bed.stop();
  }
});

test('the service runs on an injected clock and broker stream: a device\'s gap is waited for on the service\'s clock, not wall time', async () => {
  const clock = new FakeClock();
  let streams = 0;
  const bed = new AisTestbed();
  await bed.start({
    clock, gapTimeoutMs: 10_000,
    connectBroker: () => { streams++; return connect({ host: '127.0.0.1', port: bed.broker.port }); },
  });
  try {
    assert.equal(streams, 1, 'the MQTT client took its socket from the factory');
    const r = await rogue(bed);
    await synchronize(bed, r);
    r.skip('event');
    r.send('event', event('VolumeChanged', { volume: 3 }));
    await until('held', () => clock.timers.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const disconnected = () => bed.serviceLog.lines.some((l) => /rogue-1: Disconnect UNEXPECTED_SEQUENCE_NUMBER: event: #1 never came within 10000 ms/.test(l));
    assert.equal(disconnected(), false, 'no wall-clock timer ends the wait');
    clock.advance(10_000);
    assert.equal(disconnected(), true, bed.serviceLog.lines.join('\n'));
    r.client.end();
  } finally {
    await bed.stop();
  }
});

const system = (maxSizeInBytes: number) => ({ type: 'AisInterface', interface: 'System', version: '1.0', configurations: { mqtt: { message: { maxSizeInBytes } }, firmwareVersion: '1', locale: 'en-US' } });
const speakerCapability = (bitrate: Record<string, unknown>) => ({
  type: 'AisInterface', interface: 'Speaker', version: '1.0',
  configurations: { audioBuffer: { sizeInBytes: 16000, reporting: { overrunWarningThreshold: 12800, underrunWarningThreshold: 3200 } }, audioDecoder: { format: 'OPUS', bitrate, numberOfChannels: 1 } },
});
const MICROPHONE = { type: 'AisInterface', interface: 'Microphone', version: '1.0', configurations: { audioEncoder: { format: 'AUDIO_L16_RATE_16000_CHANNELS_1' } } };
const publish = (capabilities: unknown[]) => encodeJson({ header: { name: 'Publish', messageId: 'p' }, payload: { capabilities } });

test('declared speaker terms: VBR, an odd bitrate and a maxSizeInBytes too small for a frame are rejected with the reason; EndpointForwarding is known', async () => {
  const bed = await new AisTestbed().start();
  try {
    const r = await rogue(bed);
    r.send('capabilities/publish', publish([system(8000), speakerCapability({ type: 'VARIABLE', bitsPerSecond: 64000 })]));
    r.send('capabilities/publish', publish([system(8000), speakerCapability({ type: 'CONSTANT', bitsPerSecond: 64100 })]));
    r.send('capabilities/publish', publish([system(100), speakerCapability({ type: 'CONSTANT', bitsPerSecond: 64000 })]));
    r.send('capabilities/publish', publish([system(600), speakerCapability({ type: 'CONSTANT', bitsPerSecond: 32000 }), { type: 'AisInterface', interface: 'EndpointForwarding', version: '1.0' }]));
    await until('four acknowledgements', () => r.acknowledgements().length === 4);
    assert.deepEqual(r.acknowledgements().map((a) => `${a.code}${a.description ? `: ${a.description}` : ''}`), [
      'CAPABILITIES_REJECTED: Speaker bitrate type "VARIABLE" is not supported (CONSTANT)',
      'CAPABILITIES_REJECTED: Speaker bitsPerSecond 64100 is not a multiple of 400 within 6000..510000',
      'CAPABILITIES_REJECTED: System mqtt.message.maxSizeInBytes 100 cannot carry one 160-byte speaker frame (224 needed)',
      'CAPABILITIES_ACCEPTED',
    ]);
    r.client.end();
  } finally {
    await bed.stop();
  }
});

test('a device declaring 32 kbit/s and maxSizeInBytes 600 gets 80-byte frames in messages of at most 600 bytes', { timeout: 60_000 }, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const { log } = captureLogger('voice');
  const voice = new VoiceSessions({ log });
  const bed = await new AisTestbed().start(voice.serviceHooks());
  voice.attach(bed.service);
  try {
    const r = await rogue(bed);
    r.send('capabilities/publish', publish([system(600), MICROPHONE, speakerCapability({ type: 'CONSTANT', bitsPerSecond: 32000 })]));
    r.send('event', event('SynchronizeState', { alerts: { allAlerts: [] } }));
    await until('the virtual device', () => voice.hasVoice('rogue-1'), 30_000);
    let ended = false;
    voice.play('rogue-1', 'hello there', undefined, 'SPEAKING', () => { ended = true; });
    await until('the answer sent', () => ended && r.directives().some((d) => d.header.name === 'CloseSpeaker'), 20_000);
    const messages = r.speaker();
    assert.ok(messages.length > 2);
    assert.ok(messages.every((m) => m.size <= 600), `sizes ${messages.map((m) => m.size).join(' ')}`);
    for (const { body } of messages) {
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const length = view.getUint32(0, true);
      assert.equal(body[4], 0, 'an audio entry first');
      assert.equal((length - 8) / (body[5] + 1), 80, '20 ms at 32 kbit/s is 80 bytes');
    }
    r.client.end();
  } finally {
    voice.close();
    await bed.stop();
  }
});

test('capabilities survive a restart of the service: a device that does not republish is served, not told they were never published', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-store-'));
  const bed = await new AisTestbed().start({ store: new DeviceStore(join(dir, 'ais-devices.json')) });
  try {
    const r = await rogue(bed);
    await synchronize(bed, r);
    r.client.end();
    bed.service.close();
    await bed.startService({ store: new DeviceStore(join(dir, 'ais-devices.json')) });
    assert.ok(bed.service.deviceState('rogue-1') === undefined, 'a new service knows no session yet');
    const again = await rogue(bed);
    again.send('event', event('SynchronizeState', { alerts: { allAlerts: [] } }));
    await until('synchronized', () => bed.service.deviceState('rogue-1')?.synchronizedState !== undefined && bed.service.deviceState('rogue-1')!.connections === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(again.directives().filter((d) => d.header.name === 'Exception'), []);
    assert.deepEqual(bed.service.deviceState('rogue-1')!.capabilities, CAPABILITIES);
    again.client.end();
  } finally {
    await bed.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a device cut while THINKING is not shown THINKING afterwards: the attention the service set ends with the connection', async () => {
  const bed = await new AisTestbed().start();
  const network = cuttableNetwork(createSocket);
  try {
    const r = await rogue(bed, network.socket);
    await synchronize(bed, r);
    bed.service.sendDirectives('rogue-1', [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }]);
    assert.equal(bed.service.deviceState('rogue-1')!.attention, 'THINKING');
    network.cut();
    await until('seen as lost', () => !bed.service.isConnected('rogue-1'), 2000);
    assert.equal(bed.service.deviceState('rogue-1')!.attention, undefined);
    network.restore();
    const back = await rogue(bed);
    await synchronize(bed, back);
    bed.service.sendDirectives('rogue-1', [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }]);
    // A new Connect without the loss seen (the presence event late): the new connection starts with nothing said.
    const third = await rogue(bed);
    assert.equal(bed.service.deviceState('rogue-1')!.attention, undefined);
    third.client.end();
    back.client.end();
  } finally {
    await bed.stop();
  }
});

test('an alert whose cloud ring was cut by a lost connection is rung for the rest of its duration after the reconnect, or deleted if that is over', async () => {
  const { log, lines } = captureLogger('alerts');
  let skewMs = 0;
  const alerts = new AlertService({ log, durationMs: 20_000, now: () => Date.now() + skewMs });
  const rings: { text: string; ms: number; onEnd: (interrupted: boolean) => void }[] = [];
  const ringer: AlertRinger = { ring: (_id, text, ms, onEnd) => { rings.push({ text, ms, onEnd }); return () => onEnd(true); } };
  const bed = await new AisTestbed().start(alerts.serviceHooks());
  alerts.attach(bed.service, ringer);
  const network = cuttableNetwork(createSocket);
  try {
    const r = await rogue(bed, network.socket);
    await synchronize(bed, r);
    const token = alerts.set('rogue-1', 'TIMER', alerts.nowSeconds() + 1, '1 second');
    await until('rung by the cloud', () => rings.length === 1, 3000);
    network.cut();
    await until('seen as lost', () => !bed.service.isConnected('rogue-1'), 2000);
    rings[0].onEnd(true); // the voice stops the stream when the device is lost
    network.restore();
    const back = await rogue(bed, network.socket);
    await synchronize(bed, back, [token]);
    await until('rung again', () => rings.length === 2, 3000);
    assert.ok(rings[1].ms > 15_000 && rings[1].ms <= 20_000, `the rest of the 20 s: ${rings[1].ms} ms`);
    assert.ok(lines.some((l) => l.includes(`alert ${token} was cut while ringing; ringing its last`)), lines.join('\n'));

    network.cut();
    await until('lost again', () => !bed.service.isConnected('rogue-1'), 2000);
    rings[1].onEnd(true);
    skewMs = 30_000; // back after the alert's time is over
    network.restore();
    const late = await rogue(bed);
    await synchronize(bed, late, [token]);
    await until('DeleteAlert', () => late.directives().some((d) => d.header.name === 'DeleteAlert' && d.payload.token === token), 3000);
    assert.equal(rings.length, 2);
    late.client.end();
  } finally {
    alerts.close();
    await bed.stop();
  }
});
