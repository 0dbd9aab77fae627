// Trains the "Alexa" detector of native/dsp/kws.c on synthetic speech (test/support/wake-word-data.ts, training
// voices only) and writes native/dsp/kws_weights.h: one hidden layer of KWS_HIDDEN ReLUs over the last second
// of log-mel features, int8 weights with a scale per unit. Features come from the C itself (WebAssembly), so
// training sees exactly what the device computes. Deterministic; a few minutes on one core.
// Usage: nice -n 10 node build/bench/train-wake-word.js [--clips N]
import { writeFileSync } from 'node:fs';
import { KWS_BANDS, dspMissingHint, wakeWordFeatures } from '../hosts/node/dsp.js';
import { seededRandom } from '../simulator/voice/pcm.js';
import { SpeechSynthesizer } from '../simulator/voice/tts.js';
import { fromRoot } from '../test/support/paths.js';
import { FRAME, otherClip, wakeClip, type Clip } from '../test/support/wake-word-data.js';

const CONTEXT = 50;                 // KWS_CONTEXT
const HIDDEN = 24;                  // KWS_HIDDEN
const INPUTS = CONTEXT * KWS_BANDS;
const INPUT_SCALE = 0.1;            // KWS_INPUT_SCALE
const clipsArg = process.argv.indexOf('--clips');
const WAKE_CLIPS = clipsArg > 0 ? Number(process.argv[clipsArg + 1]) : 400;
const OTHER_CLIPS = WAKE_CLIPS;

const missing = dspMissingHint();
if (missing) {
  console.error(missing);
  process.exit(1);
}

/** The network's input for the window ending at frame `end` of `features`: as kws_process builds it. */
export function windowInput(features: Float32Array, end: number, out: Float32Array): void {
  const start = (end - CONTEXT + 1) * KWS_BANDS;
  let sum = 0;
  for (let i = 0; i < INPUTS; i++) sum += features[start + i];
  const mean = sum / INPUTS;
  for (let i = 0; i < INPUTS; i++) out[i] = (features[start + i] - mean) * INPUT_SCALE;
}

const started = Date.now();
const tts = await SpeechSynthesizer.create();
const inputs: Float32Array[] = [];
const labels: number[] = [];
function addClip(clip: Clip, every: number): void {
  const f = wakeWordFeatures(clip.samples);
  const frames = f.length / KWS_BANDS;
  const e = clip.word ? Math.ceil(clip.word[1] / FRAME) - 1 : -1000;
  for (let i = CONTEXT - 1; i < frames; i++) {
    const positive = i >= e && i <= e + 3;
    if (!positive && ((i >= e - 8 && i < e) || (i > e + 3 && i <= e + 25))) continue;   // near the word's end: no label
    if (!positive && i % every !== 0) continue;
    const x = new Float32Array(INPUTS);
    windowInput(f, i, x);
    inputs.push(x);
    labels.push(positive ? 1 : 0);
  }
}
for (let n = 0; n < WAKE_CLIPS; n++) addClip(wakeClip(tts, 'train', 1000 + n), 4);
for (let n = 0; n < OTHER_CLIPS; n++) addClip(otherClip(tts, 'train', 5000 + n), 3);
const positives = labels.filter((l) => l === 1).length;
console.log(`data: ${WAKE_CLIPS} wake clips, ${OTHER_CLIPS} other clips → ${inputs.length} windows (${positives} positive) in ${((Date.now() - started) / 1000).toFixed(0)} s`);

