// The two DSP hooks of the microphone path (docs/architecture.md, frame path 1): an OEM plugs in a vendor DSP block or a
// native library; the project's defaults are native/dsp (C, behind a host binding). Both are called once per
// 20 ms frame on the capture path, so an implementation must not allocate or block per call.

/** Acoustic echo cancellation: the microphone frame minus what the loudspeaker put into it. */
export interface EchoCanceller {
  /** Samples per call (320 = 20 ms at 16 kHz). */
  readonly frameSamples: number;
  /**
   * `mic` captured while `reference` was being played (already aligned for the output path's delay; zeros
   * when the speaker is silent) → the cleaned frame in `out`. `out` may be `mic` itself.
   */
  process(mic: Int16Array, reference: Int16Array, out: Int16Array): void;
  /** Forget the learnt echo path (a new loudspeaker volume curve or a moved device). */
  reset(): void;
}

/** Where a wake word was heard, in capture samples (Microphone.capturedSamples' time base). */
export interface WakeWordDetection {
  beginSample: number;
  endSample: number;
}

/** A streaming wake-word engine. */
export interface WakeWordDetector {
  /** Samples per call (320). */
  readonly frameSamples: number;
  /**
   * One frame whose first sample is capture sample `firstSample`. Returns true when the word ends in this or
   * an earlier frame and fills `detection` (the caller's object: no allocation) with its span.
   */
  process(frame: Int16Array, firstSample: number, detection: WakeWordDetection): boolean;
  reset(): void;
}
