// The scripted user utterances the virtual device is measured and tested on: every phrase the assistant
// knows and a few it does not, spoken by each synthetic user voice, clean and with white noise, framed as
// the device sends them (silence before and after). Deterministic: same voices, same noise seeds.
import { samplePhrases, type Intent } from './assistant.js';
import { SAMPLE_RATE, addNoise, concat, silence } from './pcm.js';
import { USER_VOICES, type SpeechSynthesizer, type Voice } from './tts.js';

export interface ScriptedUtterance {
  /** What the user says, as words (the reference for word accuracy). */
  words: string;
  /** The intent the assistant should find; 'unknown' for out-of-domain sentences. */
  intent: Intent;
}

/** Sentences outside the assistant's domain: the recogniser should not turn them into commands. */
export const OUT_OF_DOMAIN: readonly ScriptedUtterance[] = [
  { words: 'play some music', intent: 'unknown' },
  { words: 'turn on the lights', intent: 'unknown' },
  { words: 'how is the weather', intent: 'unknown' },
  { words: 'call my mother', intent: 'unknown' },
];

/** Every assistant phrase once, the wake word before those a user says first in a turn. */
export function scriptedUtterances(options: { outOfDomain?: boolean } = {}): ScriptedUtterance[] {
  const inDomain = samplePhrases().map(({ intent, text }) => ({
    // A colour answers a follow-up question: the microphone is open already, no wake word.
    words: intent === 'colour' ? text : `alexa ${text}`,
    intent,
  }));
  return options.outOfDomain === false ? inDomain : [...inDomain, ...OUT_OF_DOMAIN.map((u) => ({ ...u, words: `alexa ${u.words}` }))];
}

export interface Condition {
  name: string;
  /** Signal-to-noise ratio of added white noise; none when absent. */
  snrDb?: number;
}

export const CONDITIONS: readonly Condition[] = [{ name: 'clean' }, { name: 'snr20', snrDb: 20 }, { name: 'snr10', snrDb: 10 }];

export interface RenderedUtterance extends ScriptedUtterance {
  voice: string;
  condition: string;
  samples: Int16Array;
  /** Where the speech sits in `samples`, in samples. */
  speechStart: number;
  speechEnd: number;
}

/** 500 ms before (the wake-word pre-roll, docs/protocol.md §5), 1 s after: a VAD needs silence to end on. */
export const LEAD_SAMPLES = SAMPLE_RATE / 2;
export const TAIL_SAMPLES = SAMPLE_RATE;

/** Speaks `words` in `voice` with silence around it and optional noise over all of it. */
export function renderUtterance(tts: SpeechSynthesizer, words: string, voice: Voice, condition: Condition = { name: 'clean' }, seed = 1): {
  samples: Int16Array;
  speechStart: number;
  speechEnd: number;
} {
  // eSpeak pauses at a comma, as a person does after the wake word.
  const spoken = words.startsWith('alexa ') ? `Alexa, ${words.slice(6)}` : words;
  const speech = tts.synthesize(spoken, voice);
  const clean = concat(silence(LEAD_SAMPLES), speech, silence(TAIL_SAMPLES));
  const samples = condition.snrDb === undefined ? clean : addNoise(clean, condition.snrDb, seed);
  return { samples, speechStart: LEAD_SAMPLES, speechEnd: LEAD_SAMPLES + speech.length };
}

/** The whole test set: utterances × voices × conditions. */
export function renderCorpus(
  tts: SpeechSynthesizer,
  options: { voices?: readonly string[]; conditions?: readonly Condition[]; utterances?: readonly ScriptedUtterance[] } = {},
): RenderedUtterance[] {
  const voices = options.voices ?? Object.keys(USER_VOICES);
  const out: RenderedUtterance[] = [];
  let seed = 1;
  for (const voice of voices) {
    const spec = USER_VOICES[voice];
    if (!spec) throw new RangeError(`a voice of ${Object.keys(USER_VOICES).join(', ')} expected, got ${voice}`);
    for (const condition of options.conditions ?? CONDITIONS) {
      for (const u of options.utterances ?? scriptedUtterances()) {
        out.push({ ...u, voice, condition: condition.name, ...renderUtterance(tts, u.words, spec, condition, seed++) });
      }
    }
  }
  return out;
}

/** Word-level edit distance (substitutions + deletions + insertions) between two word strings. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const ref = reference.split(/\s+/).filter(Boolean);
  const hyp = hypothesis.split(/\s+/).filter(Boolean);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return { errors: previous[hyp.length]!, words: ref.length };
}
