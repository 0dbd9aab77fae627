// The wake-word corpus: "Alexa" in carrier phrases and hard near-words from several synthesizers, through rooms
// (RT60 up to 0.8 s) and noise (0–20 dB SNR, white, pink, babble, music), with speed, pitch and vocal-tract
// perturbation. Split by WHOLE SOURCE: training never hears a held-out synthesizer, nor a held-out near-word;
// choices between trained models are made on the validation split (eSpeak NG voices training never heard), so
// the held-out synthesizer judges a model nothing was chosen on.
// Every source ships its voices inside its package (nothing downloaded at run time); docs/figures/wake-word.md
// lists them with their licences. Deterministic from its seeds. Used by bench/train-wake-word.ts (the 'train'
// split) and bench/wake-word.bench.ts (the 'heldout' split; --quick: the 'validation' split).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roomImpulseResponse } from '../../emulator/voice/room.js';
import { concat, parseWav, resample, seededRandom, silence, trimSilence } from '../../emulator/voice/pcm.js';
import type { SpeechSynthesizer } from '../../emulator/voice/tts.js';
import { voiceNames } from './wake-word-data.js';

export const SAMPLE_RATE = 16000;
export type Split = 'train' | 'validation' | 'heldout';

/** One speaker of one synthesizer, with the knobs that synthesizer offers. */
export interface CorpusVoice {
  source: string;
  name: string;
  /** Speech in 16 kHz samples; `stretch` > 1 is slower, `pitch` 0..1 from low to high (where the source has it). */
  say(text: string, stretch: number, pitch: number): Int16Array;
}

export interface VoiceSource {
  name: string;
  split: Split;
  /** Debian or npm package and its licence, for the docs. */
  origin: string;
  /** undefined when the source can run here, else one line with the install hint. */
  missing(): string | undefined;
  voices(tts: SpeechSynthesizer): CorpusVoice[];
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a synthesizer that writes a WAV file and returns it at 16 kHz. */
function synthesizeWith(command: string, args: (out: string) => string[], input?: string): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'wake-corpus-'));
  try {
    const out = join(dir, 'speech.wav');
    const run = spawnSync(command, args(out), { input, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${command} failed: ${(run.stderr || run.error?.message || '').trim().split('\n')[0]}`);
    const wav = parseWav(readFileSync(out));
    if (wav.channels !== 1) throw new Error(`${command} wrote ${wav.channels} channels, mono expected`);
    return resample(wav.samples, wav.sampleRate, SAMPLE_RATE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const memo = new Map<string, Int16Array>();
/** Synthesizers are deterministic: each (voice, text, knobs) is made once per process. */
function remembered(key: string, make: () => Int16Array): Int16Array {
  let x = memo.get(key);
  if (!x) {
    x = make();
    if (memo.size > 4000) memo.clear();
    memo.set(key, x);
  }
  return x;
}

function espeakVoices(tts: SpeechSynthesizer, names: string[]): CorpusVoice[] {
  return names.map((espeak) => ({
    source: 'espeak-ng',
    name: espeak,
    say: (text, stretch, pitch) => remembered(`e|${espeak}|${text}|${stretch.toFixed(2)}|${pitch.toFixed(2)}`,
      () => tts.synthesize(text, { espeak, wordsPerMinute: Math.round(175 / stretch), pitch: Math.round(20 + 60 * pitch) })),
  }));
}

export const SOURCES: readonly VoiceSource[] = [
  {
    name: 'espeak-ng',
    split: 'train',
    origin: 'npm @echogarden/espeak-ng-emscripten (GPL-3.0; voices inside the package): 6 accents × 56 variants, test/support/wake-word-data.ts',
    missing: () => undefined,
    // The espeak voices test/support/wake-word-data.ts holds out stay out, so test/audio/wake-word.test.ts still
    // measures voices training never heard.
    voices: (tts) => espeakVoices(tts, voiceNames('train')),
  },
  {
    name: 'espeak-ng (held-out voices)',
    split: 'validation',
    origin: 'the eSpeak NG voices test/support/wake-word-data.ts holds out: two accents (en-029, en-gb-x-gbcwmd) and three variants (m3, f2, klatt) of every accent',
    missing: () => undefined,
    voices: (tts) => espeakVoices(tts, voiceNames('heldout')),
  },
  {
    name: 'festival',
    split: 'train',
    origin: 'Debian festival + festvox-kdlpc16k (the ked diphone voice; a free licence, in the package\'s Debian copyright file)',
    missing: () => (hasCommand('text2wave') ? undefined : 'festival not found: apt-get install festival festvox-kdlpc16k'),
    voices: () => ['ked_diphone'].map((voice) => ({
      source: 'festival',
      name: voice,
      say: (text, stretch) => remembered(`f|${voice}|${text}|${stretch.toFixed(2)}`,
        () => synthesizeWith('text2wave', (out) => ['-eval', `(voice_${voice})`, '-eval', `(Parameter.set 'Duration_Stretch ${stretch.toFixed(2)})`, '-o', out], text)),
    })),
  },
  {
    name: 'flite',
    split: 'heldout',
    origin: 'Debian flite (its five built-in US English voices; CMU\'s BSD-style licence, in libflite1\'s Debian copyright file)',
    missing: () => (hasCommand('flite') ? undefined : 'flite not found: apt-get install flite'),
    voices: () => ['kal', 'kal16', 'awb', 'rms', 'slt'].map((voice) => ({
      source: 'flite',
      name: voice,
      say: (text, stretch, pitch) => remembered(`l|${voice}|${text}|${stretch.toFixed(2)}|${pitch.toFixed(2)}`,
        () => synthesizeWith('flite', (out) => ['-voice', voice, '-t', text, '--setf', `duration_stretch=${stretch.toFixed(2)}`,
          '--setf', `int_f0_target_mean=${Math.round((voice === 'slt' ? 150 : 90) + 80 * pitch)}`, '-o', out])),
    })),
  },
];

