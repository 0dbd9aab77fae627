// The Crypto port (src/ports/crypto.ts) with portable key agreement: X25519 and HKDF-SHA256 in JavaScript
// (key-agreement.ts), and the host's AES-GCM (host-aes-gcm.ts): noble's on Node, native/aes_gcm.c on the XS hosts,
// which never load noble's AES. Random bytes stay with the host: XS has no entropy source.
import type { Crypto } from '../ports/crypto.js';
import { hostAesGcm } from './host-aes-gcm.js';
import { composeCrypto } from './compose.js';

export { hkdfSha256, x25519, x25519PublicKey } from './key-agreement.js';

/** The full Crypto port with portable key agreement, the host's AES-GCM and the host's `randomBytes`. */
export function createPortableCrypto(randomBytes: (out: Uint8Array) => void): Crypto {
  return composeCrypto(randomBytes, hostAesGcm());
}
