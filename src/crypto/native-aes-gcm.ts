// AES-GCM from native code: native/aes_gcm.c on the XS hosts (hosts/xs/aes-gcm.js passes its binding), or a
// board's AES engine. The binding works in the caller's buffers; this wrapper checks the arguments with the
// port's messages first, so a mistake reads the same as with noble and never reaches C unchecked.
import { checkAesArguments, type AesGcm } from './aes-gcm-contract.js';

/** Native AES-GCM functions with the port's signatures (open zeroes `out` when the tag does not verify). */
export type AesGcmBinding = AesGcm;

export function nativeAesGcm(binding: AesGcmBinding): AesGcm {
  if (typeof binding?.aesGcmSeal !== 'function' || typeof binding.aesGcmOpen !== 'function') {
    throw new TypeError('AES-GCM binding expected an object with aesGcmSeal and aesGcmOpen');
  }
  return {
    aesGcmSeal(key, iv, plaintext, out, tag) {
      checkAesArguments(key, iv, tag, plaintext, out);
      binding.aesGcmSeal(key, iv, plaintext, out, tag);
    },
    aesGcmOpen(key, iv, ciphertext, tag, out) {
      checkAesArguments(key, iv, tag, ciphertext, out);
      return binding.aesGcmOpen(key, iv, ciphertext, tag, out);
    },
  };
}
