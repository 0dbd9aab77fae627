// What every AES-GCM behind the Crypto port shares, noble's (aes-gcm.ts) and a native one (native-aes-gcm.ts):
// the two functions and their argument checks, so a bad argument gets the same message whichever runs.
import type { Crypto } from '../ports/crypto.js';
import { checkBytes } from './key-agreement.js';

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export type AesGcm = Pick<Crypto, 'aesGcmSeal' | 'aesGcmOpen'>;

// Names and lengths as constants: these checks run for every message, and on XS an array literal is a new array
// and a string literal a new chunk each time bytecode in RAM evaluates it (docs/xs-host.md).
const KEY_LENGTHS = [16, 24, 32], IV_LENGTHS = [GCM_IV_BYTES], TAG_LENGTHS = [GCM_TAG_BYTES];
const KEY = 'AES key', IV = 'AES-GCM IV', TAG = 'AES-GCM tag', OUTPUT = 'AES-GCM output';

export function checkAesArguments(key: Uint8Array, iv: Uint8Array, tag: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  checkBytes(key, KEY, KEY_LENGTHS);
  checkBytes(iv, IV, IV_LENGTHS);
  checkBytes(tag, TAG, TAG_LENGTHS);
  if (!(input instanceof Uint8Array)) throw new TypeError(`AES-GCM input expected a Uint8Array, got ${typeof input}`);
  if (!(out instanceof Uint8Array)) throw new TypeError(`${OUTPUT} expected a Uint8Array, got ${typeof out}`);
  if (out.length !== input.length) throw new RangeError(`${OUTPUT} expected ${input.length} bytes, got ${out.length}`);
}