/** The voices of a split, from every source that can run here; throws naming what to install when one cannot. */
export function corpusVoices(tts: SpeechSynthesizer, split: Split): CorpusVoice[] {
  const sources = SOURCES.filter((s) => s.split === split);
  for (const s of sources) {
    const missing = s.missing();
    if (missing) throw new Error(`wake-word corpus, source ${s.name}: ${missing}`);
  }
  return sources.flatMap((s) => s.voices(tts));
}

/** Missing sources of a split as one line each (empty when all can run). */
export function corpusMissing(split: Split): string[] {
  return SOURCES.filter((s) => s.split === split).map((s) => s.missing()).filter((m): m is string => m !== undefined);
}

// ---- words ----
/** What precedes and follows "Alexa" in a positive: nothing, a lead-in, a command. */
const CARRIERS_BEFORE = ['', '', 'okay', 'hey', 'so', 'um', 'right then'];
const CARRIERS_AFTER = ['', 'what time is it', 'stop', 'play some music', 'turn off the lights', 'what is the weather like', 'set a timer'];

/** Words and phrases that sound like "Alexa": half train, the other half only ever tested. */
const NEAR_WORDS: Record<'train' | 'heldout', readonly string[]> = {
  train: ['alex', 'alexis', 'a lexus', 'alaska', 'electra', 'alexander', 'elixir', 'lexa', 'annexer', 'relax her',
    'all extra', 'alexandria', 'a legs a', 'and let sir', 'a lesser', 'elexa', 'alexei', 'selecta', 'a lexicon', 'eleven'],
  heldout: ['alexi', 'lexie', 'a laxer', 'electric', 'collects a', 'alexus', 'the lexer', 'alyssa', 'a lecture', 'unless a',
    'selecting', 'alaskan', 'a leksa', 'alessa', 'elect her', 'alek sir', 'annex a', 'lexicon', 'a lack sir', 'alexia'],
};

/** Everyday speech without the wake word (the negative stream's speech). */
const SENTENCES: Record<'train' | 'heldout', readonly string[]> = {
  train: ['what time is it', 'turn on the kitchen lights', 'we drove to the coast last summer', 'the results are in',
    'please take a seat', 'i left my keys at the office', 'tell me a joke', 'set a timer for ten minutes',
    'my sister lives in texas', 'call my mother please', 'add milk to the shopping list', 'electric cars are quiet'],
  heldout: ['the bus was late again this morning', 'could you pass the salt', 'the garden needs watering', 'open the window a little',
    'we are out of coffee', 'the meeting moved to thursday', 'let me check the calendar', 'the dog wants to go out',
    'dinner will be ready soon', 'have you seen my glasses', 'it is raining in the city', 'the lesson starts at nine'],
};

