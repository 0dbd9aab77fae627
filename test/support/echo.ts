// Echo-cancellation test signals and figures, shared by test/audio/aec.test.ts and bench/aec.bench.ts:
// the assistant's synthetic speech played through the simulated room (emulator/voice/room.ts), with and
// without the user talking over it, and ERLE, convergence and near-end preservation computed from the
// known parts of the microphone signal.
import { recordInRoom, type RoomCapture, type RoomOptions } from '../../emulator/voice/room.js';
import { SAMPLE_RATE, concat, silence } from '../../emulator/voice/pcm.js';
import { ASSISTANT_VOICE, USER_VOICES, type SpeechSynthesizer } from '../../emulator/voice/tts.js';

export const FRAME = 320;

const FAR_TEXT = 'Here is the weather for today. Expect sunny skies in the morning, with clouds moving in by the afternoon, '
  + 'and a chance of light rain in the evening. The high will be seventy two degrees, and the low fifty five. '
  + 'Tomorrow looks much the same, a little warmer, with a gentle breeze from the west.';
const NEAR_TEXT = 'what time is it in London right now';

export interface EchoScenario {
  name: string;
  /** What the loudspeaker played (the canceller's reference, sample-aligned with the microphone). */
  played: Int16Array;
  capture: RoomCapture;
  /** The user talks in [nearStart, nearEnd) (samples); -1 when not at all. */
  nearStart: number;
  nearEnd: number;
}

/** Scales to a peak of `peak` of full scale (the assistant at a loud volume, the user at a set level). */
function toPeak(x: Int16Array, peak: number): Int16Array {
  let max = 1;
  for (const v of x) max = Math.max(max, Math.abs(v));
  return x.map((v) => Math.round((v * peak * 32767) / max));
}

/** Whole frames only, so every canceller sees the same samples. */
function frames(x: Int16Array): Int16Array {
  return x.subarray(0, x.length - (x.length % FRAME));
}

/**
 * Far end alone, and the same with the user speaking from `nearAtS` at about the echo's level (double talk).
 * `seconds` caps the far-end speech (the test uses a short run; the bench all of it).
 */
export function echoScenarios(tts: SpeechSynthesizer, options: { room?: RoomOptions; seconds?: number; nearAtS?: number; nearPeak?: number } = {}): EchoScenario[] {
  const far = toPeak(tts.synthesize(FAR_TEXT, ASSISTANT_VOICE), 0.7);
  const seconds = options.seconds ?? far.length / SAMPLE_RATE;
  const played = frames(concat(silence(SAMPLE_RATE / 2), far).subarray(0, Math.round(seconds * SAMPLE_RATE)));
  const near = toPeak(tts.synthesize(NEAR_TEXT, USER_VOICES['us-male']), options.nearPeak ?? 0.4);
  const nearStart = Math.round((options.nearAtS ?? seconds * 0.45) * SAMPLE_RATE);
  const placed = concat(silence(nearStart), near);
  return [
    { name: 'far end only', played, capture: recordInRoom(played, undefined, options.room), nearStart: -1, nearEnd: -1 },
    { name: 'double talk', played, capture: recordInRoom(played, placed, options.room), nearStart, nearEnd: Math.min(played.length, nearStart + near.length) },
  ];
}

/** Runs a canceller frame by frame; returns its output. */
export function cancel(process: (mic: Int16Array, ref: Int16Array, out: Int16Array) => void, s: EchoScenario): Int16Array {
  const out = new Int16Array(s.played.length);
  for (let at = 0; at + FRAME <= out.length; at += FRAME) {
    process(s.capture.mic.subarray(at, at + FRAME), s.played.subarray(at, at + FRAME), out.subarray(at, at + FRAME));
  }
  return out;
}

const db = (num: number, den: number) => 10 * Math.log10(num / Math.max(den, 1e-9));

export interface ErlePoint { tS: number; erleDb: number }

