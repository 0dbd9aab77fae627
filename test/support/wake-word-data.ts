// Synthetic data for the "Alexa" wake-word detector (native/dsp/kws.c): eSpeak NG voices × variants × speeds
// × pitches, with noise, level and room effects, split by voice so the held-out set has voices training never
// heard. Shared by bench/train-wake-word.ts (training), bench/wake-word.bench.ts (measurement) and
// test/audio/wake-word.test.ts.
// Deterministic from its seeds.
import { roomImpulseResponse, convolve } from '../../emulator/voice/room.js';
import { addNoise, concat, seededRandom, silence, trimSilence, whiteNoise } from '../../emulator/voice/pcm.js';
import type { SpeechSynthesizer, Voice } from '../../emulator/voice/tts.js';

export const SAMPLE_RATE = 16000;
export const FRAME = 320;

// Every English voice of the package, and every variant of it that sounds like a person (not the robots, nor whisper).
const BASES = ['en-us', 'en-us-nyc', 'en', 'en-029', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd'];
const VARIANTS = ['', '+m1', '+m2', '+m3', '+m4', '+m5', '+m6', '+m7', '+m8', '+f1', '+f2', '+f3', '+f4', '+f5', '+klatt', '+klatt2',
  '+klatt3', '+klatt4', '+croak', '+Alex', '+Alicia', '+Andrea', '+Andy', '+Annie', '+Denis', '+Gene', '+Lee', '+Michael', '+Mike',
  '+Reed', '+Storm', '+adam', '+anika', '+announcer', '+antonio', '+aunty', '+belinda', '+benjamin', '+boris', '+caleb', '+david',
  '+ed', '+edward', '+grandma', '+grandpa', '+gustave', '+ian', '+john', '+linda', '+max', '+michel', '+norbert', '+paul',
  '+quincy', '+rob', '+robert', '+steph', '+travis', '+zac'];
/** Voices training never hears: two accents entirely, and three variants in every accent. */
const HELD_OUT_BASES = new Set(['en-029', 'en-gb-x-gbcwmd']);
const HELD_OUT_VARIANTS = new Set(['+m3', '+f2', '+klatt']);

export type Split = 'train' | 'heldout';

export function voiceNames(split: Split): string[] {
  return BASES.flatMap((b) => VARIANTS.map((v) => b + v)).filter((name) => {
    const base = name.split('+')[0];
    const variant = name.includes('+') ? name.slice(name.indexOf('+')) : '';
    const held = HELD_OUT_BASES.has(base) || HELD_OUT_VARIANTS.has(variant);
    return split === 'heldout' ? held : !held;
  });
}

/** Sentences that are not the wake word, some close to it. */
export const OTHER_SPEECH = [
  'what time is it', 'turn on the kitchen lights', 'alex is coming over later', 'we drove to alaska last summer',
  'the election results are in', 'a lexus parked outside', 'please relax and take a seat', 'i left my keys at the office',
  'tell me a joke', 'how is the weather tomorrow', 'set a timer for ten minutes', 'play some music in the living room',
  'alexander wrote a letter', 'the lecture starts at noon', 'she bought a necklace', 'let us go for a walk',
  'my sister lives in texas', 'the alarm went off early', 'call my mother please', 'add milk to the shopping list',
  'a lesson in patience', 'electric cars are quiet', 'i like that song', 'the algebra test was hard',
];

const FOLLOW = ['what time is it', 'stop', 'tell me a joke', 'turn it up', 'what is the weather', ''];

export interface Clip {
  samples: Int16Array;
  /** The wake word's [begin, end) in samples, or undefined for a clip without it. */
  word?: [number, number];
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function voiceFor(random: () => number, split: Split): Voice {
  return { espeak: pick(random, voiceNames(split)), wordsPerMinute: Math.round(130 + 90 * random()), pitch: Math.round(25 + 55 * random()) };
}

function scale(x: Int16Array, gain: number): Int16Array {
  return x.map((v) => Math.max(-32768, Math.min(32767, Math.round(v * gain))));
}

/** Room (half the clips), level and noise: what a far-field microphone makes of the clean speech. */
function degrade(x: Int16Array, random: () => number, seed: number): Int16Array {
  let y = x;
  if (random() < 0.5) {
    const h = roomImpulseResponse({ rt60Ms: 80 + 200 * random(), lengthMs: 100, delayMs: 0, seed });
    const f = convolve(Float64Array.from(x), h);
    let peak = 1;
    for (const v of f) peak = Math.max(peak, Math.abs(v));
    y = Int16Array.from(f, (v) => Math.round((v * 20000) / peak));
  }
  y = scale(y, 0.05 + 0.9 * random());
  return random() < 0.2 ? y : addNoise(y, 5 + 25 * random(), seed);
}

/** A clip with the wake word: some speech or quiet before, "Alexa", maybe a command after. */
export function wakeClip(tts: SpeechSynthesizer, split: Split, seed: number): Clip {
  const random = seededRandom(seed);
  const voice = voiceFor(random, split);
  const word = trimSilence(tts.synthesize('alexa', voice));
  const lead = random() < 0.5 ? silence(SAMPLE_RATE * (1.1 + 0.5 * random())) : concat(silence(SAMPLE_RATE * 0.3), trimSilence(tts.synthesize(pick(random, OTHER_SPEECH), voice)).subarray(0, SAMPLE_RATE), silence(SAMPLE_RATE * (0.8 + 0.3 * random())));
  const follow = pick(random, FOLLOW);
  const tail = concat(silence(SAMPLE_RATE * (0.05 + 0.2 * random())), follow ? trimSilence(tts.synthesize(follow, voice)) : silence(0), silence(SAMPLE_RATE * 0.4));
  const samples = degrade(concat(lead, word, tail), random, seed);
  return { samples, word: [lead.length, lead.length + word.length] };
}

/** A clip without it: sentences, or noise of changing level. */
export function otherClip(tts: SpeechSynthesizer, split: Split, seed: number): Clip {
  const random = seededRandom(seed);
  // Noise that starts, stops and changes level: a detector must not take an onset for a word.
  if (random() < 0.25) return { samples: concat(...Array.from({ length: 4 }, (_, k) => whiteNoise(SAMPLE_RATE * (0.5 + random()), random() < 0.2 ? 0 : 10 ** (1 + 3 * random()), seed + k))) };
  const voice = voiceFor(random, split);
  const parts = [silence(SAMPLE_RATE * 0.3)];
  for (let k = 0; k < 3; k++) parts.push(trimSilence(tts.synthesize(pick(random, OTHER_SPEECH), voice)), silence(SAMPLE_RATE * (0.1 + 0.4 * random())));
  return { samples: degrade(concat(...parts), random, seed) };
}

/** What the assistant says in training's playback (the held-out bench and the tests say other things). */
const ANSWERS = [
  'The weather today is mostly sunny with a high of twenty two degrees. Tomorrow brings light rain in the morning and clearer skies by the evening.',
  'Your next meeting is at three in the afternoon with the design team. After that you have nothing on your calendar until Thursday.',
  'Here is a recipe for pancakes. Mix one cup of flour with a spoon of sugar, an egg and a cup of milk, then fry them in a hot pan.',
  'The capital of Australia is Canberra. It was chosen as a compromise between Sydney and Melbourne, and it became the capital in nineteen thirteen.',
  'Playing your morning playlist on the living room speaker. The first song is an old favourite from nineteen eighty four.',
  'Traffic on your route to work is heavy. The trip will take about forty minutes, fifteen more than usual, because of road works on the bridge.',
  'I have added eggs, bread and coffee to your shopping list. You now have seven items on it. Would you like me to read them out?',
  'Here is a fun fact. Octopuses have three hearts and blue blood, and each of their arms can taste what it touches.',
];

export interface Playback {
  /** What the loudspeaker was given (the canceller's reference). */
  played: Int16Array;
  /** The microphone's recording of it through a room (echo and noise). */
  echo: Int16Array;
}

/** The assistant's answers played at a random volume through random rooms: the device hearing itself. */
export function playbacks(tts: SpeechSynthesizer, count: number, seed: number, answerVoice: Voice): Playback[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, k) => {
    const played = scale(tts.synthesize(ANSWERS[k % ANSWERS.length], answerVoice), 0.3 + 0.7 * random());
    const options = { rt60Ms: 100 + 150 * random(), delayMs: 2 + 10 * random(), seed: seed + k, lengthMs: 250 };
    const mic = convolveRoom(played, options);
    return { played, echo: mic };
  });
}