// ---- acoustics ----
/** x convolved with h by FFT (rooms of RT60 0.8 s have 10 k taps: direct convolution is too slow). */
function fftConvolve(x: Float64Array, h: Float64Array): Float64Array {
  const length = x.length + h.length - 1;
  let n = 1;
  while (n < length) n *= 2;
  const ar = new Float64Array(n), ai = new Float64Array(n), br = new Float64Array(n), bi = new Float64Array(n);
  ar.set(x);
  br.set(h);
  fft(ar, ai, false);
  fft(br, bi, false);
  for (let i = 0; i < n; i++) {
    const r = ar[i] * br[i] - ai[i] * bi[i];
    ai[i] = ar[i] * bi[i] + ai[i] * br[i];
    ar[i] = r;
  }
  fft(ar, ai, true);
  return ar.subarray(0, length);
}

/** In-place radix-2 FFT (inverse scaled by 1/n). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / size;
    const wr = Math.cos(angle), wi = Math.sin(angle);
    for (let start = 0; start < n; start += size) {
      let cr = 1, ci = 0;
      for (let k = 0; k < size / 2; k++) {
        const a = start + k, b = a + size / 2;
        const tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr; im[b] = im[a] - ti;
        re[a] += tr; im[a] += ti;
        const next = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = next;
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) { re[i] /= n; im[i] /= n; }
}

export type NoiseKind = 'white' | 'pink' | 'babble' | 'music';
export const NOISE_KINDS: readonly NoiseKind[] = ['white', 'pink', 'babble', 'music'];

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Pink noise (Voss-McCartney-like: white through three one-pole filters), unit-ish RMS. */
function pink(count: number, random: () => number): Float64Array {
  const out = new Float64Array(count);
  let b0 = 0, b1 = 0, b2 = 0;
  for (let i = 0; i < count; i++) {
    const w = gaussian(random);
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    out[i] = (b0 + b1 + b2 + w * 0.1848) / 3;
  }
  return out;
}

/** Music: notes of a random scale with harmonics and decaying envelopes, two voices. */
function music(count: number, random: () => number): Float64Array {
  const out = new Float64Array(count);
  const root = 110 * 2 ** (Math.floor(random() * 12) / 12);
  const scale = [0, 2, 4, 5, 7, 9, 11, 12, 14, 16];
  for (let voice = 0; voice < 2; voice++) {
    let at = 0;
    while (at < count) {
      const length = Math.round(SAMPLE_RATE * (0.12 + 0.5 * random()));
      const f = root * (voice + 1) * 2 ** (scale[Math.floor(random() * scale.length)] / 12) * (1 + random());
      const bright = 0.3 + 0.6 * random(), damping = 2 + 6 * random();
      for (let i = 0; i < length && at + i < count; i++) {
        const t = i / SAMPLE_RATE, env = Math.exp(-t * damping) * Math.min(1, i / 80);
        let v = 0;
        for (let k = 1; k <= 6 && f * k < 7500; k++) v += bright ** (k - 1) * Math.sin(2 * Math.PI * f * k * t);
        out[at + i] += env * v;
      }
      at += length;
    }
  }
  return out;
}

/** Several voices of the split talking at once, quieter each. */
function babble(count: number, random: () => number, voices: CorpusVoice[], split: Split): Float64Array {
  const out = new Float64Array(count);
  for (let talker = 0; talker < 3; talker++) {
    const voice = pickVoice(random, voices);
    let at = Math.floor(random() * SAMPLE_RATE * 0.5);
    while (at < count) {
      const s = voice.say(SENTENCES[words(split)][Math.floor(random() * SENTENCES[words(split)].length)], 1, 0.5);
      for (let i = 0; i < s.length && at + i < count; i++) out[at + i] += s[i] / (talker + 1);
      at += s.length + Math.floor(random() * SAMPLE_RATE * 0.3);
    }
  }
  return out;
}

