// Test audio: synthetic signals (speech comes from the emulator's TTS), Opus through the Node port, and the
// comparisons the audio tests use (normalised correlation after the best alignment).
import { nodeOpus } from '../../hosts/node/opus.js';
import { ERROR_HIGH_HZ, ERROR_LOW_HZ, TONE_HIGH_HZ, TONE_LOW_HZ } from '../../src/audio/tone.js';

export const RATE = 16000;
export const FRAME = 320;

/** A linear chirp from `fromHz` to `toHz` over `ms`, with 10 ms fades so frames of it start and end quietly. */
export function chirp(ms: number, fromHz = 300, toHz = 3400, amplitude = 9000): Int16Array {
  const n = Math.round((ms * RATE) / 1000);
  const out = new Int16Array(n);
  const fade = RATE / 100;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const phase = 2 * Math.PI * (fromHz * t + ((toHz - fromHz) * t * t) / (2 * (ms / 1000)));
    const envelope = Math.min(1, i / fade, (n - 1 - i) / fade);
    out[i] = Math.round(amplitude * envelope * Math.sin(phase));
  }
  return out;
}

/** A numbered test pattern: sample i is (i * 7 + seed) mod 65536 as int16, so any misplaced byte shows. */
export function pattern(samples: number, seed = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = ((i * 7 + seed) & 0xffff) << 16 >> 16;
  return out;
}

/** Normalised correlation of equal-length stretches (1 = same shape). */
export function correlation(a: Int16Array, b: Int16Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** The lag (samples `signal` is late by, 0..maxLag) that best matches `reference`, and the correlation there. */
export function align(reference: Int16Array, signal: Int16Array, maxLag = 960): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -2 };
  for (let lag = 0; lag <= maxLag && lag < signal.length; lag++) {
    const c = correlation(reference, signal.subarray(lag));
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}

/** Splits PCM into 20 ms frames and encodes each with a fresh Node Opus encoder (CBR). */
export function encodeOpus(pcm: Int16Array, bitsPerSecond = 64000): Uint8Array[] {
  const encoder = nodeOpus.createEncoder({ sampleRate: RATE, channels: 1, bitsPerSecond, application: 'audio' });
  const frames: Uint8Array[] = [];
  const frame = new Int16Array(FRAME);
  const packet = new Uint8Array(1275);
  for (let at = 0; at < pcm.length; at += FRAME) {
    frame.fill(0);
    frame.set(pcm.subarray(at, Math.min(pcm.length, at + FRAME)));
    const n = encoder.encode(frame, packet);
    frames.push(packet.slice(0, n));
  }
  encoder.close();
  return frames;
}

/** Decodes frames in order with a fresh decoder: what a device that played them all must have produced. */
export function decodeOpus(frames: Uint8Array[]): Int16Array {
  const decoder = nodeOpus.createDecoder({ sampleRate: RATE, channels: 1 });
  const out = new Int16Array(frames.length * FRAME);
  const pcm = new Int16Array(FRAME);
  frames.forEach((f, i) => {
    const n = decoder.decode(f, pcm);
    if (n !== FRAME) throw new Error(`frame ${i} decoded to ${n} samples`);
    out.set(pcm, i * FRAME);
  });
  decoder.close();
  return out;
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Little-endian L16 bytes → samples. */
export function samplesOf(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16 >> 16;
  return out;
}

/**
 * Share of a 20 ms frame's energy in the strongest of the given tones' bins (each an exact bin of 320 samples at
 * 16 kHz, a multiple of 50 Hz, by Goertzel); 0 for a frame quieter than about -40 dBFS.
 */
export function toneShare(frame: Int16Array, tonesHz: readonly number[]): number {
  let energy = 0;
  for (let i = 0; i < FRAME; i++) energy += frame[i] * frame[i];
  if (energy < FRAME * 300 * 300) return 0;
  let best = 0;
  for (const hz of tonesHz) {
    const w = (2 * Math.PI * hz) / RATE;
    const coeff = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < FRAME; i++) {
      const s0 = frame[i] + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    best = Math.max(best, (2 * power) / (FRAME * energy));
  }
  return best;
}

/** Whether a frame is the error tone of a failed turn (more than 90 % of its energy at 600 Hz or 400 Hz). */
export function isErrorTone(frame: Int16Array): boolean {
  return toneShare(frame, [ERROR_HIGH_HZ, ERROR_LOW_HZ]) > 0.9;
}

/** Whether a frame is the alert tone (more than 90 % of its energy at 800 Hz or 1000 Hz, src/audio/tone.ts). */
export function isAlertTone(frame: Int16Array): boolean {
  return toneShare(frame, [TONE_LOW_HZ, TONE_HIGH_HZ]) > 0.9;
}
