// Portable JavaScript defaults of the Crypto port (src/ports/crypto.ts): X25519 from tweetnacl, HKDF-SHA256 from
// @noble/hashes, AES-GCM from @noble/ciphers. Random bytes stay with the host: XS has no entropy source.
//
// Cost (xs-facts.md §6): on XS an AES-GCM call on 640 bytes takes ~2.5 ms on x86 and tens of ms on a
// Cortex-M7, so a host with mbedTLS or an AES engine should replace aesGcmSeal/aesGcmOpen; X25519 (~0.5 s on
// an M7) is fine here because it runs only at registration (ais-protocol.md §1).
//
// Allocation per AES-GCM call: noble's gcm() takes no output buffer and rebuilds everything per call: the key
// schedule, a GHASH table of small objects (2-bit windows up to 1 KB of data, 4-bit above) and the result.
// Measured on Node 20 (V8 heap + ArrayBuffer delta over 300 calls, --expose-gc, 128 MB semi-space so no
// scavenge ran in the window): ~40 KB per seal or open of 0..644 bytes, ~90 KB for 3,256 bytes. Expect no
// less on XS, an interpreter without escape analysis (noble's AES returns an object per block). Hence native
// AES-GCM on MCUs. This module adds one subarray view per seal, and per open a view only when the length
// differs from the last one: the ciphertext||tag join uses a scratch that grows to the largest message seen.

import nacl from 'tweetnacl';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Crypto } from '../ports/crypto.js';

const X25519_KEY_BYTES = 32;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

function checkBytes(value: Uint8Array, name: string, lengths: readonly number[]): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} expected a Uint8Array, got ${typeof value}`);
  if (lengths.indexOf(value.length) < 0) {
    throw new RangeError(`${name} expected ${lengths.join(' or ')} bytes, got ${value.length}`);
  }
}

function checkAesArguments(key: Uint8Array, iv: Uint8Array, tag: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  checkBytes(key, 'AES key', [16, 24, 32]);
  checkBytes(iv, 'AES-GCM IV', [GCM_IV_BYTES]);
  checkBytes(tag, 'AES-GCM tag', [GCM_TAG_BYTES]);
  if (!(input instanceof Uint8Array)) throw new TypeError(`AES-GCM input expected a Uint8Array, got ${typeof input}`);
  checkBytes(out, 'AES-GCM output', [input.length]);
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

/**
 * The full Crypto port with portable primitives and the host's `randomBytes`.
 * aesGcmOpen zeroes `out` when the tag does not verify (stricter than the port requires).
 */
export function createPortableCrypto(randomBytes: (out: Uint8Array) => void): Crypto {
  if (typeof randomBytes !== 'function') throw new TypeError(`randomBytes expected a function, got ${typeof randomBytes}`);
  // noble's gcm wants ciphertext||tag in one array; the envelope carries the tag before the ciphertext
  // (ais-protocol.md §3.2), so open() joins them here, in a scratch reused across calls.
  let joined = new Uint8Array(0);
  let joinedView = joined;

  function joinedOf(length: number): Uint8Array {
    if (joined.length < length) {
      joined = new Uint8Array(Math.max(length, joined.length * 2));
      joinedView = joined.subarray(0, length);
    } else if (joinedView.length !== length) {
      joinedView = joined.subarray(0, length);
    }
    return joinedView;
  }

  return {
    randomBytes,
    x25519PublicKey,
    x25519,
    hkdfSha256,
    aesGcmSeal(key, iv, plaintext, out, tag) {
      checkAesArguments(key, iv, tag, plaintext, out);
      const sealed = gcm(key, iv).encrypt(plaintext);
      const n = plaintext.length;
      out.set(sealed.subarray(0, n), 0);
      for (let i = 0; i < GCM_TAG_BYTES; i++) tag[i] = sealed[n + i];
    },
    aesGcmOpen(key, iv, ciphertext, tag, out) {
      checkAesArguments(key, iv, tag, ciphertext, out);
      const n = ciphertext.length;
      const input = joinedOf(n + GCM_TAG_BYTES);
      input.set(ciphertext, 0);
      input.set(tag, n);
      let plaintext: Uint8Array;
      try {
        // Arguments were checked above, so the only failure left is the tag (noble: 'aes-gcm: invalid tag').
        // noble verifies the tag before it runs CTR, so no unauthenticated plaintext exists on failure.
        plaintext = gcm(key, iv).decrypt(input);
      } catch {
        out.fill(0);
        return false;
      }
      out.set(plaintext, 0);
      plaintext.fill(0);
      return true;
    },
  };
}
