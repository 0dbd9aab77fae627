// The Crypto port from its parts: the host's random bytes, the portable key agreement, and an AES-GCM, native on
// an MCU (mbedTLS, an AES engine) or nobleAesGcm() elsewhere.
import type { Crypto } from '../ports/crypto.js';
import type { AesGcm } from './aes-gcm-contract.js';
import { hkdfSha256, x25519, x25519PublicKey } from './key-agreement.js';

export function composeCrypto(randomBytes: (out: Uint8Array) => void, aesGcm: AesGcm): Crypto {
  if (typeof randomBytes !== 'function') throw new TypeError(`randomBytes expected a function, got ${typeof randomBytes}`);
  if (typeof aesGcm?.aesGcmSeal !== 'function' || typeof aesGcm.aesGcmOpen !== 'function') {
    throw new TypeError('aesGcm expected an object with aesGcmSeal and aesGcmOpen');
  }
  return { randomBytes, x25519PublicKey, x25519, hkdfSha256, aesGcmSeal: aesGcm.aesGcmSeal, aesGcmOpen: aesGcm.aesGcmOpen };
}
