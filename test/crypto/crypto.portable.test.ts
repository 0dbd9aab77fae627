// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The portable Crypto port (tweetnacl X25519, noble HKDF-SHA256 and AES-GCM) against published vectors and
// vectors node:crypto produced when this file was written (portable.test.ts cross-checks it live).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPortableCrypto, hkdfSha256, x25519, x25519PublicKey } from '../../src/crypto/portable.js';
import { hex, toHex } from '../support/bytes.js';
import { randomSource } from '../support/random.js';

/** Deterministic random bytes: what a host's random source would hand out, reproducibly. */
const crypto = createPortableCrypto(randomSource(42));

// RFC 7748 §6.1
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

test('X25519 reproduces the RFC 7748 §6.1 public keys and shared secret from both sides', () => {
  assert.equal(toHex(x25519PublicKey(hex(ALICE_PRIVATE))), ALICE_PUBLIC);
  assert.equal(toHex(x25519PublicKey(hex(BOB_PRIVATE))), BOB_PUBLIC);
  assert.equal(toHex(x25519(hex(ALICE_PRIVATE), hex(BOB_PUBLIC))), SHARED);
  assert.equal(toHex(x25519(hex(BOB_PRIVATE), hex(ALICE_PUBLIC))), SHARED);
});

test('two generated X25519 key pairs agree on their shared secret', () => {
  const a = new Uint8Array(32);
  const b = new Uint8Array(32);
  crypto.randomBytes(a);
  crypto.randomBytes(b);
  const shared = x25519(a, x25519PublicKey(b));
  assert.equal(toHex(shared), toHex(x25519(b, x25519PublicKey(a))));
  assert.notEqual(toHex(shared), '00'.repeat(32));
});

test('X25519 refuses keys that are not 32 bytes with a RangeError naming the length', () => {
  assert.throws(() => x25519PublicKey(new Uint8Array(31)), { name: 'RangeError', message: 'X25519 private key expected 32 bytes, got 31' });
  assert.throws(() => x25519(new Uint8Array(32), new Uint8Array(33)), { name: 'RangeError', message: 'X25519 public key expected 32 bytes, got 33' });
});

test('HKDF-SHA256 reproduces RFC 5869 test cases 1 and 3 (3: no salt, no info, as AIS uses it)', () => {
  const ikm = new Uint8Array(22).fill(0x0b);
  const okm1 = hkdfSha256(ikm, hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42);
  assert.equal(toHex(okm1), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  const okm3 = hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42);
  assert.equal(toHex(okm3), '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  assert.throws(() => hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 0),
    { name: 'RangeError', message: 'HKDF-SHA256 length expected 1..8160, got 0' });
});

test('AES-GCM seal reproduces the McGrew-Viega test cases 2, 3 (AES-128) and 14 (AES-256) and opens them', () => {
  const cases = [
    { key: '00'.repeat(16), iv: '00'.repeat(12), p: '00'.repeat(16), c: '0388dace60b6a392f328c2b971b2fe78', t: 'ab6e47d42cec13bdf53a67b21257bddf' },
    {
      key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888',
      p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
      c: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
      t: '4d5c2af327cd64a62cf35abd2ba6fab4',
    },
    { key: '00'.repeat(32), iv: '00'.repeat(12), p: '00'.repeat(16), c: 'cea7403d4d606b6e074ec5d3baf39d18', t: 'd0d1c8a799996bf0265b98b5d48ab919' },
  ];
  for (const { key, iv, p, c, t } of cases) {
    const out = new Uint8Array(p.length / 2);
    const tag = new Uint8Array(16);
    crypto.aesGcmSeal(hex(key), hex(iv), hex(p), out, tag);
    assert.equal(toHex(out), c);
    assert.equal(toHex(tag), t);
    const back = new Uint8Array(out.length);
    assert.equal(crypto.aesGcmOpen(hex(key), hex(iv), out, tag, back), true);
    assert.equal(toHex(back), p);
  }
});

// node:crypto 20 output for key[i] = 7i + keyBytes, iv[i] = 13i + n, plaintext[i] = 31i + 5 (all & 0xff).
// Long ciphertexts as head…tail: the tag covers every byte of the ciphertext in between.
const NODE_VECTORS: [number, number, string, string][] = [
  [16, 1, '71', 'f45e83d267da316c975baf942d2a89d0'],
  [16, 17, 'ace39730263ee5657e672cb753dd84abe0', 'ef3848a2177150df24055da9503873db'],
  [32, 36, 'ee3b8e2dbd688fedd3aa5f25f02b3c32707313af01e7821071a5734ee927adcdadefb40a', '82d74cd3e80852f3668cd2fe7ef6e735'],
  [32, 644, '7935a2e3508ff560e3ba945cb48ab81a…00b0fc3c21058e441622d854f30739c7', '5a90bf0ba3c46782a2a5f3ca914d5d80'],
  [16, 3256, '468163db32db99c5e7c6ed702d63f606…23c6695eed8f78995e86093cba5ad25d', '7258904725e2e4b96189c83b5b2f6564'],
];

