// 16-bit PCM helpers for the virtual device: the AIS microphone stream is L16, 16 kHz, mono, little-endian
// (docs/protocol.md §5); espeak-ng speaks at 22,050 Hz; WAV files for tools (pocketsphinx, sox) and people.

/** The AIS microphone format: 16 kHz (docs/protocol.md §5). */
export const SAMPLE_RATE = 16000;
/** 20 ms at 16 kHz: one Opus frame, one VAD frame. */
export const FRAME_SAMPLES = 320;
export const BYTES_PER_SAMPLE = 2;

/** Little-endian bytes (a microphone stream slice) → samples. Copies, so `bytes` may be odd-aligned. */
export function samplesFromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) throw new RangeError(`an even number of L16 bytes expected, got ${bytes.length}`);
  const samples = new Int16Array(bytes.length / 2);
  for (let i = 0, j = 0; i < samples.length; i++, j += 2) samples[i] = (bytes[j]! | (bytes[j + 1]! << 8)) << 16 >> 16;
  return samples;
}

/** Samples → little-endian bytes, whatever the host's byte order. */
export function bytesFromSamples(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 2);
  for (let i = 0, j = 0; i < samples.length; i++, j += 2) {
    const v = samples[i]!;
    bytes[j] = v & 0xff;
    bytes[j + 1] = (v >> 8) & 0xff;
  }
  return bytes;
}

function clip16(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : Math.round(value);
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

const HALF_TAPS = 32;
const TABLE_STEPS = 512;  // kernel samples per input sample; linear interpolation between them
const kernels = new Map<number, Float64Array>();

// h(x) = cutoff · sinc(cutoff · x) · kaiser(x / HALF_TAPS), tabulated for x ≥ 0: the Bessel function costs
// 30 multiplications, too many per tap (measured: 0.6 s for 5 s of speech without the table, 15 ms with).
function kernel(cutoff: number): Float64Array {
  let table = kernels.get(cutoff);
  if (table) return table;
  const beta = 8;
  const i0Beta = besselI0(beta);
  table = new Float64Array(HALF_TAPS * TABLE_STEPS + 2);
  for (let i = 0; i < table.length; i++) {
    const x = i / TABLE_STEPS;
    const w = x / HALF_TAPS;
    if (w >= 1) continue;
    const arg = Math.PI * cutoff * x;
    const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
    table[i] = cutoff * sinc * (besselI0(beta * Math.sqrt(1 - w * w)) / i0Beta);
  }
  kernels.set(cutoff, table);
  return table;
}

/**
 * Band-limited resampling by a Kaiser-windowed sinc (β 8, 32 taps a side, cut-off at 95 % of the lower
 * Nyquist frequency): 22,050 → 16,000 Hz for espeak-ng, 16,000 ↔ 48,000 for Opus. Not for a 20 ms loop:
 * it allocates its output.
 */
export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (!(fromRate > 0) || !(toRate > 0)) throw new RangeError(`positive sample rates expected, got ${fromRate} → ${toRate}`);
  if (fromRate === toRate) return input.slice();
  const cutoff = 0.95 * Math.min(1, toRate / fromRate);  // in units of the input Nyquist frequency
  const table = kernel(cutoff);
  const step = fromRate / toRate;
  const output = new Int16Array(Math.floor((input.length * toRate) / fromRate));
  for (let n = 0; n < output.length; n++) {
    const t = n * step;
    const centre = Math.floor(t);
    let acc = 0;
    const first = Math.max(0, centre - HALF_TAPS + 1);
    const last = Math.min(input.length - 1, centre + HALF_TAPS);
    for (let k = first; k <= last; k++) {
      const pos = Math.abs(t - k) * TABLE_STEPS;
      const i = Math.floor(pos);
      if (i >= HALF_TAPS * TABLE_STEPS) continue;
      const frac = pos - i;
      acc += input[k]! * (table[i]! + (table[i + 1]! - table[i]!) * frac);
    }
    output[n] = clip16(acc);
  }
  return output;
}

/** Root mean square of a run of samples, in 16-bit units. */
export function rms(samples: Int16Array, start = 0, end = samples.length): number {
  if (end <= start) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (end - start));
}

