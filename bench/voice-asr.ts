// Recogniser figures for the virtual device: word accuracy, intent accuracy and real-time factor of
// PocketSphinx in each mode on the scripted test set (every assistant phrase and four out-of-domain
// sentences × each synthetic user voice × clean, 20 dB and 10 dB SNR white noise).
// Prints figures and writes docs/figures/voice-asr.md; never passes or fails.
// Usage: node build/bench/voice-asr.js [--quick] (quick: clean and 10 dB only, two modes)
import { mkdirSync, writeFileSync } from 'node:fs';
import { classify, normaliseTranscript } from '../emulator/voice/assistant.js';
import { AssistantRecognizer, COMMAND_DECODER_ARGS, PocketsphinxRecognizer, WakeWordVerifier, assistantGrammar, findPocketsphinx, pocketsphinxMissingHint } from '../emulator/voice/asr.js';
import { CONDITIONS, renderCorpus, wordErrors, type RenderedUtterance } from '../emulator/voice/corpus.js';
import { SAMPLE_RATE, addNoise, concat, silence } from '../emulator/voice/pcm.js';
import { findSpeech } from '../emulator/voice/vad.js';
import { SpeechSynthesizer, USER_VOICES } from '../emulator/voice/tts.js';
import { fromRoot } from '../test/support/paths.js';
import { commandLine } from '../hosts/node/command-line.js';

const quick = commandLine({
  command: 'node build/bench/voice-asr.js',
  summary: 'The emulator\'s speech recognition over synthetic phrases in several voices and noise levels.',
  options: { quick: { type: 'boolean', help: 'fewer phrases and voices (a quick look)' } },
}).values.quick === true;
const paths = findPocketsphinx();
if (!paths) {
  console.error(pocketsphinxMissingHint());
  process.exit(1);
}

const confidences: { u: RenderedUtterance; confidence: number; right: boolean }[] = [];
interface Mode {
  name: string;
  /** Recognises one utterance (already cut by the VAD) in the dialog state its intent needs. */
  make(): { recognize(samples: Int16Array, u: RenderedUtterance): Promise<{ text: string; elapsedMs: number }>; close(): void };
}
/** A recognition the shared machine starves is slow, not wrong: it is waited for (the emulator's own limit is 20 s). */
const BENCH_TIMEOUT_MS = 300_000;
const grammarOnly = (filler: boolean): Mode['make'] => () => {
  const main = new PocketsphinxRecognizer({ grammar: assistantGrammar({ filler }), paths, decoderArgs: COMMAND_DECODER_ARGS, timeoutMs: BENCH_TIMEOUT_MS });
  const followUp = new PocketsphinxRecognizer({ grammar: assistantGrammar({ awaiting: 'colour', filler }), paths, decoderArgs: COMMAND_DECODER_ARGS, timeoutMs: BENCH_TIMEOUT_MS });
  return {
    recognize: (samples, u) => (u.intent === 'colour' ? followUp : main).recognize(samples),
    close: () => (main.close(), followUp.close()),
  };
};
const modes: Mode[] = [
  {
    name: 'grammar per dialog state + free-word-loop rejection (the default)',
    make: () => {
      const r = new AssistantRecognizer({ paths, timeoutMs: BENCH_TIMEOUT_MS });
      return {
        recognize: async (samples, u) => {
          const out = await r.recognize(samples, u.intent === 'colour' ? { awaiting: 'colour' } : {});
          confidences.push({ u, confidence: out.confidence, right: classify(normaliseTranscript(out.text), u.intent === 'colour' ? { awaiting: 'colour' } : {}) === u.intent });
          return { text: out.rejected ? '' : out.text, elapsedMs: out.elapsedMs };
        },
        close: () => r.close(),
      };
    },
  },
  { name: 'grammar per dialog state, no rejection', make: grammarOnly(false) },
  { name: 'grammar with a filler-word loop beside the commands', make: grammarOnly(true) },
  {
    name: 'general English trigram model (en-us.lm.bin)',
    make: () => {
      const r = new PocketsphinxRecognizer({ grammar: 'lm', paths, timeoutMs: BENCH_TIMEOUT_MS });
      return { recognize: (samples) => r.recognize(samples), close: () => r.close() };
    },
  },
];

const tts = await SpeechSynthesizer.create();
const conditions = quick ? CONDITIONS.filter((c) => c.name !== 'snr20') : CONDITIONS;
const corpus = renderCorpus(tts, { conditions });
const audioSeconds = corpus.reduce((s, u) => s + u.samples.length, 0) / SAMPLE_RATE;
console.log(`${corpus.length} utterances, ${audioSeconds.toFixed(0)} s of audio, voices ${Object.keys(USER_VOICES).join(', ')}`);

interface Result {
  utterance: RenderedUtterance;
  text: string;
  elapsedMs: number;
}

// The recogniser hears what the device streams between the VAD's start and end, 80 ms either side.
const cut = corpus.map((u) => {
  const bounds = findSpeech(u.samples, { marginSamples: 1280 });
  return bounds ? u.samples.slice(bounds.start, bounds.end) : new Int16Array(0);
});

