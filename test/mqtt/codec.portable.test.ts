// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The MQTT 3.1.1 codec without the mqtt-packet oracle of codec.test.ts: fixtures with exact bytes (taken
// from mqtt-packet 9 when written, one per packet type), malformed inputs with exact messages, round trips
// of seeded random packets, any split of a stream, and mutated input that must never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, packetSize, writePublish } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import { MqttProtocolError, type Packet } from '../../src/mqtt/packets.js';
import { encodeUtf8 } from '../../src/encoding/utf8.js';
import { ascii, hex, toHex } from '../support/bytes.js';
import { ALL_COMMANDS, EDGE_REMAINING, MAX_PACKET_BYTES, copyPacket, parseAll, randomPacket } from '../support/mqtt-packets.js';
import { mutationFuzz } from '../support/mutate.js';
import { Random, testSeed } from '../support/random.js';

const SEED = testSeed();

const FIXTURES: [string, Packet, string][] = [
  ['CONNECT, clean, keep-alive 60', { cmd: 'connect', clientId: 'device-1', keepalive: 60, clean: true },
    '101400044d5154540402003c00086465766963652d31'],
  ['CONNECT with user, password and a retained QoS 1 will', {
    cmd: 'connect', clientId: 'c', keepalive: 300, clean: false, will: { topic: 'w/t', payload: ascii('bye'), qos: 1, retain: true },
    username: 'user', password: ascii('pw'),
  }, '102100044d51545404ec012c0001630003772f74000362796500047573657200027077'],
  ['CONNACK, session present', { cmd: 'connack', sessionPresent: true, returnCode: 0 }, '20020100'],
  ['CONNACK, not authorized', { cmd: 'connack', sessionPresent: false, returnCode: 5 }, '20020005'],
  ['PUBLISH QoS 0', { cmd: 'publish', topic: 'a/b', payload: ascii('hi'), qos: 0, dup: false, retain: false, messageId: undefined },
    '30070003612f626869'],
  ['PUBLISH QoS 1, DUP, RETAIN, UTF-8 topic', { cmd: 'publish', topic: 'a/é', payload: Uint8Array.of(0, 255), qos: 1, dup: true, retain: true, messageId: 0x1234 },
    '3b0a0004612fc3a9123400ff'],
  // A character beyond the BMP: 4 bytes of UTF-8, two UTF-16 code units. XS's default (non-CESU-8) string
  // mode counts it as one: npm run test:xs -- --utf8 shows what that breaks.
  ['PUBLISH with a topic beyond the BMP', { cmd: 'publish', topic: 'a/\u{1F600}', payload: ascii('x'), qos: 0, dup: false, retain: false, messageId: undefined },
    '30090006612ff09f988078'],
  ['PUBACK', { cmd: 'puback', messageId: 0x1234 }, '40021234'],
  ['PUBREC', { cmd: 'pubrec', messageId: 1 }, '50020001'],
  ['PUBREL (flags 2)', { cmd: 'pubrel', messageId: 2 }, '62020002'],
  ['PUBCOMP, identifier 65535', { cmd: 'pubcomp', messageId: 65535 }, '7002ffff'],
  ['SUBSCRIBE, two filters', { cmd: 'subscribe', messageId: 10, subscriptions: [{ topic: 'a/+', qos: 0 }, { topic: '#', qos: 1 }] },
    '820c000a0003612f2b0000012301'],
  ['SUBACK with a refusal', { cmd: 'suback', messageId: 10, granted: [0, 1, 128] }, '9005000a000180'],
  ['UNSUBSCRIBE', { cmd: 'unsubscribe', messageId: 11, unsubscriptions: ['a/+', 'x'] }, 'a20a000b0003612f2b000178'],
  ['UNSUBACK', { cmd: 'unsuback', messageId: 11 }, 'b002000b'],
  ['PINGREQ', { cmd: 'pingreq' }, 'c000'],
  ['PINGRESP', { cmd: 'pingresp' }, 'd000'],
  ['DISCONNECT', { cmd: 'disconnect' }, 'e000'],
];

