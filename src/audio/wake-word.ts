// The decision on top of a wake-word engine's per-frame score (0..1): a detection when the score reaches the
// threshold, then nothing for a refractory time (one word, one detection). The engine scores the word at its
// end, so the span is [end − wordSamples, end): an estimate the cloud's verification allows a margin around.
// No allocation per frame.
import type { WakeWordDetection } from './hooks.js';

export interface WakeWordGateOptions {
  threshold: number;
  /** Frames after a detection in which none follows (default 50: 1 s). */
  refractoryFrames?: number;
  /** The span reported before the end of the frame that fired (default 12,000: 750 ms, a slow "Alexa"). */
  wordSamples?: number;
}

export class WakeWordGate {
  private readonly threshold: number;
  private readonly refractory: number;
  private readonly wordSamples: number;
  private quiet = 0;

  constructor(options: WakeWordGateOptions) {
    const { threshold, refractoryFrames = 50, wordSamples = 12000 } = options ?? ({} as WakeWordGateOptions);
    if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold expected in (0, 1), got ${threshold}`);
    if (!Number.isInteger(refractoryFrames) || refractoryFrames < 0) throw new RangeError(`refractoryFrames expected an integer ≥ 0, got ${refractoryFrames}`);
    this.threshold = threshold;
    this.refractory = refractoryFrames;
    this.wordSamples = wordSamples;
  }

  /** The score of the frame [firstSample, firstSample + frameSamples); true and `detection` filled on a detection. */
  push(score: number, firstSample: number, frameSamples: number, detection: WakeWordDetection): boolean {
    if (this.quiet > 0) {
      this.quiet--;
      return false;
    }
    if (!(score >= this.threshold)) return false;
    this.quiet = this.refractory;
    detection.endSample = firstSample + frameSamples;
    detection.beginSample = Math.max(0, detection.endSample - this.wordSamples);
    return true;
  }

  reset(): void {
    this.quiet = 0;
  }
}