async function runMode(mode: Mode): Promise<Result[]> {
  const recognizer = mode.make();
  const results: Result[] = new Array(corpus.length);
  let next = 0;
  // Two at a time: the machines here have two cores.
  const worker = async (): Promise<void> => {
    while (next < corpus.length) {
      const i = next++;
      const r = cut[i]!.length ? await recognizer.recognize(cut[i]!, corpus[i]!) : { text: '', elapsedMs: 0 };
      results[i] = { utterance: corpus[i]!, text: r.text, elapsedMs: r.elapsedMs };
    }
  };
  await Promise.all([worker(), worker()]);
  recognizer.close();
  return results;
}

interface Tally {
  errors: number;
  words: number;
  intents: number;
  intentsRight: number;
  seconds: number;
  elapsedMs: number;
}
const empty = (): Tally => ({ errors: 0, words: 0, intents: 0, intentsRight: 0, seconds: 0, elapsedMs: 0 });

function tally(results: Result[], filter: (u: RenderedUtterance) => boolean): Tally {
  const t = empty();
  for (const r of results) {
    if (!filter(r.utterance)) continue;
    const e = wordErrors(r.utterance.words, r.text);
    t.errors += e.errors;
    t.words += e.words;
    t.intents++;
    const state = r.utterance.intent === 'colour' ? { awaiting: 'colour' as const } : {};
    const intent = classify(normaliseTranscript(r.text), state);
    // A rejected or empty decode of an out-of-domain sentence is right: the assistant says "I didn't get that".
    if (intent === r.utterance.intent || (r.utterance.intent === 'unknown' && intent === 'silence')) t.intentsRight++;
    t.seconds += r.utterance.samples.length / SAMPLE_RATE;
    t.elapsedMs += r.elapsedMs;
  }
  return t;
}

const pct = (a: number, b: number): string => (b ? ((100 * a) / b).toFixed(1) : '—');
const lines: string[] = [];
const rows: string[] = [];
const failures: string[] = [];

const selected = quick ? [modes[0]!, modes[1]!] : modes;
for (const mode of selected) {
  const results = await runMode(mode);
  const all = tally(results, (u) => u.intent !== 'unknown');
  const ood = tally(results, (u) => u.intent === 'unknown');
  const rtf = all.elapsedMs / 1000 / all.seconds;
  console.log(`${mode.name}: word accuracy ${pct(all.words - all.errors, all.words)} %, intents ${pct(all.intentsRight, all.intents)} %, out-of-domain rejected ${pct(ood.intentsRight, ood.intents)} %, RTF ${rtf.toFixed(3)}`);
  rows.push(`| ${mode.name} | ${pct(all.words - all.errors, all.words)} | ${pct(all.intentsRight, all.intents)} | ${pct(ood.intentsRight, ood.intents)} | ${rtf.toFixed(3)} | ${(all.elapsedMs / all.intents).toFixed(0)} |`);
  if (mode === selected[0]) {
    lines.push('', `Default mode by voice and condition (in-domain: word accuracy % / intent accuracy %; out-of-domain: rejected %):`, '');
    lines.push(`| voice | ${conditions.map((c) => c.name).join(' | ')} |`, `|---|${conditions.map(() => '---:').join('|')}|`);
    for (const voice of Object.keys(USER_VOICES)) {
      const cells = conditions.map((c) => {
        const t = tally(results, (u) => u.voice === voice && u.condition === c.name && u.intent !== 'unknown');
        const o = tally(results, (u) => u.voice === voice && u.condition === c.name && u.intent === 'unknown');
        return `${pct(t.words - t.errors, t.words)} / ${pct(t.intentsRight, t.intents)}; ${pct(o.intentsRight, o.intents)}`;
      });
      lines.push(`| ${voice} (${USER_VOICES[voice]!.espeak}) | ${cells.join(' | ')} |`);
    }
    // Per intent (all voices and conditions): which commands the grammar holds well and which it confuses.
    lines.push('', 'Default mode by intent (all voices and conditions; `unknown` is the out-of-domain sentences, right when rejected):', '');
    lines.push('| intent | utterances | word accuracy % | intent accuracy % |', '|---|---:|---:|---:|');
    for (const intent of [...new Set(corpus.map((u) => u.intent))]) {
      const t = tally(results, (u) => u.intent === intent);
      lines.push(`| ${intent} | ${t.intents} | ${intent === 'unknown' ? '—' : pct(t.words - t.errors, t.words)} | ${pct(t.intentsRight, t.intents)} |`);
    }
    for (const r of results) {
      const state = r.utterance.intent === 'colour' ? { awaiting: 'colour' as const } : {};
      const intent = classify(normaliseTranscript(r.text), state);
      if (intent !== r.utterance.intent && !(r.utterance.intent === 'unknown' && intent === 'silence')) {
        failures.push(`- ${r.utterance.voice}/${r.utterance.condition}: "${r.utterance.words}" → "${r.text}"`);
      }
    }
  }
}