for (const [what, packet, bytes] of FIXTURES) {
  test(`${what} encodes to ${bytes.length / 2} exact bytes and parses back, whole and one byte at a time`, () => {
    const encoded = generate(packet);
    assert.equal(toHex(encoded), bytes);
    assert.equal(packetSize(packet), bytes.length / 2);
    assert.deepEqual(parseAll(hex(bytes)).packets, [packet]);
    const oneByOne: Packet[] = [];
    const parser = new MqttParser({ maxPacketBytes: 1024, onPacket: (p) => oneByOne.push(copyPacket(p)), onError: (e) => assert.fail(e) });
    const wire = hex(bytes);
    for (let i = 0; i < wire.length; i++) parser.push(wire.subarray(i, i + 1));
    assert.deepEqual(oneByOne, [packet]);
  });
}

test('a 200-byte PUBLISH payload takes a two-byte remaining length (0xcb 0x01)', () => {
  const packet: Packet = { cmd: 'publish', topic: 't', payload: new Uint8Array(200).fill(7), qos: 0, dup: false, retain: false, messageId: undefined };
  const bytes = generate(packet);
  assert.equal(bytes.length, 206);
  assert.equal(toHex(bytes.subarray(0, 8)), '30cb010001740707');
  assert.deepEqual(parseAll(bytes).packets, [packet]);
});

test('random packets of every type survive generate and parse unchanged, at their computed size', () => {
  const r = new Random(SEED);
  let count = 0;
  for (let round = 0; round < 30; round++) {
    for (const cmd of ALL_COMMANDS) {
      const packet = randomPacket(r, cmd);
      const bytes = generate(packet);
      const context = `seed ${SEED}, packet ${count} (${cmd})`;
      assert.equal(bytes.length, packetSize(packet), context);
      const { packets, errors } = parseAll(bytes);
      assert.deepEqual(errors, [], context);
      assert.deepEqual(packets, [packet], context);
      count++;
    }
  }
  assert.equal(count, 30 * 14);
});

test('remaining lengths at every varint edge (127/128/16383/16384/2097151/2097152) take 1 to 4 length bytes', () => {
  const r = new Random(7);
  for (const remaining of EDGE_REMAINING) {
    const packet = randomPacket(r, 'publish', remaining);
    const bytes = generate(packet);
    const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
    assert.equal(bytes.length, 1 + lengthBytes + remaining, `remaining ${remaining}`);
    assert.equal(bytes[lengthBytes] & 0x80, 0, `the last length byte of ${remaining} has no continuation bit`);
    assert.deepEqual(parseAll(bytes).packets, [packet], `remaining ${remaining}`);
  }
});

test('a stream of many packets parses the same under any split into reads', () => {
  const r = new Random(SEED);
  const expected: Packet[] = [];
  for (let i = 0; i < 150; i++) expected.push(randomPacket(r, r.pick(ALL_COMMANDS)));
  const parts = expected.map((p) => generate(p));
  const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { stream.set(p, at); return at + p.length; }, 0);
  for (let trial = 0; trial < 3; trial++) {
    const { packets, errors } = parseAll(stream, new Random(SEED + trial));
    assert.deepEqual(errors, []);
    assert.equal(packets.length, expected.length, `seed ${SEED} trial ${trial}`);
    assert.deepEqual(packets, expected, `seed ${SEED} trial ${trial}`);
  }
  const oneByOne: Packet[] = [];
  const parser = new MqttParser({ maxPacketBytes: MAX_PACKET_BYTES, onPacket: (p) => oneByOne.push(copyPacket(p)), onError: (e) => assert.fail(e) });
  for (let i = 0; i < stream.length; i++) parser.push(stream.subarray(i, i + 1));
  assert.deepEqual(oneByOne, expected, `seed ${SEED}, one byte at a time`);
});

