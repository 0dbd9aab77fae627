// Node-only checks of the portable Crypto port: live cross-checks against node:crypto on random inputs.
// The published vectors (RFC 7748, RFC 5869, McGrew-Viega), the recorded node:crypto vectors, tampering and
// misuse are in crypto.portable.test.ts, which runs on Node and on XS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  randomFillSync,
} from 'node:crypto';
import { createPortableCrypto, hkdfSha256, x25519, x25519PublicKey } from '../../src/crypto/portable.js';
import { toHex } from '../support/bytes.js';

const crypto = createPortableCrypto((out) => randomFillSync(out));

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const nodePrivate = (raw: Uint8Array) => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
const nodePublic = (raw: Uint8Array) => createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });

function nodeGcmSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): { ciphertext: string; tag: string } {
  const cipher = createCipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext: ciphertext.toString('hex'), tag: cipher.getAuthTag().toString('hex') };
}

test('X25519 agrees with node:crypto diffieHellman on 20 random key pairs', () => {
  for (let i = 0; i < 20; i++) {
    const a = new Uint8Array(randomBytes(32));
    const b = new Uint8Array(randomBytes(32));
    const bPublic = x25519PublicKey(b);
    assert.equal(toHex(bPublic), createPublicKey(nodePrivate(b)).export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'));
    const expected = diffieHellman({ privateKey: nodePrivate(a), publicKey: nodePublic(bPublic) });
    assert.equal(toHex(x25519(a, bPublic)), expected.toString('hex'));
  }
});

test('HKDF-SHA256 agrees with node:crypto hkdfSync for random inputs, empty salt included', () => {
  for (let i = 0; i < 30; i++) {
    const ikm = new Uint8Array(randomBytes(1 + (i % 40)));
    const salt = new Uint8Array(randomBytes(i % 3 === 0 ? 0 : i));
    const info = new Uint8Array(randomBytes(i % 5));
    const length = 1 + ((i * 7) % 64);
    const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex');
    assert.equal(toHex(hkdfSha256(ikm, salt, info, length)), expected);
  }
});

test('AES-GCM agrees with node:crypto in both directions for 128- and 256-bit keys and odd lengths', () => {
  for (const keyBytes of [16, 32]) {
    for (const n of [0, 1, 4, 15, 16, 17, 36, 100, 644, 3256]) {
      const key = new Uint8Array(randomBytes(keyBytes));
      const iv = new Uint8Array(randomBytes(12));
      const plaintext = new Uint8Array(randomBytes(n));
      const out = new Uint8Array(n);
      const tag = new Uint8Array(16);
      crypto.aesGcmSeal(key, iv, plaintext, out, tag);
      const expected = nodeGcmSeal(key, iv, plaintext);
      assert.equal(toHex(out), expected.ciphertext, `ciphertext, ${keyBytes}-byte key, ${n} bytes`);
      assert.equal(toHex(tag), expected.tag, `tag, ${keyBytes}-byte key, ${n} bytes`);

      // node seals, we open
      const cipher = createCipheriv(keyBytes === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
      const nodeCiphertext = new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]));
      const back = new Uint8Array(n);
      assert.equal(crypto.aesGcmOpen(key, iv, nodeCiphertext, new Uint8Array(cipher.getAuthTag()), back), true);
      assert.equal(toHex(back), toHex(plaintext));
    }
  }
});
