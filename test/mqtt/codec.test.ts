// Node-only codec tests: mqtt-packet as the oracle and the 100,000-mutation fuzz. Fixtures, malformed inputs and
// splits are in codec.portable.test.ts, which runs on Node and on XS; the random packets and the mutation loop
// both use are test/support/mqtt-packets.ts and mutate.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { generate, packetSize } from '../../src/mqtt/generate.js';
import type { Packet } from '../../src/mqtt/packets.js';
import { ALL_COMMANDS, EDGE_REMAINING, parseAll, randomPacket as portableRandomPacket, type RandomPacketOptions } from '../support/mqtt-packets.js';
import { mutationFuzz } from '../support/mutate.js';
import { Random, testSeed } from '../support/random.js';
import { oracleParse, toOracle } from './oracle.js';

/** Against the oracle: 64 KiB payloads too, and random bytes in the multi-megabyte edge payloads. */
const ORACLE_PACKETS: RandomPacketOptions = { large: true, randomEdgePayload: true };
const randomPacket = (r: Random, cmd: Packet['cmd'], remaining?: number) => portableRandomPacket(r, cmd, remaining, ORACLE_PACKETS);

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
  const run = { seed, corpus: 200, maxPayload: 2000, cases: 100_000, maxPacketBytes: 8192, packets: ORACLE_PACKETS };
  const { errors, delivered } = mutationFuzz(assert, new Random(seed), run);
  // The mutations must actually exercise both outcomes.
  assert.ok(errors > 10_000, `only ${errors} malformed streams detected`);
  assert.ok(delivered > 10_000, `only ${delivered} packets delivered`);
});