test('AES-GCM matches node:crypto for 128- and 256-bit keys and lengths 1, 17, 36, 644 and 3256, both ways', () => {
  for (const [keyBytes, n, ciphertext, tagHex] of NODE_VECTORS) {
    const key = new Uint8Array(keyBytes).map((_, i) => (i * 7 + keyBytes) & 0xff);
    const iv = new Uint8Array(12).map((_, i) => (i * 13 + n) & 0xff);
    const plaintext = new Uint8Array(n).map((_, i) => (i * 31 + 5) & 0xff);
    const out = new Uint8Array(n);
    const tag = new Uint8Array(16);
    crypto.aesGcmSeal(key, iv, plaintext, out, tag);
    const [head, tail] = ciphertext.split('…');
    const seen = tail === undefined ? toHex(out) : `${toHex(out.subarray(0, 16))}…${toHex(out.subarray(n - 16))}`;
    assert.equal(seen, ciphertext, `ciphertext, ${keyBytes}-byte key, ${n} bytes`);
    assert.equal(toHex(tag), tagHex, `tag, ${keyBytes}-byte key, ${n} bytes`);
    assert.ok(head.length > 0);
    const back = new Uint8Array(n);
    assert.equal(crypto.aesGcmOpen(key, iv, out, tag, back), true);
    assert.deepEqual(back, plaintext);
  }
});

test('AES-GCM open returns false and leaves zeros in out for a flipped bit in ciphertext, tag, IV or key', () => {
  const key = new Uint8Array(32);
  const iv = new Uint8Array(12);
  const plaintext = new Uint8Array(50);
  crypto.randomBytes(key);
  crypto.randomBytes(iv);
  crypto.randomBytes(plaintext);
  const ciphertext = new Uint8Array(50);
  const tag = new Uint8Array(16);
  crypto.aesGcmSeal(key, iv, plaintext, ciphertext, tag);
  const flipped = (b: Uint8Array, i: number) => { const c = b.slice(); c[i] ^= 0x01; return c; };
  const out = new Uint8Array(50);
  const attempts: [string, () => boolean][] = [
    ['ciphertext', () => crypto.aesGcmOpen(key, iv, flipped(ciphertext, 49), tag, out)],
    ['tag', () => crypto.aesGcmOpen(key, iv, ciphertext, flipped(tag, 0), out)],
    ['IV', () => crypto.aesGcmOpen(key, flipped(iv, 11), ciphertext, tag, out)],
    ['key', () => crypto.aesGcmOpen(flipped(key, 5), iv, ciphertext, tag, out)],
  ];
  for (const [what, attempt] of attempts) {
    out.fill(0xaa);
    assert.equal(attempt(), false, `a flipped ${what} bit must fail`);
    assert.deepEqual(out, new Uint8Array(50), `out after a flipped ${what} bit`);
  }
  assert.equal(crypto.aesGcmOpen(key, iv, ciphertext, tag, out), true);
  assert.deepEqual(out, plaintext);
});

test('AES-GCM refuses misuse at once with RangeErrors naming what arrived', () => {
  const out = new Uint8Array(4);
  const tag = new Uint8Array(16);
  assert.throws(() => crypto.aesGcmSeal(new Uint8Array(20), new Uint8Array(12), new Uint8Array(4), out, tag),
    { name: 'RangeError', message: 'AES key expected 16 or 24 or 32 bytes, got 20' });
  assert.throws(() => crypto.aesGcmSeal(new Uint8Array(16), new Uint8Array(16), new Uint8Array(4), out, tag),
    { name: 'RangeError', message: 'AES-GCM IV expected 12 bytes, got 16' });
  assert.throws(() => crypto.aesGcmOpen(new Uint8Array(16), new Uint8Array(12), new Uint8Array(5), tag, out),
    { name: 'RangeError', message: 'AES-GCM output expected 5 bytes, got 4' });
  assert.throws(() => crypto.aesGcmOpen(new Uint8Array(16), new Uint8Array(12), new Uint8Array(4), new Uint8Array(12), out),
    { name: 'RangeError', message: 'AES-GCM tag expected 16 bytes, got 12' });
});

test('the portable Crypto hands randomBytes through to the host function untouched', () => {
  let calls = 0;
  const c = createPortableCrypto((out) => { calls++; out.fill(7); });
  const b = new Uint8Array(3);
  c.randomBytes(b);
  assert.equal(calls, 1);
  assert.deepEqual(b, new Uint8Array([7, 7, 7]));
  assert.throws(() => createPortableCrypto(undefined as unknown as (out: Uint8Array) => void),
    { name: 'TypeError', message: 'randomBytes expected a function, got undefined' });
});
