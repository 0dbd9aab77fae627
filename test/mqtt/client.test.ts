import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket as NetSocket, type AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { MqttClient, MqttConnectionRefusedError, MqttQueueOverflowError, type MqttClientOptions } from '../../src/mqtt/client.js';
import { generate } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import type { Packet } from '../../src/mqtt/packets.js';
import { AedesBroker } from '../support/aedes.js';
import { recordingClock } from '../support/clock.js';
import { captureLogger } from '../support/log.js';
import { copyPacket } from '../support/mqtt-packets.js';
import { until } from '../support/wait.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);


function client(port: number, over: Partial<MqttClientOptions> = {}) {
  const received: { topic: string; payload: string; qos: number }[] = [];
  const events: string[] = [];
  const { log, lines } = captureLogger('mqtt');
  const c = new MqttClient({
    socket: createSocket, clock: new NodeClock(), log, host: '127.0.0.1', port, clientId: 'device-1',
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    onMessage: (topic, payload, packet) => received.push({ topic, payload: str(payload), qos: packet.qos }),
    onConnect: () => events.push('connect'),
    onDisconnect: (error, reconnecting) => events.push(`disconnect ${error?.message} ${reconnecting}`),
    ...over,
  });
  return { c, received, events, lines };
}

/** A raw TCP server speaking MQTT by hand, for the broker behaviours aedes will not produce. */
async function rawBroker(onPacket: (packet: Packet, socket: NetSocket, connection: number) => void) {
  let connections = 0;
  const sockets: NetSocket[] = [];
  const server = createServer((socket) => {
    const connection = ++connections;
    sockets.push(socket);
    const parser = new MqttParser({ maxPacketBytes: 1 << 20, onPacket: (p) => onPacket(copyPacket(p), socket, connection), onError: () => socket.destroy() });
    socket.on('data', (chunk) => parser.push(new Uint8Array(chunk)));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => { sockets.forEach((s) => s.destroy()); return new Promise<void>((r) => server.close(() => r())); },
  };
}
const send = (socket: NetSocket, packet: Packet) => socket.write(generate(packet));

test('the client connects to aedes, subscribes and receives its own QoS 0 and QoS 1 publishes', async () => {
  const broker = await new AedesBroker().start();
  const { c, received, events } = client(broker.port);
  try {
    let granted: number[] | undefined;
    c.subscribe(['test/device-1/#'], 1, (error, codes) => { assert.equal(error, undefined); granted = codes; });
    c.connect();
    await until('connect and SUBACK', () => events.includes('connect') && granted !== undefined);
    assert.deepEqual(granted, [1]);
    let acked = 0;
    assert.equal(c.publish('test/device-1/a', text('zero'), { qos: 0 }, (e) => { assert.equal(e, undefined); acked++; }), true);
    assert.equal(c.publish('test/device-1/b', text('one'), { qos: 1 }, (e) => { assert.equal(e, undefined); acked++; }), true);
    await until('both messages', () => received.length === 2 && acked === 2);
    assert.deepEqual(received.sort((a, b) => a.topic.localeCompare(b.topic)), [
      { topic: 'test/device-1/a', payload: 'zero', qos: 0 },
      { topic: 'test/device-1/b', payload: 'one', qos: 1 },
    ]);
    assert.deepEqual(c.queued, { messages: 0, bytes: 0 });
  } finally {
    c.end();
    await broker.stop();
  }
});

test('MQTT.js and our client exchange messages through the broker in both directions', async () => {
  const broker = await new AedesBroker().start();
  const { c, received, events } = client(broker.port);
  const peer = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'peer', reconnectPeriod: 0 });
  try {
    const fromUs: string[] = [];
    peer.on('message', (topic, payload) => fromUs.push(`${topic}=${payload.toString()}`));
    await peer.subscribeAsync('to-peer', { qos: 1 });
    c.subscribe('to-device', 0);
    c.connect();
    await until('connect', () => events.includes('connect'));
    await peer.publishAsync('to-device', 'hello from MQTT.js', { qos: 1 });
    c.publish('to-peer', text('hello from the device'), { qos: 1 });
    await until('both directions', () => received.length === 1 && fromUs.length === 1);
    assert.deepEqual(received, [{ topic: 'to-device', payload: 'hello from MQTT.js', qos: 0 }]);
    assert.deepEqual(fromUs, ['to-peer=hello from the device']);
  } finally {
    c.end();
    await peer.endAsync();
    await broker.stop();
  }
});

