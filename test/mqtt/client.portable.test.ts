// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The MQTT client session against a scripted broker: a test double of the socket port, which is the
// network boundary of this host (XS has no sockets yet), plus a clock the test moves by hand. The test
// reads what the client wrote with our own parser and answers with our own generator; client.test.ts
// runs the same session over real sockets against aedes and MQTT.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MqttClient, MqttConnectionRefusedError, MqttNotConnectedError, MqttQueueOverflowError, type MqttClientOptions } from '../../src/mqtt/client.js';
import { generate } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import type { Packet } from '../../src/mqtt/packets.js';
import { encodeUtf8 } from '../../src/encoding/utf8.js';
import { Logger } from '../../src/ports/log.js';
import type { Socket, SocketOptions } from '../../src/ports/socket.js';
import { toHex, utf8Text as text } from '../support/bytes.js';
import { ManualClock } from '../support/manual-clock.js';

/** One connection of the scripted broker: the client's Socket, and the broker's end of it for the test. */
class ScriptedSocket implements Socket {
  readonly received: Packet[] = [];
  readonly raw: Uint8Array[] = [];
  closed = false;
  /** What write() reports as room left: ≤ 0 plays a stalled link until the test calls drain(). */
  room = Infinity;
  private inbox: Uint8Array[] = [];
  private readonly parser = new MqttParser({
    maxPacketBytes: 1 << 20,
    onPacket: (p) => this.received.push(p.cmd === 'publish' ? { ...p, payload: p.payload.slice() } : p),
    onError: (e) => { throw new Error(`the client wrote a malformed packet: ${e.message}`); },
  });
  constructor(readonly options: SocketOptions) {}
  // The client's side (src/ports/socket.ts).
  read(buffer: Uint8Array): number {
    let n = 0;
    while (this.inbox.length > 0 && n < buffer.length) {
      const chunk = this.inbox[0];
      const take = Math.min(chunk.length, buffer.length - n);
      buffer.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.inbox.shift();
      else this.inbox[0] = chunk.subarray(take);
    }
    return n;
  }
  write(data: Uint8Array, length = data.length): number {
    assert.equal(this.closed, false, 'write after close');
    const copy = data.slice(0, length);
    this.raw.push(copy);
    this.parser.push(copy);
    this.room -= copy.length;
    return this.room;
  }
  close(): void { this.closed = true; }
  // The broker's side, driven by the test.
  accept(): void { this.options.onConnect(); }
  drain(room = Infinity): void {
    this.room = room;
    this.options.onWritable?.(room);
  }
  send(...packets: (Packet | Uint8Array)[]): void {
    let total = 0;
    for (const p of packets) {
      const bytes = p instanceof Uint8Array ? p : generate(p);
      this.inbox.push(bytes);
      total += bytes.length;
    }
    this.options.onReadable(total);
  }
  fail(message: string): void { this.closed = true; this.options.onError(new Error(message)); }
  commands(): string[] { return this.received.map((p) => p.cmd); }
}

function session(over: Partial<MqttClientOptions> = {}) {
  const clock = new ManualClock(1000);
  const sockets: ScriptedSocket[] = [];
  const lines: string[] = [];
  const messages: string[] = [];
  const events: string[] = [];
  const log = new Logger({ write: (level, component, message) => lines.push(`${level.toUpperCase()} [${component}] ${message}`) }, 'mqtt', 'debug');
  const client = new MqttClient({
    socket: (options) => { const s = new ScriptedSocket(options); sockets.push(s); return s; },
    clock, log, host: 'broker.test', port: 8883, clientId: 'device-1', random: () => 0.5,
    reconnect: { minDelayMs: 100, maxDelayMs: 1000 },
    onMessage: (topic, payload, packet) => messages.push(`${topic}=${text(payload)} q${packet.qos}`),
    onConnect: (sessionPresent) => events.push(`connect ${sessionPresent}`),
    onDisconnect: (error, reconnecting) => events.push(`disconnect ${error?.message} ${reconnecting}`),
    ...over,
  });
  const last = () => sockets[sockets.length - 1];
  /** connect(), accept the TCP connection and answer CONNACK. */
  const connect = (sessionPresent = false) => {
    if (sockets.length === 0 || last().closed) client.connect();
    last().accept();
    last().send({ cmd: 'connack', sessionPresent, returnCode: 0 });
  };
  return { client, clock, sockets, lines, messages, events, last, connect };
}

