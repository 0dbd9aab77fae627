// native/dsp on Node: the same C the XS and Cortex-M hosts compile, built to WebAssembly by Debian clang + lld
// (--target=wasm32, freestanding: no emscripten, no libc) into build/native/dsp.wasm on first use and again
// whenever a source is newer, with the XS hosts' float flags (native/native.mk: no fused multiply-add), so all
// three give the same output bit for bit. Each canceller or detector is its own module instance (the C keeps one
// state of each per instance); src/audio/native-dsp.ts makes the hooks over this binding as over the XS hosts'.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DSP_FRAME_SAMPLES, NativeEchoCanceller, NativeWakeWord, type DspBinding, type EchoCancellerOptions } from '../../src/audio/native-dsp.js';
import type { WakeWordGateOptions } from '../../src/audio/wake-word.js';

export { WAKE_WORD_THRESHOLD } from '../../src/audio/native-dsp.js';

export const DSP_INSTALL_HINT = 'building native/dsp for Node needs clang and lld: apt-get install clang lld';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sourceDir = join(root, 'native', 'dsp');
const wasmPath = join(root, 'build', 'native', 'dsp.wasm');
const EXPORTS = ['dsp_aec_mic', 'dsp_aec_ref', 'dsp_aec_out', 'dsp_aec_state_bytes', 'dsp_aec_init', 'dsp_aec_reset', 'dsp_aec_process', 'dsp_aec_bulk_delay', 'dsp_aec_delay_confidence',
  'dsp_aec_resets', 'dsp_aec_path_changes', 'dsp_aec_set_suppress',
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

/** Older than a source or than this module (which holds the compiler's flags). */
function stale(): boolean {
  const built = statSync(wasmPath).mtimeMs;
  return [...sources(), fileURLToPath(import.meta.url)].some((s) => statSync(s).mtimeMs > built);
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
    execFileSync('clang', ['--target=wasm32', '-O2', '-ffp-contract=off', '-nostdlib', '-ffreestanding', '-Wall', '-Werror', '-Wl,--no-entry',
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
  dsp_aec_resets(): number; dsp_aec_path_changes(): number; dsp_aec_set_suppress(on: number): void;
  dsp_kws_frame(): number; dsp_kws_vector(): number; dsp_kws_init(): number; dsp_kws_reset(): void;
  dsp_kws_features(): void; dsp_kws_process(): number;
}

/** Bands per feature vector (KWS_BANDS in native/dsp/kws.h). */
export const KWS_BANDS = 24;

function instance(): DspExports {
  return new WebAssembly.Instance(dspModule()).exports as unknown as DspExports;
}

/** A module instance (the C keeps one canceller and one detector each) and views of its frame buffers. */
interface AecState { dsp: DspExports; mic: Int16Array; ref: Int16Array; out: Int16Array }
interface KwsState { dsp: DspExports; frame: Int16Array }

function frameIn(view: Int16Array, frame: Int16Array, name: string): void {
  if (frame.length !== view.length) throw new RangeError(`${name} expected ${view.length} samples, got ${frame.length}`);
  view.set(frame);
}

/** native/dsp through WebAssembly as the binding src/audio/native-dsp.ts wraps: frames copied in and out of the instance's memory. */
export const wasmDsp: DspBinding = {
  aecCreate(frameSamples, taps) {
    const dsp = instance();
    if (dsp.dsp_aec_init(frameSamples, taps) !== 0) {
      throw new RangeError(`echo canceller: frameSamples ${frameSamples} must be a multiple of 64 up to 1024, taps ${taps} a multiple of 64 up to 2048`);
    }
    const view = (at: number) => new Int16Array(dsp.memory.buffer, at, frameSamples);
    return { dsp, mic: view(dsp.dsp_aec_mic()), ref: view(dsp.dsp_aec_ref()), out: view(dsp.dsp_aec_out()) } satisfies AecState;
  },
  aecProcess(state, mic, reference, out) {
    const s = state as AecState;
    frameIn(s.mic, mic, 'echo canceller microphone');
    frameIn(s.ref, reference, 'echo canceller reference');
    if (out.length !== s.out.length) throw new RangeError(`echo canceller output expected ${s.out.length} samples, got ${out.length}`);
    s.dsp.dsp_aec_process();
    out.set(s.out);
  },
  aecReset: (state) => (state as AecState).dsp.dsp_aec_reset(),
  kwsCreate() {
    const dsp = instance();
    dsp.dsp_kws_init();
    return { dsp, frame: new Int16Array(dsp.memory.buffer, dsp.dsp_kws_frame(), DSP_FRAME_SAMPLES) } satisfies KwsState;
  },
  kwsProcess(state, frame) {
    const s = state as KwsState;
    frameIn(s.frame, frame, 'wake-word frame');
    return s.dsp.dsp_kws_process();
  },
  kwsReset: (state) => (state as KwsState).dsp.dsp_kws_reset(),
};

/** native/dsp/aec.c as an EchoCanceller hook, through WebAssembly; it also tells the bulk delay it found. */
export class WasmEchoCanceller extends NativeEchoCanceller {
  private readonly exports: DspExports;

  constructor(options: EchoCancellerOptions = {}) {
    let made: AecState | undefined;
    super({ ...wasmDsp, aecCreate: (frameSamples, taps) => (made = wasmDsp.aecCreate(frameSamples, taps) as AecState) }, options);
    this.exports = made!.dsp;
  }

  /** The bulk delay the canceller found between reference and microphone, in samples; -1 while none yet. */
  get bulkDelaySamples(): number {
    return this.exports.dsp_aec_bulk_delay();
  }

  /** How clearly the echo follows the reference at that delay: the squared correlation coefficient of their band onsets, 0..1. */
  get bulkDelayConfidence(): number {
    return this.exports.dsp_aec_delay_confidence();
  }

  /** Restarts of the filters after a divergence (their output would have been louder than the microphone). */
  get resets(): number {
    return this.exports.dsp_aec_resets();
  }

  /** The residual echo suppressor after the filter: off by default (the linear filter's output), on takes out more echo. */
  set suppress(on: boolean) {
    this.exports.dsp_aec_set_suppress(on ? 1 : 0);
  }

  /** Echo-path changes detected (the filters learn fast again). */
  get pathChanges(): number {
    return this.exports.dsp_aec_path_changes();
  }
}

/** native/dsp/kws.c as a WakeWordDetector, through WebAssembly. */
export class WasmWakeWord extends NativeWakeWord {
  constructor(options: Partial<WakeWordGateOptions> = {}) {
    super(wasmDsp, options);
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
