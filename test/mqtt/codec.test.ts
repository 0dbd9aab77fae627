import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { generate, packetSize, writePublish } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import { MqttProtocolError, type Packet } from '../../src/mqtt/packets.js';
import { encodeUtf8 } from '../../src/mqtt/utf8.js';
import { Random, testSeed } from '../support/random.js';
import { ALL_COMMANDS, EDGE_REMAINING, copyPacket, oracleParse, randomPacket, toOracle } from './oracle.js';

const MAX = 4 * 1024 * 1024;

function parseAll(bytes: Uint8Array, splits?: Random, maxPacketBytes = MAX): { packets: Packet[]; errors: MqttProtocolError[] } {
  const packets: Packet[] = [];
  const errors: MqttProtocolError[] = [];
  const parser = new MqttParser({ maxPacketBytes, onPacket: (p) => packets.push(copyPacket(p)), onError: (e) => errors.push(e) });
  if (!splits) parser.push(bytes);
  else {
    for (let pos = 0; pos < bytes.length;) {
      const n = 1 + splits.int(splits.int(4) === 0 ? 3 : 700);
      parser.push(bytes.subarray(pos, pos + n));
      pos += n;
    }
  }
  return { packets, errors };
}

function oracleBytes(p: Packet): Uint8Array {
  return new Uint8Array(mqttPacket.generate(toOracle(p)));
}

test('thousands of random packets of every type encode to the same bytes as mqtt-packet and parse identically both ways', () => {
  const seed = testSeed();
  const r = new Random(seed);
  let count = 0;
  for (let i = 0; i < 300; i++) {
    for (const cmd of ALL_COMMANDS) {
      const packet = randomPacket(r, cmd);
      const ours = generate(packet);
      const context = `seed ${seed}, packet ${count} (${cmd})`;
      assert.deepEqual(ours, oracleBytes(packet), `bytes differ from mqtt-packet: ${context}`);
      assert.equal(ours.length, packetSize(packet), context);
      assert.deepEqual(oracleParse(ours), [packet], `mqtt-packet reads our bytes differently: ${context}`);
      const { packets, errors } = parseAll(oracleBytes(packet));
      assert.deepEqual(errors, [], context);
      assert.deepEqual(packets, [packet], `we read mqtt-packet's bytes differently: ${context}`);
      count++;
    }
  }
  assert.equal(count, 300 * 14);
});

test('remaining lengths at every varint edge (127/128/16383/16384/2097151/2097152) match mqtt-packet', () => {
  const r = new Random(7);
  for (const remaining of EDGE_REMAINING) {
    const packet = randomPacket(r, 'publish', remaining);
    const ours = generate(packet);
    const headerBytes = remaining < 128 ? 2 : remaining < 16384 ? 3 : remaining < 2097152 ? 4 : 5;
    assert.equal(ours.length, headerBytes + remaining, `remaining ${remaining}`);
    assert.deepEqual(ours, oracleBytes(packet), `remaining ${remaining}`);
    assert.deepEqual(parseAll(ours).packets, [packet]);
    assert.deepEqual(oracleParse(ours), [packet]);
  }
});

test('empty and 64 KiB payloads and multi-byte UTF-8 topics round trip', () => {
  for (const size of [0, 65536]) {
    const packet: Packet = { cmd: 'publish', topic: 'a/é/中/😀', payload: new Uint8Array(size).fill(0xa5), qos: 1, dup: false, retain: false, messageId: 65535 };
    const bytes = generate(packet);
    assert.deepEqual(bytes, oracleBytes(packet));
    assert.deepEqual(parseAll(bytes).packets, [packet]);
  }
});

test('a stream of many packets parses the same under any split into reads', () => {
  const seed = testSeed();
  const r = new Random(seed);
  const expected: Packet[] = [];
  for (let i = 0; i < 500; i++) expected.push(randomPacket(r, r.pick(ALL_COMMANDS)));
  const stream = new Uint8Array(Buffer.concat(expected.map((p) => generate(p))));
  for (let trial = 0; trial < 5; trial++) {
    const { packets, errors } = parseAll(stream, new Random(seed + trial));
    assert.deepEqual(errors, []);
    assert.equal(packets.length, expected.length, `seed ${seed} trial ${trial}`);
    assert.deepEqual(packets, expected, `seed ${seed} trial ${trial}`);
  }
  // One byte at a time is the hardest split.
  const oneByOne: Packet[] = [];
  const parser = new MqttParser({ maxPacketBytes: MAX, onPacket: (p) => oneByOne.push(copyPacket(p)), onError: (e) => assert.fail(e) });
  for (let i = 0; i < stream.length; i++) parser.push(stream.subarray(i, i + 1));
  assert.deepEqual(oneByOne, expected);
});

