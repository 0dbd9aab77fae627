// Node-only envelope check: seal against node:crypto live, for random keys. Exact bytes for fixed keys, round
// trips, tampering, the legacy layout and the size checks are in envelope.portable.test.ts (Node and XS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { Envelope } from '../../src/ais/envelope.js';

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** A Crypto whose randomBytes hands out a fixed IV and counts calls. */
function fixedIvCrypto(iv: Uint8Array) {
  const counts = { random: 0 };
  const crypto = createPortableCrypto((out) => { counts.random++; out.set(iv.subarray(0, out.length)); });
  return { crypto, counts };
}

const KEY32 = new Uint8Array(randomBytes(32));
const KEY16 = new Uint8Array(randomBytes(16));
const IV = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

test('seal writes [u32 LE seq][IV][tag][AES-GCM of (u32 LE seq + body)] exactly as node:crypto computes it', () => {
  for (const key of [KEY32, KEY16]) {
    const { crypto, counts } = fixedIvCrypto(IV);
    const envelope = new Envelope({ crypto, maxMessageBytes: 256 });
    const body = utf8('{"events":[]}');
    const out = new Uint8Array(256);
    const length = envelope.seal(key, 0x01020304, body, out);
    assert.equal(length, 36 + body.length);
    assert.equal(counts.random, 1);

    const cipher = createCipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, IV);
    const plain = Buffer.concat([Buffer.from([4, 3, 2, 1]), body]);
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
    const expected = Buffer.concat([Buffer.from([4, 3, 2, 1]), IV, cipher.getAuthTag(), ciphertext]);
    assert.equal(toHex(out.subarray(0, length)), expected.toString('hex'));
  }
});
