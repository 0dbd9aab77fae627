// The capture ring (src/audio/ring.ts): absolute frame numbers, the last capacityFrames frames, pre-roll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameRing, PREROLL_MS } from '../../src/audio/ring.js';

const frameOf = (n: number) => new Int16Array(4).fill(n);

test('the ring keeps the last capacityFrames frames under their absolute numbers, with capture times', () => {
  const ring = new FrameRing({ frameSamples: 4, capacityFrames: 3 });
  assert.equal(ring.oldestFrame, 0);
  for (let n = 0; n < 5; n++) ring.push(frameOf(n), 1000 + n * 20);
  assert.equal(ring.framesWritten, 5);
  assert.equal(ring.oldestFrame, 2);
  assert.deepEqual([ring.holds(1), ring.holds(2), ring.holds(4), ring.holds(5)], [false, true, true, false]);
  assert.deepEqual([...ring.frame(2)], [2, 2, 2, 2]);
  assert.deepEqual([...ring.frame(4)], [4, 4, 4, 4]);
  assert.equal(ring.captureTimeMs(3), 1060);
  assert.equal(ring.captureTimeMs(1), -1);
  assert.throws(() => ring.frame(1), { name: 'RangeError', message: 'frame 1 is not held (frames 2..4)' });
});

test('a frame view is the ring\'s own slot: the same object each time, no copy', () => {
  const ring = new FrameRing({ frameSamples: 4, capacityFrames: 3 });
  ring.push(frameOf(7));
  assert.equal(ring.frame(0), ring.frame(0));
});

test('push refuses a frame of the wrong length and the constructor a ring too small to rotate', () => {
  const ring = new FrameRing({ frameSamples: 4, capacityFrames: 3 });
  assert.throws(() => ring.push(new Int16Array(5)), { name: 'RangeError', message: 'frame of 4 samples expected, got 5' });
  assert.throws(() => new FrameRing({ frameSamples: 320, capacityFrames: 1 }), { name: 'RangeError', message: 'capacityFrames expected an integer ≥ 2, got 1' });
});

test('a 2 s ring of 20 ms frames holds the 500 ms pre-roll (25 frames) before any point in its last 1.5 s', () => {
  const ring = new FrameRing({ frameSamples: 320, capacityFrames: 100 });
  for (let n = 0; n < 500; n++) ring.push(new Int16Array(320));
  const prerollFrames = PREROLL_MS / 20;
  assert.equal(prerollFrames, 25);
  assert.ok(ring.holds(ring.framesWritten - 75 - prerollFrames));
});