function convolveRoom(played: Int16Array, options: { rt60Ms: number; delayMs: number; seed: number; lengthMs: number }): Int16Array {
  const h = roomImpulseResponse(options);
  const y = convolve(Float64Array.from(played, (v) => Math.tanh(v / 32768) * 32768), h);
  const noise = whiteNoise(y.length, 20, options.seed + 7);
  return Int16Array.from(y, (v, i) => Math.max(-32768, Math.min(32767, Math.round(v + noise[i]))));
}

function rmsOf(x: Int16Array, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i] * x[i];
  return Math.sqrt(e / Math.max(1, to - from));
}

/**
 * A user speaking `clip` over playback `p`, its wake word (if any) starting `atSample` into the answer, at
 * `serDb` (near speech RMS over echo RMS): the microphone signal, the reference, and the word's span.
 */
export function overPlayback(p: Playback, clip: Clip, atSample: number, serDb: number): { mic: Int16Array; reference: Int16Array; word?: [number, number] } {
  const anchor = clip.word ? clip.word[0] : 0;
  const start = Math.max(0, atSample - anchor);
  const length = Math.min(p.echo.length, start + clip.samples.length);
  const mic = p.echo.slice(0, length);
  const near = clip.samples.subarray(0, length - start);
  const span = clip.word ?? [0, near.length];
  const gain = (rmsOf(p.echo, start, length) * 10 ** (serDb / 20)) / Math.max(1, rmsOf(near, span[0], Math.min(span[1], near.length)));
  for (let i = 0; i < near.length; i++) mic[start + i] = Math.max(-32768, Math.min(32767, Math.round(mic[start + i] + gain * near[i])));
  return { mic, reference: p.played.subarray(0, length), word: clip.word && [start + clip.word[0], start + clip.word[1]] };
}