test('publishes made while offline are sent after connecting, and an overflowing queue is reported, not silent', async () => {
  const broker = await new AedesBroker().start();
  const { c, received, events, lines } = client(broker.port, { maxQueuedMessages: 2 });
  try {
    c.subscribe('q/#', 0);
    const outcomes: string[] = [];
    assert.equal(c.publish('q/1', text('a'), {}, (e) => outcomes.push(e ? e.name : 'sent')), true);
    assert.equal(c.publish('q/2', text('b'), {}, (e) => outcomes.push(e ? e.name : 'sent')), true);
    assert.equal(c.publish('q/3', text('c'), {}, (e) => outcomes.push(e ? e.name : 'sent')), false);
    assert.deepEqual(outcomes, ['MqttQueueOverflowError']);
    assert.ok(lines.some((l) => l === 'WARN [mqtt] outgoing queue full (2 messages, 2 bytes): dropped a publish to q/3'), lines.join('\n'));
    c.connect();
    await until('queued messages', () => received.length === 2);
    assert.deepEqual(received.map((m) => m.payload), ['a', 'b']);
    assert.deepEqual(outcomes, ['MqttQueueOverflowError', 'sent', 'sent']);
    assert.ok(events.includes('connect'));
  } finally {
    c.end();
    await broker.stop();
  }
});

test('with queueWhileOffline off, a publish while offline fails at once with a not-connected error', () => {
  const { c } = client(1, { queueWhileOffline: false });
  let error: Error | undefined;
  assert.equal(c.publish('t', text('x'), {}, (e) => { error = e; }), false);
  assert.equal(error?.message, 'not connected: PUBLISH to t not sent');
  c.end();
});

test('the client resubscribes after the broker restarts and messages flow again', async () => {
  const broker = await new AedesBroker().start();
  const { c, received, events } = client(broker.port);
  try {
    c.subscribe('r/#', 1);
    c.connect();
    await until('first connect', () => events.filter((e) => e === 'connect').length === 1);
    await broker.stop();
    await until('disconnect noticed', () => events.some((e) => e.startsWith('disconnect') && e.endsWith('true')));
    await broker.start(broker.port);
    await until('second connect', () => events.filter((e) => e === 'connect').length === 2);
    c.publish('r/x', text('after restart'), { qos: 1 });
    await until('message after restart', () => received.length === 1);
    assert.deepEqual(received, [{ topic: 'r/x', payload: 'after restart', qos: 1 }]);
  } finally {
    c.end();
    await broker.stop();
  }
});

test('a refused CONNACK is reported with its reason and retried with exponential backoff and jitter', async () => {
  const broker = await new AedesBroker({ authenticate: (_client, _u, _p, done) => done(Object.assign(new Error('no'), { returnCode: 5 }), false) }).start();
  const clock = recordingClock();
  const errors: Error[] = [];
  const { c } = client(broker.port, {
    clock, random: () => 0.999999, reconnect: { minDelayMs: 10, maxDelayMs: 40 },
    onDisconnect: (error) => { if (error) errors.push(error); },
  });
  try {
    c.connect();
    await until('five refusals', () => errors.length >= 5);
    assert.ok(errors[0] instanceof MqttConnectionRefusedError);
    assert.equal(errors[0].message, 'broker refused the connection: not authorized (CONNACK code 5)');
    // Connect timeouts are 10000 ms; the rest are backoff delays: 10, 20, 40, then capped at 40.
    assert.deepEqual(clock.delays.filter((d) => d !== 10_000).slice(0, 5), [10, 20, 40, 40, 40]);
  } finally {
    c.end();
    await broker.stop();
  }
});