test('connect opens one socket to host:port and writes CONNECT with the exact bytes; CONNACK connects', () => {
  const s = session({ keepAliveSec: 60 });
  s.client.connect();
  assert.equal(s.sockets.length, 1);
  assert.equal(s.last().options.host, 'broker.test');
  assert.equal(s.last().options.port, 8883);
  assert.deepEqual(s.last().raw, [], 'nothing before the socket connects');
  s.last().accept();
  // CONNECT, MQTT level 4, clean session, keep-alive 60 s, client id "device-1"
  assert.equal(toHex(s.last().raw[0]), '101400044d5154540402003c00086465766963652d31');
  assert.equal(s.client.connected, false);
  s.last().send({ cmd: 'connack', sessionPresent: true, returnCode: 0 });
  assert.equal(s.client.connected, true);
  assert.deepEqual(s.events, ['connect true']);
  assert.ok(s.lines.includes('INFO [mqtt] connected to broker.test:8883 (session present)'), s.lines.join('\n'));
});

test('a subscription made offline goes out after CONNACK, and onConnect waits for its SUBACK', () => {
  const s = session();
  let granted: number[] | undefined;
  s.client.subscribe(['a/#', 'b'], 1, (error, codes) => { assert.equal(error, undefined); granted = codes; });
  s.connect();
  assert.deepEqual(s.last().received[1], { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }, { topic: 'b', qos: 1 }] });
  assert.deepEqual(s.events, [], 'not connected until the subscriptions are restored');
  s.last().send({ cmd: 'suback', messageId: 1, granted: [1, 0] });
  assert.deepEqual(granted, [1, 0]);
  assert.deepEqual(s.events, ['connect false']);
});

test('a QoS 0 publish while connected is written at once, byte for byte, and calls back', () => {
  const s = session();
  s.connect();
  let called = 0;
  assert.equal(s.client.publish('t/x', encodeUtf8('hi'), { qos: 0 }, (e) => { assert.equal(e, undefined); called++; }), true);
  assert.equal(called, 1);
  assert.equal(toHex(s.last().raw[s.last().raw.length - 1]), '30070003742f786869');
  // the caller's buffer may be reused at once: the client keeps nothing
  const payload = encodeUtf8('abc');
  s.client.publish('t/x', payload, { qos: 0, length: 2 });
  payload.fill(0);
  assert.deepEqual(s.last().received[s.last().received.length - 1], { cmd: 'publish', topic: 't/x', payload: encodeUtf8('ab'), qos: 0, dup: false, retain: false, messageId: undefined });
});

test('a QoS 1 publish calls back on its PUBACK only, and the queue empties', () => {
  const s = session();
  s.connect();
  let called = 0;
  s.client.publish('t/one', encodeUtf8('payload'), { qos: 1 }, (e) => { assert.equal(e, undefined); called++; });
  const sent = s.last().received[s.last().received.length - 1];
  assert.deepEqual(sent, { cmd: 'publish', topic: 't/one', payload: encodeUtf8('payload'), qos: 1, dup: false, retain: false, messageId: 1 });
  assert.equal(called, 0);
  assert.deepEqual(s.client.queued, { messages: 1, bytes: 7 });
  s.last().send({ cmd: 'puback', messageId: 2 }); // not ours: logged and ignored
  assert.equal(called, 0);
  assert.ok(s.lines.includes('WARN [mqtt] PUBACK for unknown packet identifier 2 ignored'), s.lines.join('\n'));
  s.last().send({ cmd: 'puback', messageId: 1 });
  assert.equal(called, 1);
  assert.deepEqual(s.client.queued, { messages: 0, bytes: 0 });
});

