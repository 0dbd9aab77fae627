// The emulator's side of AIS key agreement and the encrypted envelope, on node:crypto ONLY
// (docs/protocol.md §1 key exchange, §3.2 envelope). It deliberately shares no code with src/ais/ and
// src/crypto/ (tweetnacl and noble there, OpenSSL here) so that each side checks the other in the tests.
// Node-only and allocation-happy: it runs in the cloud emulator, not on the device.

import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

export type ServiceAlgorithm = 'ECDH_CURVE_25519_32_BYTE' | 'ECDH_CURVE_25519_16_BYTE_SHA256';

// Fixed DER prefixes of RFC 8410 X25519 keys: PKCS#8 private (OID 1.3.101.110) and SPKI public.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

const HEADER = { sequence: 0, iv: 4, tag: 16, ciphertext: 32, current: 36, legacy: 32 } as const;

export interface ServiceKeyPair {
  /** Raw 32-byte private scalar. */
  privateKey: Buffer;
  /** Raw 32-byte RFC 7748 u-coordinate, as the registration response sends it (base64). */
  publicKey: Buffer;
}

function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`X25519 private key expected 32 bytes, got ${raw.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`X25519 public key expected 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519_PREFIX.length);
}

/** A fresh service key pair per registration (§1 step 2). */
export function generateServiceKeyPair(): ServiceKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519_PREFIX.length),
    publicKey: rawPublicKey(publicKey),
  };
}

/** The raw public key of a raw private key. */
export function publicKeyOf(privateKey: Uint8Array): Buffer {
  return rawPublicKey(createPublicKey(privateKeyObject(privateKey)));
}

/** X25519(ourPrivate, theirPublic), 32 bytes. */
export function sharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  return diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) });
}

/**
 * The AES key of §1 step 4 from the service's private key and the device's public key. An unknown algorithm
 * is a RangeError (registration answers INVALID_ENCRYPTION_ALGORITHM); a low-order device key makes OpenSSL
 * throw from diffieHellman (answer INVALID_ENCRYPTION_DATA).
 */
export function deriveServiceKey(algorithm: string, servicePrivateKey: Uint8Array, devicePublicKey: Uint8Array): Buffer {
  if (algorithm !== 'ECDH_CURVE_25519_32_BYTE' && algorithm !== 'ECDH_CURVE_25519_16_BYTE_SHA256') {
    throw new RangeError(`encryption algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got ${algorithm}`);
  }
  const secret = sharedSecret(servicePrivateKey, devicePublicKey);
  if (algorithm === 'ECDH_CURVE_25519_32_BYTE') return secret;
  // No salt, no info; 32 bytes out, the first 16 kept (NXP AIS_HashSecret).
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), Buffer.alloc(0), 32)).subarray(0, 16);
}

function cipherName(key: Uint8Array): 'aes-128-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new RangeError(`AES key expected 16 or 32 bytes, got ${key.length}`);
}

export interface ServiceEnvelopeOptions {
  /** false: the pre-3.2.5 layout with no inner sequence (§3.2 variant), for negative tests. Default true. */
  innerSequence?: boolean;
  /** A fixed IV (tests and vectors); default random. */
  iv?: Uint8Array;
}

/** Seals one message the way the service does. */
export function sealMessage(key: Uint8Array, sequenceNumber: number, body: Uint8Array, options: ServiceEnvelopeOptions = {}): Buffer {
  const inner = options.innerSequence !== false;
  const iv = options.iv ?? randomBytes(12);
  if (iv.length !== 12) throw new RangeError(`IV expected 12 bytes, got ${iv.length}`);
  const header = Buffer.alloc(HEADER.ciphertext);
  header.writeUInt32LE(sequenceNumber, HEADER.sequence);
  header.set(iv, HEADER.iv);
  const cipher = createCipheriv(cipherName(key), key, iv);
  const parts: Buffer[] = [];
  if (inner) {
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(sequenceNumber, 0);
    parts.push(cipher.update(seq));
  }
  parts.push(cipher.update(body), cipher.final());
  header.set(cipher.getAuthTag(), HEADER.tag);
  return Buffer.concat([header, ...parts]);
}

export type ServiceOpenResult =
  | { ok: true; sequenceNumber: number; body: Buffer }
  | { ok: false; sequenceNumber: number; error: 'TRUNCATED' | 'ENCRYPTION_ERROR' | 'MESSAGE_TAMPERED'; message: string };

/** Opens one device message; never throws on wire input. */
export function openMessage(key: Uint8Array, payload: Uint8Array, options: Pick<ServiceEnvelopeOptions, 'innerSequence'> = {}): ServiceOpenResult {
  const inner = options.innerSequence !== false;
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const minimum = inner ? HEADER.current : HEADER.legacy;
  const sequenceNumber = bytes.length >= 4 ? bytes.readUInt32LE(HEADER.sequence) : 0;
  if (bytes.length < minimum) {
    return { ok: false, sequenceNumber, error: 'TRUNCATED', message: `envelope expected at least ${minimum} bytes, got ${bytes.length}` };
  }
  const decipher = createDecipheriv(cipherName(key), key, bytes.subarray(HEADER.iv, HEADER.tag));
  decipher.setAuthTag(bytes.subarray(HEADER.tag, HEADER.ciphertext));
  // node:crypto hands out plaintext before final() checks the tag: drop it if the tag fails.
  const plain = decipher.update(bytes.subarray(HEADER.ciphertext));
  try {
    decipher.final();
  } catch {
    plain.fill(0);
    return { ok: false, sequenceNumber, error: 'ENCRYPTION_ERROR', message: `AES-GCM tag does not verify for sequence ${sequenceNumber}` };
  }
  if (!inner) return { ok: true, sequenceNumber, body: plain };
  const innerNumber = plain.readUInt32LE(0);
  if (innerNumber !== sequenceNumber) {
    plain.fill(0);
    return { ok: false, sequenceNumber, error: 'MESSAGE_TAMPERED', message: `inner sequence ${sequenceNumber} expected, got ${innerNumber}` };
  }
  return { ok: true, sequenceNumber, body: plain.subarray(4) };
}
