// Not a suite: test/cortex-m/prepared.test.ts boots an image of this module with its machine prepared in flash and
// reads the one line it prints: what the prepared modules computed and how writes to their state went.
import { hkdfSha256 } from '../../src/crypto/key-agreement.js';
import { bump, fill, fixed, table } from './prepared-state.fixture.js';

declare function print(...values: unknown[]): void;
declare const xsrun: { memory(): { slots: { current: number } } };

const bootSlots = xsrun.memory().slots.current;
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);
// RFC 5869 test case 1.
const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), range(0x00, 0x0c), range(0xf0, 0xf9), 42);
let mapError = '';
try {
  fixed.set('b', 2);
} catch (error) {
  mapError = String(error);
}
const bumps = [bump(), bump()];
print(`PREPARED ${JSON.stringify({ bootSlots, okm: hex(okm), bumps, hits: table.hits, filled: fill(7), mapError, a: fixed.get('a') })}`);
