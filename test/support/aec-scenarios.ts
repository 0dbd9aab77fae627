// Echo scenarios for bench/aec.bench.ts: generated rooms and echo paths, loudspeakers and references, split into
// a tuning half and a held-out test half by whole rooms and whole sources (a room or a voice, a piece of music or
// a sweep's range is in one half only). The same eight kinds of scenario are made in each half from that half's
// rooms and sources, so a figure on the test half says how the canceller does in rooms and on signals it was never
// tuned on.
//
// Rooms: shoebox rooms by the image-source method (every wall's reflection to a set order, 1/distance each, a
// reflection coefficient per wall from the room's RT60 by Sabine, fractional delays as a two-sample split) followed
// by a diffuse tail, and "measured-style" responses (a direct path, a few early reflections, band-limited noise
// decaying faster at high frequencies). A device sits in the room: its loudspeaker a few centimetres from its
// microphone. Loudspeakers: a small driver's high-pass and one of several non-linearities (tanh soft clip, hard
// clip, an asymmetric polynomial). References: eSpeak NG voices, synthesized music, log sweeps, tones with level
// steps. Near end: fan noise, a user talking over the echo, a user alone. Deterministic; not for a 20 ms loop.
import { concat, seededRandom, silence } from '../../emulator/voice/pcm.js';
import { convolve } from '../../emulator/voice/room.js';
import type { SpeechSynthesizer, Voice } from '../../emulator/voice/tts.js';
import type { EchoScenario } from './echo.js';

export const RATE = 16000;
const C = 343;                            // speed of sound, m/s

export type Half = 'tune' | 'test';

export interface Room {
  name: string;
  kind: 'shoebox' | 'measured';
  /** shoebox: size (m), the device's loudspeaker and microphone positions (m). */
  size?: [number, number, number];
  speaker?: [number, number, number];
  mic?: [number, number, number];
  /** The same device somewhere else in the room (an echo-path change). */
  movedSpeaker?: [number, number, number];
  movedMic?: [number, number, number];
  rt60Ms: number;
  /** Response length (ms): the echo tail. */
  lengthMs: number;
  /** Output path before the sound leaves the loudspeaker (buffers, DAC), ms. */
  bulkMs: number;
  seed: number;
}

/** Image-source response of a shoebox room, direct path scaled to 1, with a diffuse tail from the last image on. */
function shoebox(room: Room, speaker: [number, number, number], mic: [number, number, number]): Float64Array {
  const [lx, ly, lz] = room.size!;
  const volume = lx * ly * lz;
  const surface = 2 * (lx * ly + ly * lz + lx * lz);
  const absorption = Math.min(0.95, (0.161 * volume) / (surface * (room.rt60Ms / 1000)));
  const r = Math.sqrt(1 - absorption);
  const length = Math.round((room.lengthMs / 1000) * RATE);
  const h = new Float64Array(length);
  const direct = Math.hypot(speaker[0] - mic[0], speaker[1] - mic[1], speaker[2] - mic[2]);
  const order = 8;
  const image = (m: number, s: number, l: number) => (m % 2 === 0 ? m * l + s : (m + 1) * l - s);
  let lastImage = 0;
  for (let mx = -order; mx <= order; mx++) {
    for (let my = -order; my <= order; my++) {
      for (let mz = -order; mz <= order; mz++) {
        const reflections = Math.abs(mx) + Math.abs(my) + Math.abs(mz);
        if (reflections > order) continue;
        const d = Math.hypot(image(mx, speaker[0], lx) - mic[0], image(my, speaker[1], ly) - mic[1], image(mz, speaker[2], lz) - mic[2]);
        const t = ((d - direct) / C) * RATE;
        const at = Math.floor(t);
        if (at + 1 >= length) continue;
        const g = (r ** reflections * direct) / d;
        h[at] += g * (1 - (t - at));
        h[at + 1] += g * (t - at);
        if (reflections === order) lastImage = Math.max(lastImage, at);
      }
    }
  }
  // Diffuse tail: the images thin out in time; noise decaying at the room's RT60 takes over, matched in level to
  // the images' energy just before it starts.
  const from = Math.min(length, Math.round(0.6 * lastImage) || length);
  const span = Math.round(0.01 * RATE);
  let energy = 0;
  for (let i = Math.max(0, from - span); i < from; i++) energy += h[i] * h[i];
  const level = Math.sqrt(energy / span);
  const random = seededRandom(room.seed);
  for (let i = from; i < length; i++) {
    h[i] += level * gauss(random) * Math.exp((-6.9 * (i - from)) / ((room.rt60Ms / 1000) * RATE));
  }
  return h;
}