function rmsOf(x: ArrayLike<number>): number {
  let e = 0, n = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > 100) { e += x[i] * x[i]; n++; }
  return Math.sqrt(e / Math.max(1, n));
}

function noise(kind: NoiseKind, count: number, random: () => number, voices: CorpusVoice[], split: Split): Float64Array {
  if (kind === 'white') return Float64Array.from({ length: count }, () => gaussian(random));
  if (kind === 'pink') return pink(count, random);
  if (kind === 'music') return music(count, random);
  return babble(count, random, voices, split);
}

/** How one clip was made: what the bench breaks its figures down by. */
export interface Condition {
  voice: string;
  /** RT60 in s, 0 for a dry room. */
  rt60: number;
  /** SNR in dB, Infinity for clean. */
  snr: number;
  noise: NoiseKind | 'none';
}

export interface CorpusClip {
  samples: Int16Array;
  /** "Alexa"'s [begin, end) in samples, when the clip holds it. */
  word?: [number, number];
  condition: Condition;
}

export const ROOMS: readonly number[] = [0, 0.2, 0.4, 0.8];
export const SNRS: readonly number[] = [Infinity, 20, 10, 5, 0];

/**
 * Speech through a room and noise: vocal-tract perturbation first (resampling by ±10 % moves formants, pitch
 * and tempo together), then the room, then noise scaled to the speech's active RMS, then a level.
 */
function acoustics(speech: Int16Array, condition: Condition, random: () => number, voices: CorpusVoice[], split: Split, tract: number): Int16Array {
  let x = Float64Array.from(tract === 1 ? speech : resample(speech, SAMPLE_RATE, Math.round(SAMPLE_RATE * tract)));
  if (condition.rt60 > 0) {
    const h = roomImpulseResponse({ rt60Ms: condition.rt60 * 1000, lengthMs: condition.rt60 * 600, delayMs: 0, seed: Math.floor(random() * 1e6) });
    // A far talker: the direct path weaker than in roomImpulseResponse's near field.
    h[0] *= 0.3 + 0.7 * random();
    x = fftConvolve(x, h).slice(0, x.length + Math.round(0.2 * SAMPLE_RATE));
  }
  const speechRms = rmsOf(x);
  if (condition.noise !== 'none' && Number.isFinite(condition.snr)) {
    const n = noise(condition.noise, x.length, random, voices, split);
    const gain = speechRms / Math.max(1e-9, rmsOf(Float64Array.from(n, (v) => v * 1000)) / 1000) / 10 ** (condition.snr / 20);
    for (let i = 0; i < x.length; i++) x[i] += gain * n[i];
  }
  let peak = 1;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const level = (1000 + 20000 * random()) / peak;
  return Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * level))));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function randomCondition(random: () => number, voice: CorpusVoice): Condition {
  const rt60 = random() < 0.3 ? 0 : 0.1 + 0.7 * random();
  const clean = random() < 0.2;
  return { voice: `${voice.source}/${voice.name}`, rt60, snr: clean ? Infinity : 20 * random(), noise: clean ? 'none' : pick(random, NOISE_KINDS) };
}

/** Spoken by `voice` with random speed, pitch and vocal tract. */
function spoken(voice: CorpusVoice, text: string, random: () => number): Int16Array {
  return trimSilence(voice.say(text, stretchOf(random), pitchOf(random)));
}

// Speed and pitch on a grid of steps, so that each synthesizer call is remembered and reused.
const stretchOf = (random: () => number) => 0.8 + 0.05 * Math.floor(11 * random());
const pitchOf = (random: () => number) => 0.1 * Math.floor(11 * random());

/**
 * A voice, each source weighted by the square root of its voice count: one voice of a small source is heard
 * more often than one of espeak-ng's many, but the many together still weigh more.
 */
function pickVoice(random: () => number, voices: CorpusVoice[]): CorpusVoice {
  const bySource = new Map<string, CorpusVoice[]>();
  for (const v of voices) bySource.set(v.source, [...(bySource.get(v.source) ?? []), v]);
  const groups = [...bySource.values()];
  const weights = groups.map((g) => Math.sqrt(g.length));
  let r = random() * weights.reduce((a, b) => a + b, 0);
  const group = groups.find((_, i) => (r -= weights[i]) < 0) ?? groups[groups.length - 1];
  return pick(random, group);
}

