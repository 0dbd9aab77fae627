import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeClock } from '../../../hosts/node/clock.js';

const clock = new NodeClock();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('monotonicMs never goes backwards and follows elapsed time', async () => {
  const start = clock.monotonicMs();
  let previous = start;
  for (let i = 0; i < 10_000; i++) {
    const now = clock.monotonicMs();
    assert.ok(now >= previous, `${now} after ${previous}`);
    previous = now;
  }
  await sleep(50);
  const elapsed = clock.monotonicMs() - start;
  assert.ok(elapsed >= 49 && elapsed < 1000, `50 ms sleep measured as ${elapsed} ms`);
});

test('a one-shot timer fires exactly once, not before its delay', async () => {
  const start = clock.monotonicMs();
  const firedAt: number[] = [];
  await new Promise<void>((resolve) => {
    clock.setTimer(() => { firedAt.push(clock.monotonicMs() - start); resolve(); }, 30);
  });
  await sleep(80);
  assert.equal(firedAt.length, 1);
  assert.ok(firedAt[0] >= 29, `fired after ${firedAt[0]} ms`);
});

test('a repeating timer fires first after delayMs, then every repeatMs, until cleared', async () => {
  const start = clock.monotonicMs();
  const firedAt: number[] = [];
  // Waits for the runs rather than sleeping a fixed time, so a loaded machine makes it slower, not flaky.
  await new Promise<void>((resolve) => {
    const handle = clock.setTimer(() => {
      firedAt.push(clock.monotonicMs() - start);
      if (firedAt.length === 4) {
        clock.clearTimer(handle);
        resolve();
      }
    }, 60, 20);
  });
  await sleep(80);
  assert.equal(firedAt.length, 4, `fired at ${firedAt.join(', ')}`);
  assert.ok(firedAt[0] >= 59, `first run after ${firedAt[0]} ms, expected >= 60`);
  for (let i = 1; i < 4; i++) assert.ok(firedAt[i] - firedAt[i - 1] >= 19, `interval ${i} was ${firedAt[i] - firedAt[i - 1]} ms`);
});

test('a repeating timer cleared from outside after its first run stops', async () => {
  let runs = 0;
  let handle: unknown;
  await new Promise<void>((resolve) => {
    handle = clock.setTimer(() => { runs++; resolve(); }, 0, 10);
  });
  clock.clearTimer(handle); // between the first run and the second, when the interval is pending
  await sleep(60);
  assert.equal(runs, 1);
});

test('a cleared timer never fires, and clearing a fired, cleared or foreign handle is harmless', async () => {
  let runs = 0;
  const cleared = clock.setTimer(() => { runs += 100; }, 10);
  clock.clearTimer(cleared);
  clock.clearTimer(cleared);
  const fired = clock.setTimer(() => { runs++; }, 0);
  await sleep(40);
  clock.clearTimer(fired);
  clock.clearTimer(fired);
  clock.clearTimer(undefined);
  clock.clearTimer(null);
  clock.clearTimer(42);
  clock.clearTimer({});
  assert.equal(runs, 1);
});

test('bad delays and callbacks throw at once', () => {
  assert.throws(() => clock.setTimer(() => {}, -1), { name: 'RangeError', message: 'delayMs must be a finite number >= 0, got -1' });
  assert.throws(() => clock.setTimer(() => {}, 1, Number.NaN), { name: 'RangeError', message: 'repeatMs must be a finite number >= 0, got NaN' });
  assert.throws(() => clock.setTimer(undefined as unknown as () => void, 1), { name: 'TypeError', message: 'timer callback must be a function, got undefined' });
});
