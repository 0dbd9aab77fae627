// Binary stream entries (docs/protocol.md §3.3) with exact bytes: the spec's worked sizes, every malformed
// shape with its named error and message, and random bodies that must never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import {
  BinaryReader, BinaryStreamError, parseBinaryBody, readU64, writeAudioEntry, writeAudioEntryHeader, writeMarkerEntry, writeU64,
} from '../../src/ais/binary.js';
import { Envelope } from '../../src/ais/envelope.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { Random, testSeed } from '../support/random.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('an SDK microphone chunk of 1,600 samples is a 3,216-byte body: length 3208, type 0, count 0, offset, PCM', () => {
  const pcm = new Uint8Array(3200).map((_, i) => i & 0xff);
  const body = new Uint8Array(3216);
  const end = writeAudioEntry(body, 0, 16000, pcm);
  assert.equal(end, 3216);
  assert.equal(hex(body.subarray(0, 16)), '880c0000' + '00' + '00' + '0000' + '803e000000000000');
  assert.deepEqual(body.subarray(16), pcm);
});

test('that chunk sealed in the envelope is the spec\'s 3,252-byte MQTT payload (36 + 8 + 8 + 3200)', () => {
  const crypto = createPortableCrypto((out) => { randomFillSync(out); });
  const envelope = new Envelope({ crypto, maxMessageBytes: 8000 });
  const body = new Uint8Array(3216);
  writeAudioEntry(body, 0, 0, new Uint8Array(3200));
  assert.equal(envelope.seal(new Uint8Array(32), 7, body, new Uint8Array(8000)), 3252);
});

test('a speaker entry of five 160-byte Opus frames has length 808, type 0, count 4; a one-marker entry length 4, type 1, count 0', () => {
  const body = new Uint8Array(816 + 12);
  const frames = new Uint8Array(800).fill(0xab);
  let at = writeAudioEntry(body, 0, 0x1_0000_0005, frames, 4);
  assert.equal(at, 816);
  at = writeMarkerEntry(body, at, [0xdeadbeef]);
  assert.equal(at, 828);
  assert.equal(hex(body.subarray(0, 16)), '28030000' + '00' + '04' + '0000' + '0500000001000000');
  assert.equal(hex(body.subarray(816)), '04000000' + '01' + '00' + '0000' + 'efbeadde');
  assert.deepEqual(parseBinaryBody(body), [
    { type: 'audio', offsetBytes: 0x1_0000_0005, frames: 5, frameBytes: 160, audio: frames },
    { type: 'marker', markers: [0xdeadbeef] },
  ]);
});

test('the reader walks entries in place: offsets, frame counts, data positions and markers', () => {
  const body = new Uint8Array(64);
  let at = writeMarkerEntry(body, 0, [1, 2]);
  at = writeAudioEntryHeader(body, at, 480, 6, 2);
  body.set([1, 2, 3, 4, 5, 6], at);
  at += 6;
  const reader = new BinaryReader().reset(body, 0, at);
  assert.equal(reader.next(), true);
  assert.deepEqual([reader.index, reader.type, reader.items, reader.marker(0), reader.marker(1)], [0, 1, 2, 1, 2]);
  assert.equal(reader.next(), true);
  assert.deepEqual([reader.index, reader.type, reader.items, reader.offsetBytes, reader.dataStart, reader.dataBytes], [1, 0, 3, 480, 32, 6]);
  assert.equal(reader.next(), false);
  assert.equal(reader.error, undefined);
});

test('u64 offsets round-trip up to 2^53 − 1 and beyond it read as unrepresentable', () => {
  const b = new Uint8Array(8);
  for (const v of [0, 1, 0xffffffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]) {
    writeU64(b, 0, v);
    assert.equal(readU64(b, 0), v);
  }
  b.set([0, 0, 0, 0, 0, 0, 0x20, 0]);
  assert.equal(readU64(b, 0), -1);
});

const malformed: [string, number[], string][] = [
  ['a length past the end of the body', [20, 0, 0, 0, 0, 0, 0, 0, ...new Array(8).fill(0), 1, 2], 'LENGTH_PAST_END: binary entry 0 at byte 0: length 20 runs past the body (10 bytes left)'],
  ['audio bytes that are not count+1 equal frames', [8 + 5, 0, 0, 0, 0, 1, 0, 0, ...new Array(8).fill(0), 1, 2, 3, 4, 5], 'COUNT_MISMATCH: binary entry 0 at byte 0: 5 audio bytes are not 2 equal frames'],
  ['a marker length that does not match its count', [4, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0], 'COUNT_MISMATCH: binary entry 0 at byte 0: 2 markers need length 8, got 4'],
  ['an unknown type', [0, 0, 0, 0, 2, 0, 0, 0], 'UNKNOWN_TYPE: binary entry 0 at byte 0: type 0..1 expected, got 2'],
  ['an audio entry too short for its offset', [4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 'SHORT_AUDIO: binary entry 0 at byte 0: audio entry of length 4 has no room for its 8-byte offset'],
  ['a header cut short after a good entry', [4, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 2, 3], 'TRUNCATED_HEADER: binary entry 1 at byte 12: an 8-byte header expected, 3 bytes left'],
  ['an offset beyond 2^53', [8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0], 'OFFSET_RANGE: binary entry 0 at byte 0: offset beyond 2^53'],
];
for (const [what, bytes, message] of malformed) {
  test(`a body with ${what} stops the reader with a named error`, () => {
    const reader = new BinaryReader().reset(new Uint8Array(bytes));
    while (reader.next()) { /* walk */ }
    assert.ok(reader.error instanceof BinaryStreamError);
    assert.equal(`${reader.error.kind}: ${reader.error.message}`, message);
    assert.throws(() => parseBinaryBody(new Uint8Array(bytes)), { name: 'BinaryStreamError', message: message.slice(message.indexOf(': ') + 2) });
  });
}

test('random bodies never throw from the reader; each ends cleanly or with a named error', () => {
  const seed = testSeed();
  const random = new Random(seed);
  const reader = new BinaryReader();
  let errors = 0;
  for (let i = 0; i < 5000; i++) {
    const body = random.bytes(random.int(64));
    if (random.int(2) === 0 && body.length >= 8) { body[1] = body[2] = body[3] = 0; body[0] = random.int(body.length); body[4] = random.int(3); }
    reader.reset(body);
    let guard = 0;
    while (reader.next()) assert.ok(++guard <= body.length, `seed ${seed}: reader does not advance`);
    if (reader.error) errors++;
  }
  assert.ok(errors > 0, `seed ${seed}: random bytes should include malformed bodies`);
});

test('writers refuse misuse at once: count beyond a byte, audio not count+1 frames, an entry past the buffer', () => {
  const out = new Uint8Array(32);
  assert.throws(() => writeAudioEntryHeader(out, 0, 0, 0, 256), { name: 'RangeError', message: 'count expected 0..255 (items minus one), got 256' });
  assert.throws(() => writeAudioEntryHeader(out, 0, 0, 5, 1), { name: 'RangeError', message: 'audioBytes expected a multiple of count+1 (2), got 5' });
  assert.throws(() => writeAudioEntry(out, 0, 0, new Uint8Array(17)), { name: 'RangeError', message: 'entry of 33 bytes at 0 does not fit a 32-byte buffer' });
  assert.throws(() => writeMarkerEntry(out, 0, [-1]), { name: 'RangeError', message: 'marker expected a u32, got -1' });
});
