// Wake-word figures on a held-out generated set (voices training never heard, other seeds): detection rate,
// false accepts per hour of non-wake speech and noise, the same during the assistant's playback through the
// simulated room with the echo canceller on and off (barge-in), and what the cloud's second stage (the
// emulator's WakeWordVerifier, PocketSphinx) leaves of the false accepts.
// Prints figures and writes docs/figures/wake-word.md; never passes or fails.
// Usage: node build/bench/wake-word.bench.js [--clips N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { WasmEchoCanceller, WasmWakeWord, WAKE_WORD_THRESHOLD, dspMissingHint } from '../hosts/node/dsp.js';
import type { WakeWordDetection } from '../src/audio/hooks.js';
import { WakeWordGate } from '../src/audio/wake-word.js';
import { WakeWordVerifier, pocketsphinxMissingHint } from '../emulator/voice/asr.js';
import { concat, silence } from '../emulator/voice/pcm.js';
import { recordInRoom } from '../emulator/voice/room.js';
import { ASSISTANT_VOICE, SpeechSynthesizer } from '../emulator/voice/tts.js';
import { fromRoot } from '../test/support/paths.js';
import { FRAME, SAMPLE_RATE, otherClip, voiceNames, wakeClip } from '../test/support/wake-word-data.js';
import { commandLine } from '../hosts/node/command-line.js';

const CLIPS = Number(commandLine({
  command: 'npm run bench:wake-word --',
  summary: 'The wake-word detector\'s hit and false-alarm rates on held-out synthetic clips.',
  options: { clips: { type: 'string', value: 'N', help: 'wake-word clips (three times as many others)', default: '100' } },
}).values.clips);
/** Three times as many negative clips as wake clips: about 25 minutes for a per-hour rate. */
const OTHER_CLIPS = 3 * CLIPS;
const missing = dspMissingHint();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const verifier = pocketsphinxMissingHint() ? undefined : new WakeWordVerifier();
const tts = await SpeechSynthesizer.create();

/** The engine's score for every frame of one continuous stream (optionally through the canceller first). */
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

/** What the device's gate (src/audio/wake-word.ts) makes of those scores at `threshold`. */
function detect(frameScores: Float32Array, threshold: number): WakeWordDetection[] {
  const gate = new WakeWordGate({ threshold });
  const found: WakeWordDetection[] = [];
  const detection = { beginSample: 0, endSample: 0 };
  frameScores.forEach((score, f) => {
    if (gate.push(score, f * FRAME, FRAME, detection)) found.push({ ...detection });
  });
  return found;
}

/** Hits: a detection ending within [end − 0.2 s, end + 0.6 s] of a word; the rest are false accepts. */
function score(found: WakeWordDetection[], words: [number, number][]): { hits: number; falseAccepts: WakeWordDetection[] } {
  const used = new Set<number>();
  const falseAccepts: WakeWordDetection[] = [];
  for (const d of found) {
    const w = words.findIndex(([, end], i) => !used.has(i) && d.endSample >= end - 0.2 * SAMPLE_RATE && d.endSample <= end + 0.6 * SAMPLE_RATE);
    if (w >= 0) used.add(w);
    else falseAccepts.push(d);
  }
  return { hits: used.size, falseAccepts };
}

async function verified(samples: Int16Array, spans: WakeWordDetection[]): Promise<number | undefined> {
  if (!verifier) return undefined;
  let n = 0;
  for (const s of spans) if ((await verifier.verify(samples, s.beginSample, s.endSample)).verified) n++;
  return n;
}

const started = Date.now();
// 1. Wake clips end to end in one stream, as a device hears them one after another.
const wakeParts: Int16Array[] = [];
const words: [number, number][] = [];
let at = 0;
for (let n = 0; n < CLIPS; n++) {
  const clip = wakeClip(tts, 'heldout', 90000 + n);
  words.push([at + clip.word![0], at + clip.word![1]]);
  wakeParts.push(clip.samples);
  at += clip.samples.length;
}
const wakeStream = concat(...wakeParts);
const wakeScores = scores(wakeStream);
const wake = score(detect(wakeScores, WAKE_WORD_THRESHOLD), words);
const wakeVerified = await verified(wakeStream, words.map(([b, e]) => ({ beginSample: b, endSample: e })));

// 2. Speech and noise without the wake word.
const otherStream = concat(...Array.from({ length: OTHER_CLIPS }, (_, n) => otherClip(tts, 'heldout', 95000 + n).samples));
const otherScores = scores(otherStream);
const otherFound = detect(otherScores, WAKE_WORD_THRESHOLD);
const otherHours = otherStream.length / SAMPLE_RATE / 3600;
const otherVerified = await verified(otherStream, otherFound);

// 3. Barge-in: the assistant talks (the speaker, through the room); a user says the wake word over it.
const BARGE = Math.max(10, Math.round(CLIPS / 2));
const far = tts.synthesize('Here is the news. The city council met on Tuesday to discuss the new park, and most members spoke in favour of '
  + 'it. Work could start next spring if the budget allows. In sports, the home team won again, their fifth win in a row.', ASSISTANT_VOICE);