/**
 * A positive: "Alexa" in a carrier, some quiet before so the detector's second is filled. `condition` fixes
 * room and noise (the bench's grid), else they are drawn.
 */
export function positiveClip(voices: CorpusVoice[], split: Split, seed: number, fixed?: Partial<Condition>): CorpusClip {
  const random = seededRandom(seed);
  const voice = pickVoice(random, voices);
  const condition = { ...randomCondition(random, voice), ...fixed };
  const stretch = stretchOf(random), pitch = pitchOf(random), tract = 0.9 + 0.2 * random();
  const before = pick(random, CARRIERS_BEFORE), after = pick(random, CARRIERS_AFTER);
  const lead = concat(silence(Math.round(SAMPLE_RATE * (1 + 0.5 * random()))), before ? trimSilence(voice.say(before, stretch, pitch)) : silence(0), silence(Math.round(SAMPLE_RATE * 0.15 * random())));
  const word = trimSilence(voice.say('alexa', stretch, pitch));
  const tail = concat(silence(Math.round(SAMPLE_RATE * (0.05 + 0.25 * random()))), after ? trimSilence(voice.say(after, stretch, pitch)) : silence(0), silence(SAMPLE_RATE / 2));
  const samples = acoustics(concat(lead, word, tail), condition, random, voices, split, tract);
  // Resampling by `tract` moves the word's span with it.
  const at = (i: number) => Math.round(i / tract);
  return { samples, word: [at(lead.length), at(lead.length + word.length)], condition };
}

/** A hard negative: a near-word alone or in a carrier, same acoustics as the positives. */
export function nearWordClip(voices: CorpusVoice[], split: Split, seed: number, fixed?: Partial<Condition>): CorpusClip & { text: string } {
  const random = seededRandom(seed);
  const voice = pickVoice(random, voices);
  const condition = { ...randomCondition(random, voice), ...fixed };
  const text = pick(random, NEAR_WORDS[words(split)]);
  const before = pick(random, CARRIERS_BEFORE), after = pick(random, CARRIERS_AFTER);
  const phrase = [before, text, after].filter(Boolean).join(' ');
  const speech = concat(silence(SAMPLE_RATE), spoken(voice, phrase, random), silence(SAMPLE_RATE / 2));
  return { samples: acoustics(speech, condition, random, voices, split, 0.9 + 0.2 * random()), condition, text };
}

/** `seconds` of negative stream: sentences, music and noise, in varying rooms and levels. */
export function negativeStream(voices: CorpusVoice[], split: Split, seed: number, seconds: number): Int16Array {
  const random = seededRandom(seed);
  const parts: Int16Array[] = [];
  let total = 0;
  while (total < seconds * SAMPLE_RATE) {
    const kind = random();
    let part: Int16Array;
    if (kind < 0.6) {
      const voice = pickVoice(random, voices);
      const speech = concat(...Array.from({ length: 3 }, () => concat(spoken(voice, pick(random, SENTENCES[words(split)]), random), silence(Math.round(SAMPLE_RATE * 0.4 * random())))));
      part = acoustics(speech, randomCondition(random, voice), random, voices, split, 0.9 + 0.2 * random());
    } else {
      const n = noise(kind < 0.8 ? 'music' : pick(random, NOISE_KINDS), Math.round(SAMPLE_RATE * (2 + 4 * random())), random, voices, split);
      const level = (300 + 8000 * random()) / Math.max(1, rmsOf(Float64Array.from(n, (v) => v * 1000)) / 1000);
      part = Int16Array.from(n, (v) => Math.max(-32768, Math.min(32767, Math.round(v * level))));
    }
    parts.push(part);
    total += part.length;
  }
  return concat(...parts);
}

/** Validation measures new voices on the training words; only the held-out split has words of its own. */
const words = (split: Split): 'train' | 'heldout' => (split === 'heldout' ? 'heldout' : 'train');

export const trainingNearWords = (): readonly string[] => NEAR_WORDS.train;
export const heldOutNearWords = (): readonly string[] => NEAR_WORDS.heldout;
