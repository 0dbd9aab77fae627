// Our detector over a long stream, for the wake-word benches: its per-frame scores once, then the device's gate at
// any threshold, and the matching of detections to the words said (a detection counts within 0.5 s of a word's end).
import { WasmWakeWord } from '../hosts/node/dsp.js';
import type { WakeWordDetection } from '../src/audio/hooks.js';
import { WakeWordGate } from '../src/audio/wake-word.js';
import { FRAME } from '../test/support/wake-word-data.js';
import { SAMPLE_RATE } from '../test/support/wake-word-corpus.js';

/** A detection counts as the word's when it ends within 0.5 s of the word's end. */
export const TOLERANCE = 0.5 * SAMPLE_RATE;

/** native/dsp/kws.c's score of every whole frame of `samples`, after `process` (e.g. the canceller) when given. */
export function frameScores(samples: Int16Array, process?: (mic: Int16Array, out: Int16Array, at: number) => void): Float32Array {
  const kws = new WasmWakeWord();
  const out = new Float32Array(Math.floor(samples.length / FRAME));
  const detection = { beginSample: 0, endSample: 0 };
  const clean = new Int16Array(FRAME);
  for (let f = 0; f < out.length; f++) {
    let frame = samples.subarray(f * FRAME, (f + 1) * FRAME);
    if (process) {
      process(frame, clean, f * FRAME);
      frame = clean;
    }
    kws.process(frame, f * FRAME, detection);
    out[f] = kws.score;
  }
  return out;
}

/** The device's detections (WakeWordGate, its refractory time included) at `threshold`. */
export function detect(scores: Float32Array, threshold: number): WakeWordDetection[] {
  const gate = new WakeWordGate({ threshold });
  const found: WakeWordDetection[] = [];
  const detection = { beginSample: 0, endSample: 0 };
  scores.forEach((score, f) => {
    if (gate.push(score, f * FRAME, FRAME, detection)) found.push({ ...detection });
  });
  return found;
}

/** Which words were found (each detection used once), and the detections that found none. */
export function match(ends: number[], wordEnds: number[]): { hit: boolean[]; falseAccepts: number[] } {
  const hit = wordEnds.map(() => false);
  const falseAccepts: number[] = [];
  for (const e of ends) {
    const w = wordEnds.findIndex((end, i) => !hit[i] && Math.abs(e - end) <= TOLERANCE);
    if (w >= 0) hit[w] = true;
    else falseAccepts.push(e);
  }
  return { hit, falseAccepts };
}
