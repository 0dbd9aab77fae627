// Key agreement for AIS registration and rotation (docs/protocol.md §1): X25519 from tweetnacl and HKDF-SHA256
// from @noble/hashes. Runs once per registration, so JavaScript is fast enough even on XS (docs/anchors.md §6), and
// it loads without the AES tables of aes-gcm.ts: an MCU build pairs it with a native AES-GCM (compose.ts).

import nacl from 'tweetnacl';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const X25519_KEY_BYTES = 32;

/** Throws TypeError for a non-Uint8Array and RangeError for a length not in `lengths`, naming the argument. */
export function checkBytes(value: Uint8Array, name: string, lengths: readonly number[]): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} expected a Uint8Array, got ${typeof value}`);
  if (lengths.indexOf(value.length) < 0) {
    throw new RangeError(`${name} expected ${lengths.join(' or ')} bytes, got ${value.length}`);
  }
}

/** X25519 public key (RFC 7748 little-endian u-coordinate) of a 32-byte private key. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  checkBytes(privateKey, 'X25519 private key', [X25519_KEY_BYTES]);
  return nacl.scalarMult.base(privateKey);
}

/** X25519 shared secret (RFC 7748 §6.1); the caller checks for the all-zero result of a low-order point. */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkBytes(privateKey, 'X25519 private key', [X25519_KEY_BYTES]);
  checkBytes(publicKey, 'X25519 public key', [X25519_KEY_BYTES]);
  return nacl.scalarMult(privateKey, publicKey);
}

/** HKDF-SHA256 (RFC 5869). An empty salt is HMAC-equivalent to the RFC's HashLen zero bytes. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError(`HKDF-SHA256 length expected 1..8160, got ${length}`);
  }
  return hkdf(sha256, ikm, salt.length === 0 ? undefined : salt, info, length);
}