/**
 * ERLE per window (mic power over output power) where the echo is loud enough to measure (RMS above 100,
 * ~ −50 dBFS, five times the noise) and the user is silent.
 */
export function erleSeries(s: EchoScenario, out: Int16Array, windowMs = 250): ErlePoint[] {
  const w = Math.round((windowMs / 1000) * SAMPLE_RATE);
  const points: ErlePoint[] = [];
  for (let at = 0; at + w <= out.length; at += w) {
    if (s.nearStart >= 0 && at + w > s.nearStart && at < s.nearEnd) continue;
    let mic = 0;
    let o = 0;
    let echo = 0;
    for (let i = at; i < at + w; i++) {
      mic += s.capture.mic[i] ** 2;
      o += out[i] ** 2;
      echo += s.capture.echo[i] ** 2;
    }
    if (echo / w < 100 * 100) continue;
    points.push({ tS: (at + w / 2) / SAMPLE_RATE, erleDb: db(mic, o) });
  }
  return points;
}

/** ERLE over all measurable windows from `fromS` on (a ratio of sums, not a mean of decibels). */
export function erleFrom(s: EchoScenario, out: Int16Array, fromS: number, toS = Infinity, windowMs = 250): number {
  const w = Math.round((windowMs / 1000) * SAMPLE_RATE);
  let mic = 0;
  let o = 0;
  for (const p of erleSeries(s, out, windowMs)) {
    if (p.tS < fromS || p.tS > toS) continue;
    const at = Math.round(p.tS * SAMPLE_RATE) - w / 2;
    for (let i = at; i < at + w; i++) {
      mic += s.capture.mic[i] ** 2;
      o += out[i] ** 2;
    }
  }
  return db(mic, o);
}

/**
 * After an echo-path change at sample `changeAt`: the ERLE over the 2 s before it, the lowest 250 ms window in the
 * second after it, and the seconds until the ERLE over the next second is back within 3 dB of the former (Infinity
 * if never).
 */
export function pathChangeRecovery(s: EchoScenario, out: Int16Array, changeAt: number): { before: number; dip: number; seconds: number } {
  const change = changeAt / SAMPLE_RATE;
  const before = erleFrom(s, out, change - 2, change);
  const series = erleSeries(s, out).filter((p) => p.tS > change);
  const dip = Math.min(...series.slice(0, 4).map((p) => p.erleDb));
  const back = series.find((p) => erleFrom(s, out, p.tS - 0.125, p.tS + 1) >= before - 3);
  return { before, dip, seconds: back ? back.tS - 0.125 - change : Infinity };
}

/** Seconds from the first measurable window until ERLE first reaches `targetDb` (Infinity if never). */
export function convergenceS(series: ErlePoint[], targetDb: number): number {
  if (series.length === 0) return Infinity;
  const hit = series.find((p) => p.erleDb >= targetDb);
  return hit ? hit.tS - series[0].tS : Infinity;
}

/**
 * During double talk: the user's voice against everything else left in the output (residual echo, noise,
 * distortion), in dB; and the echo suppressed there (echo power over the output's part that is neither the
 * user nor the noise). Exact for a canceller that only subtracts; approximate for one that also filters.
 */
export function doubleTalk(s: EchoScenario, out: Int16Array): { nearSdrDb: number; micSdrDb: number; erleDb: number } {
  const { near, echo, noise, mic } = s.capture;
  let n = 0;
  let err = 0;
  let micErr = 0;
  let e = 0;
  let residual = 0;
  for (let i = s.nearStart; i < s.nearEnd; i++) {
    n += near[i] ** 2;
    err += (out[i] - near[i]) ** 2;
    micErr += (mic[i] - near[i]) ** 2;
    e += echo[i] ** 2;
    residual += (out[i] - near[i] - noise[i]) ** 2;
  }
  return { nearSdrDb: db(n, err), micSdrDb: db(n, micErr), erleDb: db(e, residual) };
}