test('broker messages reach onMessage; QoS 1 is answered with PUBACK, QoS 2 delivered once with PUBREC and PUBCOMP', () => {
  const s = session();
  s.connect();
  s.last().send(
    { cmd: 'publish', topic: 'd/0', payload: encodeUtf8('zero'), qos: 0, dup: false, retain: false },
    { cmd: 'publish', topic: 'd/1', payload: encodeUtf8('one'), qos: 1, dup: false, retain: false, messageId: 7 },
    { cmd: 'publish', topic: 'd/2', payload: encodeUtf8('two'), qos: 2, dup: false, retain: false, messageId: 8 },
    { cmd: 'publish', topic: 'd/2', payload: encodeUtf8('two'), qos: 2, dup: true, retain: false, messageId: 8 },
    { cmd: 'pubrel', messageId: 8 },
  );
  assert.deepEqual(s.messages, ['d/0=zero q0', 'd/1=one q1', 'd/2=two q2']);
  assert.deepEqual(s.last().received.slice(1), [
    { cmd: 'puback', messageId: 7 }, { cmd: 'pubrec', messageId: 8 }, { cmd: 'pubrec', messageId: 8 }, { cmd: 'pubcomp', messageId: 8 },
  ]);
});

test('publishes made offline are queued and sent in order after CONNACK; a full queue refuses with a named error', () => {
  const s = session({ maxQueuedMessages: 2 });
  const results: string[] = [];
  s.client.publish('q/a', encodeUtf8('1'), { qos: 0 }, (e) => results.push(`a ${e?.name}`));
  s.client.publish('q/b', encodeUtf8('2'), { qos: 1 }, (e) => results.push(`b ${e?.name}`));
  assert.equal(s.client.publish('q/c', encodeUtf8('3'), { qos: 0 }, (e) => results.push(`c ${e?.name}`)), false);
  assert.deepEqual(results, ['c MqttQueueOverflowError']);
  assert.ok(s.lines.includes('WARN [mqtt] outgoing queue full (2 messages, 2 bytes): dropped a publish to q/c'), s.lines.join('\n'));
  assert.equal(new MqttQueueOverflowError('q/c', 2, 2).message, 'outgoing queue full (2 messages, 2 bytes): dropped a publish to q/c');
  s.connect();
  assert.deepEqual(s.last().commands(), ['connect', 'publish', 'publish']);
  assert.deepEqual(s.last().received.slice(1).map((p) => p.cmd === 'publish' && `${p.topic} q${p.qos}`), ['q/a q0', 'q/b q1']);
  assert.deepEqual(results, ['c MqttQueueOverflowError', 'a undefined']);
  s.last().send({ cmd: 'puback', messageId: 1 });
  assert.deepEqual(results, ['c MqttQueueOverflowError', 'a undefined', 'b undefined']);
});

test('a stalled link: QoS 0 publishes wait in the bounded queue, the overflow is refused and logged once, the drain sends them in order', () => {
  const s = session({ maxQueuedMessages: 3 });
  s.connect();
  s.last().room = 0; // the next write fills the socket
  assert.equal(s.client.publish('a/1', encodeUtf8('1')), true, 'written: the socket takes it, then says it is full');
  assert.equal(s.client.stalled, true);
  const results: string[] = [];
  for (let i = 2; i <= 7; i++) results.push(`${i}:${s.client.publish(`a/${i}`, encodeUtf8(String(i)))}`);
  assert.deepEqual(results, ['2:true', '3:true', '4:true', '5:false', '6:false', '7:false'], 'three wait, the rest are refused');
  assert.deepEqual(s.last().received.slice(1).map((p) => p.cmd === 'publish' && p.topic), ['a/1'], 'nothing written while stalled');
  assert.equal(s.lines.filter((l) => l.startsWith('WARN [mqtt] outgoing queue full')).length, 1, 'one line for the refusals, not one per frame');
  assert.ok(s.lines.some((l) => l.startsWith('WARN [mqtt] link stalled')), s.lines.join('\n'));
  s.last().drain();
  assert.equal(s.client.stalled, false);
  assert.deepEqual(s.last().received.slice(1).map((p) => p.cmd === 'publish' && p.topic), ['a/1', 'a/2', 'a/3', 'a/4'], 'in order after the drain');
  assert.ok(s.lines.includes('INFO [mqtt] link drained after 0 ms: 3 queued publishes go out, 3 were refused'), s.lines.join('\n'));
  assert.deepEqual(s.client.queued, { messages: 0, bytes: 0 });
  assert.equal(s.client.publish('a/8', encodeUtf8('8')), true);
  assert.equal(s.last().received.length, 6, 'written at once again');
});