test('backoff jitter keeps each delay between half and all of its ceiling', () => {
  for (const random of [0, 0.5]) {
    const clock = recordingClock();
    const { c } = client(1, { clock, random: () => random, reconnect: { minDelayMs: 100, maxDelayMs: 1000 }, socket: (o) => {
      queueMicrotask(() => o.onError(new Error('refused')));
      return { read: () => 0, write: () => 0, close: () => {} };
    } });
    c.connect();
    // The first retry is scheduled synchronously after the error.
    return until('first retry', () => clock.delays.length >= 2).then(() => {
      assert.equal(clock.delays[1], random === 0 ? 50 : 75);
      c.end();
    });
  }
});

test('a broker that stops answering PINGREQ is declared dead and the client reconnects', async () => {
  const pings: number[] = [];
  const broker = await rawBroker((packet, socket, connection) => {
    if (packet.cmd === 'connect') send(socket, { cmd: 'connack', sessionPresent: false, returnCode: 0 });
    if (packet.cmd === 'pingreq') pings.push(connection); // never answered
  });
  const { c, events, lines } = client(broker.port, { keepAliveSec: 1, pingTimeoutMs: 300 });
  try {
    c.connect();
    await until('a reconnect after the dead connection', () => broker.connections() >= 2, 8000);
    assert.ok(pings.includes(1), 'a PINGREQ was sent on the first connection');
    assert.ok(events.includes('disconnect no PINGRESP within 300 ms true'), events.join('\n'));
    assert.ok(lines.includes('WARN [mqtt] keep-alive failed: no PINGRESP within 300 ms (connection lost)'), lines.join('\n'));
  } finally {
    c.end();
    await broker.close();
  }
});

test('malformed bytes from the broker end the connection cleanly with a log line and a reconnect, never a throw', async () => {
  const broker = await new Promise<Awaited<ReturnType<typeof rawBroker>>>((resolve) => {
    rawBroker((packet, socket) => {
      if (packet.cmd !== 'connect') return;
      send(socket, { cmd: 'connack', sessionPresent: false, returnCode: 0 });
      socket.write(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])); // 5-byte remaining length
    }).then(resolve);
  });
  const { c, lines } = client(broker.port);
  try {
    c.connect();
    await until('two reconnects', () => broker.connections() >= 3);
    assert.ok(lines.includes('WARN [mqtt] malformed input from the broker: remaining length runs past 4 bytes [MQTT-2.2.3] (connection lost)'), lines.join('\n'));
    // A connection that fails right after CONNACK does not reset the backoff.
    assert.ok(lines.some((l) => /^INFO \[mqtt\] reconnecting in \d+ ms \(attempt 2\)$/.test(l)), lines.join('\n'));
  } finally {
    c.end();
    await broker.close();
  }
});

test('a QoS 1 publish not acknowledged before the connection drops is resent with DUP and the same id after reconnecting', async () => {
  const seen: { connection: number; dup: boolean; messageId?: number }[] = [];
  const broker = await rawBroker((packet, socket, connection) => {
    if (packet.cmd === 'connect') send(socket, { cmd: 'connack', sessionPresent: false, returnCode: 0 });
    if (packet.cmd === 'publish') {
      seen.push({ connection, dup: packet.dup, messageId: packet.messageId });
      if (connection === 1) socket.destroy(); // lost before PUBACK
      else send(socket, { cmd: 'puback', messageId: packet.messageId! });
    }
  });
  const { c } = client(broker.port);
  try {
    let callbacks = 0;
    c.connect();
    c.publish('t/q1', text('must arrive'), { qos: 1 }, (e) => { assert.equal(e, undefined); callbacks++; });
    await until('acknowledged after the resend', () => callbacks === 1);
    assert.deepEqual(seen, [
      { connection: 1, dup: false, messageId: 1 },
      { connection: 2, dup: true, messageId: 1 },
    ]);
    assert.deepEqual(c.queued, { messages: 0, bytes: 0 });
  } finally {
    c.end();
    await broker.close();
  }
});

