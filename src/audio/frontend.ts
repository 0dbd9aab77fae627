// The microphone path's front end, per captured frame (docs/architecture.md, frame path 1):
//   capture → echo canceller (with the speaker reference aligned for the output path's delay) → ring
//   (the Microphone's, ≥ 500 ms pre-roll) → wake-word hook → Microphone.wakeWordDetected(begin, end).
// Both hooks are optional: without a canceller the frame goes on as captured; without a detector only the
// buttons open the microphone. The reference and cleaned frames and the detection record are made here once;
// push() allocates nothing.

import type { EchoCanceller, WakeWordDetection, WakeWordDetector } from './hooks.js';

export interface FrontEndOptions {
  frameSamples: number;
  /** The frame the loudspeaker played at monotonic `timeMs` (AudioOut.reference); false when it played none. */
  reference?(frame: Int16Array, timeMs: number): boolean;
  /**
   * A known fixed part of the path from the audio-out port's play time to the microphone's capture time of the
   * same sound, in ms (default 0). native/dsp's canceller finds the bulk delay itself (0 to 128 ms); this is
   * for a longer path or a canceller without an estimator. Err on the short side: a canceller copes with a
   * reference that leads the echo, never with one that lags it.
   */
  outputDelayMs?: number;
  echoCanceller?: EchoCanceller;
  wakeWord?: WakeWordDetector;
  /** The frame after echo cancellation (to Microphone.pushFrame); valid only during the call. */
  onFrame(frame: Int16Array, captureTimeMs: number): void;
  /** A wake word in capture samples (to Microphone.wakeWordDetected), called after onFrame of its last frame. */
  onWakeWord?(beginSample: number, endSample: number): void;
}

export class FrontEnd {
  private readonly options: FrontEndOptions;
  private readonly referenceFrame: Int16Array;
  private readonly cleanFrame: Int16Array;
  private readonly detection: WakeWordDetection = { beginSample: 0, endSample: 0 };
  private readonly delayMs: number;
  private samples = 0;
  /** Frames whose reference the speaker could tell (it was playing): the canceller saw a real reference. */
  framesWithReference = 0;
  detections = 0;

  constructor(options: FrontEndOptions) {
    if (typeof options?.onFrame !== 'function') throw new TypeError('FrontEnd needs options.onFrame');
    const n = options.frameSamples;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`frameSamples expected a positive integer, got ${n}`);
    for (const [name, hook] of [['echoCanceller', options.echoCanceller], ['wakeWord', options.wakeWord]] as const) {
      if (hook && hook.frameSamples !== n) throw new RangeError(`${name} works on ${hook.frameSamples}-sample frames, the front end on ${n}`);
    }
    const delay = options.outputDelayMs ?? 0;
    if (!(delay >= 0)) throw new RangeError(`outputDelayMs expected ≥ 0, got ${delay}`);
    this.options = options;
    this.delayMs = delay;
    this.referenceFrame = new Int16Array(n);
    this.cleanFrame = new Int16Array(n);
  }

  /** Capture samples seen: the time base of the wake-word span (equals Microphone.capturedSamples when every frame goes there). */
  get capturedSamples(): number {
    return this.samples;
  }

  /** One captured frame (exactly frameSamples). */
  push(frame: Int16Array, captureTimeMs: number): void {
    const { echoCanceller, wakeWord, reference } = this.options;
    if (frame.length !== this.cleanFrame.length) throw new RangeError(`frame of ${this.cleanFrame.length} samples expected, got ${frame.length}`);
    let out = frame;
    if (echoCanceller) {
      const ref = this.referenceFrame;
      if (reference?.(ref, captureTimeMs - this.delayMs)) this.framesWithReference++;
      else ref.fill(0);
      echoCanceller.process(frame, ref, this.cleanFrame);
      out = this.cleanFrame;
    }
    const first = this.samples;
    this.samples += out.length;
    this.options.onFrame(out, captureTimeMs);
    if (wakeWord?.process(out, first, this.detection)) {
      this.detections++;
      const { beginSample, endSample } = this.detection;
      this.options.onWakeWord?.(beginSample, endSample);
    }
  }

  /** A new listening session: the hooks forget their state; the sample count goes on (the ring's does). */
  reset(): void {
    this.options.echoCanceller?.reset();
    this.options.wakeWord?.reset();
  }
}