/** `count` samples of silence. */
export function silence(count: number): Int16Array {
  return new Int16Array(Math.max(0, Math.round(count)));
}

/** Joins runs of samples end to end. */
export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A small deterministic PRNG (mulberry32), so noisy test sets are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian white noise of the given RMS (16-bit units). */
export function whiteNoise(count: number, rmsLevel: number, seed = 1): Int16Array {
  const random = seededRandom(seed);
  const out = new Int16Array(Math.max(0, Math.round(count)));
  for (let i = 0; i < out.length; i++) {
    const u = 1 - random();
    const v = random();
    out[i] = clip16(rmsLevel * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

/**
 * `speech` plus white noise at `snrDb` below the speech's RMS over its active part (samples louder than
 * 1 % of full scale), so leading and trailing silence do not lower the reference.
 */
export function addNoise(speech: Int16Array, snrDb: number, seed = 1): Int16Array {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < speech.length; i++) {
    const v = speech[i]!;
    if (v > 327 || v < -327) {
      sum += v * v;
      count++;
    }
  }
  const speechRms = count ? Math.sqrt(sum / count) : 0;
  const noise = whiteNoise(speech.length, speechRms / 10 ** (snrDb / 20), seed);
  const out = new Int16Array(speech.length);
  for (let i = 0; i < out.length; i++) out[i] = clip16(speech[i]! + noise[i]!);
  return out;
}

/** A RIFF/WAVE file of 16-bit mono PCM: the Node host's writer, one for both. */
export { wavBytes as wavFile } from '../../hosts/node/wav.js';

export interface Wav {
  sampleRate: number;
  channels: number;
  /** Interleaved when channels > 1. */
  samples: Int16Array;
}

/** Reads a RIFF/WAVE file of 16-bit PCM (what opusdec, sox and espeak-ng write); skips unknown chunks. */
export function parseWav(file: Uint8Array): Wav {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const tag = (at: number): string => String.fromCharCode(file[at]!, file[at + 1]!, file[at + 2]!, file[at + 3]!);
  if (file.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new RangeError('a RIFF/WAVE file expected');
  let at = 12;
  let format: { sampleRate: number; channels: number; bits: number; code: number } | undefined;
  while (at + 8 <= file.length) {
    const id = tag(at);
    let size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      format = {
        code: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!format) throw new RangeError('a fmt chunk expected before the data chunk');
      // 0xfffe is WAVE_FORMAT_EXTENSIBLE (opusdec writes it for some layouts); its samples are still PCM here.
      if ((format.code !== 1 && format.code !== 0xfffe) || format.bits !== 16) {
        throw new RangeError(`16-bit PCM expected, got format ${format.code} with ${format.bits} bits`);
      }
      // A streaming writer leaves 0 or 0xffffffff as the size: take the rest of the file.
      if (size === 0 || size === 0xffffffff || body + size > file.length) size = file.length - body;
      return { sampleRate: format.sampleRate, channels: format.channels, samples: samplesFromBytes(file.subarray(body, body + (size & ~1))) };
    }
    at = body + size + (size & 1);
  }
  throw new RangeError('a data chunk expected, found none');
}

/**
 * The lag (in samples, `b` later than `a` when positive) that maximises the normalised cross-correlation
 * of `a` and `b` within ±maxLag, and that correlation (1 = same shape). Brute force: for test signals of
 * a few seconds.
 */
export function bestAlignment(a: Int16Array, b: Int16Array, maxLag: number): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let dot = 0;
    let ea = 0;
    let eb = 0;
    const start = Math.max(0, -lag);
    const end = Math.min(a.length, b.length - lag);
    for (let i = start; i < end; i++) {
      const x = a[i]!;
      const y = b[i + lag]!;
      dot += x * y;
      ea += x * x;
      eb += y * y;
    }
    const c = ea > 0 && eb > 0 ? dot / Math.sqrt(ea * eb) : 0;
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}

/** `samples` without the near-silent run (below `threshold`) at either end. */
export function trimSilence(samples: Int16Array, threshold = 200): Int16Array {
  let start = 0;
  let end = samples.length;
  while (start < end && Math.abs(samples[start]!) < threshold) start++;
  while (end > start && Math.abs(samples[end - 1]!) < threshold) end--;
  return samples.slice(start, end);
}
