// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The one publish regulator (src/ais/pacer.ts) that the microphone stream and the event batches each own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer } from '../../src/ais/pacer.js';
import { ManualClock } from '../support/manual-clock.js';

function harness(spacingMs: number, slotsWanted: number) {
  const clock = new ManualClock(1000);
  const sends: number[] = [];
  let left = slotsWanted;
  const pacer: Pacer = new Pacer({
    clock, spacingMs,
    onSlot() {
      sends.push(clock.now);
      pacer.sent();
      return --left > 0;
    },
  });
  return { clock, pacer, sends };
}

test('a pacer offers slots at least spacingMs apart and stops when the producer has nothing left', () => {
  const { clock, pacer, sends } = harness(50, 3);
  pacer.request();
  for (let i = 0; i < 9; i++) clock.advance(10);
  assert.deepEqual(sends, [1000, 1050], 'the first slot at once, the next a spacing later');
  clock.advance(100);
  assert.deepEqual(sends, [1000, 1050, 1100]);
  assert.equal(pacer.running, false, 'no timer left once the producer said it is done');
  assert.equal(clock.pending, 0);
});

test('a request right after a send waits for the rest of the spacing; reset() forgets the last send', () => {
  const { clock, pacer, sends } = harness(50, 1);
  pacer.request();
  clock.advance(0);
  clock.advance(20);
  assert.equal(pacer.waitMs, 30);
  pacer.request();
  clock.advance(29);
  assert.deepEqual(sends, [1000], 'not before the spacing');
  clock.advance(1);
  assert.deepEqual(sends, [1000, 1050]);
  pacer.reset();
  assert.equal(pacer.waitMs, 0, 'a new connection starts with a free slot');
});

test('a repeating timer that fired late and then runs early skips that slot rather than sending too soon', () => {
  const { clock, pacer, sends } = harness(50, 3);
  pacer.request();
  clock.advance(0);
  clock.fireLate(30); // due at 1050, runs at 1080: sends
  clock.advance(20);  // the next run is anchored at 1100: 20 ms after the last send, skipped
  assert.deepEqual(sends, [1000, 1080]);
  clock.advance(50);
  assert.deepEqual(sends, [1000, 1080, 1150]);
});

test('bad options are refused with a clear error', () => {
  const clock = new ManualClock();
  assert.throws(() => new Pacer({ clock, onSlot: undefined as unknown as () => boolean }), /Pacer needs options.clock and onSlot/);
  assert.throws(() => new Pacer({ clock, spacingMs: -1, onSlot: () => false }), /spacingMs expected ≥ 0, got -1/);
});
