// What every AES-GCM behind the Crypto port shares, noble's (aes-gcm.ts) and a native one (native-aes-gcm.ts):
// the two functions and their argument checks, so a bad argument gets the same message whichever runs.
import type { Crypto } from '../ports/crypto.js';
import { checkBytes } from './key-agreement.js';

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export type AesGcm = Pick<Crypto, 'aesGcmSeal' | 'aesGcmOpen'>;

export function checkAesArguments(key: Uint8Array, iv: Uint8Array, tag: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  checkBytes(key, 'AES key', [16, 24, 32]);
  checkBytes(iv, 'AES-GCM IV', [GCM_IV_BYTES]);
  checkBytes(tag, 'AES-GCM tag', [GCM_TAG_BYTES]);
  if (!(input instanceof Uint8Array)) throw new TypeError(`AES-GCM input expected a Uint8Array, got ${typeof input}`);
  checkBytes(out, 'AES-GCM output', [input.length]);
}