// ---- training: Adam on binary cross-entropy, positives weighted to balance the classes ----
const random = seededRandom(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const w1 = Float32Array.from({ length: HIDDEN * INPUTS }, () => gauss() * Math.sqrt(2 / INPUTS));
const b1 = new Float32Array(HIDDEN);
const w2 = Float32Array.from({ length: HIDDEN }, () => gauss() * Math.sqrt(1 / HIDDEN));
const b2 = new Float32Array(1);
const params = [w1, b1, w2, b2];
const grads = params.map((p) => new Float32Array(p.length));
const m = params.map((p) => new Float32Array(p.length));
const v = params.map((p) => new Float32Array(p.length));
const posWeight = (labels.length - positives) / positives;
const h = new Float32Array(HIDDEN);

function forward(x: Float32Array): number {
  let z = b2[0];
  for (let j = 0; j < HIDDEN; j++) {
    let acc = b1[j];
    const row = j * INPUTS;
    for (let i = 0; i < INPUTS; i++) acc += w1[row + i] * x[i];
    h[j] = acc > 0 ? acc : 0;
    z += w2[j] * h[j];
  }
  return 1 / (1 + Math.exp(-z));
}

const EPOCHS = 12;
const BATCH = 64;
const order = labels.map((_, i) => i);
let step = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let loss = 0;
  const lr = 1e-3 * (epoch < EPOCHS - 3 ? 1 : 0.3);
  for (let at = 0; at < order.length; at += BATCH) {
    for (const g of grads) g.fill(0);
    const end = Math.min(order.length, at + BATCH);
    for (let k = at; k < end; k++) {
      const x = inputs[order[k]];
      const y = labels[order[k]];
      const p = forward(x);
      const weight = y === 1 ? posWeight : 1;
      loss -= weight * (y === 1 ? Math.log(p + 1e-7) : Math.log(1 - p + 1e-7));
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
  }
  let tp = 0, fp = 0;
  for (let k = 0; k < inputs.length; k++) {
    const p = forward(inputs[k]) >= 0.5;
    if (p && labels[k] === 1) tp++;
    if (p && labels[k] === 0) fp++;
  }
  console.log(`epoch ${epoch + 1}: loss ${(loss / inputs.length).toFixed(4)}, training windows: ${tp}/${positives} positives found, ${fp}/${inputs.length - positives} negatives over 0.5`);
}

// ---- int8 weights, one scale per hidden unit ----
const rows: string[] = [];
const scales: number[] = [];
for (let j = 0; j < HIDDEN; j++) {
  let max = 1e-9;
  for (let i = 0; i < INPUTS; i++) max = Math.max(max, Math.abs(w1[j * INPUTS + i]));
  const s = max / 127;
  scales.push(s);
  const q: number[] = [];
  for (let i = 0; i < INPUTS; i++) q.push(Math.round(w1[j * INPUTS + i] / s));
  rows.push(`  {${q.join(',')}}`);
}
const num = (x: number) => `${x.toPrecision(8)}f`;
const header = [
  `/* Generated by bench/train-wake-word.ts (${WAKE_CLIPS} wake clips, ${OTHER_CLIPS} other clips, ${inputs.length} windows, ${EPOCHS} epochs, training voices`,
  ' * only: test/support/wake-word-data.ts). Do not edit: train again. */',
  `#define KWS_INPUT_SCALE ${num(INPUT_SCALE)}`,
  `static const int8_t kws_w1[KWS_HIDDEN][KWS_INPUTS] = {\n${rows.join(',\n')}\n};`,
  `static const float kws_w1_scale[KWS_HIDDEN] = {${scales.map(num).join(', ')}};`,
  `static const float kws_b1[KWS_HIDDEN] = {${Array.from(b1, num).join(', ')}};`,
  `static const float kws_w2[KWS_HIDDEN] = {${Array.from(w2, num).join(', ')}};`,
  `static const float kws_b2 = ${num(b2[0])};`,
  '',
].join('\n');
writeFileSync(fromRoot('native', 'dsp', 'kws_weights.h'), header);
console.log(`wrote native/dsp/kws_weights.h (${(HIDDEN * INPUTS / 1024).toFixed(1)} KB of int8 weights) after ${((Date.now() - started) / 1000).toFixed(0)} s`);
