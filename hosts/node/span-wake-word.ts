// A stand-in wake-word engine for a caller that knows where it put "Alexa" into the WAV microphone (the demo, the
// tests): it sits where a real engine does (the front end's hook, on the capture path, frame by frame) and
// reports the span it was told once it has heard 200 ms past its end, as a real engine decides late. Being on
// the capture path, it reports at the frame a real engine would however late the host's timers run, while the
// microphone's ring still holds the pre-roll.
import type { WakeWordDetection, WakeWordDetector } from '../../src/audio/hooks.js';

/** A real engine decides this long after the word ends (200 ms at 16 kHz). */
export const DECISION_SAMPLES = 3200;

export class SpanWakeWord implements WakeWordDetector {
  readonly frameSamples: number;
  private begin = -1;
  private end = -1;

  constructor(frameSamples = 320) {
    this.frameSamples = frameSamples;
  }

  /** The next word is in capture samples [begin, end). */
  expect(begin: number, end: number): void {
    this.begin = begin;
    this.end = end;
  }

  process(_frame: Int16Array, firstSample: number, detection: WakeWordDetection): boolean {
    const decideAt = this.end + DECISION_SAMPLES;
    if (this.end < 0 || firstSample + this.frameSamples < decideAt) return false;
    detection.beginSample = this.begin;
    detection.endSample = this.end;
    this.begin = this.end = -1;
    return true;
  }

  reset(): void {}
}