function gauss(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A measured-style response: direct path 1, early reflections, noise whose high frequencies decay faster; the
 * room's part some 15 dB under the direct path, as a microphone centimetres from its loudspeaker hears it.
 */
function measured(room: Room, seed: number): Float64Array {
  const length = Math.round((room.lengthMs / 1000) * RATE);
  const h = new Float64Array(length);
  const random = seededRandom(seed);
  const tau = (room.rt60Ms / 1000 / 6.9) * RATE;
  h[0] = 1;
  for (let k = 0; k < 12; k++) {
    const at = Math.round((0.001 + 0.03 * random()) * RATE);
    h[at] += (random() < 0.5 ? -1 : 1) * (0.03 + 0.12 * random()) * Math.exp(-at / tau);
  }
  // The tail: white noise through a one-pole low-pass whose pole moves towards 1 over time (air and walls absorb
  // high frequencies first), decaying at RT60.
  let lp = 0;
  for (let i = Math.round(0.002 * RATE); i < length; i++) {
    const a = 0.2 + 0.6 * (i / length);
    lp = a * lp + (1 - a) * gauss(random);
    h[i] += 0.02 * lp * Math.exp(-i / tau);
  }
  return h;
}

/**
 * The room's response from the device's loudspeaker to its microphone, bulk delay included. `moved`: after a path
 * change: the device elsewhere in the room and its output path 6 ms longer (a buffer underrun at the same moment),
 * since moving a device alone keeps its loudspeaker-to-microphone direct path, most of the echo.
 */
export function echoPath(room: Room, moved = false): Float64Array {
  const body = room.kind === 'shoebox'
    ? shoebox(room, moved ? room.movedSpeaker! : room.speaker!, moved ? room.movedMic! : room.mic!)
    : measured(room, room.seed + (moved ? 1000 : 0));
  const delay = Math.round(((room.bulkMs + (moved ? 6 : 0)) / 1000) * RATE);
  const h = new Float64Array(delay + body.length);
  h.set(body, delay);
  return h;
}

export type Nonlinearity = { kind: 'none' } | { kind: 'tanh'; drive: number } | { kind: 'hard'; at: number } | { kind: 'poly'; a2: number; a3: number };

/** A small loudspeaker: a first-order high-pass near 150 Hz, then its non-linearity (full scale = 1). */
export function loudspeaker(played: Int16Array, nl: Nonlinearity): Float64Array {
  const out = new Float64Array(played.length);
  const a = Math.exp((-2 * Math.PI * 150) / RATE);
  let prevIn = 0;
  let prevOut = 0;
  for (let i = 0; i < played.length; i++) {
    const x = played[i] / 32768;
    const hp = a * (prevOut + x - prevIn);
    prevIn = x;
    prevOut = hp;
    let y = hp;
    if (nl.kind === 'tanh') y = Math.tanh(nl.drive * hp) / nl.drive;
    else if (nl.kind === 'hard') y = Math.max(-nl.at, Math.min(nl.at, hp));
    else if (nl.kind === 'poly') y = hp + nl.a2 * hp * hp + nl.a3 * hp * hp * hp;
    out[i] = y * 32768;
  }
  return out;
}

// ---- references ----

const TEXTS = [
  'Here is the weather for today. Expect sunny skies in the morning, with clouds moving in by the afternoon, and a chance of light rain in the evening.',
  'Your timer for the pasta is done. You have two reminders this afternoon: call the dentist at three, and pick up the dry cleaning before six.',
  'The next train to the city leaves at seven fifteen from platform two. It is running about four minutes late because of works on the line.',
  'Now playing the morning news briefing. Markets opened higher today after a quiet week, and the central bank left its rates where they were.',
];

/** Speech at a peak of `peak` of full scale, `seconds` long (repeated if the text is shorter). */
export function speech(tts: SpeechSynthesizer, voice: Voice, text: string, seconds: number, peak = 0.7): Int16Array {
  const once = tts.synthesize(text, voice);
  const n = Math.round(seconds * RATE);
  const out = new Int16Array(n);
  for (let at = 0; at < n; at += once.length) out.set(once.subarray(0, Math.min(once.length, n - at)), at);
  return toPeak(out, peak);
}

function toPeak(x: Int16Array | Float64Array, peak: number): Int16Array {
  let max = 1e-9;
  for (const v of x) max = Math.max(max, Math.abs(v));
  return Int16Array.from(x, (v) => Math.round((v * peak * 32767) / max));
}

/** Synthesized music: chords of decaying harmonic notes, a bass line, noise-burst drums; from a seed (its own tune). */
export function music(seed: number, seconds: number, peak = 0.7): Int16Array {
  const random = seededRandom(seed);
  const n = Math.round(seconds * RATE);
  const x = new Float64Array(n);
  const beat = Math.round(RATE * (0.35 + 0.2 * random()));
  const root = 110 * 2 ** (Math.floor(random() * 12) / 12);
  const progression = [0, 5, 7, 3, 8, 10].map((s) => s + (random() < 0.5 ? 0 : 12));
  const harmonics = 3 + Math.floor(random() * 5);
  const note = (at: number, f: number, len: number, amp: number) => {
    for (let i = 0; i < len && at + i < n; i++) {
      const env = Math.exp(-i / (0.3 * len)) * Math.min(1, i / 40);
      let v = 0;
      for (let k = 1; k <= harmonics; k++) if (f * k < 7500) v += Math.sin((2 * Math.PI * f * k * i) / RATE) / k;
      x[at + i] += amp * env * v;
    }
  };
  for (let b = 0, at = 0; at < n; b++, at += beat) {
    const chord = root * 2 ** (progression[Math.floor(b / 4) % progression.length] / 12);
    if (b % 4 === 0) for (const step of [0, 4, 7]) note(at, chord * 2 * 2 ** (step / 12), beat * 4, 0.3);
    note(at, chord / 2, beat, 0.5);
    note(at, chord * 4 * 2 ** ([0, 2, 4, 7, 9][Math.floor(random() * 5)] / 12), Math.round(beat / 2), 0.25);
    if (b % 2 === 1) for (let i = 0; i < 800 && at + i < n; i++) x[at + i] += 0.4 * gauss(random) * Math.exp(-i / 150);
  }
  return toPeak(x, peak);
}

/** A log sweep from f0 to f1 Hz over `sweepS`, repeated to `seconds`, at `level` of full scale. */
export function sweep(f0: number, f1: number, sweepS: number, seconds: number, level: number): Int16Array {
  const n = Math.round(seconds * RATE);
  const m = Math.round(sweepS * RATE);
  const k = Math.log(f1 / f0);
  return Int16Array.from({ length: n }, (_, i) => {
    const t = (i % m) / RATE;
    return Math.round(level * 32767 * Math.sin(((2 * Math.PI * f0 * sweepS) / k) * (Math.exp((t * k) / sweepS) - 1)));
  });
}

/** Pure tones, one after another, each at its own level (level steps included). */
export function tones(steps: { hz: number[]; level: number; seconds: number }[]): Int16Array {
  const clip = (v: number) => Math.max(-32767, Math.min(32767, Math.round(v)));   // a level above 1 clips (a square-ish wave)
  return concat(...steps.map((s) => Int16Array.from({ length: Math.round(s.seconds * RATE) }, (_, i) =>
    clip((s.level * 32767 * s.hz.reduce((v, f) => v + Math.sin((2 * Math.PI * f * i) / RATE), 0)) / s.hz.length))));
}

/** Fan noise: low-passed (brown-ish) noise with a blade hum, RMS `rms`. */
function fan(n: number, rms: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const x = new Float64Array(n);
  let lp = 0;
  for (let i = 0; i < n; i++) {
    lp = 0.97 * lp + 0.03 * gauss(random);
    x[i] = lp + 0.05 * Math.sin((2 * Math.PI * 120 * i) / RATE);
  }
  let sum = 0;
  for (const v of x) sum += v * v;
  const g = rms / Math.sqrt(sum / n);
  return x.map((v) => v * g);
}

// ---- the two halves ----

/** Rooms and sources of one half; nothing in one appears in the other. */
interface HalfSources { rooms: Room[]; voices: Voice[]; texts: string[]; musicSeeds: number[]; sweep: [number, number, number]; tones: number[][]; nearVoices: Voice[] }

const HALVES: Record<Half, HalfSources> = {
  tune: {
    rooms: [
      { name: 'living room 5×4×2.6 m', kind: 'shoebox', size: [5, 4, 2.6], speaker: [1.2, 0.5, 0.8], mic: [1.2, 0.55, 0.82], movedSpeaker: [3.6, 2.8, 1.0], movedMic: [3.62, 2.76, 1.02], rt60Ms: 350, lengthMs: 250, bulkMs: 10, seed: 11 },
      { name: 'measured-style office, RT60 250 ms', kind: 'measured', rt60Ms: 250, lengthMs: 250, bulkMs: 6, seed: 12 },
      { name: 'kitchen 3.5×3×2.4 m', kind: 'shoebox', size: [3.5, 3, 2.4], speaker: [0.3, 1.5, 0.9], mic: [0.34, 1.48, 0.93], movedSpeaker: [2.2, 0.4, 0.9], movedMic: [2.23, 0.44, 0.92], rt60Ms: 300, lengthMs: 250, bulkMs: 4, seed: 13 },
      { name: 'measured-style bedroom, RT60 180 ms', kind: 'measured', rt60Ms: 180, lengthMs: 200, bulkMs: 14, seed: 14 },
    ],
    voices: [{ espeak: 'en-us+f3', wordsPerMinute: 170, pitch: 55 }, { espeak: 'en-us', wordsPerMinute: 160, pitch: 45 }],
    texts: [TEXTS[0], TEXTS[1]],
    musicSeeds: [101, 102],
    sweep: [100, 6000, 4],
    tones: [[1000], [250], [2000, 500]],
    nearVoices: [{ espeak: 'en-us+f2', wordsPerMinute: 175, pitch: 60 }],
  },
  test: {
    rooms: [
      { name: 'lounge 6×4.5×2.7 m', kind: 'shoebox', size: [6, 4.5, 2.7], speaker: [0.4, 2.0, 0.75], mic: [0.43, 2.04, 0.78], movedSpeaker: [4.8, 3.9, 1.1], movedMic: [4.78, 3.86, 1.12], rt60Ms: 400, lengthMs: 250, bulkMs: 8, seed: 21 },
      { name: 'measured-style hall, RT60 400 ms', kind: 'measured', rt60Ms: 400, lengthMs: 250, bulkMs: 40, seed: 22 },
      { name: 'bathroom 2.5×2×2.4 m', kind: 'shoebox', size: [2.5, 2, 2.4], speaker: [0.2, 1.0, 1.0], mic: [0.24, 1.03, 1.02], movedSpeaker: [1.9, 0.3, 0.8], movedMic: [1.93, 0.33, 0.84], rt60Ms: 500, lengthMs: 250, bulkMs: 12, seed: 23 },
      { name: 'measured-style study, RT60 200 ms', kind: 'measured', rt60Ms: 200, lengthMs: 200, bulkMs: 20, seed: 24 },
    ],
    voices: [{ espeak: 'en+m3', wordsPerMinute: 155, pitch: 40 }, { espeak: 'en-us+klatt', wordsPerMinute: 185, pitch: 50 }],
    texts: [TEXTS[2], TEXTS[3]],
    musicSeeds: [201, 202],
    sweep: [50, 7500, 3],
    tones: [[440], [3000], [440, 1320]],
    nearVoices: [{ espeak: 'en+f4', wordsPerMinute: 165, pitch: 50 }],
  },
};

export interface Scenario extends EchoScenario {
  half: Half;
  /** What is hard in it, for the tables. */
  about: string;
  /** Sample where the echo path changes, or -1. */
  changeAt: number;
  /** Whether ERLE is a figure of it (not for the near-end-alone and robustness references). */
  measured: boolean;
}

interface Make { room: Room; nl: Nonlinearity; played: Int16Array; echoGain?: number; change?: number; near?: Int16Array; nearAt?: number; nearGain?: number; fanRms?: number; noiseRms?: number; seed: number }

/** The microphone for one scenario: echo (through the moved path from `change` on), the user, noise. */
function record(m: Make): Pick<Scenario, 'capture' | 'nearStart' | 'nearEnd' | 'changeAt'> {
  const n = m.played.length;
  const speakerOut = loudspeaker(m.played, m.nl);
  const gain = m.echoGain ?? 1;
  const echo = convolve(speakerOut, echoPath(m.room)).map((v) => v * gain);
  if (m.change !== undefined) {
    const moved = convolve(speakerOut, echoPath(m.room, true));
    for (let i = m.change; i < n; i++) echo[i] = moved[i] * gain;
  }
  const near = new Float64Array(n);
  let nearStart = -1;
  let nearEnd = -1;
  if (m.near) {
    // The user a metre or two away: another response of the same room, no bulk delay of the output path.
    const h = measured({ ...m.room, bulkMs: 0 }, m.room.seed + 500).map((v, i) => (i < 40 ? 0 : v));
    const x = new Float64Array(n);
    nearStart = m.nearAt ?? 0;
    for (let i = 0; i < m.near.length && nearStart + i < n; i++) x[nearStart + i] = m.near[i] * (m.nearGain ?? 1);
    near.set(convolve(x, h));
    nearEnd = Math.min(n, nearStart + m.near.length);
  }
  const random = seededRandom(m.seed);
  const fanNoise = m.fanRms ? fan(n, m.fanRms, m.seed + 3) : undefined;
  const noise = Int16Array.from({ length: n }, (_, i) => Math.round((m.noiseRms ?? 20) * gauss(random) + (fanNoise ? fanNoise[i] : 0)));
  const mic = Int16Array.from({ length: n }, (_, i) => Math.max(-32768, Math.min(32767, Math.round(echo[i] + near[i] + noise[i]))));
  return { capture: { mic, echo, near, noise }, nearStart, nearEnd, changeAt: m.change ?? -1 };
}

/** Whole 320-sample frames. */
function frames(x: Int16Array): Int16Array {
  return x.slice(0, x.length - (x.length % 320));
}

/**
 * The scenarios of one half: eight measured ones (speech; a 250 ms tail behind 40 ms of bulk delay; soft-clipped music;
 * an echo-path change; a log sweep; fan noise; loud echo with double talk; tones with level steps), the user alone,
 * and robustness references (DC, a clipped square-ish wave, silence then a loud burst) measured for divergence only.
 * `only`: just the scenarios whose name contains it.
 */
export function scenarios(tts: SpeechSynthesizer, half: Half, only?: string): Scenario[] {
  const h = HALVES[half];
  const [roomA, roomB, roomC, roomD] = h.rooms;
  const S = (s: number) => Math.round(s * RATE);
  const out: Scenario[] = [];
  const add = (name: string, about: string, m: Make, measuredErle = true) => {
    if (only !== undefined && !name.includes(only)) return;   // the room's recording is what costs
    const played = frames(m.played);
    out.push({ name, about, half, measured: measuredErle, played, ...record({ ...m, played }) });
  };
  const talk = (seconds: number, v = 0, t = 0, peak = 0.7) => concat(silence(S(0.5)), speech(tts, h.voices[v], h.texts[t], seconds - 0.5, peak));
  add('speech', `${h.voices[0].espeak} in the ${roomA.name}, tanh loudspeaker`, { room: roomA, nl: { kind: 'tanh', drive: 1.5 }, played: talk(12), seed: 1 });
  const long = { ...roomB, bulkMs: 40, lengthMs: 250 };
  add('250 ms tail', `${h.voices[1].espeak} in the ${long.name}, 250 ms response behind 40 ms of bulk delay`, { room: long, nl: { kind: 'none' }, played: talk(12, 1, 1), seed: 2 });
  add('soft-clipped music', `synthesized music (seed ${h.musicSeeds[0]}) near full scale, tanh soft clip, ${roomC.name}`, { room: roomC, nl: { kind: 'tanh', drive: 1.5 }, played: concat(silence(S(0.5)), music(h.musicSeeds[0], 11.5, 0.9)), seed: 3 });
  add('path change', `speech; at 8 s the device moved and its output path 6 ms longer, ${roomA.name}`, { room: roomA, nl: { kind: 'poly', a2: 0.1, a3: -0.1 }, played: concat(talk(8), speech(tts, h.voices[0], h.texts[1], 8)), change: S(8), seed: 4 });
  add('log sweep', `${h.sweep[0]}–${h.sweep[1]} Hz in ${h.sweep[2]} s, repeated, ${roomD.name}`, { room: roomD, nl: { kind: 'tanh', drive: 1 }, played: concat(silence(S(0.5)), sweep(h.sweep[0], h.sweep[1], h.sweep[2], 11.5, 0.5)), seed: 5 });
  add('fan noise', `${h.voices[0].espeak} with a fan in the room (−47 dBFS at the microphone), ${roomC.name}`, { room: roomC, nl: { kind: 'tanh', drive: 1 }, played: talk(12, 0, 1), fanRms: 150, seed: 6 });
  const nearVoice = speech(tts, h.nearVoices[0], 'what time is it in London right now, and will it rain tomorrow', 3.5, 0.5);
  add('loud echo, double talk', `${h.voices[1].espeak} loud (echo near full scale, hard clip), a user at 6 s, ${roomD.name}`, { room: roomD, nl: { kind: 'hard', at: 0.6 }, played: talk(12, 1, 0, 0.9), echoGain: 1.6, near: nearVoice, nearAt: S(6), seed: 7 });
  add('tones, level steps', `${h.tones.map((t) => t.join('+')).join(', ')} Hz at −30 to −6 dBFS, ${roomB.name}`, { room: roomB, nl: { kind: 'tanh', drive: 1 }, played: concat(silence(S(0.5)), tones([
    { hz: h.tones[0], level: 0.3, seconds: 3 }, { hz: h.tones[1], level: 0.03, seconds: 2.5 }, { hz: h.tones[2], level: 0.5, seconds: 3 }, { hz: h.tones[0], level: 0.1, seconds: 3 }])), seed: 8 });
  // Not for ERLE: the user alone after the assistant stopped (must pass unchanged), and references that trap cancellers.
  add('user alone', `${h.voices[0].espeak} for 4 s, then silence while a user talks at 5 s`, { room: roomA, nl: { kind: 'tanh', drive: 1 }, played: concat(talk(4), silence(S(6))), near: nearVoice, nearAt: S(5), seed: 9 }, false);
  add('DC and clipping', 'a DC offset, then a clipped square-ish wave, then silence and a loud burst', { room: roomC, nl: { kind: 'hard', at: 0.8 }, played: concat(
    silence(S(0.5)), Int16Array.from({ length: S(2) }, () => 8000), tones([{ hz: [300], level: 3, seconds: 3 }]),
    silence(S(2)), music(h.musicSeeds[1] + 7, 3, 1)), seed: 10 }, false);
  return out;
}