// Where the rejection threshold sits: confidence quantiles of right in-domain decodes and of out-of-domain sentences.
const quantiles = (values: number[]): string => {
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number): string => (v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))]!.toFixed(1) : '—');
  return `min ${q(0)}, 5 % ${q(0.05)}, median ${q(0.5)}, 95 % ${q(0.95)}, max ${q(1)}`;
};
const confidenceLines = [
  '',
  'Confidence ((command score − free-word-loop score) / frames) of the default mode, per condition:',
  '',
  ...conditions.flatMap((c) => [
    `- ${c.name}, in-domain decoded right: ${quantiles(confidences.filter((x) => x.u.condition === c.name && x.u.intent !== 'unknown' && x.right).map((x) => x.confidence))}`,
    `- ${c.name}, out-of-domain: ${quantiles(confidences.filter((x) => x.u.condition === c.name && x.u.intent === 'unknown').map((x) => x.confidence))}`,
  ]),
];
console.log(confidenceLines.join('\n'));

// Wake-word verification: a span holding "Alexa" against spans holding other words, each voice and condition.
const wakeLines: string[] = [];
{
  const verifier = new WakeWordVerifier({ paths, timeoutMs: BENCH_TIMEOUT_MS });
  const others = ['hello', 'election', 'a letter', 'excuse me', 'okay', 'hey there'];
  let trueOk = 0;
  let trueN = 0;
  let falseOk = 0;
  let falseN = 0;
  let ms = 0;
  const misses: string[] = [];
  const wakeTrue: number[] = [];
  const wakeFalse: number[] = [];
  for (const voice of Object.keys(USER_VOICES)) {
    for (const condition of conditions) {
      for (const word of ['alexa', ...others]) {
        const spoken = tts.synthesize(word === 'alexa' ? 'Alexa,' : `${word},`, USER_VOICES[voice]!);
        const command = tts.synthesize('what time is it', USER_VOICES[voice]!);
        const clean = concat(silence(SAMPLE_RATE / 2), spoken, command, silence(SAMPLE_RATE / 2));
        const samples = condition.snrDb === undefined ? clean : addNoise(clean, condition.snrDb, 7);
        const v = await verifier.verify(samples, SAMPLE_RATE / 2, SAMPLE_RATE / 2 + spoken.length);
        ms += v.elapsedMs;
        (word === 'alexa' ? wakeTrue : wakeFalse).push(v.confidence);
        if (word === 'alexa') {
          trueN++;
          if (v.verified) trueOk++;
          else misses.push(`- ${voice}/${condition.name}: "Alexa" refused (confidence ${v.confidence.toFixed(1)}, heard "${v.heard}")`);
        } else {
          falseN++;
          if (!v.verified) falseOk++;
          else misses.push(`- ${voice}/${condition.name}: "${word}" accepted (confidence ${v.confidence.toFixed(1)})`);
        }
      }
    }
  }
  verifier.close();
  console.log(`wake word: true wakes accepted ${trueOk}/${trueN}, false wakes refused ${falseOk}/${falseN}, ${(ms / (trueN + falseN)).toFixed(0)} ms each`);
  wakeLines.push(
    '',
    '## Wake-word verification',
    '',
    `Spans of "Alexa" and of ${others.map((o) => `"${o}"`).join(', ')} (each followed by "what time is it"), ${Object.keys(USER_VOICES).length} voices × ${conditions.map((c) => c.name).join(', ')}, checked by WakeWordVerifier (150 ms margin):`,
    '',
    '| true wakes accepted | false wakes refused | ms per check |',
    '|---:|---:|---:|',
    `| ${trueOk}/${trueN} | ${falseOk}/${falseN} | ${(ms / (trueN + falseN)).toFixed(0)} |`,
    '',
    `Confidence of true wakes: ${quantiles(wakeTrue)}; of false wakes: ${quantiles(wakeFalse)}.`,
    '',
    ...(misses.length ? misses : ['- no errors']),
  );
}

const report = [
  '# Recogniser figures',
  '',
  `Measured by \`node build/bench/voice-asr.js${quick ? ' --quick' : ''}\` (bench/voice-asr.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
    `${paths.binary} with the Debian en-us model. Test set: ${corpus.length} utterances, each cut by the VAD (emulator/voice/vad.ts) with 80 ms margins as the virtual device cuts it, ${audioSeconds.toFixed(0)} s of audio ` +
    `(each assistant phrase and four out-of-domain sentences × ${Object.keys(USER_VOICES).length} eSpeak NG voices × ${conditions.map((c) => c.name).join(', ')}), ` +
    '500 ms of silence before and 1 s after each. RTF = recognition wall time (process start included) / audio duration, two recognitions at a time on two cores.',
  '',
  '| mode | word accuracy % (in-domain) | intent accuracy % | out-of-domain rejected % | RTF | ms per utterance |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows,
  ...lines,
  '',
  `Utterances the default mode got the wrong intent for (${failures.length}):`,
  '',
  ...(failures.length ? failures : ['- none']),
  ...confidenceLines,
  ...wakeLines,
  '',
];
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'voice-asr.md'), report.join('\n'));
console.log('wrote docs/figures/voice-asr.md');
