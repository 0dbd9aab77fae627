// Trains the "Alexa" detector of native/dsp/kws.c and writes its weights header (native/dsp/kws_weights.h): one
// hidden layer of KWS_HIDDEN ReLUs over the last second of log-mel features (40 ms steps, each band's mean
// removed), int8 weights with a scale per unit.
// Data: the training split of test/support/wake-word-corpus.ts (whole synthesizers; flite is never heard), the words of
// test/support/wake-word-data.ts's training voices spoken over the
// assistant's playback through simulated rooms and cleaned by the echo canceller (native/dsp/aec.c), and
// optionally a board maker's own recordings (--positives DIR --negatives DIR, 16 kHz mono WAVs), a fifth of
// which is held out and measured. Features come from the C itself (WebAssembly), so training sees exactly what
// the device computes. Negatives the model scores high are mined from every frame of the negative data and
// added to training twice.
// Usage: nice -n 10 node build/bench/train-wake-word.js [--clips N] [--epochs N] [--positives DIR --negatives DIR] [--out FILE]
//   [--cache FILE: keep the synthetic features there and reuse them (they change only with kws.c's features and
//   test/support/wake-word-data.ts: delete the file then)]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KWS_BANDS, WasmEchoCanceller, dspMissingHint, wakeWordFeatures } from '../hosts/node/dsp.js';
import { parseWav } from '../hosts/node/wav.js';
import { concat, seededRandom, silence } from '../emulator/voice/pcm.js';
import { ASSISTANT_VOICE, SpeechSynthesizer } from '../emulator/voice/tts.js';
import { fromRoot } from '../test/support/paths.js';
import { FRAME, SAMPLE_RATE, otherClip, overPlayback, playbacks, wakeClip, type Clip } from '../test/support/wake-word-data.js';
import { corpusMissing, corpusVoices, nearWordClip, negativeStream, positiveClip } from '../test/support/wake-word-corpus.js';
import { commandLine } from '../hosts/node/command-line.js';

const CONTEXT = 50;                 // KWS_CONTEXT
const POOL = 2;                     // KWS_POOL
const STEPS = CONTEXT / POOL;       // KWS_STEPS
const HIDDEN = 48;                  // KWS_HIDDEN
const INPUTS = STEPS * KWS_BANDS;
const RANGE = 12;                   // KWS_RANGE
const INPUT_ONE = 256;              // KWS_INPUT_ONE
/** Training's input is the C's integer input times INPUT_SCALE / INPUT_ONE: log2 units scaled for Adam. */
const INPUT_SCALE = 0.1;

function fail(message: string): never {
  console.error(`train-wake-word: ${message}`);
  process.exit(1);
}

const { values: args } = commandLine({
  command: 'npm run train:wake-word --',
  summary: 'Trains the "Alexa" detector of native/dsp/kws.c on synthetic speech (and a board maker\'s recordings) and writes its weights header.',
  options: {
    clips: { type: 'string', value: 'N', help: 'synthetic wake-word clips (as many near-word clips, 30 s of other sound per 10, three quarters as many over playback); 600 made the committed weights', default: '600' },
    epochs: { type: 'string', value: 'N', help: 'training epochs; 12 made the committed weights', default: '12' },
    positives: { type: 'string', value: 'DIR', help: 'your own wake-word recordings, 16 kHz mono WAVs (with --negatives); a fifth held out' },
    negatives: { type: 'string', value: 'DIR', help: 'your own recordings without the wake word (with --positives)' },
    out: { type: 'string', value: 'FILE', help: 'the weights header written (native/dsp/kws_weights.h without it)' },
    cache: { type: 'string', value: 'FILE', help: 'keep the synthetic features there and reuse them (delete it when kws.c\'s features or the data change)' },
  },
});
type Option = 'clips' | 'epochs' | 'positives' | 'negatives' | 'out' | 'cache';
const option = (name: `--${Option}`): string | undefined => args[name.slice(2) as Option];

