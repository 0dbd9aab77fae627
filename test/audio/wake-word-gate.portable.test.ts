// Portable (Node, XS, the Cortex-M7 image): the decision on a wake-word engine's per-frame score
// (src/audio/wake-word.ts): threshold, refractory time, the span it reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WakeWordGate } from '../../src/audio/wake-word.js';

test('a score at the threshold fires once, with a span of wordSamples ending at the frame\'s end; then a refractory time', () => {
  const gate = new WakeWordGate({ threshold: 0.5, refractoryFrames: 2, wordSamples: 1000 });
  const d = { beginSample: 0, endSample: 0 };
  const fired = [0.1, 0.5, 0.9, 0.9, 0.9, 0.2].map((score, k) => gate.push(score, 3200 + k * 320, 320, d) ? `${k}:${d.beginSample}..${d.endSample}` : '');
  assert.deepEqual(fired.filter(Boolean), ['1:2840..3840', '4:3800..4800']);
});

test('the span starts at 0 at the earliest; reset ends the refractory time; NaN never fires', () => {
  const gate = new WakeWordGate({ threshold: 0.5 });
  const d = { beginSample: -1, endSample: -1 };
  assert.equal(gate.push(Number.NaN, 0, 320, d), false);
  assert.equal(gate.push(0.7, 0, 320, d), true);
  assert.deepEqual(d, { beginSample: 0, endSample: 320 });
  assert.equal(gate.push(0.7, 320, 320, d), false);
  gate.reset();
  assert.equal(gate.push(0.7, 640, 320, d), true);
});

test('a threshold outside (0, 1) or a negative refractory time is refused', () => {
  assert.throws(() => new WakeWordGate({ threshold: 1 }), { name: 'RangeError', message: 'threshold expected in (0, 1), got 1' });
  assert.throws(() => new WakeWordGate({ threshold: 0.5, refractoryFrames: -1 }), { name: 'RangeError', message: 'refractoryFrames expected an integer ≥ 0, got -1' });
});
