import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomFillSync } from 'node:crypto';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { aesKeyBytes, aesKeyFromSharedSecret, deriveAesKey, generateKeyPair, isEncryptionAlgorithm } from '../../src/ais/keys.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const crypto = createPortableCrypto((out) => randomFillSync(out));

// RFC 7748 §6.1 keys standing in for device (Alice) and service (Bob).
const DEVICE_PRIVATE = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const SERVICE_PUBLIC = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
const UNKNOWN = 'encryption algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got ';

test('ECDH_CURVE_25519_32_BYTE uses the raw 32-byte X25519 secret as the AES-256 key', () => {
  const key = deriveAesKey(crypto, 'ECDH_CURVE_25519_32_BYTE', DEVICE_PRIVATE, SERVICE_PUBLIC);
  assert.equal(toHex(key), SHARED);
});

test('ECDH_CURVE_25519_16_BYTE_SHA256 keeps the first 16 bytes of HKDF-SHA256 with no salt and no info', () => {
  const key = deriveAesKey(crypto, 'ECDH_CURVE_25519_16_BYTE_SHA256', DEVICE_PRIVATE, SERVICE_PUBLIC);
  const expected = Buffer.from(hkdfSync('sha256', hex(SHARED), new Uint8Array(0), new Uint8Array(0), 32)).subarray(0, 16);
  assert.equal(key.length, 16);
  assert.equal(toHex(key), expected.toString('hex'));
  // asking HKDF for 16 bytes directly gives the same key (HKDF-Expand's first block)
  assert.equal(toHex(key), Buffer.from(hkdfSync('sha256', hex(SHARED), new Uint8Array(0), new Uint8Array(0), 16)).toString('hex'));
});

test('device and node:crypto service derive the same key for a fresh device key pair, both algorithms', () => {
  let randomCalls = 0;
  const counting = createPortableCrypto((out) => { randomCalls++; randomFillSync(out); });
  const device = generateKeyPair(counting);
  assert.equal(randomCalls, 1);
  assert.equal(device.privateKey.length, 32);
  const service = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')]),
    format: 'der', type: 'pkcs8',
  });
  const devicePublicNode = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), device.publicKey]), format: 'der', type: 'spki',
  });
  const serviceShared = diffieHellman({ privateKey: service, publicKey: devicePublicNode });
  assert.equal(toHex(deriveAesKey(crypto, 'ECDH_CURVE_25519_32_BYTE', device.privateKey, SERVICE_PUBLIC)), serviceShared.toString('hex'));
  assert.equal(toHex(deriveAesKey(crypto, 'ECDH_CURVE_25519_16_BYTE_SHA256', device.privateKey, SERVICE_PUBLIC)),
    Buffer.from(hkdfSync('sha256', serviceShared, new Uint8Array(0), new Uint8Array(0), 16)).toString('hex'));
});

test('an unknown algorithm is a RangeError naming it, from every entry point', () => {
  assert.throws(() => deriveAesKey(crypto, 'ECDH_CURVE_25519_16_BYTE', DEVICE_PRIVATE, SERVICE_PUBLIC),
    { name: 'RangeError', message: UNKNOWN + 'ECDH_CURVE_25519_16_BYTE' });
  assert.throws(() => aesKeyFromSharedSecret(crypto, 'AES', hex(SHARED)), { name: 'RangeError', message: UNKNOWN + 'AES' });
  assert.throws(() => aesKeyBytes(''), { name: 'RangeError', message: UNKNOWN });
  assert.equal(isEncryptionAlgorithm('ECDH_CURVE_25519_32_BYTE'), true);
  assert.equal(isEncryptionAlgorithm('ecdh_curve_25519_32_byte'), false);
  assert.equal(aesKeyBytes('ECDH_CURVE_25519_32_BYTE'), 32);
  assert.equal(aesKeyBytes('ECDH_CURVE_25519_16_BYTE_SHA256'), 16);
});

test('a low-order service public key (all-zero shared secret) is refused', () => {
  assert.throws(() => deriveAesKey(crypto, 'ECDH_CURVE_25519_32_BYTE', DEVICE_PRIVATE, new Uint8Array(32)),
    { name: 'RangeError', message: 'X25519 shared secret expected non-zero, got all zero bytes (low-order service public key)' });
  assert.throws(() => deriveAesKey(crypto, 'ECDH_CURVE_25519_32_BYTE', DEVICE_PRIVATE, new Uint8Array(31)),
    { name: 'RangeError', message: 'service public key expected 32 bytes, got 31' });
});

test('the 32-byte key is a copy: zeroing the caller secret leaves the key intact', () => {
  const secret = hex(SHARED);
  const key = aesKeyFromSharedSecret(crypto, 'ECDH_CURVE_25519_32_BYTE', secret);
  secret.fill(0);
  assert.equal(toHex(key), SHARED);
});
