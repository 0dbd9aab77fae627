// Vectors from a third tool (test/vectors/make-ais-vectors.sh: OpenSSL CLI + a Python stdlib GHASH) that
// both the device code (src/) and the emulator (emulator/ais/crypto.ts) must reproduce byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromRoot } from '../support/paths.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { deriveAesKey } from '../../src/ais/keys.js';
import { Envelope } from '../../src/ais/envelope.js';
import { deriveServiceKey, openMessage, publicKeyOf, sealMessage, sharedSecret } from '../../emulator/ais/crypto.js';

interface Vectors {
  x25519: { devicePrivateKey: string; devicePublicKey: string; servicePrivateKey: string; servicePublicKey: string; sharedSecret: string };
  keys: Record<string, string>;
  messages: { name: string; algorithm: string; sequenceNumber: number; innerSequence: boolean; iv: string; body: string; bodyText?: string; envelope: string }[];
}

const vectors = JSON.parse(readFileSync(fromRoot('test/vectors/ais-envelope.json'), 'utf8')) as Vectors;
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const x = vectors.x25519;

test('the vector file covers both algorithms, both layouts, an empty body and the u32 maximum', () => {
  const algorithms = new Set(vectors.messages.map((m) => m.algorithm));
  assert.deepEqual([...algorithms].sort(), ['ECDH_CURVE_25519_16_BYTE_SHA256', 'ECDH_CURVE_25519_32_BYTE']);
  assert.ok(vectors.messages.some((m) => !m.innerSequence));
  assert.ok(vectors.messages.some((m) => m.body === '' && m.sequenceNumber === 0xffffffff));
  assert.equal(vectors.messages.length, 7);
});

test('the device reproduces the vector public keys, shared secret and both derived keys', () => {
  const crypto = createPortableCrypto(() => { throw new Error('no randomness needed'); });
  assert.equal(toHex(crypto.x25519PublicKey(hex(x.devicePrivateKey))), x.devicePublicKey);
  assert.equal(toHex(crypto.x25519PublicKey(hex(x.servicePrivateKey))), x.servicePublicKey);
  assert.equal(toHex(crypto.x25519(hex(x.devicePrivateKey), hex(x.servicePublicKey))), x.sharedSecret);
  for (const [algorithm, key] of Object.entries(vectors.keys)) {
    assert.equal(toHex(deriveAesKey(crypto, algorithm, hex(x.devicePrivateKey), hex(x.servicePublicKey))), key, algorithm);
  }
});

test('the emulator reproduces the vector public keys, shared secret and both derived keys', () => {
  assert.equal(toHex(publicKeyOf(hex(x.devicePrivateKey))), x.devicePublicKey);
  assert.equal(toHex(publicKeyOf(hex(x.servicePrivateKey))), x.servicePublicKey);
  assert.equal(toHex(sharedSecret(hex(x.servicePrivateKey), hex(x.devicePublicKey))), x.sharedSecret);
  for (const [algorithm, key] of Object.entries(vectors.keys)) {
    assert.equal(toHex(deriveServiceKey(algorithm, hex(x.servicePrivateKey), hex(x.devicePublicKey))), key, algorithm);
  }
});

test('the device seals every vector message to the exact envelope bytes and opens each back to its body', () => {
  for (const m of vectors.messages) {
    let ivCalls = 0;
    const crypto = createPortableCrypto((out) => { ivCalls++; out.set(hex(m.iv)); });
    const envelope = new Envelope({ crypto, maxMessageBytes: 4096, innerSequence: m.innerSequence });
    const key = hex(vectors.keys[m.algorithm]);
    const out = new Uint8Array(4096);
    const length = envelope.seal(key, m.sequenceNumber, hex(m.body), out);
    assert.equal(ivCalls, 1);
    assert.equal(toHex(out.subarray(0, length)), m.envelope, m.name);
    const opened = envelope.open(key, hex(m.envelope));
    assert.equal(opened.error, null, m.name);
    assert.equal(opened.sequenceNumber, m.sequenceNumber);
    assert.equal(toHex(opened.body()), m.body, m.name);
    if (m.bodyText !== undefined) assert.equal(Buffer.from(opened.body()).toString('utf8'), m.bodyText);
  }
});

test('the emulator seals every vector message to the exact envelope bytes and opens each back to its body', () => {
  for (const m of vectors.messages) {
    const key = hex(vectors.keys[m.algorithm]);
    const sealed = sealMessage(key, m.sequenceNumber, hex(m.body), { iv: hex(m.iv), innerSequence: m.innerSequence });
    assert.equal(sealed.toString('hex'), m.envelope, m.name);
    const opened = openMessage(key, hex(m.envelope), { innerSequence: m.innerSequence });
    assert.equal(opened.ok, true, m.name);
    if (opened.ok) assert.equal(opened.body.toString('hex'), m.body, m.name);
  }
});