test('a drain with room for part of the queue sends that part and waits for the next', () => {
  const s = session();
  s.connect();
  s.last().room = 0;
  for (let i = 1; i <= 4; i++) s.client.publish(`b/${i}`, encodeUtf8(String(i)));
  assert.deepEqual(s.last().received.slice(1).map((p) => p.cmd === 'publish' && p.topic), ['b/1'], 'b/1 filled the socket');
  s.last().drain(10); // room for one 8-byte PUBLISH and a bit: the second overfills it again
  assert.deepEqual(s.last().received.slice(1).map((p) => p.cmd === 'publish' && p.topic), ['b/1', 'b/2', 'b/3']);
  s.last().drain();
  assert.deepEqual(s.last().received.slice(1).map((p) => p.cmd === 'publish' && p.topic), ['b/1', 'b/2', 'b/3', 'b/4']);
});

test('a QoS 1 publish unacknowledged when the connection drops is resent with DUP and the same id after the backoff', () => {
  const s = session();
  s.connect();
  let called = 0;
  s.client.publish('t/q1', encodeUtf8('must arrive'), { qos: 1 }, (e) => { assert.equal(e, undefined); called++; });
  s.last().fail('connection reset');
  assert.deepEqual(s.events, ['connect false', 'disconnect connection reset true']);
  assert.ok(s.lines.includes('WARN [mqtt] socket error: connection reset (connection lost)'), s.lines.join('\n'));
  // backoff attempt 0: ceiling 100 ms, random 0.5 -> 75 ms
  assert.ok(s.lines.includes('INFO [mqtt] reconnecting in 75 ms (attempt 1)'), s.lines.join('\n'));
  s.clock.advance(74);
  assert.equal(s.sockets.length, 1);
  s.clock.advance(1);
  assert.equal(s.sockets.length, 2);
  s.connect();
  const resent = s.last().received[1];
  assert.deepEqual(resent, { cmd: 'publish', topic: 't/q1', payload: encodeUtf8('must arrive'), qos: 1, dup: true, retain: false, messageId: 1 });
  s.last().send({ cmd: 'puback', messageId: 1 });
  assert.equal(called, 1);
});

test('refused connections back off from minDelayMs to maxDelayMs with jitter between half and all of each ceiling', () => {
  const errors: Error[] = [];
  const s = session({ random: () => 0.999999, reconnect: { minDelayMs: 10, maxDelayMs: 40 }, onDisconnect: (e) => { if (e) errors.push(e); } });
  s.client.connect();
  for (let i = 0; i < 5; i++) {
    s.last().accept();
    s.last().send({ cmd: 'connack', sessionPresent: false, returnCode: 5 });
    s.clock.advance(100);
  }
  assert.equal(errors.length, 5);
  assert.ok(errors[0] instanceof MqttConnectionRefusedError);
  assert.equal(errors[0].message, 'broker refused the connection: not authorized (CONNACK code 5)');
  assert.equal((errors[0] as MqttConnectionRefusedError).returnCode, 5);
  // 10000 ms connect timeouts between the backoff delays 10, 20, 40, 40, 40
  assert.deepEqual(s.clock.delays.filter((d) => d !== 10_000), [10, 20, 40, 40, 40]);
  const half = session({ random: () => 0, reconnect: { minDelayMs: 100, maxDelayMs: 1000 } });
  half.client.connect();
  half.last().fail('refused');
  assert.equal(half.clock.delays[1], 50, 'random 0 waits half the ceiling');
  s.client.end();
  half.client.end();
});

test('keep-alive sends PINGREQ after silence and drops a connection whose PINGRESP does not come within pingTimeoutMs', () => {
  const s = session({ keepAliveSec: 1, pingTimeoutMs: 300 });
  s.connect();
  s.clock.advance(700);
  assert.deepEqual(s.last().commands(), ['connect'], 'no ping before 0.75 x keep-alive of silence');
  s.clock.advance(100);
  assert.deepEqual(s.last().commands(), ['connect', 'pingreq']);
  s.last().send({ cmd: 'pingresp' });
  s.clock.advance(1000);
  assert.deepEqual(s.last().commands(), ['connect', 'pingreq', 'pingreq'], 'answered: the next ping comes a keep-alive later');
  s.clock.advance(400); // unanswered for 300 ms and more
  assert.ok(s.events.includes('disconnect no PINGRESP within 300 ms true'), s.events.join('\n'));
  assert.ok(s.lines.includes('WARN [mqtt] keep-alive failed: no PINGRESP within 300 ms (connection lost)'), s.lines.join('\n'));
  assert.equal(s.sockets[0].closed, true);
  s.client.end();
});

