// Node-only codec tests: mqtt-packet as the oracle and the 100,000-mutation fuzz. Fixtures, malformed inputs and
// splits are in codec.portable.test.ts, which runs on Node and on XS.
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