function count(name: '--clips' | '--epochs', fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`${name} expects a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

const WAKE_CLIPS = count('--clips', 600);
const NEAR_CLIPS = WAKE_CLIPS;
/** Half a minute of negative stream for every 10 wake clips. */
const STREAM_PARTS = Math.ceil(WAKE_CLIPS / 10);
const BARGE_CLIPS = Math.round(0.75 * WAKE_CLIPS);
const EPOCHS = count('--epochs', 12);
const positivesDir = option('--positives');
const negativesDir = option('--negatives');
if ((positivesDir === undefined) !== (negativesDir === undefined)) fail('--positives and --negatives go together');
const outPath = args.out ?? fromRoot('native', 'dsp', 'kws_weights.h');

const missing = dspMissingHint() ?? corpusMissing('train')[0];
if (missing) fail(missing);

// ---- progress: one rewritten line on a terminal, a line per tenth elsewhere (a log shows how far it is) ----
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
let lastProgress = 0;
function progress(what: string, done: number, total: number): void {
  const now = Date.now();
  if (process.stdout.isTTY) {
    if (done < total && now - lastProgress < 200) return;
    lastProgress = now;
    process.stdout.write(`\r${what}: ${done}/${total} (${elapsed()})\x1b[K${done === total ? '\n' : ''}`);
  } else if (done === total || Math.floor((10 * done) / total) > Math.floor((10 * (done - 1)) / total)) {
    console.log(`${what}: ${done}/${total} (${elapsed()})`);
  }
}

// ---- recordings: a board maker's folders, checked before anything slow ----
interface Recording { path: string; samples: Int16Array }

function readRecordings(dir: string): Recording[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.wav')).sort();
  } catch (error) {
    fail(`cannot read the folder ${dir}: ${(error as Error).message}`);
  }
  if (names.length < 2) fail(`${dir}: at least 2 .wav files expected (one to train on, one to hold out), found ${names.length}`);
  return names.map((name) => {
    const path = join(dir, name);
    let samples: Int16Array;
    try {
      samples = parseWav(readFileSync(path), path);
    } catch (error) {
      fail(`bad recording ${(error as Error).message}`);
    }
    if (samples.length < FRAME * 10) fail(`bad recording ${path}: ${(samples.length / SAMPLE_RATE).toFixed(2)} s, at least 0.2 s expected`);
    return { path, samples };
  });
}

/** Every fifth recording (by name) is held out: measured, never trained on. */
function split(recordings: Recording[]): { train: Recording[]; heldout: Recording[] } {
  return { train: recordings.filter((_, i) => i % 5 !== 4), heldout: recordings.filter((_, i) => i % 5 === 4) };
}

/** A positive recording holds one "Alexa": it ends where the recording's last loud frame ends. */
function wordEnd(samples: Int16Array): number {
  let peak = 0;
  const frames = Math.floor(samples.length / FRAME);
  const energy = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) energy[f] += samples[i] * samples[i];
    peak = Math.max(peak, energy[f]);
  }
  let f = frames - 1;
  while (f > 0 && energy[f] < peak / 1000) f--;    // −30 dB below the loudest frame
  return (f + 1) * FRAME;
}

/** A recording as a clip: a second of quiet first, so the detector's whole window is filled, and some after. */
function recordingClip(r: Recording, positive: boolean): Clip {
  const lead = SAMPLE_RATE;
  const samples = concat(silence(lead), r.samples, silence(SAMPLE_RATE / 2));
  return positive ? { samples, word: [lead, lead + wordEnd(r.samples)] } : { samples };
}

const recordings = positivesDir && negativesDir
  ? { positives: split(readRecordings(positivesDir)), negatives: split(readRecordings(negativesDir)) }
  : undefined;

// ---- data: feature streams with the frames where a word ends ----
interface Stream { features: Float32Array; frames: number; ends: number[] }
const streams: Stream[] = [];
const tts = await SpeechSynthesizer.create();

function stream(samples: Int16Array, word?: [number, number]): Stream {
  const features = wakeWordFeatures(samples);
  return { features, frames: features.length / KWS_BANDS, ends: word ? [Math.ceil(word[1] / FRAME) - 1] : [] };
}

/** The echo canceller's output for `mic` with `reference` played (a fresh canceller, as after power-on). */
function cancelled(mic: Int16Array, reference: Int16Array): Int16Array {
  const aec = new WasmEchoCanceller();
  const out = new Int16Array(Math.floor(mic.length / FRAME) * FRAME);
  for (let at = 0; at < out.length; at += FRAME) aec.process(mic.subarray(at, at + FRAME), reference.subarray(at, at + FRAME), out.subarray(at, at + FRAME));
  return out;
}

/** The synthetic streams: deterministic from --clips, so --cache FILE can keep them between runs. */
function synthetic(): void {
  const voices = corpusVoices(tts, 'train');
  for (let n = 0; n < WAKE_CLIPS; n++) {
    const clip = positiveClip(voices, 'train', 1000 + n);
    streams.push(stream(clip.samples, clip.word));
    progress('wake clips (in carriers, rooms and noise)', n + 1, WAKE_CLIPS);
  }
  for (let n = 0; n < NEAR_CLIPS; n++) {
    streams.push(stream(nearWordClip(voices, 'train', 5000 + n).samples));
    progress('near-words', n + 1, NEAR_CLIPS);
  }
  for (let n = 0; n < STREAM_PARTS; n++) {
    streams.push(stream(negativeStream(voices, 'train', 7000 + n, 30)));
    progress('speech, music and noise (30 s parts)', n + 1, STREAM_PARTS);
  }
  // Barge-in: the user over the assistant's playback, through the canceller (a fresh one: the word comes 0.5 s to
  // 9 s into the answer, so before and after it converged). Half say the word, half say something else.
  const answers = playbacks(tts, Math.min(8, BARGE_CLIPS), 20000, ASSISTANT_VOICE);
  const random = seededRandom(11);
  for (let n = 0; n < BARGE_CLIPS; n++) {
    const p = answers[n % answers.length];
    const wake = n % 2 === 0;
    const clip = wake ? wakeClip(tts, 'train', 30000 + n) : otherClip(tts, 'train', 40000 + n);
    const latest = Math.min(9 * SAMPLE_RATE, p.echo.length - 1.5 * SAMPLE_RATE);
    const room = overPlayback(p, clip, Math.round(0.5 * SAMPLE_RATE + (latest - 0.5 * SAMPLE_RATE) * random()), -12 + 18 * random());
    streams.push(stream(cancelled(room.mic, room.reference), wake ? room.word : undefined));
    progress('barge-in clips (through the canceller)', n + 1, BARGE_CLIPS);
  }
  // The device hearing only itself, with the canceller and without it: nothing to detect.
  for (const p of answers) streams.push(stream(cancelled(p.echo, p.played)), stream(p.echo));
}

const cachePath = option('--cache');
if (cachePath && existsSync(cachePath)) {
  // An index (JSON) and the features end to end (float32, cachePath + '.f32').
  const index = JSON.parse(readFileSync(cachePath, 'utf8')) as { clips: number; frames: number[]; ends: number[][] };
  if (index.clips !== WAKE_CLIPS) fail(`${cachePath} holds the data of --clips ${index.clips}, not ${WAKE_CLIPS}`);
  const raw = readFileSync(`${cachePath}.f32`);
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  let at = 0;
  index.frames.forEach((frames, k) => {
    streams.push({ features: all.subarray(at, at + frames * KWS_BANDS), frames, ends: index.ends[k] });
    at += frames * KWS_BANDS;
  });
  console.log(`synthetic data: ${streams.length} streams from ${cachePath} (${elapsed()})`);
} else {
  synthetic();
  if (cachePath) {
    writeFileSync(cachePath, JSON.stringify({ clips: WAKE_CLIPS, frames: streams.map((x) => x.frames), ends: streams.map((x) => x.ends) }));
    writeFileSync(`${cachePath}.f32`, Buffer.concat(streams.map((x) => Buffer.from(x.features.buffer, x.features.byteOffset, x.features.byteLength))));
  }
}
if (recordings) {
  for (const r of recordings.positives.train) { const c = recordingClip(r, true); streams.push(stream(c.samples, c.word)); }
  for (const r of recordings.negatives.train) streams.push(stream(recordingClip(r, false).samples));
  console.log(`recordings: training on ${recordings.positives.train.length} positives and ${recordings.negatives.train.length} negatives, holding out ${recordings.positives.heldout.length} and ${recordings.negatives.heldout.length}`);
}

// ---- examples: (stream, frame) pairs; windows are built when used ----
const POSITIVE = 1, NEGATIVE = 0, IGNORE = -1;
function label(s: Stream, i: number): number {
  for (const e of s.ends) {
    if (i >= e && i <= e + 3) return POSITIVE;
    if ((i >= e - 8 && i < e) || (i > e + 3 && i <= e + 25)) return IGNORE;   // near the word's end: no label
  }
  return NEGATIVE;
}

const exStream: number[] = [];
const exFrame: number[] = [];
const exLabel: number[] = [];
const included = new Set<number>();
const key = (s: number, i: number) => s * 100000 + i;
function addExample(s: number, i: number, y: number): void {
  if (included.has(key(s, i))) return;
  included.add(key(s, i));
  exStream.push(s);
  exFrame.push(i);
  exLabel.push(y);
}
streams.forEach((s, si) => {
  for (let i = CONTEXT - 1; i < s.frames; i++) {
    const y = label(s, i);
    if (y === POSITIVE || (y === NEGATIVE && i % 8 === 0)) addExample(si, i, y);   // mining adds the hard ones
  }
});

/** The network's input for the window ending at frame `end` of `features`: as kws_process builds it. */
const bandMean = new Float32Array(KWS_BANDS);
function windowInput(features: Float32Array, end: number, out: Float32Array): void {
  const start = (end - CONTEXT + 1) * KWS_BANDS;
  out.fill(0);
  bandMean.fill(0);
  let peak = -Infinity;
  for (let t = 0; t < STEPS; t++) {
    for (let p = 0; p < POOL; p++) {
      const f = start + (t * POOL + p) * KWS_BANDS;
      for (let b = 0; b < KWS_BANDS; b++) out[t * KWS_BANDS + b] += features[f + b];
    }
    for (let b = 0; b < KWS_BANDS; b++) peak = Math.max(peak, out[t * KWS_BANDS + b]);
  }
  const floor = peak - RANGE * POOL;
  for (let i = 0; i < INPUTS; i++) {
    out[i] = Math.max(out[i], floor);
    bandMean[i % KWS_BANDS] += out[i];
  }
  for (let i = 0; i < INPUTS; i++) out[i] = (out[i] - bandMean[i % KWS_BANDS] / STEPS) * (INPUT_SCALE / POOL);
}

/**
 * A training window as another voice might make it: its bands warped by up to ±12 % (a longer or shorter vocal
 * tract moves every formant by one factor), and SpecAugment's masks: a few bands and a few steps set to their
 * mean. Only while training; the examples themselves never change.
 */
const warped = new Float32Array(INPUTS);
function augment(input: Float32Array): void {
  if (rng() < 0.7) {
    const factor = 0.88 + 0.24 * rng();
    for (let t = 0; t < STEPS; t++) {
      for (let b = 0; b < KWS_BANDS; b++) {
        const at = Math.min(KWS_BANDS - 1, b * factor), lo = Math.floor(at), frac = at - lo, hi = Math.min(KWS_BANDS - 1, lo + 1);
        warped[t * KWS_BANDS + b] = input[t * KWS_BANDS + lo] * (1 - frac) + input[t * KWS_BANDS + hi] * frac;
      }
    }
    input.set(warped);
  }
  if (rng() < 0.5) {
    const width = 1 + Math.floor(3 * rng()), from = Math.floor(rng() * (KWS_BANDS - width));
    for (let t = 0; t < STEPS; t++) for (let b = from; b < from + width; b++) input[t * KWS_BANDS + b] = 0;
  }
  if (rng() < 0.3) {
    const width = 1 + Math.floor(2 * rng()), from = Math.floor(rng() * (STEPS - width));
    for (let t = from; t < from + width; t++) for (let b = 0; b < KWS_BANDS; b++) input[t * KWS_BANDS + b] = 0;
  }
}

// ---- the network; training is Adam on binary cross-entropy, positives weighted to balance the classes ----
const rng = seededRandom(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
const w1 = Float32Array.from({ length: HIDDEN * INPUTS }, () => gauss() * Math.sqrt(2 / INPUTS));
const b1 = new Float32Array(HIDDEN);
const w2 = Float32Array.from({ length: HIDDEN }, () => gauss() * Math.sqrt(1 / HIDDEN));
const b2 = new Float32Array(1);
const params = [w1, b1, w2, b2];
const grads = params.map((p) => new Float32Array(p.length));
const m = params.map((p) => new Float32Array(p.length));
const v = params.map((p) => new Float32Array(p.length));
const h = new Float32Array(HIDDEN);
const x = new Float32Array(INPUTS);

function forward(input: Float32Array): number {
  let z = b2[0];
  for (let j = 0; j < HIDDEN; j++) {
    let acc = b1[j];
    const row = j * INPUTS;
    for (let i = 0; i < INPUTS; i++) acc += w1[row + i] * input[i];
    h[j] = acc > 0 ? acc : 0;
    z += w2[j] * h[j];
  }
  return 1 / (1 + Math.exp(-z));
}

/** Every negative frame the model scores at least `floor` joins the examples: the mistakes it still makes. */
function mineHardNegatives(floor: number): number {
  let added = 0;
  streams.forEach((s, si) => {
    for (let i = CONTEXT - 1; i < s.frames; i++) {
      if (included.has(key(si, i)) || label(s, i) !== NEGATIVE) continue;
      windowInput(s.features, i, x);
      if (forward(x) >= floor) {
        addExample(si, i, NEGATIVE);
        added++;
      }
    }
    progress('mining hard negatives (streams)', si + 1, streams.length);
  });
  return added;
}

const BATCH = 64;
const MINE_AFTER = new Set([Math.floor(EPOCHS / 3), Math.floor((2 * EPOCHS) / 3)].filter((e) => e > 0));
let step = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  if (MINE_AFTER.has(epoch)) console.log(`hard negatives: ${mineHardNegatives(0.3)} added (${elapsed()})`);
  const positives = exLabel.filter((y) => y === POSITIVE).length;
  const posWeight = Math.min(20, (exLabel.length - positives) / positives);
  const order = exLabel.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let loss = 0;
  const lr = 1e-3 * (epoch < EPOCHS - 3 ? 1 : 0.3);
  for (let at = 0; at < order.length; at += BATCH) {
    for (const g of grads) g.fill(0);
    const end = Math.min(order.length, at + BATCH);
    for (let k = at; k < end; k++) {
      const e = order[k];
      windowInput(streams[exStream[e]].features, exFrame[e], x);
      augment(x);
      const y = exLabel[e];
      const p = forward(x);
      const weight = y === POSITIVE ? posWeight : 1;
      loss -= weight * (y === POSITIVE ? Math.log(p + 1e-7) : Math.log(1 - p + 1e-7));
      const dz = weight * (p - y);
      grads[3][0] += dz;
      for (let j = 0; j < HIDDEN; j++) {
        grads[2][j] += dz * h[j];
        if (h[j] <= 0) continue;
        const dh = dz * w2[j];
        grads[1][j] += dh;
        const row = j * INPUTS;
        for (let i = 0; i < INPUTS; i++) grads[0][row + i] += dh * x[i];
      }
    }
    step++;
    const n = end - at;
    for (let q = 0; q < params.length; q++) {
      const p = params[q], g = grads[q], mq = m[q], vq = v[q];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] / n + (q === 0 ? 1e-4 * p[i] : 0);
        mq[i] = 0.9 * mq[i] + 0.1 * gi;
        vq[i] = 0.999 * vq[i] + 0.001 * gi * gi;
        p[i] -= (lr * (mq[i] / (1 - 0.9 ** step))) / (Math.sqrt(vq[i] / (1 - 0.999 ** step)) + 1e-8);
      }
    }
    progress(`epoch ${epoch + 1}/${EPOCHS} (windows)`, end, order.length);
  }
  console.log(`epoch ${epoch + 1}/${EPOCHS}: loss ${(loss / order.length).toFixed(4)} over ${order.length} windows (${positives} positive) (${elapsed()})`);
}

// ---- int8 weights, one scale per hidden unit; the detector then runs on the quantised values ----
const scales: number[] = [];
const q8 = new Int8Array(HIDDEN * INPUTS);
for (let j = 0; j < HIDDEN; j++) {
  let max = 1e-9;
  for (let i = 0; i < INPUTS; i++) max = Math.max(max, Math.abs(w1[j * INPUTS + i]));
  const s = max / 127;
  scales.push(s);
  for (let i = 0; i < INPUTS; i++) q8[j * INPUTS + i] = Math.round(w1[j * INPUTS + i] / s);
}
for (let j = 0; j < HIDDEN; j++) for (let i = 0; i < INPUTS; i++) w1[j * INPUTS + i] = q8[j * INPUTS + i] * scales[j];

// ---- the held-out recordings: detection and false accepts at the device's threshold ----
if (recordings) {
  const threshold = 0.95;           // WAKE_WORD_THRESHOLD (hosts/node/dsp.ts)
  const fired = (c: Clip): number[] => {
    const s = stream(c.samples);
    const at: number[] = [];
    for (let i = CONTEXT - 1; i < s.frames; i++) {
      windowInput(s.features, i, x);
      if (forward(x) >= threshold && !(at.length && i - at[at.length - 1] <= 50)) at.push(i);   // 1 s refractory
    }
    return at;
  };
  let hits = 0, wrong = 0, seconds = 0;
  for (const r of recordings.positives.heldout) {
    const c = recordingClip(r, true);
    const end = Math.ceil(c.word![1] / FRAME) - 1;
    if (fired(c).some((i) => i >= end - 10 && i <= end + 30)) hits++;
  }
  for (const r of recordings.negatives.heldout) {
    wrong += fired(recordingClip(r, false)).length;
    seconds += r.samples.length / SAMPLE_RATE;
  }
  const total = recordings.positives.heldout.length;
  console.log(`held-out recordings: detection ${hits}/${total} (${((100 * hits) / total).toFixed(1)} %); `
    + `false accepts ${wrong} in ${(seconds / 60).toFixed(1)} min of negatives = ${((wrong * 3600) / seconds).toFixed(1)} per hour (threshold ${threshold})`);
}

const num = (value: number) => `${value.toPrecision(8)}f`;
const rows = Array.from({ length: HIDDEN }, (_, j) => `  {${Array.from(q8.subarray(j * INPUTS, (j + 1) * INPUTS)).join(',')}}`);
const source = `${WAKE_CLIPS} wake clips, ${NEAR_CLIPS} near-words, ${STREAM_PARTS * 30} s of speech, music and noise, ${BARGE_CLIPS} over playback through the canceller`
  + (recordings ? `, ${recordings.positives.train.length + recordings.negatives.train.length} recordings` : '');
const header = [
  `/* Generated by bench/train-wake-word.ts (${source}, ${exLabel.length} windows with mined hard negatives, ${EPOCHS} epochs,`,
  ' * training sources only: test/support/wake-word-corpus.ts). Do not edit: train again. */',
  `static const int8_t kws_w1[KWS_HIDDEN][KWS_INPUTS] = {\n${rows.join(',\n')}\n};`,
  // The C's dot product is over integer inputs (INPUT_ONE steps), training's over INPUT_SCALE ones.
  `static const float kws_w1_scale[KWS_HIDDEN] = {${scales.map((sc) => num((sc * INPUT_SCALE) / INPUT_ONE)).join(', ')}};`,
  `static const float kws_b1[KWS_HIDDEN] = {${Array.from(b1, num).join(', ')}};`,
  `static const float kws_w2[KWS_HIDDEN] = {${Array.from(w2, num).join(', ')}};`,
  `static const float kws_b2 = ${num(b2[0])};`,
  '',
].join('\n');
writeFileSync(outPath, header);
console.log(`wrote ${relative(process.cwd(), outPath) || outPath} (${((HIDDEN * INPUTS) / 1024).toFixed(1)} KB of int8 weights) after ${elapsed()}`);