test('writePublish writes the same bytes as generate for a pre-encoded topic and a partial payload buffer', () => {
  const topic = '$aws/alexa/ais/v1/device-1/microphone';
  const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
  const out = new Uint8Array(2048);
  for (const qos of [0, 1] as const) {
    const n = writePublish(out, encodeUtf8(topic), payload, 640, qos, 77, false, false);
    const expected = generate({ cmd: 'publish', topic, payload: payload.subarray(0, 640), qos, dup: false, retain: false, messageId: qos ? 77 : undefined });
    assert.deepEqual(out.subarray(0, n), expected);
    assert.equal(n, 1 + 2 + 2 + topic.length + (qos ? 2 : 0) + 640);
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
    assert.equal(errors[0].name, 'MqttProtocolError');
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

test('5,000 mutated packets never throw or grow the buffer past the limit; each stream ends in packets or one error', () => {
  const run = { seed: SEED, corpus: 100, maxPayload: 700, cases: 5000, maxPacketBytes: 8192 };
  const { errors, delivered } = mutationFuzz(assert, new Random(SEED), run);
  // The mutations must exercise both outcomes.
  assert.ok(errors > 500, `seed ${SEED}: only ${errors} malformed streams detected`);
  assert.ok(delivered > 500, `seed ${SEED}: only ${delivered} packets delivered`);
});

test('a packet with no body split across two reads is delivered when its last byte arrives, not with the next packet', () => {
  for (const cmd of ['pingreq', 'pingresp', 'disconnect'] as const) {
    const seen: string[] = [];
    const parser = new MqttParser({ maxPacketBytes: 64, onPacket: (p) => seen.push(p.cmd), onError: (e) => assert.fail(e.message) });
    const bytes = generate({ cmd });
    parser.push(bytes.subarray(0, 1));
    parser.push(bytes.subarray(1, 2));
    assert.deepEqual(seen, [cmd]);
  }
});

// Issue 24 item 7: a limit of 2 or 3 bytes threw `RangeError: offset is out of bounds` out of push() on a split
// header (the header buffer was cut to the limit), and a limit near MQTT's maximum allocated the announced
// length (268 MB) on the 5 bytes of a header.
test('tiny limits parse what fits and refuse the rest without throwing', () => {
  const ping = generate({ cmd: 'pingresp' });
  for (const maxPacketBytes of [2, 3]) {
    const seen: string[] = [];
    const errors: string[] = [];
    const parser = new MqttParser({ maxPacketBytes, onPacket: (p) => seen.push(p.cmd), onError: (e) => errors.push(e.message) });
    parser.push(ping.subarray(0, 1));
    parser.push(ping.subarray(1));
    assert.deepEqual(seen, ['pingresp']);
    const publish = generate({ cmd: 'publish', topic: 't', payload: new Uint8Array(200), qos: 0, dup: false, retain: false });
    for (let i = 0; i < publish.length; i++) parser.push(publish.subarray(i, i + 1)); // a two-byte length, split
    assert.deepEqual(errors, [`PUBLISH of ${publish.length} bytes exceeds the maximum of ${maxPacketBytes}`]);
  }
});

test('the buffer grows with the bytes received, not with the length a header announces', () => {
  const max = 5 + 268_435_455;
  const packets: Packet[] = [];
  const parser = new MqttParser({ maxPacketBytes: max, onPacket: (p) => packets.push(copyPacket(p)), onError: (e) => assert.fail(e) });
  const pending = () => (parser as unknown as { pending: Uint8Array }).pending.length;
  parser.push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f])); // a PUBLISH announcing the largest remaining length
  assert.ok(pending() <= 64, `${pending()} bytes held for a 5-byte header`);
  parser.push(new Uint8Array(1000));
  assert.ok(pending() <= 2048, `${pending()} bytes held after 1,005 received`);
  parser.reset();
  const packet = generate({ cmd: 'publish', topic: 'a/b', payload: new Uint8Array(70_000).fill(7), qos: 0, dup: false, retain: false });
  for (let i = 0; i < packet.length; i += 1460) parser.push(packet.subarray(i, i + 1460));
  assert.equal(packets.length, 1);
  assert.equal((packets[0] as { payload: Uint8Array }).payload.length, 70_000);
  assert.ok(pending() < 2 * packet.length, `${pending()} bytes held for a ${packet.length}-byte packet`);
  assert.throws(() => new MqttParser({ maxPacketBytes: 300_000_000, onPacket() {}, onError() {} }),
    { name: 'RangeError', message: `maxPacketBytes expected an integer 2..${max}, got 300000000` });
});
