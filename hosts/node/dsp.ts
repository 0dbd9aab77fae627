// native/dsp on Node: the same C the XS and Cortex-M hosts compile, built to WebAssembly by Debian clang + lld
// (--target=wasm32, freestanding: no emscripten, no libc) into build/native/dsp.wasm on first use and again
// whenever a source is newer. Each canceller is its own module instance (the C keeps one state per instance).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { EchoCanceller, WakeWordDetection, WakeWordDetector } from '../../src/audio/hooks.js';
import { WakeWordGate, type WakeWordGateOptions } from '../../src/audio/wake-word.js';

export const DSP_INSTALL_HINT = 'building native/dsp for Node needs clang and lld: apt-get install clang lld';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sourceDir = join(root, 'native', 'dsp');
const wasmPath = join(root, 'build', 'native', 'dsp.wasm');
const EXPORTS = ['dsp_aec_mic', 'dsp_aec_ref', 'dsp_aec_out', 'dsp_aec_state_bytes', 'dsp_aec_init', 'dsp_aec_reset', 'dsp_aec_process', 'dsp_aec_bulk_delay', 'dsp_aec_delay_confidence',
  'dsp_kws_frame', 'dsp_kws_vector', 'dsp_kws_init', 'dsp_kws_reset', 'dsp_kws_features', 'dsp_kws_process'];

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** undefined when clang and wasm-ld are here (or the module is already built), else the apt hint. */
export function dspMissingHint(): string | undefined {
  if (existsSync(wasmPath) && !stale()) return undefined;
  return hasTool('clang') && hasTool('wasm-ld') ? undefined : DSP_INSTALL_HINT;
}

function sources(): string[] {
  return readdirSync(sourceDir).filter((f) => f.endsWith('.c') || f.endsWith('.h')).map((f) => join(sourceDir, f));
}

function stale(): boolean {
  const built = statSync(wasmPath).mtimeMs;
  return sources().some((s) => statSync(s).mtimeMs > built);
}

let compiled: WebAssembly.Module | undefined;

/** The compiled module, building it first if needed; throws with the apt hint when clang or lld is missing. */
export function dspModule(): WebAssembly.Module {
  if (compiled) return compiled;
  if (!existsSync(wasmPath) || stale()) {
    const hint = dspMissingHint();
    if (hint) throw new Error(hint);
    mkdirSync(join(root, 'build', 'native'), { recursive: true });
    const c = sources().filter((s) => s.endsWith('.c'));
    // Built beside and renamed: test files running in parallel never read a half-written module.
    const partial = `${wasmPath}.${process.pid}`;
    execFileSync('clang', ['--target=wasm32', '-O2', '-nostdlib', '-ffreestanding', '-Wall', '-Werror', '-Wl,--no-entry',
      ...EXPORTS.map((e) => `-Wl,--export=${e}`), '-o', partial, ...c], { stdio: ['ignore', 'inherit', 'inherit'] });
    renameSync(partial, wasmPath);
  }
  compiled = new WebAssembly.Module(readFileSync(wasmPath));
  return compiled;
}

interface DspExports {
  memory: WebAssembly.Memory;
  dsp_aec_mic(): number; dsp_aec_ref(): number; dsp_aec_out(): number; dsp_aec_state_bytes(): number;
  dsp_aec_init(frameSamples: number, taps: number): number; dsp_aec_reset(): void; dsp_aec_process(): void; dsp_aec_bulk_delay(): number; dsp_aec_delay_confidence(): number;
  dsp_kws_frame(): number; dsp_kws_vector(): number; dsp_kws_init(): number; dsp_kws_reset(): void;
  dsp_kws_features(): void; dsp_kws_process(): number;
}

/** Bands per feature vector (KWS_BANDS in native/dsp/kws.h). */
export const KWS_BANDS = 24;

function instance(): DspExports {
  return new WebAssembly.Instance(dspModule()).exports as unknown as DspExports;
}

