// AES-GCM in JavaScript (@noble/ciphers), for hosts without a native one: Node and tests. Not for an MCU: noble
// builds ~1.3 MB of lookup tables on XS when this module loads (docs/figures/xs.md) and allocates ~40 KB per call
// on V8, because gcm() rebuilds the key schedule and a GHASH table of small objects every time. The XS hosts
// compose native/aes_gcm.c instead (host-aes-gcm.ts, native-aes-gcm.ts).

import { gcm } from '@noble/ciphers/aes.js';
import { checkAesArguments, GCM_TAG_BYTES, type AesGcm } from './aes-gcm-contract.js';

export type { AesGcm } from './aes-gcm-contract.js';

/**
 * AES-GCM with no AAD into the caller's buffers. aesGcmOpen zeroes `out` when the tag does not verify (stricter
 * than the port requires). One subarray view per seal; per open a view only when the length differs from the
 * last one: the ciphertext||tag join uses a scratch that grows to the largest message seen.
 */
export function nobleAesGcm(): AesGcm {
  // noble's gcm wants ciphertext||tag in one array; the envelope carries the tag before the ciphertext
  // (docs/protocol.md §3.2), so open() joins them here, in a scratch reused across calls.
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
