// Not a suite: hosts/cortex-m/run-tests.mjs boots the image on this module to see each budget overrun end
// the run with a clear message and its own exit status. Argument: `heap` allocates until the heap is full;
// `c-stack` recurses in C (JSON.stringify of a deeply nested array) until the C stack check or guard stops it.
const host = (globalThis as unknown as { xsrun: { args: string[] } }).xsrun;
const what = host.args[0];
if (what === 'heap') {
  const held: Uint8Array[] = [];
  for (;;) held.push(new Uint8Array(64 * 1024));
} else if (what === 'c-stack') {
  let nested: unknown[] = [];
  for (let i = 0; i < 3000; i++) nested = [nested];
  JSON.stringify(nested);
  throw new Error('3,000 nested arrays serialized without reaching the C stack limit');
} else {
  throw new RangeError(`overrun.fixture: expected heap or c-stack, got ${what}`);
}
export {};
