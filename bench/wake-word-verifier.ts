// Measures the cloud's wake-word verification (emulator/voice/asr.ts WakeWordVerifier) on the validation split only
// (eSpeak NG voices training never heard, the training near-words and sentences): the spans our detector reports
// for true words, for near-words and in a stream of speech, music and noise, each decoded forced onto "alexa" and
// as free common words. Prints, for thresholds on the difference, the true wakes kept and the false wakes passed;
// writes nothing, never passes or fails.
import { WAKE_WORD_THRESHOLD, dspMissingHint } from '../hosts/node/dsp.js';
import { commandLine } from '../hosts/node/command-line.js';
import { findPocketsphinx, pocketsphinxMissingHint, WAKE_WORD_REJECT_BELOW, WakeWordVerifier } from '../emulator/voice/asr.js';
import { concat } from '../emulator/voice/pcm.js';
import { SpeechSynthesizer } from '../emulator/voice/tts.js';
import { corpusMissing, corpusVoices, nearWordClip, negativeStream, positiveClip } from '../test/support/wake-word-corpus.js';
import { detect, frameScores, match } from './wake-word-scoring.js';

const { values: args } = commandLine({
  command: 'node build/bench/wake-word-verifier.js',
  summary: 'The cloud\'s wake-word verification on the validation split: true wakes kept and false wakes passed at each threshold.',
  options: {
    positives: { type: 'string', value: 'N', help: 'positive clips', default: '120' },
    near: { type: 'string', value: 'N', help: 'hard-negative clips (training near-words)', default: '200' },
    minutes: { type: 'string', value: 'N', help: 'minutes of negative stream', default: '20' },
    threshold: { type: 'string', value: 'T', help: 'our detector\'s threshold for the spans (lower gives more false wakes to verify)', default: '0.7' },
  },
});
const number = (name: keyof typeof args, ok: (n: number) => boolean): number => {
  const n = Number(args[name]);
  if (!ok(n)) {
    console.error(`wake-word verifier bench: --${name}: ${JSON.stringify(args[name])} is out of range`);
    process.exit(1);
  }
  return n;
};
const POSITIVES = number('positives', (n) => Number.isInteger(n) && n > 0);
const NEAR = number('near', (n) => Number.isInteger(n) && n > 0);
const MINUTES = number('minutes', (n) => n > 0);
const THRESHOLD = number('threshold', (n) => n > 0 && n < 1);
const missing = dspMissingHint() ?? pocketsphinxMissingHint() ?? corpusMissing('validation')[0];
if (missing) {
  console.error(`wake-word verifier bench: ${missing}`);
  process.exit(1);
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const tts = await SpeechSynthesizer.create();
const voices = corpusVoices(tts, 'validation');

// ---- spans our detector reports, as the device would send them ----
interface Span { kind: 'true' | 'near' | 'stream'; samples: Int16Array; begin: number; end: number }
const spans: Span[] = [];
{
  const parts: Int16Array[] = [], ends: number[] = [];
  let at = 0;
  for (let n = 0; n < POSITIVES; n++) {
    const clip = positiveClip(voices, 'validation', 700000 + n);
    ends.push(at + clip.word![1]);
    parts.push(clip.samples);
    at += clip.samples.length;
  }
  const stream = concat(...parts);
  const found = detect(frameScores(stream), THRESHOLD);
  const { hit } = match(found.map((d) => d.endSample), ends);
  for (const d of found) if (ends.some((e) => Math.abs(e - d.endSample) <= 8000)) spans.push({ kind: 'true', samples: stream, begin: d.beginSample, end: d.endSample });
  console.log(`positives: ${POSITIVES}, our detector found ${hit.filter(Boolean).length} at ${THRESHOLD} (${elapsed()})`);
}
{
  const parts: Int16Array[] = [];
  for (let n = 0; n < NEAR; n++) parts.push(nearWordClip(voices, 'validation', 750000 + n).samples);
  const stream = concat(...parts);
  for (const d of detect(frameScores(stream), THRESHOLD)) spans.push({ kind: 'near', samples: stream, begin: d.beginSample, end: d.endSample });
  const stream2 = negativeStream(voices, 'validation', 790000, MINUTES * 60);
  for (const d of detect(frameScores(stream2), THRESHOLD)) spans.push({ kind: 'stream', samples: stream2, begin: d.beginSample, end: d.endSample });
}
const count = (kind: Span['kind']) => spans.filter((s) => s.kind === kind).length;
console.log(`spans: ${count('true')} true wakes, ${count('near')} near-word and ${count('stream')} stream false wakes (${elapsed()})`);

// ---- every span's confidence: (forced "alexa" − free common words) per frame ----
const verifier = new WakeWordVerifier({ paths: findPocketsphinx() });
const scored: { kind: Span['kind']; confidence: number }[] = [];
for (const span of spans) scored.push({ kind: span.kind, confidence: (await verifier.verify(span.samples, span.begin, span.end)).confidence });
verifier.close();
console.log(`decoded (${elapsed()})`);

const kept = (kind: Span['kind'], t: number) => scored.filter((x) => x.kind === kind && x.confidence >= t).length;
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');
const trues = scored.filter((x) => x.kind === 'true').map((x) => x.confidence).sort((a, b) => a - b);
console.log('\n| threshold | true wakes kept | near-word false wakes passed | stream false wakes passed |');
console.log('|---|---:|---:|---:|');
// The shipped threshold, then those at which 100, 99, 97, 95, 90 and 80 % of the true wakes are kept.
for (const t of [WAKE_WORD_REJECT_BELOW, ...[1, 0.99, 0.97, 0.95, 0.9, 0.8].map((keep) => trues[Math.min(trues.length - 1, Math.floor((1 - keep) * trues.length))]!)]) {
  console.log(`| ${t.toFixed(2)}${t === WAKE_WORD_REJECT_BELOW ? ' (shipped)' : ''} | ${pct(kept('true', t), count('true'))} | ${pct(kept('near', t), count('near'))} | ${pct(kept('stream', t), count('stream'))} |`);
}
console.log(`\ndone (${elapsed()}); the device's default threshold is ${WAKE_WORD_THRESHOLD}`);
