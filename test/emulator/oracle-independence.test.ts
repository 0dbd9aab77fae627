// The emulator's AIS service is an oracle only while it shares no behaviour with the device: these tests read
// its imports (the rule in docs/emulator.md), check its wire rules against bytes written out by hand from the
// protocol text, and run it on fake time over an injected broker stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fromRoot } from '../support/paths.js';
import {
  InboundOrder, KeySchedule, OutboundNumbers, speakerBody, streamEntries, u32Ahead,
} from '../../emulator/ais/wire.js';
import { FakeClock } from '../support/service-clock.js';

/** src/ modules the emulator's AIS service may import at run time: wire constants only. */
const WIRE_CONSTANTS = ['src/ais/topics.js'];

test('emulator/ais/* imports from src/ only the wire constants (and types), and nothing from hosts/', () => {
  const dir = fromRoot('emulator/ais');
  const offenders: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(`${dir}/${file}`, 'utf8');
    for (const m of source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gms)) {
      const [, typeOnly, spec] = m;
      if (!spec.startsWith('.')) continue;
      const target = new URL(spec, `file://${dir}/${file}`).pathname.slice(fromRoot('').length).replace(/^\//, '');
      if (target.startsWith('hosts/')) offenders.push(`${file} → ${target}`);
      else if (target.startsWith('src/') && !typeOnly && !WIRE_CONSTANTS.includes(target)) offenders.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(offenders, []);
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('speaker bodies: the worked example of five 160-byte frames and a marker, byte for byte', () => {
  const frames = [1, 2, 3, 4, 5].map((v) => new Uint8Array(160).fill(v));
  const body = speakerBody(0x0102030405, frames, 0xdeadbeef);
  assert.equal(body.length, 8 + 808 + 12);
  // length 808 = 8 + 5 × 160, type 0, count 4, reserved 0, then the u64 offset little-endian.
  assert.equal(hex(body.subarray(0, 16)), '28030000' + '00' + '04' + '0000' + '0504030201000000');
  assert.equal(body[16], 1);
  assert.equal(body[16 + 4 * 160], 5);
  // The marker entry: length 4, type 1, count 0, the marker little-endian.
  assert.equal(hex(body.subarray(816)), '04000000' + '01' + '00' + '0000' + 'efbeadde');
});

test('microphone bodies: entries read from hand-made bytes; a short or overlong entry is a readable error', () => {
  const bytes = Buffer.from('0c000000' + '00000000' + '4000000000000000' + '01020304' + '04000000' + '01000000' + 'aabbccdd', 'hex');
  const entries = streamEntries(bytes);
  assert.equal(entries.length, 2);
  assert.deepEqual(entries[0].type === 'audio' && [entries[0].offset, hex(entries[0].audio)], [64, '01020304']);
  assert.deepEqual(entries[1], { type: 'other', kind: 1 });
  assert.throws(() => streamEntries(bytes.subarray(0, 5)), /entry 0 at byte 0: 5 bytes left, a header is 8/);
  assert.throws(() => streamEntries(bytes.subarray(0, 19)), /entry 0 at byte 0: length 12 runs past the body/);
  assert.throws(() => streamEntries(Buffer.from('04000000000000000102', 'hex').subarray(0, 12)), /runs past|no offset/);
});

test('sequence numbers wrap at 2^32 and a key schedule switches per topic at the named number, across the wrap', () => {
  const n = new OutboundNumbers(0xfffffffe);
  assert.deepEqual([n.take(), n.take(), n.take()], [0xfffffffe, 0xffffffff, 0]);
  assert.equal(u32Ahead(0xffffffff, 1), 2);
  const old = new Uint8Array(16).fill(1);
  const fresh = new Uint8Array(16).fill(2);
  const keys = new KeySchedule(old);
  keys.from(0xfffffffe, fresh);
  assert.equal(keys.keyFor(0xfffffffd), old);
  assert.equal(keys.keyFor(0xfffffffe), fresh);
  assert.equal(keys.keyFor(3), fresh, 'past the wrap the new key still applies');
  keys.only(fresh);
  assert.equal(keys.keyFor(0), fresh);
});

test('inbound order on fake time: held within the window, delivered in order, a gap fails after its timeout only, duplicates dropped', () => {
  const clock = new FakeClock();
  const got: number[] = [];
  const failures: string[] = [];
  const dups: number[] = [];
  const order = new InboundOrder({ clock, windowSlots: 4, gapTimeoutMs: 10_000, deliver: (s) => got.push(s), fail: (r) => failures.push(r), duplicate: (s) => dups.push(s) });
  const p = new Uint8Array(4);
  order.push(0, p); order.push(2, p); order.push(1, p); order.push(1, p);
  assert.deepEqual(got, [0, 1, 2]);
  assert.deepEqual(dups, [1]);
  order.push(4, p);
  clock.advance(9_999);
  assert.deepEqual(failures, [], 'still waiting for #3');
  clock.advance(1);
  assert.deepEqual(failures, ['#3 never came within 10000 ms']);
  order.reset();
  order.push(5, p);
  assert.match(failures[1], /#5 is 5 ahead of #0, more than the 4 held/);
});
