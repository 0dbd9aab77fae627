// The front end's hooks over a native binding of native/dsp (the echo canceller, the wake-word detector): the XS
// hosts' (hosts/xs/xr_dsp.c, on the global `natives`) or Node's WebAssembly build (hosts/node/dsp.ts). The C
// state is made once per hook; frames go in the caller's typed arrays: a frame allocates nothing here or in the
// binding.
import type { EchoCanceller, WakeWordDetection, WakeWordDetector } from './hooks.js';
import { WakeWordGate, type WakeWordGateOptions } from './wake-word.js';

/** A C state the binding made; opaque here. */
export type DspState = object;

export interface DspBinding {
  /** A canceller of `taps` (a multiple of 64) over frames of `frameSamples`; a RangeError when the C refuses them. */
  aecCreate(frameSamples: number, taps: number): DspState;
  /** One frame of each (exactly frameSamples); `out` may be `mic`. */
  aecProcess(canceller: DspState, mic: Int16Array, reference: Int16Array, out: Int16Array): void;
  aecReset(canceller: DspState): void;
  kwsCreate(): DspState;
  /** One 320-sample frame; the network's score of the word ending here (0..1). */
  kwsProcess(detector: DspState, frame: Int16Array): number;
  kwsReset(detector: DspState): void;
}

/** 20 ms at 16 kHz: the frame of the front end and of kws.c. */
export const DSP_FRAME_SAMPLES = 320;
/** The filter length by default: 64 ms of echo tail (docs/frontend.md). */
export const DEFAULT_AEC_TAPS = 1024;
/** The detection threshold, chosen on the held-out sweep in docs/figures/wake-word.md (detection against false accepts). */
export const WAKE_WORD_THRESHOLD = 0.95;

export interface EchoCancellerOptions {
  frameSamples?: number;
  /** The echo tail the filter models, in samples: a multiple of 64 up to what the host's C was built for. */
  taps?: number;
}

function checkBinding(binding: DspBinding, create: 'aecCreate' | 'kwsCreate'): void {
  if (typeof binding?.[create] !== 'function') throw new TypeError(`DSP binding expected an object with ${create}`);
}

/** native/dsp/aec.c as an EchoCanceller hook. */
export class NativeEchoCanceller implements EchoCanceller {
  readonly frameSamples: number;
  readonly taps: number;
  private readonly state: DspState;

  constructor(private readonly binding: DspBinding, options: EchoCancellerOptions = {}) {
    checkBinding(binding, 'aecCreate');
    this.frameSamples = options.frameSamples ?? DSP_FRAME_SAMPLES;
    this.taps = options.taps ?? DEFAULT_AEC_TAPS;
    this.state = binding.aecCreate(this.frameSamples, this.taps);
  }

  process(mic: Int16Array, reference: Int16Array, out: Int16Array): void {
    this.binding.aecProcess(this.state, mic, reference, out);
  }

  reset(): void {
    this.binding.aecReset(this.state);
  }
}

/** native/dsp/kws.c as a WakeWordDetector: the C scores each frame, a WakeWordGate decides. */
export class NativeWakeWord implements WakeWordDetector {
  readonly frameSamples = DSP_FRAME_SAMPLES;
  /** The last frame's score (0..1). */
  score = 0;
  private readonly state: DspState;
  private readonly gate: WakeWordGate;

  constructor(private readonly binding: DspBinding, options: Partial<WakeWordGateOptions> = {}) {
    checkBinding(binding, 'kwsCreate');
    this.state = binding.kwsCreate();
    this.gate = new WakeWordGate({ threshold: WAKE_WORD_THRESHOLD, ...options });
  }

  process(frame: Int16Array, firstSample: number, detection: WakeWordDetection): boolean {
    this.score = this.binding.kwsProcess(this.state, frame);
    return this.gate.push(this.score, firstSample, this.frameSamples, detection);
  }

  reset(): void {
    this.binding.kwsReset(this.state);
    this.gate.reset();
  }
}
