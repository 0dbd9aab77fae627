// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The AIS envelope (docs/protocol.md §3.2) with the portable Crypto port: exact bytes for a fixed IV as
// node:crypto made them when this file was written (envelope.test.ts checks them live), round trips,
// every tampered byte, the legacy layout and the size checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { ENVELOPE, Envelope, peekSequenceNumber } from '../../src/ais/envelope.js';
import { encodeUtf8 as utf8 } from '../../src/encoding/utf8.js';
import { hex, toHex, utf8Text as text } from '../support/bytes.js';
import { randomSource } from '../support/random.js';

const random = randomSource(0x5eed);
const randomBytes = (n: number) => { const b = new Uint8Array(n); random(b); return b; };
const crypto = createPortableCrypto(random);

const KEY32 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const KEY16 = hex('f0e1d2c3b4a5968778695a4b3c2d1e0f');
const IV = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

/** A Crypto whose randomBytes hands out a fixed IV and counts calls. */
function fixedIvCrypto(iv: Uint8Array) {
  const counts = { random: 0 };
  return { crypto: createPortableCrypto((out) => { counts.random++; out.set(iv.subarray(0, out.length)); }), counts };
}

test('seal writes [u32 LE seq][IV][tag][AES-GCM of (u32 LE seq + body)] with the exact bytes node:crypto computes', () => {
  const expected: [Uint8Array, string][] = [
    [KEY32, '040302010102030405060708090a0b0cdde3ff749d42b0c298c3e1530cf7047401e958d497b695f029cc17343229b1753f'],
    [KEY16, '040302010102030405060708090a0b0c0eb023c6e6982c2f9856a2145c7f4aff1ff4fe5f02549ac8f2a898173c663b2ab4'],
  ];
  for (const [key, bytes] of expected) {
    const { crypto: fixed, counts } = fixedIvCrypto(IV);
    const envelope = new Envelope({ crypto: fixed, maxMessageBytes: 256 });
    const body = utf8('{"events":[]}');
    const out = new Uint8Array(256);
    const length = envelope.seal(key, 0x01020304, body, out);
    assert.equal(length, 36 + body.length);
    assert.equal(counts.random, 1);
    assert.equal(toHex(out.subarray(0, length)), bytes);
  }
});

test('open returns the sequence number and body of a sealed message, for empty, one-block and maximal bodies', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 36 + 700 });
  const out = new Uint8Array(envelope.maxMessageBytes);
  for (const key of [KEY32, KEY16]) {
    for (const size of [0, 12, 13, 644, 700]) {
      const body = randomBytes(size);
      const length = envelope.seal(key, 4242, body, out);
      const result = envelope.open(key, out.subarray(0, length));
      assert.equal(result.error, null);
      assert.equal(result.ok, true);
      assert.equal(result.sequenceNumber, 4242);
      assert.equal(result.bodyOffset, 4);
      assert.equal(result.bodyBytes, size);
      assert.equal(toHex(result.body()), toHex(body));
    }
  }
});

test('sequence numbers 0 and 2^32-1 survive the round trip; a non-u32 is refused', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 64 });
  const out = new Uint8Array(64);
  for (const seq of [0, 0xffffffff]) {
    const n = envelope.seal(KEY32, seq, utf8('x'), out);
    assert.equal(peekSequenceNumber(out), seq);
    assert.equal(envelope.open(KEY32, out.subarray(0, n)).sequenceNumber, seq);
  }
  assert.throws(() => envelope.seal(KEY32, 2 ** 32, utf8('x'), out), { name: 'RangeError', message: 'sequence number expected a u32, got 4294967296' });
  assert.throws(() => envelope.seal(KEY32, -1, utf8('x'), out), { name: 'RangeError', message: 'sequence number expected a u32, got -1' });
});

test('seal refuses a body over maxMessageBytes and an out buffer too small, naming sizes', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 100 });
  assert.equal(envelope.maxBodyBytes, 64);
  assert.throws(() => envelope.seal(KEY32, 0, new Uint8Array(65), new Uint8Array(200)),
    { name: 'RangeError', message: 'body expected at most 64 bytes (maxMessageBytes 100), got 65' });
  assert.throws(() => envelope.seal(KEY32, 0, new Uint8Array(10), new Uint8Array(45)),
    { name: 'RangeError', message: 'out expected at least 46 bytes, got 45' });
  assert.throws(() => new Envelope({ crypto, maxMessageBytes: 35 }),
    { name: 'RangeError', message: 'maxMessageBytes expected an integer >= 36, got 35' });
});

test('seal takes the first bodyBytes of a larger buffer and a fresh IV per message', () => {
  let n = 0;
  const envelope = new Envelope({ crypto: createPortableCrypto((out) => { out.fill(++n); }), maxMessageBytes: 64 });
  const big = utf8('hello, world');
  const a = new Uint8Array(64);
  const b = new Uint8Array(64);
  const la = envelope.seal(KEY16, 1, big, a, 5);
  const lb = envelope.seal(KEY16, 1, big, b, 5);
  assert.equal(la, 41);
  assert.equal(toHex(a.subarray(4, 16)), '01'.repeat(12));
  assert.equal(toHex(b.subarray(4, 16)), '02'.repeat(12));
  assert.equal(text(envelope.open(KEY16, a.subarray(0, la)).body()), 'hello');
  assert.notEqual(toHex(a.subarray(16, lb)), toHex(b.subarray(16, lb)));
});

