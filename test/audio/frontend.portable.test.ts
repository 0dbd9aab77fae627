// Portable (Node, XS, the Cortex-M7 image): the microphone path's front end (src/audio/frontend.ts) with hooks
// the test writes: the reference it aligns, what reaches the ring, the wake-word span in capture samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrontEnd } from '../../src/audio/frontend.js';
import type { EchoCanceller, WakeWordDetection, WakeWordDetector } from '../../src/audio/hooks.js';
import { FrameRing, PREROLL_MS } from '../../src/audio/ring.js';

const N = 4;

/** A "canceller" that subtracts the reference as is: an echo path of gain 1, no delay. */
class Subtract implements EchoCanceller {
  readonly frameSamples = N;
  resets = 0;
  process(mic: Int16Array, reference: Int16Array, out: Int16Array): void {
    for (let i = 0; i < mic.length; i++) out[i] = mic[i] - reference[i];
  }
  reset(): void { this.resets++; }
}

/** Detects a frame whose first sample is 99 and reports the word as that frame and the one before. */
class Marker implements WakeWordDetector {
  readonly frameSamples = N;
  seen: number[] = [];
  process(frame: Int16Array, firstSample: number, detection: WakeWordDetection): boolean {
    this.seen.push(firstSample);
    if (frame[0] !== 99) return false;
    detection.beginSample = firstSample - N;
    detection.endSample = firstSample + N;
    return true;
  }
  reset(): void { this.seen = []; }
}

test('the canceller gets the frame the speaker played outputDelayMs before the capture time, zeros when it played none', () => {
  const asked: number[] = [];
  const frames: number[][] = [];
  const front = new FrontEnd({
    frameSamples: N, outputDelayMs: 30, echoCanceller: new Subtract(),
    reference: (frame, timeMs) => {
      asked.push(timeMs);
      if (timeMs < 0) return false;
      frame.fill(timeMs);
      return true;
    },
    onFrame: (frame) => frames.push([...frame]),
  });
  front.push(Int16Array.of(100, 100, 100, 100), 20);
  front.push(Int16Array.of(100, 100, 100, 100), 40);
  front.push(Int16Array.of(100, 100, 100, 100), 60);
  assert.deepEqual(asked, [-10, 10, 30]);
  assert.deepEqual(frames, [[100, 100, 100, 100], [90, 90, 90, 90], [70, 70, 70, 70]]);
  assert.equal(front.framesWithReference, 2);
});

test('without a canceller the captured frame goes on untouched; with one the caller\'s frame is not written', () => {
  const seen: Int16Array[] = [];
  const captured = Int16Array.of(1, 2, 3, 4);
  new FrontEnd({ frameSamples: N, onFrame: (f) => seen.push(f) }).push(captured, 0);
  assert.equal(seen[0], captured);
  const front = new FrontEnd({ frameSamples: N, echoCanceller: new Subtract(), reference: (f) => { f.fill(1); return true; }, onFrame: (f) => seen.push(f.slice()) });
  front.push(captured, 0);
  assert.deepEqual([...captured], [1, 2, 3, 4]);
  assert.deepEqual([...seen[1]], [0, 1, 2, 3]);
});

test('the wake-word hook sees cleaned frames with their first capture sample; a detection goes on after its frame reached the ring', () => {
  const ring = new FrameRing({ frameSamples: N, capacityFrames: 8 });
  const marker = new Marker();
  const spans: string[] = [];
  const front = new FrontEnd({
    frameSamples: N, echoCanceller: new Subtract(), wakeWord: marker,
    reference: (f) => { f.fill(1); return true; },
    onFrame: (f, t) => ring.push(f, t),
    onWakeWord: (begin, end) => spans.push(`${begin}..${end} ring ${ring.framesWritten * N}`),
  });
  for (let k = 0; k < 5; k++) front.push(new Int16Array(N).fill(k === 3 ? 100 : 7), k * 20);
  assert.deepEqual(marker.seen, [0, 4, 8, 12, 16]);
  assert.deepEqual(spans, ['8..16 ring 16']);
  assert.equal(front.capturedSamples, 20);
  assert.equal(front.detections, 1);
  assert.deepEqual([...ring.frame(3)], [99, 99, 99, 99]);
  front.reset();
  assert.deepEqual(marker.seen, []);
});

test('hooks of another frame size, a bad delay and a frame of the wrong length are refused', () => {
  const other = { frameSamples: 8, process() {}, reset() {} };
  assert.throws(() => new FrontEnd({ frameSamples: N, echoCanceller: other, onFrame() {} }), { name: 'RangeError', message: 'echoCanceller works on 8-sample frames, the front end on 4' });
  assert.throws(() => new FrontEnd({ frameSamples: N, wakeWord: { ...other, process: () => false }, onFrame() {} }), { name: 'RangeError', message: 'wakeWord works on 8-sample frames, the front end on 4' });
  assert.throws(() => new FrontEnd({ frameSamples: N, outputDelayMs: -1, onFrame() {} }), { name: 'RangeError', message: 'outputDelayMs expected ≥ 0, got -1' });
  assert.throws(() => new FrontEnd({ frameSamples: N, onFrame() {} }).push(new Int16Array(5), 0), { name: 'RangeError', message: 'frame of 4 samples expected, got 5' });
});

test('the microphone\'s default 2 s ring holds the 500 ms pre-roll before a word the detector reports 1 s after it began', () => {
  const ring = new FrameRing({ frameSamples: 320, capacityFrames: 100 });
  let span: [number, number] | undefined;
  let prerollHeld = false;
  let begin = -1;
  const front = new FrontEnd({
    frameSamples: 320, onFrame: (f, t) => ring.push(f, t), onWakeWord: (b, e) => {
      span = [b, e];
      prerollHeld = ring.holds((b - PREROLL_MS * 16) / 320);
    },
    wakeWord: {
      frameSamples: 320, reset() {},
      process(frame, first, detection) {
        if (first === 320 * 200) begin = first;
        if (begin < 0 || first !== begin + 16000) return false;
        detection.beginSample = begin;
        detection.endSample = first;
        return true;
      },
    },
  });
  const frame = new Int16Array(320);
  for (let k = 0; k < 300; k++) front.push(frame, k * 20);
  assert.deepEqual(span, [64000, 80000]);
  assert.ok(prerollHeld, 'the frame 500 ms before the word is held when the word is reported');
});