test('writePublish writes the same bytes as generate for a pre-encoded topic and a partial payload buffer', () => {
  const topic = '$aws/alexa/ais/v1/device-1/microphone';
  const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
  const out = new Uint8Array(2048);
  for (const qos of [0, 1] as const) {
    const n = writePublish(out, encodeUtf8(topic), payload, 640, qos, 77, false, false);
    const expected = generate({ cmd: 'publish', topic, payload: payload.subarray(0, 640), qos, dup: false, retain: false, messageId: qos ? 77 : undefined });
    assert.deepEqual(out.subarray(0, n), expected);
  }
  assert.throws(() => writePublish(new Uint8Array(100), encodeUtf8(topic), payload, 640, 0, 0, false, false),
    new RangeError('PUBLISH of 682 bytes does not fit in the 100-byte buffer'));
});

// Each malformed input, its exact error, and that nothing is delivered from the bad packet.
const MALFORMED: [string, number[], string][] = [
  ['a reserved packet type 0', [0x00, 0x00], 'reserved packet type 0 [MQTT-2.2.1]'],
  ['a reserved packet type 15', [0xf0, 0x00], 'reserved packet type 15 [MQTT-2.2.1]'],
  ['wrong SUBSCRIBE flags', [0x80, 0x00], 'SUBSCRIBE flags must be 2, got 0 [MQTT-2.2.2-2]'],
  ['wrong PINGREQ flags', [0xc1, 0x00], 'PINGREQ flags must be 0, got 1 [MQTT-2.2.2-2]'],
  ['a 5-byte remaining length', [0x30, 0xff, 0xff, 0xff, 0xff, 0x01], 'remaining length runs past 4 bytes [MQTT-2.2.3]'],
  ['PUBLISH QoS 3', [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01], 'PUBLISH QoS 3 is reserved [MQTT-3.3.1-4]'],
  ['PUBLISH QoS 0 with DUP', [0x38, 0x03, 0x00, 0x01, 0x61], 'PUBLISH QoS 0 with DUP set [MQTT-3.3.1-2]'],
  ['a PUBLISH topic with +', [0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x2b], 'PUBLISH topic name "a/+" holds a wildcard [MQTT-3.3.2-2]'],
  ['a PUBLISH topic with #', [0x30, 0x03, 0x00, 0x01, 0x23], 'PUBLISH topic name "#" holds a wildcard [MQTT-3.3.2-2]'],
  ['an empty PUBLISH topic', [0x30, 0x02, 0x00, 0x00], 'PUBLISH topic name is empty [MQTT-4.7.3-1]'],
  ['invalid UTF-8 in a topic', [0x30, 0x04, 0x00, 0x02, 0xc3, 0x28], 'topic name is not well-formed UTF-8 or holds U+0000 [MQTT-1.5.3-1]'],
  ['U+0000 in a topic', [0x30, 0x03, 0x00, 0x01, 0x00], 'topic name is not well-formed UTF-8 or holds U+0000 [MQTT-1.5.3-1]'],
  ['an encoded surrogate in a topic', [0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80], 'topic name is not well-formed UTF-8 or holds U+0000 [MQTT-1.5.3-1]'],
  ['an overlong encoding in a topic', [0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf], 'topic name is not well-formed UTF-8 or holds U+0000 [MQTT-1.5.3-1]'],
  ['a topic length beyond the packet', [0x30, 0x03, 0x00, 0x05, 0x61], 'packet ends inside its topic name: 5 bytes needed, 1 left'],
  ['a PUBLISH QoS 1 without its identifier', [0x32, 0x03, 0x00, 0x01, 0x61], 'packet ends inside its packet identifier: 2 bytes needed, 0 left'],
  ['packet identifier 0', [0x40, 0x02, 0x00, 0x00], 'PUBACK packet identifier 0 [MQTT-2.3.1-1]'],
  ['a PUBACK with extra bytes', [0x40, 0x03, 0x00, 0x01, 0x00], 'PUBACK has 1 bytes beyond its fields'],
  ['a CONNACK with a reserved code', [0x20, 0x02, 0x00, 0x06], 'CONNACK return code 6 is reserved [MQTT-3.2.2.3]'],
  ['a CONNACK with reserved flags', [0x20, 0x02, 0x02, 0x00], 'CONNACK reserved flags set: 2 [MQTT-3.2.2.1]'],
  ['a SUBSCRIBE without filters', [0x82, 0x02, 0x00, 0x01], 'SUBSCRIBE without a topic filter [MQTT-3.8.3-3]'],
  ['a SUBSCRIBE with QoS byte 3', [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x03], 'SUBSCRIBE requested QoS byte 3 is invalid [MQTT-3.8.3-4]'],
  ['a SUBSCRIBE filter with # not last', [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 0x23, 0x2f, 0x61, 0x00], `SUBSCRIBE '#' must be a whole last level in "#/a" [MQTT-4.7.1-2]`],
  ['a SUBACK with code 3', [0x90, 0x03, 0x00, 0x01, 0x03], 'SUBACK return code 3 is reserved [MQTT-3.9.3-2]'],
  ['CONNECT from MQTT 3.1', [0x10, 0x0e, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x02, 0x00, 0x3c, 0x00, 0x00],
    'CONNECT protocol name "MQIsdp", expected "MQTT" [MQTT-3.1.2-1]'],
  ['CONNECT with level 5', [0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00], 'CONNECT protocol level 5, expected 4 [MQTT-3.1.2-2]'],
  ['CONNECT with the reserved flag', [0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x03, 0x00, 0x3c, 0x00, 0x00], 'CONNECT reserved flag set [MQTT-3.1.2-3]'],
  ['CONNECT with a password but no user name', [0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x42, 0x00, 0x3c, 0x00, 0x00],
    'CONNECT password without user name [MQTT-3.1.2-22]'],
  ['CONNECT with will QoS but no will', [0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x0a, 0x00, 0x3c, 0x00, 0x00],
    'CONNECT will QoS or retain set without a will [MQTT-3.1.2-11]'],
];

