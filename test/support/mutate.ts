// Mutated MQTT input for the parser: one mutation step and the loop that feeds thousands of mutated packets
// to fresh parsers, shared by the 5,000-case test of codec.portable.test.ts (Node and XS) and the
// 100,000-case fuzz of codec.test.ts (Node).
// Portable (XS loads it beside the *.portable.test.ts files): imports nothing but src/ and test/support/.
// The assertions are the caller's node:assert/strict, handed in, so that this file needs no node: module.
import { generate } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import { MqttProtocolError } from '../../src/mqtt/packets.js';
import { toHex } from './bytes.js';
import { ALL_COMMANDS, randomPacket, type RandomPacketOptions } from './mqtt-packets.js';
import type { Random } from './random.js';

/** The assertions the loop makes, as node:assert/strict (or the XS shim of it) has them. */
export interface MutationAsserts {
  ok(value: unknown, message?: string): void;
  fail(message: string): never;
}

export interface MutationRun {
  /** Printed in failure messages, to replay the run. */
  seed: number;
  /** Random packets drawn for the corpus (PUBLISH with payloads over maxPayload are left out). */
  corpus: number;
  maxPayload: number;
  /** How many mutated packets are parsed. */
  cases: number;
  maxPacketBytes: number;
  /** Passed to randomPacket for the corpus. */
  packets?: RandomPacketOptions;
}

/** One of five mutations of `base`, chosen by `r`: flip a bit, set a byte, truncate, append junk, or all junk. */
export function mutate(r: Random, base: Uint8Array): Uint8Array {
  let bytes: Uint8Array = base.slice();
  const mutation = r.int(5);
  if (mutation === 0) bytes[r.int(bytes.length)] ^= 1 << r.int(8);
  else if (mutation === 1) bytes[r.int(bytes.length)] = r.int(256);
  else if (mutation === 2) bytes = bytes.slice(0, r.int(bytes.length));
  else if (mutation === 3) bytes = Uint8Array.from([...bytes, ...r.bytes(1 + r.int(8))]);
  else bytes = r.bytes(1 + r.int(64));
  return bytes;
}

/**
 * Parses `run.cases` mutations of encoded random packets, each in two reads into a fresh parser, asserting
 * that no push throws, that at most one error (an MqttProtocolError with a message) is reported per stream
 * and that the parser never buffers more than maxPacketBytes. Returns the errors and packets seen, for the
 * caller to check that both outcomes were exercised.
 */
export function mutationFuzz(assert: MutationAsserts, r: Random, run: MutationRun): { errors: number; delivered: number } {
  const corpus: Uint8Array[] = [];
  for (let i = 0; i < run.corpus; i++) {
    const p = randomPacket(r, r.pick(ALL_COMMANDS), undefined, run.packets);
    if (p.cmd === 'publish' && p.payload.length > run.maxPayload) continue;
    corpus.push(generate(p));
  }
  let errors = 0;
  let delivered = 0;
  for (let i = 0; i < run.cases; i++) {
    const bytes = mutate(r, r.pick(corpus));
    let reported = 0;
    const parser = new MqttParser({
      maxPacketBytes: run.maxPacketBytes,
      onPacket: () => { delivered++; },
      onError: (e) => { reported++; assert.ok(e instanceof MqttProtocolError && e.message.length > 0); },
    });
    try {
      parser.push(bytes.subarray(0, bytes.length >> 1));
      parser.push(bytes.subarray(bytes.length >> 1));
    } catch (error) {
      assert.fail(`seed ${run.seed}, case ${i}: push threw ${error} for ${toHex(bytes)}`);
    }
    assert.ok(reported <= 1, `seed ${run.seed}, case ${i}: ${reported} errors reported`);
    assert.ok((parser as unknown as { pending: Uint8Array }).pending.length <= run.maxPacketBytes);
    errors += reported;
  }
  return { errors, delivered };
}