test('no CONNACK within connectTimeoutMs closes the socket and retries', () => {
  const s = session({ connectTimeoutMs: 2000 });
  s.client.connect();
  s.last().accept();
  s.clock.advance(1999);
  assert.equal(s.sockets[0].closed, false);
  s.clock.advance(1);
  assert.equal(s.sockets[0].closed, true);
  assert.ok(s.events.includes('disconnect no CONNACK within 2000 ms true'), s.events.join('\n'));
  s.clock.advance(100);
  assert.equal(s.sockets.length, 2);
  s.client.end();
});

test('malformed bytes from the broker end the connection with a log line and a reconnect, never a throw', () => {
  const s = session();
  s.connect();
  s.last().send(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])); // 5-byte remaining length
  assert.equal(s.sockets[0].closed, true);
  assert.ok(s.lines.includes('WARN [mqtt] malformed input from the broker: remaining length runs past 4 bytes [MQTT-2.2.3] (connection lost)'), s.lines.join('\n'));
  s.clock.advance(100);
  assert.equal(s.sockets.length, 2);
  s.client.end();
});

test('a refused subscription (SUBACK 0x80) reaches the callback as an error naming the filter', () => {
  const s = session();
  s.connect();
  let result: { error?: Error; granted?: number[] } | undefined;
  s.client.subscribe(['mine/#', 'other/#'], 0, (error, granted) => { result = { error, granted }; });
  assert.deepEqual(s.last().received[1], { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mine/#', qos: 0 }, { topic: 'other/#', qos: 0 }] });
  s.last().send({ cmd: 'suback', messageId: 1, granted: [0, 128] });
  assert.deepEqual(result?.granted, [0, 128]);
  assert.equal(result?.error?.message, 'broker refused the subscription to other/#');
});

test('end() sends DISCONNECT, fails what waits, clears every timer, and nothing runs after it', () => {
  const s = session({ keepAliveSec: 10 });
  s.connect();
  let failed: Error | undefined;
  s.client.publish('t/q1', encodeUtf8('x'), { qos: 1 }, (e) => { failed = e; });
  s.client.end();
  s.client.end();
  assert.deepEqual(s.last().commands(), ['connect', 'publish', 'disconnect']);
  assert.equal(s.last().closed, true);
  assert.ok(failed instanceof MqttNotConnectedError, `got ${failed}`);
  assert.equal(s.clock.pending, 0);
  const writes = s.last().raw.length;
  s.last().send({ cmd: 'puback', messageId: 1 }); // a late callback from the socket finds nothing
  s.clock.advance(60_000);
  assert.equal(s.last().raw.length, writes);
  assert.equal(s.sockets.length, 1);
  assert.throws(() => s.client.connect(), new Error('MqttClient was ended; make a new one'));
});

test('options are checked at once: a missing host or onMessage, a bad port or QoS throw', () => {
  const base = {
    socket: (o: SocketOptions) => new ScriptedSocket(o), clock: new ManualClock(1000), log: new Logger({ write() {} }, 'x'),
    host: 'h', port: 1, clientId: 'c', onMessage() {},
  };
  assert.throws(() => new MqttClient({ ...base, host: '' }), new TypeError('MqttClient needs options.host'));
  assert.throws(() => new MqttClient({ ...base, port: 70000 }), new RangeError('MqttClient port must be 1-65535, got 70000'));
  assert.throws(() => new MqttClient({ ...base, onMessage: undefined as never }), new TypeError('MqttClient needs options.onMessage'));
  const c = new MqttClient(base);
  assert.throws(() => c.publish('a', new Uint8Array(1), { qos: 2 }), new RangeError('publish QoS must be 0 or 1, got 2'));
  assert.throws(() => c.publish('a/+', new Uint8Array(1)), new RangeError('topic name "a/+" holds a wildcard [MQTT-3.3.2-2]'));
  assert.throws(() => c.subscribe('a/#/b'), new RangeError(`'#' must be a whole last level in "a/#/b" [MQTT-4.7.1-2]`));
});
