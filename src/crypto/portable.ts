// Portable JavaScript defaults of the Crypto port (src/ports/crypto.ts): X25519 and HKDF-SHA256 (key-agreement.ts)
// with AES-GCM from @noble/ciphers (aes-gcm.ts). Random bytes stay with the host: XS has no entropy source.
// An MCU build composes the key agreement with a native AES-GCM instead (compose.ts) and never loads noble's AES.
import type { Crypto } from '../ports/crypto.js';
import { nobleAesGcm } from './aes-gcm.js';
import { composeCrypto } from './compose.js';

export { hkdfSha256, x25519, x25519PublicKey } from './key-agreement.js';

/** The full Crypto port with portable primitives and the host's `randomBytes`. */
export function createPortableCrypto(randomBytes: (out: Uint8Array) => void): Crypto {
  return composeCrypto(randomBytes, nobleAesGcm());
}