/** native/dsp/aec.c as an EchoCanceller hook. */
export class WasmEchoCanceller implements EchoCanceller {
  readonly frameSamples: number;
  readonly taps: number;
  /** Bytes of canceller state (what the C struct takes on a 32-bit target). */
  readonly stateBytes: number;
  private readonly dsp: DspExports;
  private readonly mic: Int16Array;
  private readonly ref: Int16Array;
  private readonly out: Int16Array;

  constructor(options: { frameSamples?: number; taps?: number } = {}) {
    this.frameSamples = options.frameSamples ?? 320;
    this.taps = options.taps ?? 1024;
    this.dsp = instance();
    if (this.dsp.dsp_aec_init(this.frameSamples, this.taps) !== 0) {
      throw new RangeError(`echo canceller: frameSamples ${this.frameSamples} must be a multiple of 64 up to 1024, taps ${this.taps} a multiple of 64 up to 2048`);
    }
    const buffer = this.dsp.memory.buffer;
    this.mic = new Int16Array(buffer, this.dsp.dsp_aec_mic(), this.frameSamples);
    this.ref = new Int16Array(buffer, this.dsp.dsp_aec_ref(), this.frameSamples);
    this.out = new Int16Array(buffer, this.dsp.dsp_aec_out(), this.frameSamples);
    this.stateBytes = this.dsp.dsp_aec_state_bytes();
  }

  process(mic: Int16Array, reference: Int16Array, out: Int16Array): void {
    this.mic.set(mic);
    this.ref.set(reference);
    this.dsp.dsp_aec_process();
    out.set(this.out);
  }

  /** The bulk delay the canceller found between reference and microphone, in samples; -1 while none yet. */
  get bulkDelaySamples(): number {
    return this.dsp.dsp_aec_bulk_delay();
  }

  /** How clearly the echo follows the reference at that delay: the squared correlation coefficient of their band onsets, 0..1. */
  get bulkDelayConfidence(): number {
    return this.dsp.dsp_aec_delay_confidence();
  }

  reset(): void {
    this.dsp.dsp_aec_reset();
  }
}

/** The detection threshold, chosen on the held-out sweep in docs/figures/wake-word.md (detection against false accepts). */
export const WAKE_WORD_THRESHOLD = 0.95;

/** native/dsp/kws.c as a WakeWordDetector: the C scores each frame, a WakeWordGate decides. */
export class WasmWakeWord implements WakeWordDetector {
  readonly frameSamples = 320;
  /** The last frame's score (0..1). */
  score = 0;
  private readonly dsp: DspExports;
  private readonly frame: Int16Array;
  private readonly gate: WakeWordGate;

  constructor(options: Partial<WakeWordGateOptions> = {}) {
    this.dsp = instance();
    this.dsp.dsp_kws_init();
    this.frame = new Int16Array(this.dsp.memory.buffer, this.dsp.dsp_kws_frame(), this.frameSamples);
    this.gate = new WakeWordGate({ threshold: WAKE_WORD_THRESHOLD, ...options });
  }

  process(frame: Int16Array, firstSample: number, detection: WakeWordDetection): boolean {
    this.frame.set(frame);
    this.score = this.dsp.dsp_kws_process();
    return this.gate.push(this.score, firstSample, this.frameSamples, detection);
  }

  reset(): void {
    this.dsp.dsp_kws_reset();
    this.gate.reset();
  }
}

/** The detector's feature vectors of `samples` (whole frames), KWS_BANDS per frame: for training. */
export function wakeWordFeatures(samples: Int16Array): Float32Array {
  const dsp = instance();
  dsp.dsp_kws_init();
  const frame = new Int16Array(dsp.memory.buffer, dsp.dsp_kws_frame(), 320);
  const vector = new Float32Array(dsp.memory.buffer, dsp.dsp_kws_vector(), KWS_BANDS);
  const frames = Math.floor(samples.length / 320);
  const out = new Float32Array(frames * KWS_BANDS);
  for (let f = 0; f < frames; f++) {
    frame.set(samples.subarray(f * 320, (f + 1) * 320));
    dsp.dsp_kws_features();
    out.set(vector, f * KWS_BANDS);
  }
  return out;
}
