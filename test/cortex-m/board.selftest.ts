// The board under the firmware image, checked on the image itself (hosts/cortex-m/run-tests.mjs boots it
// on QEMU's Cortex-M7): 32-bit slots, bytecode with no parser that runs in place from flash, the FPGA counters
// behind performance.now and timers, wall time from the host, the hardware FPU through the engine's number
// formatting. The engine's stack and heap limits abort a run, so they are run-tests.mjs's overrun checks, not
// tests here.
// Not a portable suite: it states facts of the image, and Node never runs it (not a .test.js file).
import { test } from 'node:test';
import assert from 'node:assert/strict';

interface Host {
  bytecode: boolean;
  parseAllowed: boolean;
  strings: string;
  memory(): { slots: { bytes: number }; stack: { size: number }; chunks: { current: number } };
  gc(): void;
}
const host = (globalThis as unknown as { xsrun: Host }).xsrun;

test('the image runs bytecode from flash with 16-byte slots (a 32-bit part) and CESU-8 strings', () => {
  assert.equal(host.bytecode, true);
  assert.equal(host.memory().slots.bytes, 16);
  assert.equal(host.strings, 'cesu8');
  assert.equal('\u{1F600}'.length, 2);
});

test('functions and string literals run in place from the bundle in flash: making closures and reading literals takes no chunks', () => {
  // xsrun bundles use XS's archive opcodes (hosts/xs/xr_bundle.h): a function's code slot and a literal's string point
  // into the read-only bundle. The engine's other opcodes copy the code into a chunk for every closure made and the
  // literal for every evaluation; the MPU would fault a write to either in flash.
  const closures: (() => number)[] = new Array(200).fill(undefined);
  const make = (i: number) => () => i + 1;
  let length = 0;
  host.gc();
  const before = host.memory().chunks.current;
  for (let i = 0; i < closures.length; i++) {
    closures[i] = make(i);
    length += 'a string literal that stays in flash'.length;
  }
  const grown = host.memory().chunks.current - before;
  assert.equal(closures[199](), 200);
  assert.equal(length, 200 * 36);
  assert.ok(grown <= 0, `chunks grew by ${grown} B for 200 closures and 200 literals`);
});

test('the image has no parser: eval and new Function are refused', () => {
  assert.equal(host.parseAllowed, false);
  const indirectEval = eval;
  assert.throws(() => indirectEval('1 + 1'), SyntaxError);
  assert.throws(() => new Function('return 1'), SyntaxError);
});

test('performance.now advances with the FPGA counters, finer than a millisecond', () => {
  // Counted in readings, not in time: a busy host pauses the guest, so a time window may hold few of them.
  const first = performance.now();
  const perMs = new Map<number, Set<number>>();
  let last = first;
  for (let i = 0; i < 200_000 && ![...perMs.values()].some((s) => s.size >= 4); i++) {
    const now = performance.now();
    assert.ok(now >= last, `performance.now went back from ${last} to ${now}`);
    last = now;
    const ms = Math.floor(now);
    if (!perMs.has(ms)) perMs.set(ms, new Set());
    perMs.get(ms)!.add(now);
  }
  const finest = Math.max(...[...perMs.values()].map((s) => s.size));
  assert.ok(last > first, 'the clock advanced');
  assert.ok(finest >= 4, `at most ${finest} distinct readings within one millisecond`);
});

test('a 100 ms timeout fires after 100 ms of board time (WFI between SysTick ticks), after a 5 ms interval ran 3 times', async () => {
  const start = performance.now();
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    const interval = setInterval(() => { order.push('interval'); if (order.length === 3) clearInterval(interval); }, 5);
    setTimeout(() => { order.push('timeout'); resolve(); }, 100);
  });
  const elapsed = performance.now() - start;
  // QEMU's clock without -icount follows the host's: a busy host delays the guest, so only a lower bound is exact.
  assert.ok(elapsed >= 100 && elapsed < 2000, `${elapsed} ms`);
  assert.deepEqual(order, ['interval', 'interval', 'interval', 'timeout']);
});

test('Date comes from the host clock read at boot (semihosting), not 1970', () => {
  assert.ok(new Date().getUTCFullYear() >= 2024, new Date().toISOString());
});

test('numbers go through the hardware double-precision FPU and print exactly as on Node', () => {
  assert.equal(String(0.1 + 0.2), '0.30000000000000004');
  assert.equal(Math.sqrt(2).toString(), '1.4142135623730951');
  assert.equal((1e21).toString(), '1e+21');
  assert.equal((123.456).toFixed(1), '123.5');
  assert.equal((2 ** 53 + 2).toString(), '9007199254740994');
  assert.equal(Number.parseFloat('6.02214076e23'), 6.02214076e23);
  assert.equal(Math.fround(1.1).toString(), '1.100000023841858');
  assert.equal(Math.round(Math.sin(1) * 1e15), 841470984807897);
  assert.equal(-0 === 0 && Object.is(-0 * 1, -0), true);
});