for (const [what, bytes, message] of MALFORMED) {
  test(`${what} is reported as "${message}" and delivers nothing`, () => {
    const valid = generate({ cmd: 'pingresp' });
    // A good packet before the bad one is delivered; nothing after the bad one is.
    const { packets, errors } = parseAll(Uint8Array.from([...valid, ...bytes, ...valid]));
    assert.deepEqual(packets, [{ cmd: 'pingresp' }]);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof MqttProtocolError);
    assert.equal(errors[0].message, message);
  });
}

test('a packet over maxPacketBytes is refused from its header, before its body is buffered', () => {
  const packet = generate({ cmd: 'publish', topic: 't', payload: new Uint8Array(5000), qos: 0, dup: false, retain: false });
  const errors: Error[] = [];
  const parser = new MqttParser({ maxPacketBytes: 4096, onPacket: () => assert.fail('no packet expected'), onError: (e) => errors.push(e) });
  parser.push(packet.subarray(0, 3)); // the fixed header only
  assert.deepEqual(errors.map((e) => e.message), ['PUBLISH of 5006 bytes exceeds the maximum of 4096']);
  assert.ok((parser as unknown as { pending: Uint8Array }).pending.length <= 5, 'nothing beyond the header was buffered');
  parser.push(packet.subarray(3)); // further input after the error is ignored
  assert.equal(errors.length, 1);
});

test('a truncated packet delivers nothing and waits for the rest; reset() drops it', () => {
  const bytes = generate({ cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'a/b', qos: 1 }] });
  const packets: Packet[] = [];
  const parser = new MqttParser({ maxPacketBytes: 1024, onPacket: (p) => packets.push(copyPacket(p)), onError: (e) => assert.fail(e) });
  parser.push(bytes.subarray(0, bytes.length - 1));
  assert.deepEqual(packets, []);
  parser.reset();
  parser.push(bytes);
  assert.deepEqual(packets, [{ cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'a/b', qos: 1 }] }]);
});