test('open reports TRUNCATED below 36 bytes and TOO_LARGE above maxMessageBytes, saying expected and got', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 64 });
  const short = envelope.open(KEY32, new Uint8Array(35));
  assert.equal(short.ok, false);
  assert.equal(short.error?.kind, 'TRUNCATED');
  assert.equal(short.error?.message, 'TRUNCATED: envelope expected at least 36 bytes, got 35');
  assert.equal(envelope.open(KEY32, new Uint8Array(0)).error?.message, 'TRUNCATED: envelope expected at least 36 bytes, got 0');
  const long = envelope.open(KEY32, new Uint8Array(65));
  assert.equal(long.error?.kind, 'TOO_LARGE');
  assert.equal(long.error?.message, 'TOO_LARGE: envelope expected at most 64 bytes, got 65');
});

test('a flipped byte in IV, tag or ciphertext is ENCRYPTION_ERROR; in the outer sequence it is MESSAGE_TAMPERED', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 128 });
  const out = new Uint8Array(128);
  const length = envelope.seal(KEY32, 7, utf8('{"directives":[]}'), out);
  const sealed = out.slice(0, length);
  const kinds: string[] = [];
  for (let i = 0; i < length; i++) {
    const copy = sealed.slice();
    copy[i] ^= 0x80;
    const result = envelope.open(KEY32, copy);
    kinds.push(result.error?.kind ?? 'OK');
    if (i === 0) assert.equal(result.error?.message, 'MESSAGE_TAMPERED: inner sequence 135 expected (the outer one), got 7');
    if (i === 20) assert.equal(result.error?.message, 'ENCRYPTION_ERROR: AES-GCM tag does not verify for sequence 7 (53 bytes)');
  }
  // No AAD (§3.2): the outer number is bound only through its encrypted copy.
  assert.deepEqual(kinds, [...Array(4).fill('MESSAGE_TAMPERED'), ...Array(length - 4).fill('ENCRYPTION_ERROR')]);
  assert.equal(envelope.open(KEY32, sealed).ok, true);
});

test('a failed open leaves no plaintext in the shared scratch', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 128 });
  const out = new Uint8Array(128);
  const length = envelope.seal(KEY32, 9, utf8('secret words here'), out);
  const good = envelope.open(KEY32, out.subarray(0, length));
  assert.equal(text(good.body()), 'secret words here');
  const scratch = good.bytes;
  const tampered = out.slice(0, length);
  tampered[0] ^= 1; // decrypts fine, then MESSAGE_TAMPERED
  const bad = envelope.open(KEY32, tampered);
  assert.equal(bad, good, 'the result object is reused');
  assert.equal(bad.error?.kind, 'MESSAGE_TAMPERED');
  assert.equal(bad.bodyBytes, 0);
  assert.deepEqual(scratch.subarray(0, length - 32), new Uint8Array(length - 32));
});

test('a wrong key is ENCRYPTION_ERROR', () => {
  const envelope = new Envelope({ crypto, maxMessageBytes: 128 });
  const out = new Uint8Array(128);
  const length = envelope.seal(KEY32, 1, utf8('{}'), out);
  const other = KEY32.slice();
  other[31] ^= 1;
  assert.equal(envelope.open(other, out.subarray(0, length)).error?.kind, 'ENCRYPTION_ERROR');
});

test('the legacy layout has no inner sequence (exact bytes), and a current device reads it as MESSAGE_TAMPERED like ESP#96', () => {
  const { crypto: fixed } = fixedIvCrypto(IV);
  const legacy = new Envelope({ crypto: fixed, maxMessageBytes: 128, innerSequence: false });
  const current = new Envelope({ crypto, maxMessageBytes: 128 });
  assert.equal(legacy.headerBytes, ENVELOPE.legacyHeaderBytes);
  const out = new Uint8Array(128);
  const body = utf8('{"directives":[]}');
  const length = legacy.seal(KEY16, 3, body, out);
  assert.equal(length, 32 + body.length);
  assert.equal(toHex(out.subarray(0, length)),
    '030000000102030405060708090a0b0cfc93b4f75da2df0fba2b1e34903b74bb60d598370b139ccafeb089173c663b2ab4');
  const ok = legacy.open(KEY16, out.subarray(0, length));
  assert.equal(ok.bodyOffset, 0);
  assert.equal(text(ok.body()), '{"directives":[]}');
  const mismatch = current.open(KEY16, out.subarray(0, length));
  assert.equal(mismatch.error?.kind, 'MESSAGE_TAMPERED');
  // `{"di` read as u32 LE = 1768170107, the number in the ESP#96 log
  assert.equal(mismatch.error?.message, 'MESSAGE_TAMPERED: inner sequence 3 expected (the outer one), got 1768170107');
  assert.equal(legacy.open(KEY16, new Uint8Array(31)).error?.message, 'TRUNCATED: envelope expected at least 32 bytes, got 31');
  assert.equal(legacy.open(KEY16, out.subarray(0, legacy.seal(KEY16, 4, new Uint8Array(0), out))).bodyBytes, 0);
});

test('peekSequenceNumber reads the outer u32 LE and -1 for fewer than 4 bytes', () => {
  assert.equal(peekSequenceNumber(Uint8Array.from([0x78, 0x56, 0x34, 0x12, 0xff])), 0x12345678);
  assert.equal(peekSequenceNumber(Uint8Array.from([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
  assert.equal(peekSequenceNumber(new Uint8Array(3)), -1);
});