let bargeOn = 0, bargeOnEarly = 0, early = 0, bargeOff = 0, playbackFaOn = 0, playbackFaOff = 0, playbackSeconds = 0;
for (let n = 0; n < BARGE; n++) {
  const clip = wakeClip(tts, 'heldout', 97000 + n);
  // The word starts 1 s to 6 s into the answer (a fresh canceller: from far from converged to converged); the
  // answer goes on past the clip.
  const wordAt = Math.round(SAMPLE_RATE * (1 + (5 * n) / (BARGE - 1)));
  const length = Math.floor((wordAt + clip.samples.length - clip.word![0]) / FRAME) * FRAME;
  if (far.length < length) throw new Error(`the answer (${far.length} samples) is shorter than a barge-in case (${length})`);
  const played = far.slice(0, length);
  const near = concat(silence(Math.max(0, wordAt - clip.word![0])), clip.samples.subarray(Math.max(0, clip.word![0] - wordAt)));
  const room = recordInRoom(played, near.subarray(0, played.length), { seed: 300 + n });
  const wordEnd = wordAt + (clip.word![1] - clip.word![0]);
  const aec = new WasmEchoCanceller();
  const on = score(detect(scores(room.mic, (mic, out, a) => aec.process(mic, played.subarray(a, a + FRAME), out)), WAKE_WORD_THRESHOLD), [[wordEnd - 1, wordEnd]]);
  const off = score(detect(scores(room.mic), WAKE_WORD_THRESHOLD), [[wordEnd - 1, wordEnd]]);
  bargeOn += on.hits;
  if (wordAt < 3.5 * SAMPLE_RATE) {
    early++;
    bargeOnEarly += on.hits;
  }
  bargeOff += off.hits;
  playbackFaOn += on.falseAccepts.length;
  playbackFaOff += off.falseAccepts.length;
  playbackSeconds += played.length / SAMPLE_RATE;
}
verifier?.close();
const sweep = [0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99].map((threshold) => ({
  threshold, hits: score(detect(wakeScores, threshold), words).hits, falseAccepts: detect(otherScores, threshold).length,
}));

const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
const perHour = (n: number, hours: number) => (n / hours).toFixed(1);
const lines = [
  `held-out voices: ${voiceNames('heldout').length} (${voiceNames('heldout').slice(0, 4).join(', ')}, ...); threshold ${WAKE_WORD_THRESHOLD}`,
  `detection: ${wake.hits}/${CLIPS} (${pct(wake.hits, CLIPS)}); false accepts inside the wake stream: ${wake.falseAccepts.length}`,
  `false accepts: ${otherFound.length} in ${(otherHours * 60).toFixed(1)} min of other speech and noise = ${perHour(otherFound.length, otherHours)} per hour`
    + (otherVerified === undefined ? ' (no cloud verification: PocketSphinx missing)' : `; after cloud verification ${otherVerified} = ${perHour(otherVerified, otherHours)} per hour`),
  `cloud verification accepts ${wakeVerified ?? '?'} of the ${CLIPS} true words`,
  `barge-in (word 1 s to 6 s into the assistant's playback through the room), ${BARGE} cases: detected ${bargeOn} with the canceller on `
    + `(${bargeOnEarly}/${early} of those in the first 3.5 s), ${bargeOff} with it off; `
    + `other detections during ${(playbackSeconds / 60).toFixed(1)} min of playback: ${playbackFaOn} on, ${playbackFaOff} off`,
];
for (const l of lines) console.log(l);
for (const r of sweep) console.log(`threshold ${r.threshold}: detection ${r.hits}/${CLIPS}, false accepts ${r.falseAccepts} = ${(r.falseAccepts / otherHours).toFixed(1)} per hour`);
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'wake-word.md'), [
  '# Wake-word figures',
  '',
  `Measured by bench/wake-word.bench.ts on ${new Date().toISOString().slice(0, 10)} in ${((Date.now() - started) / 1000).toFixed(0)} s: native/dsp/kws.c (WebAssembly) with `
  + 'the weights in native/dsp/kws_weights.h, on clips generated by test/support/wake-word-data.ts from voices training never heard (two accents '
  + 'and three variants held out), with other seeds for speed, pitch, level, room and noise. A hit is a detection ending within −0.2 s to '
  + '+0.6 s of the word\'s end; every other detection is a false accept.',
  '',
  '| figure | value |',
  '|---|---|',
  `| detection rate, ${CLIPS} held-out "Alexa" clips in one stream | ${pct(wake.hits, CLIPS)} (${wake.hits}/${CLIPS}) |`,
  `| false accepts in other speech and noise (${(otherHours * 60).toFixed(1)} min) | ${otherFound.length} = ${perHour(otherFound.length, otherHours)} per hour |`,
  `| ... left after the cloud's verification (PocketSphinx "alexa" vs a word loop) | ${otherVerified === undefined ? 'not run' : `${otherVerified} = ${perHour(otherVerified, otherHours)} per hour`} |`,
  `| true words the cloud's verification accepts | ${wakeVerified === undefined ? 'not run' : `${wakeVerified}/${CLIPS}`} |`,
  `| barge-in: detected over the assistant's playback (word 1 s to 6 s in), canceller on | ${pct(bargeOn, BARGE)} (${bargeOn}/${BARGE}) |`,
  `| ... of those, the word in the first 3.5 s (canceller far from converged) | ${pct(bargeOnEarly, early)} (${bargeOnEarly}/${early}) |`,
  `| barge-in: detected over the assistant's playback, canceller off | ${pct(bargeOff, BARGE)} (${bargeOff}/${BARGE}) |`,
  `| false accepts during playback (${(playbackSeconds / 60).toFixed(1)} min), canceller on / off | ${playbackFaOn} / ${playbackFaOff} |`,
  '',
  `Threshold ${WAKE_WORD_THRESHOLD}, refractory 1 s (src/audio/wake-word.ts). The per-frame cost on the Cortex-M7 emulation is in dsp-m7.md.`,
  '',
  'Other thresholds on the same scores (no cloud verification):',
  '',
  '| threshold | detection | false accepts per hour |',
  '|---|---|---|',
  ...sweep.map((r) => `| ${r.threshold} | ${pct(r.hits, CLIPS)} | ${(r.falseAccepts / otherHours).toFixed(1)} |`),
  '',
].join('\n'));
console.log('wrote docs/figures/wake-word.md');
