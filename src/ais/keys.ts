// AIS registration key agreement and AES key derivation (docs/protocol.md §1, "Key exchange").
// The device sends its X25519 public key and an algorithm name; the service answers with its public key; both
// sides derive the AES-GCM key of every encrypted topic from the X25519 shared secret.

import type { Crypto } from '../ports/crypto.js';

/** Algorithm names of the registration request's `encryption.algorithm` (docs/protocol.md §1). */
export const ENCRYPTION_ALGORITHMS = ['ECDH_CURVE_25519_32_BYTE', 'ECDH_CURVE_25519_16_BYTE_SHA256'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];

/** AES key bytes per algorithm: 32 → AES-256-GCM, 16 → AES-128-GCM. */
export const AES_KEY_BYTES: Readonly<Record<EncryptionAlgorithm, number>> = {
  ECDH_CURVE_25519_32_BYTE: 32,
  ECDH_CURVE_25519_16_BYTE_SHA256: 16,
};

const X25519_KEY_BYTES = 32;
const EMPTY = new Uint8Array(0);

export function isEncryptionAlgorithm(name: string): name is EncryptionAlgorithm {
  return (ENCRYPTION_ALGORITHMS as readonly string[]).indexOf(name) >= 0;
}

function checkAlgorithm(algorithm: string): asserts algorithm is EncryptionAlgorithm {
  if (!isEncryptionAlgorithm(algorithm)) {
    throw new RangeError(`encryption algorithm expected ${ENCRYPTION_ALGORITHMS.join(' or ')}, got ${algorithm}`);
  }
}

/** AES key length of an algorithm name; an unknown name is a RangeError naming it. */
export function aesKeyBytes(algorithm: string): number {
  checkAlgorithm(algorithm);
  return AES_KEY_BYTES[algorithm];
}

export interface X25519KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** A fresh device key pair for registration; the public key is the RFC 7748 little-endian encoding AIS sends. */
export function generateKeyPair(crypto: Pick<Crypto, 'randomBytes' | 'x25519PublicKey'>): X25519KeyPair {
  const privateKey = new Uint8Array(X25519_KEY_BYTES);
  crypto.randomBytes(privateKey);
  return { privateKey, publicKey: crypto.x25519PublicKey(privateKey) };
}

/**
 * The AES-GCM key from an X25519 shared secret (docs/protocol.md §1 step 4):
 * - ECDH_CURVE_25519_32_BYTE: the raw 32-byte secret (AES-256-GCM);
 * - ECDH_CURVE_25519_16_BYTE_SHA256: HKDF-SHA256 with no salt and no info, first 16 bytes (AES-128-GCM).
 * Returns a new array; the 16-byte path zeroes its intermediate HKDF output.
 */
export function aesKeyFromSharedSecret(crypto: Pick<Crypto, 'hkdfSha256'>, algorithm: string, sharedSecret: Uint8Array): Uint8Array {
  checkAlgorithm(algorithm);
  if (sharedSecret.length !== X25519_KEY_BYTES) {
    throw new RangeError(`X25519 shared secret expected ${X25519_KEY_BYTES} bytes, got ${sharedSecret.length}`);
  }
  if (algorithm === 'ECDH_CURVE_25519_32_BYTE') return sharedSecret.slice();
  // NXP's AIS_HashSecret asks mbedtls_hkdf for 32 bytes and keeps 16; HKDF-Expand's first block makes
  // that the same as asking for 16, which the vectors in test/vectors/ check.
  const okm = crypto.hkdfSha256(sharedSecret, EMPTY, EMPTY, X25519_KEY_BYTES);
  const key = okm.slice(0, AES_KEY_BYTES[algorithm]);
  okm.fill(0);
  return key;
}

/**
 * The device's AES-GCM key from its private key and the service's public key of the registration response.
 * An unknown algorithm is a RangeError naming it; so is an all-zero shared secret (RFC 7748 §6.1: the
 * service key is a low-order point, which would make the key public).
 */
export function deriveAesKey(
  crypto: Pick<Crypto, 'x25519' | 'hkdfSha256'>,
  algorithm: string,
  devicePrivateKey: Uint8Array,
  servicePublicKey: Uint8Array,
): Uint8Array {
  checkAlgorithm(algorithm);
  if (servicePublicKey.length !== X25519_KEY_BYTES) {
    throw new RangeError(`service public key expected ${X25519_KEY_BYTES} bytes, got ${servicePublicKey.length}`);
  }
  const shared = crypto.x25519(devicePrivateKey, servicePublicKey);
  let any = 0;
  for (let i = 0; i < shared.length; i++) any |= shared[i];
  if (any === 0) throw new RangeError('X25519 shared secret expected non-zero, got all zero bytes (low-order service public key)');
  const key = aesKeyFromSharedSecret(crypto, algorithm, shared);
  shared.fill(0);
  return key;
}