test('generate refuses misuse with a TypeError or RangeError that says what was expected', () => {
  const publish = (over: object) => ({ cmd: 'publish', topic: 'a', payload: new Uint8Array(0), qos: 0, dup: false, retain: false, ...over }) as Packet;
  assert.throws(() => generate(publish({ topic: 'a/#' })), new RangeError('topic name "a/#" holds a wildcard [MQTT-3.3.2-2]'));
  assert.throws(() => generate(publish({ qos: 3 })), new RangeError('qos must be 0, 1 or 2, got 3'));
  assert.throws(() => generate(publish({ qos: 1 })), new RangeError('messageId must be an integer 1-65535, got undefined [MQTT-2.3.1-1]'));
  assert.throws(() => generate(publish({ topic: 'x'.repeat(65536) })), new RangeError('topic is 65536 bytes of UTF-8; the limit is 65535'));
  assert.throws(() => generate(publish({ topic: '\ud800' })), new RangeError('topic holds a lone UTF-16 surrogate'));
  assert.throws(() => generate({ cmd: 'subscribe', messageId: 1, subscriptions: [] }), new RangeError('SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-3]'));
  assert.throws(() => generate({ cmd: 'connect', clientId: '', keepalive: 60, clean: false }),
    new RangeError('an empty clientId needs a clean session [MQTT-3.1.3-7]'));
  assert.throws(() => generate({ cmd: 'nope' } as unknown as Packet), new TypeError('unknown packet cmd "nope"'));
});

test('100,000 mutated packets never throw, hang or grow the buffer past the limit; each stream ends in packets or one error', () => {
  const seed = testSeed();
  const r = new Random(seed);
  const maxPacketBytes = 8192;
  const corpus: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const p = randomPacket(r, r.pick(ALL_COMMANDS));
    if (p.cmd === 'publish' && p.payload.length > 2000) continue;
    corpus.push(generate(p));
  }
  let errors = 0;
  let delivered = 0;
  for (let i = 0; i < 100_000; i++) {
    const base = r.pick(corpus);
    let bytes: Uint8Array = base.slice();
    const mutation = r.int(5);
    if (mutation === 0) bytes[r.int(bytes.length)] ^= 1 << r.int(8);
    else if (mutation === 1) bytes[r.int(bytes.length)] = r.int(256);
    else if (mutation === 2) bytes = bytes.slice(0, r.int(bytes.length));
    else if (mutation === 3) bytes = Uint8Array.from([...bytes, ...r.bytes(1 + r.int(8))]);
    else bytes = r.bytes(1 + r.int(64));
    let reported = 0;
    const parser = new MqttParser({
      maxPacketBytes,
      onPacket: () => { delivered++; },
      onError: (e) => { reported++; assert.ok(e instanceof MqttProtocolError && e.message.length > 0); },
    });
    try {
      parser.push(bytes.subarray(0, bytes.length >> 1));
      parser.push(bytes.subarray(bytes.length >> 1));
    } catch (error) {
      assert.fail(`seed ${seed}, case ${i}: push threw ${error} for ${Buffer.from(bytes).toString('hex')}`);
    }
    assert.ok(reported <= 1, `seed ${seed}, case ${i}: ${reported} errors reported`);
    assert.ok((parser as unknown as { pending: Uint8Array }).pending.length <= maxPacketBytes);
    errors += reported;
  }
  // The mutations must actually exercise both outcomes.
  assert.ok(errors > 10_000, `only ${errors} malformed streams detected`);
  assert.ok(delivered > 10_000, `only ${delivered} packets delivered`);
});

test('a packet with no body split across two reads is delivered when its last byte arrives, not with the next packet', () => {
  for (const cmd of ['pingreq', 'pingresp', 'disconnect'] as const) {
    const packets: Packet[] = [];
    const parser = new MqttParser({ maxPacketBytes: 64, onPacket: (p) => packets.push(copyPacket(p)), onError: (e) => assert.fail(e) });
    const bytes = generate({ cmd });
    parser.push(bytes.subarray(0, 1));
    parser.push(bytes.subarray(1, 2));
    assert.deepEqual(packets, [{ cmd }]);
  }
});
