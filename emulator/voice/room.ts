// A simulated room for echo-cancellation and barge-in tests: what the device's microphone hears while its
// loudspeaker plays. The loudspeaker is slightly non-linear (a soft clip, as a small driver near full
// volume); the sound reaches the microphone through an impulse response (a bulk delay, the direct path,
// early reflections and an exponentially decaying diffuse tail of a given RT60); the user's voice comes
// through another response; the microphone adds white noise. Deterministic from a seed. Not for a 20 ms
// loop: it allocates whole signals.
import { seededRandom, whiteNoise } from './pcm.js';

export interface RoomOptions {
  sampleRate?: number;          // 16000
  /** Loudspeaker to microphone bulk delay (output path plus air), ms. Default 8. */
  delayMs?: number;
  /** Reverberation time, ms (−60 dB). Default 150 (a furnished room). */
  rt60Ms?: number;
  /** Impulse response length, ms. Default 2 × rt60Ms. */
  lengthMs?: number;
  /** Loudspeaker soft clip tanh(drive·x)/drive: 0 linear; 1 compresses full scale by 2.4 dB, half scale by 0.7 dB. Default 1. */
  drive?: number;
  /** Microphone noise RMS in 16-bit units. Default 20 (about −64 dBFS). */
  noiseRms?: number;
  seed?: number;
}

/** A room impulse response: bulk delay, direct path of gain 1, reflections, then a decaying noise tail. */
export function roomImpulseResponse(options: RoomOptions = {}): Float64Array {
  const rate = options.sampleRate ?? 16000;
  const rt60 = (options.rt60Ms ?? 150) / 1000;
  const length = Math.round(((options.lengthMs ?? 2 * (options.rt60Ms ?? 150)) / 1000) * rate);
  const delay = Math.round(((options.delayMs ?? 8) / 1000) * rate);
  const random = seededRandom(options.seed ?? 1);
  const h = new Float64Array(delay + length);
  const decay = (t: number) => Math.exp((-6.9 * t) / rt60);   // amplitude: −60 dB at rt60
  h[delay] = 1;
  for (let r = 0; r < 8; r++) {
    const at = delay + Math.round((0.002 + 0.02 * random()) * rate);
    h[at] += (random() < 0.5 ? -1 : 1) * (0.2 + 0.4 * random()) * decay((at - delay) / rate);
  }
  const tailStart = delay + Math.round(0.003 * rate);
  for (let i = tailStart; i < h.length; i++) {
    const u = 1 - random();
    const gauss = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    h[i] += 0.05 * gauss * decay((i - delay) / rate);
  }
  return h;
}

/** Linear convolution of `x` with `h`, cut to x's length. */
export function convolve(x: Float64Array, h: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  let last = h.length - 1;
  while (last > 0 && h[last] === 0) last--;
  for (let j = 0; j <= last; j++) {
    const g = h[j];
    if (g === 0) continue;
    for (let i = j; i < x.length; i++) y[i] += g * x[i - j];
  }
  return y;
}

/** The loudspeaker: a soft clip of the played samples (tanh; unity gain for small signals). */
export function loudspeaker(played: Int16Array, drive = 1): Float64Array {
  const out = new Float64Array(played.length);
  for (let i = 0; i < played.length; i++) {
    const v = played[i] / 32768;
    out[i] = drive > 0 ? (Math.tanh(drive * v) / drive) * 32768 : played[i];
  }
  return out;
}

export interface RoomCapture {
  /** What the microphone records (16-bit). */
  mic: Int16Array;
  /** Its parts, before rounding: the loudspeaker's echo, the user's voice as heard, the noise. */
  echo: Float64Array;
  near: Float64Array;
  noise: Int16Array;
}

/** The microphone while the loudspeaker plays `played` and the user says `near` (optional, same length or shorter). */
export function recordInRoom(played: Int16Array, near: Int16Array | undefined, options: RoomOptions = {}): RoomCapture {
  const seed = options.seed ?? 1;
  const echo = convolve(loudspeaker(played, options.drive ?? 1), roomImpulseResponse(options));
  const nearHeard = new Float64Array(played.length);
  if (near) {
    // The user stands elsewhere: a different response, a shorter bulk delay, a level set by the caller.
    const h = roomImpulseResponse({ ...options, delayMs: 2, seed: seed + 101 });
    const x = new Float64Array(played.length);
    for (let i = 0; i < Math.min(near.length, x.length); i++) x[i] = near[i];
    nearHeard.set(convolve(x, h));
  }
  const noise = whiteNoise(played.length, options.noiseRms ?? 20, seed + 7);
  const mic = new Int16Array(played.length);
  for (let i = 0; i < mic.length; i++) {
    const v = Math.round(echo[i] + nearHeard[i] + noise[i]);
    mic[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return { mic, echo, near: nearHeard, noise };
}
