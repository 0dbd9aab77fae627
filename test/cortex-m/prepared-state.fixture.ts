// Not a suite: module state for test/cortex-m/prepared.test.ts. The image prepares this module in flash, so its top
// level runs at build time; what the entry then writes here is copied into RAM (a closure, an object) or refused (a
// Map made at the top level is read-only).
let count = 0;
export const table = { hits: 0 };
export const fixed = new Map([['a', 1]]);
// A buffer made at the top level and written at run time, as @noble/hashes keeps SHA-256's message schedule.
const scratch = new Uint32Array(4);

export function bump(): number {
  count++;
  table.hits++;
  return count;
}

export function fill(value: number): number {
  scratch.fill(value);
  return scratch[0] + scratch[3];
}
