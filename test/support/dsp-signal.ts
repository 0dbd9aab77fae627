// A far-end talker, its echo and a near-end talker over it, made with integer arithmetic only (Math.imul, shifts),
// so V8 and XS make the same samples: the input of test/native/dsp.test.ts, which runs native/dsp on Node
// (WebAssembly), xsrun and the Cortex-M7 image and compares the outputs bit for bit. Portable: no allocation per
// frame. Not speech: noise shaped into syllables and pauses, which is enough to drive adaptation, double talk
// and the wake word's features through every path of the C.
import type { EchoCanceller } from '../../src/audio/hooks.js';
import type { NativeWakeWord } from '../../src/audio/native-dsp.js';

/** The echo path: delays in samples and gains in Q15, within 1,024 taps. */
const ECHO_DELAY = Int32Array.from([24, 61, 130, 211, 340, 470, 700]);
const ECHO_GAIN = Int32Array.from([9830, -6554, 4915, -3277, 1966, -983, 655]);
const HISTORY = 1024;

function clip(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

export class DspSignal {
  private seed = 0x2545f491;
  private farLow = 0;
  private nearLow = 0;
  private readonly far = new Int16Array(HISTORY);
  private n = 0;

  /** A uniform 16-bit random number (a 32-bit LCG's high half). */
  private random(): number {
    this.seed = (Math.imul(this.seed, 1664525) + 1013904223) >>> 0;
    return (this.seed >>> 16) - 32768;
  }

  /** The next frame: the speaker's reference and the microphone (echo, from 1.2 s to 2 s a near talker, a noise floor). */
  frame(reference: Int16Array, mic: Int16Array): void {
    for (let i = 0; i < reference.length; i++, this.n++) {
      const n = this.n;
      // Syllables of 200 ms (150 ms of sound), in runs of 2 s with 0.5 s pauses; a level that changes per run.
      const inSyllable = n % 3200;
      const level = (n % 40000) < 32000 && inSyllable < 2400 ? (inSyllable < 1200 ? inSyllable : 2400 - inSyllable) * (3 + ((n / 40000) | 0) % 3) : 0;
      this.farLow += (this.random() - this.farLow) >> 2;
      const far = clip((this.farLow * level) >> 11);
      this.far[n % HISTORY] = far;
      reference[i] = far;
      let echo = 0;
      for (let k = 0; k < ECHO_DELAY.length; k++) if (n >= ECHO_DELAY[k]) echo += this.far[(n - ECHO_DELAY[k]) % HISTORY] * ECHO_GAIN[k];
      this.nearLow += (this.random() - this.nearLow) >> 3;
      const near = n >= 19200 && n < 32000 && inSyllable < 2000 ? this.nearLow >> 1 : 0;
      mic[i] = clip((echo >> 15) + near + (this.random() >> 10));
    }
  }
}

/** FNV-1a over a frame's 16-bit samples: the test compares these per frame. */
export function frameHash(frame: Int16Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < frame.length; i++) {
    h = Math.imul(h ^ (frame[i] & 0xff), 16777619);
    h = Math.imul(h ^ ((frame[i] >> 8) & 0xff), 16777619);
  }
  return h >>> 0;
}

export interface DspRun {
  /** frameHash of each frame the canceller put out. */
  aec: number[];
  /** The wake word's score of each cleaned frame, as its float32 bits. */
  kws: number[];
  /** Microphone and output energy over the second half (the canceller cancels). */
  micEnergy: number;
  outEnergy: number;
  /** With a clock: per frame, the mean and the largest time of each hook's process(), in the clock's unit. */
  time?: { aecMean: number; aecMax: number; kwsMean: number; kwsMax: number };
}

/**
 * `frames` of DspSignal through the front end's order (canceller, then the wake word on its output) with hooks
 * the caller made over one binding. Allocates nothing per frame but the results' entries.
 */
export function runDsp(aec: EchoCanceller, kws: NativeWakeWord, frames: number, now?: () => number): DspRun {
  const signal = new DspSignal();
  const n = aec.frameSamples;
  const reference = new Int16Array(n), mic = new Int16Array(n), out = new Int16Array(n);
  const score = new Float32Array(1);
  const bits = new Uint32Array(score.buffer);
  const detection = { beginSample: 0, endSample: 0 };
  const run: DspRun = { aec: [], kws: [], micEnergy: 0, outEnergy: 0 };
  const time = { aecMean: 0, aecMax: 0, kwsMean: 0, kwsMax: 0 };
  for (let f = 0; f < frames; f++) {
    signal.frame(reference, mic);
    const t0 = now?.() ?? 0;
    aec.process(mic, reference, out);
    const t1 = now?.() ?? 0;
    kws.process(out, f * n, detection);
    const t2 = now?.() ?? 0;
    time.aecMean += t1 - t0;
    time.kwsMean += t2 - t1;
    if (t1 - t0 > time.aecMax) time.aecMax = t1 - t0;
    if (t2 - t1 > time.kwsMax) time.kwsMax = t2 - t1;
    run.aec.push(frameHash(out));
    score[0] = kws.score;
    run.kws.push(bits[0]);
    if (f >= frames / 2) {
      for (let i = 0; i < n; i++) {
        run.micEnergy += mic[i] * mic[i];
        run.outEnergy += out[i] * out[i];
      }
    }
  }
  if (now) run.time = { ...time, aecMean: time.aecMean / frames, kwsMean: time.kwsMean / frames };
  return run;
}