test('a subscription the broker refuses (SUBACK 0x80) reaches the callback as an error', async () => {
  const broker = await new AedesBroker({ authorizeSubscribe: (_c, sub, done) => done(null, sub.topic.startsWith('other/') ? null : sub) }).start();
  const { c, events } = client(broker.port);
  try {
    c.connect();
    await until('connect', () => events.includes('connect'));
    const result = await new Promise<{ error?: Error; granted?: number[] }>((resolve) => c.subscribe(['mine/#', 'other/#'], 0, (error, granted) => resolve({ error, granted })));
    assert.deepEqual(result.granted, [0, 128]);
    assert.equal(result.error?.message, 'broker refused the subscription to other/#');
  } finally {
    c.end();
    await broker.stop();
  }
});

test('a stalled link over a real socket: publishes wait in the bounded queue, then are refused; when the peer reads again they arrive whole and in order', async () => {
  let peer: NetSocket | undefined;
  const arrived: number[] = [];
  const broker = await rawBroker((packet, socket) => {
    if (packet.cmd === 'connect') {
      send(socket, { cmd: 'connack', sessionPresent: false, returnCode: 0 });
      socket.pause(); // the peer stops reading: the kernel's buffers fill, then Node's
      peer = socket;
    } else if (packet.cmd === 'publish') {
      assert.equal(packet.payload.length, 8000, 'every message arrives whole');
      arrived.push(new DataView(packet.payload.buffer, packet.payload.byteOffset).getUint32(0));
    }
  });
  const { c, events, lines } = client(broker.port, { maxQueuedMessages: 32, maxQueuedBytes: 64 * 1024, keepAliveSec: 0 });
  try {
    c.connect();
    await until('connect', () => events.includes('connect'));
    const payload = new Uint8Array(8000);
    const accepted: number[] = [];
    let refused = 0;
    // Audio-sized QoS 0 publishes as fast as the client takes them, until it refuses a few (bounded loop).
    for (let i = 0; i < 20_000 && refused < 5; i++) {
      new DataView(payload.buffer).setUint32(0, i);
      if (c.publish('audio/mic', payload)) accepted.push(i);
      else refused++;
    }
    assert.equal(refused, 5, 'the client refuses once its queue is full');
    assert.equal(c.stalled, true);
    assert.ok(c.queued.bytes <= 64 * 1024 && c.queued.messages > 0, `the queue stays within its bound: ${JSON.stringify(c.queued)}`);
    assert.equal(lines.filter((l) => l.includes('outgoing queue full')).length, 1, 'the refusals are logged once');
    assert.ok(lines.some((l) => l.includes('link stalled')), lines.join('\n'));
    peer!.resume();
    await until('every accepted message', () => arrived.length === accepted.length, 20_000);
    assert.deepEqual(arrived, accepted, 'in order, none lost, none refused one sent');
    await until('drained', () => !c.stalled && c.queued.messages === 0);
    assert.ok(lines.some((l) => /link drained after \d+ ms: \d+ queued publishes go out, 5 were refused/.test(l)), lines.join('\n'));
    new DataView(payload.buffer).setUint32(0, 999_999);
    assert.equal(c.publish('audio/mic', payload), true, 'publishes go straight out again');
    await until('the next one', () => arrived[arrived.length - 1] === 999_999);
  } finally {
    c.end();
    await broker.close();
  }
});
