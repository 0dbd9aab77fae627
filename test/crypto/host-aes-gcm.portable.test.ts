// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The host's AES-GCM (host-aes-gcm.ts, what createPortableCrypto composes) against noble's on seeded random
// messages. On XS the host's is native/aes_gcm.c (hosts/xs/aes-gcm.js): this is where the C meets noble on the
// engine itself. On Node both are noble, so there it only checks the wiring. The Cortex-M image leaves this
// suite out: it loads noble's AES (test/cortex-m/exclusions.ts), and the image runs the vector suites instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAesGcm } from '../../src/crypto/host-aes-gcm.js';
import { nobleAesGcm } from '../../src/crypto/aes-gcm.js';
import { toHex } from '../support/bytes.js';
import { Random } from '../support/random.js';

const host = hostAesGcm();
const noble = nobleAesGcm();

test('300 random messages (16/24/32-byte keys, 0..1100 bytes) seal to the same bytes and each opens the other\'s', () => {
  const random = new Random(0xae5);
  for (let i = 0; i < 300; i++) {
    const key = random.bytes([16, 24, 32][i % 3]);
    const iv = random.bytes(12);
    const plaintext = random.bytes(i < 20 ? [0, 1, 15, 16, 17, 31, 32, 33, 640, 644][i % 10] : random.int(1101));
    const fromHost = new Uint8Array(plaintext.length);
    const fromNoble = new Uint8Array(plaintext.length);
    const hostTag = new Uint8Array(16);
    const nobleTag = new Uint8Array(16);
    host.aesGcmSeal(key, iv, plaintext, fromHost, hostTag);
    noble.aesGcmSeal(key, iv, plaintext, fromNoble, nobleTag);
    const what = `message ${i}: ${key.length}-byte key, ${plaintext.length} bytes`;
    assert.equal(toHex(fromHost), toHex(fromNoble), what);
    assert.equal(toHex(hostTag), toHex(nobleTag), what);
    const back = new Uint8Array(plaintext.length);
    assert.equal(host.aesGcmOpen(key, iv, fromNoble, nobleTag, back), true, what);
    assert.equal(toHex(back), toHex(plaintext), what);
    assert.equal(noble.aesGcmOpen(key, iv, fromHost, hostTag, back), true, what);
  }
});

test('a random flipped bit in the tag, the ciphertext, the IV or the key fails open on both, with zeros in out', () => {
  const random = new Random(0x7a3);
  for (let i = 0; i < 100; i++) {
    const key = random.bytes(i % 2 ? 32 : 16);
    const iv = random.bytes(12);
    const plaintext = random.bytes(1 + random.int(700));
    const ciphertext = new Uint8Array(plaintext.length);
    const tag = new Uint8Array(16);
    host.aesGcmSeal(key, iv, plaintext, ciphertext, tag);
    const kind = random.pick(['tag', 'ciphertext', 'iv', 'key'] as const);
    const args = { key, iv, ciphertext, tag };
    const flipped = args[kind].slice();
    flipped[random.int(flipped.length)] ^= 1 << random.int(8);
    args[kind] = flipped;
    for (const [name, aes] of [['host', host], ['noble', noble]] as const) {
      const out = new Uint8Array(plaintext.length).fill(0xa5);
      assert.equal(aes.aesGcmOpen(args.key, args.iv, args.ciphertext, args.tag, out), false, `${name}: flipped ${kind}`);
      assert.ok(out.every((b) => b === 0), `${name}: out zeroed after a flipped ${kind}`);
    }
  }
});
