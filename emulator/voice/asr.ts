// Offline speech recognition for the virtual device: CMU PocketSphinx (Debian `pocketsphinx` and
// `pocketsphinx-en-us`) constrained by a JSGF grammar made from the assistant's phrases, with a loop of
// common words beside it so that an utterance outside the grammar comes out as those words (and the
// assistant says "I didn't get that") instead of being forced onto the nearest command.
// The same idea verifies the wake word: "alexa" against the filler loop. docs/voice.md has the measured
// accuracy and speed, and why no npm-only engine was chosen.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { COLOURS, NUMBER_WORDS, PHRASES, UNIT_SECONDS, type DialogState } from './assistant.js';
import { ENDPOINT_NAMES } from './endpoint-intents.js';
import { GENRES } from './music.js';
import { SAMPLE_RATE, wavFile } from './pcm.js';

export const POCKETSPHINX_INSTALL_HINT = 'install it with: apt-get install pocketsphinx pocketsphinx-en-us';

const BINARY = 'pocketsphinx_batch';
const MODEL_DIRS = ['/usr/share/pocketsphinx/model/en-us', '/usr/local/share/pocketsphinx/model/en-us'];

export interface PocketsphinxPaths {
  binary: string;
  /** Acoustic model directory (`-hmm`). */
  hmm: string;
  /** Pronunciation dictionary (cmudict-en-us.dict). */
  dict: string;
  /** The general English trigram model, for the 'lm' mode only. */
  lm: string;
  /** The phone trigram model, for the 'allphone' mode only. */
  phoneLm: string;
}

function isFile(path: string, mode = constants.R_OK): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Where pocketsphinx and its US English model are: $POCKETSPHINX and $POCKETSPHINX_MODEL override. */
export function findPocketsphinx(): PocketsphinxPaths | undefined {
  const override = process.env.POCKETSPHINX;
  const binary = override
    ? (isFile(override, constants.X_OK) ? override : undefined)
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, BINARY)).find((p) => isFile(p, constants.X_OK));
  if (!binary) return undefined;
  const modelDirs = process.env.POCKETSPHINX_MODEL ? [process.env.POCKETSPHINX_MODEL] : MODEL_DIRS;
  for (const dir of modelDirs) {
    const paths = { binary, hmm: join(dir, 'en-us'), dict: join(dir, 'cmudict-en-us.dict'), lm: join(dir, 'en-us.lm.bin'), phoneLm: join(dir, 'en-us-phone.lm.bin') };
    if (isFile(join(paths.hmm, 'mdef')) && isFile(paths.dict)) return paths;
  }
  return undefined;
}

/** undefined when pocketsphinx and its model are installed, else one line ending in the install hint. */
export function pocketsphinxMissingHint(): string | undefined {
  if (findPocketsphinx()) return undefined;
  return `${BINARY} or its en-us model not found (PATH, ${MODEL_DIRS.join(', ')}); ${POCKETSPHINX_INSTALL_HINT}`;
}

/**
 * Common words the grammar's filler loop is made of: what the recogniser may hear instead of a command or
 * the wake word. None of them is a keyword of an intent (emulator/voice/assistant.ts `classify`), so an
 * utterance decoded as filler is never taken for a command.
 */
export const FILLER_WORDS: readonly string[] = (
  'a an and are at be but by can could do does for from get go going have he her here him his how if in ' +
  'into just know like look make me more much music no not now of off okay on one or our out over play ' +
  'put right see set she so some song that the their them then there these they thing think this to two ' +
  'turn up us want was we weather well were when where which who why will with would yes you your hello ' +
  'hey hi thanks thank lights light next call open find how many news election letter ' +
  'lexus sand excuse sorry ok'
).split(' ');

let cmudict: Map<string, string[]> | undefined;

function pronunciations(dictPath: string): Map<string, string[]> {
  if (cmudict) return cmudict;
  // 134,723 lines, 3.6 MB; read once. Alternates are spelled word(2), word(3).
  cmudict = new Map();
  for (const line of readFileSync(dictPath, 'utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const word = line.slice(0, space).replace(/\(\d+\)$/, '');
    const list = cmudict.get(word) ?? [];
    list.push(line);
    cmudict.set(word, list);
  }
  return cmudict;
}

/**
 * The JSGF grammar of what the assistant understands, an optional wake word first. While the assistant
 * waits for a colour, the colour answers join the commands; otherwise they stay out: measured, "i like
 * <colour>" otherwise catches a tenth of the commands (docs/voice.md).
 */
export function assistantGrammar(options: { awaiting?: DialogState['awaiting']; filler?: boolean } = {}): string {
  const commands: string[] = [];
  for (const [intent, phrases] of Object.entries(PHRASES)) {
    if (intent === 'colour' && options.awaiting !== 'colour') continue;
    commands.push(...phrases);
  }
  return [
    '#JSGF V1.0;',
    'grammar assistant;',
    options.filler ? 'public <utterance> = [ alexa ] ( <command> | <filler>+ );' : 'public <utterance> = [ alexa ] <command> ;',
    `<command> = ${commands.join(' | ')} ;`,
    `<colour> = ${COLOURS.join(' | ')} ;`,
    `<number> = ${Object.keys(NUMBER_WORDS).filter((w) => NUMBER_WORDS[w]! < 20).join(' | ')} | <tens> [ <digit> ] ;`,
    `<tens> = ${Object.keys(NUMBER_WORDS).filter((w) => NUMBER_WORDS[w]! >= 20 && NUMBER_WORDS[w]! % 10 === 0).join(' | ')} ;`,
    `<digit> = ${Object.keys(NUMBER_WORDS).filter((w) => NUMBER_WORDS[w]! >= 1 && NUMBER_WORDS[w]! <= 9).join(' | ')} ;`,
    `<unit> = ${Object.keys(UNIT_SECONDS).join(' | ')} ;`,
    `<hour> = ${Object.keys(NUMBER_WORDS).filter((w) => NUMBER_WORDS[w]! >= 1 && NUMBER_WORDS[w]! <= 12).join(' | ')} ;`,
    `<endpoint> = ${ENDPOINT_NAMES.join(' | ')} ;`,
    `<genre> = ${GENRES.join(' | ')} ;`,
    ...(options.filler ? [`<filler> = ${FILLER_WORDS.join(' | ')} ;`] : []),
    '',
  ].join('\n');
}

/**
 * A free loop over every word of the assistant's grammar and FILLER_WORDS: the best fit any sentence made
 * of those words gets. Its acoustic score is the yardstick for rejecting a command decode (Recognizer).
 */
export function wordLoopGrammar(): string {
  const words = new Set([...grammarWords(assistantGrammar({ awaiting: 'colour' })), ...FILLER_WORDS]);
  return ['#JSGF V1.0;', 'grammar loop;', `public <loop> = ( ${[...words].join(' | ')} )+ ;`, ''].join('\n');
}

function grammarWords(jsgf: string): string[] {
  const body = jsgf.split('\n').filter((l) => !l.startsWith('#') && !l.startsWith('grammar ')).join(' ');
  const words = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\/[^/]*\//g, ' ')
    .replace(/\bpublic\b/g, ' ')
    .replace(/[=;|()[\]+*]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  return [...new Set(words)];
}

export interface RecognizedWord {
  word: string;
  startMs: number;
  endMs: number;
}

export interface Recognition {
  /** The words heard, lower case, fillers and silences removed; '' for none. */
  text: string;
  words: RecognizedWord[];
  /** The decoder's acoustic log score of the best path (more negative = worse fit), and its length in 10 ms frames. */
  acousticScore: number;
  frames: number;
  /** Wall time of the recognition, process start included. */
  elapsedMs: number;
}

export interface PocketsphinxOptions {
  /**
   * A JSGF grammar (assistantGrammar(), wakeWordGrammar()); 'lm' for the general English trigram model;
   * 'allphone' for free phone decoding (words are phones then), the best acoustic fit any speech can get.
   */
  grammar: string | 'lm' | 'allphone';
  /** Found with findPocketsphinx() when absent. */
  paths?: PocketsphinxPaths;
  /** Decoder arguments that replace or add to ours, e.g. { '-beam': '1e-60' }: for measurements. */
  decoderArgs?: Readonly<Record<string, string>>;
  /** Kill a recognition that takes longer. Default 20,000. */
  timeoutMs?: number;
}

/**
 * One `pocketsphinx_batch` process per utterance: the whole utterance is one decode, where
 * pocketsphinx_continuous would cut it at its own pauses (after "Alexa,") and force each piece onto the
 * grammar. Grammar and dictionary (only the grammar's words, so start-up stays near 50 ms) are written
 * once to a temp directory, removed by close().
 */
export class PocketsphinxRecognizer {
  private readonly paths: PocketsphinxPaths;
  private readonly dir: string;
  private readonly args: string[];
  private readonly timeoutMs: number;
  private counter = 0;
  private closed = false;

  constructor(options: PocketsphinxOptions) {
    if (typeof options?.grammar !== 'string' || options.grammar === '') throw new TypeError('options.grammar expected: JSGF text, "lm" or "allphone"');
    const paths = options.paths ?? findPocketsphinx();
    if (!paths) throw new Error(pocketsphinxMissingHint());
    this.paths = paths;
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.dir = mkdtempSync(join(tmpdir(), 'ais-asr-'));
    this.args = [
      '-hmm', paths.hmm, '-logfn', '/dev/null', '-samprate', String(SAMPLE_RATE),
      // Audio files, not feature files: skip the 44-byte WAV header (without -adchdr it is decoded as audio).
      '-adcin', 'yes', '-adchdr', '44', '-cepdir', this.dir, '-cepext', '.wav',
      // Measured on the test set (docs/voice.md): the default beams prune the right path for eSpeak voices
      // (empty results), and silence/noise fillers between words swallow short words.
      '-beam', '1e-80', '-pbeam', '1e-80', '-wbeam', '1e-60', '-fsgusefiller', 'no',
    ];
    try {
      if (options.grammar === 'lm') {
        this.args.push('-lm', paths.lm, '-dict', paths.dict);
      } else if (options.grammar === 'allphone') {
        this.args.push('-allphone', paths.phoneLm);
      } else {
        const dict = pronunciations(paths.dict);
        const words = grammarWords(options.grammar);
        const missing = words.filter((w) => !dict.has(w));
        if (missing.length) throw new RangeError(`grammar words without a pronunciation in ${paths.dict}: ${missing.join(', ')}`);
        writeFileSync(join(this.dir, 'grammar.gram'), options.grammar);
        writeFileSync(join(this.dir, 'words.dict'), words.flatMap((w) => dict.get(w)!).join('\n') + '\n');
        this.args.push('-jsgf', join(this.dir, 'grammar.gram'), '-dict', join(this.dir, 'words.dict'));
      }
      for (const [name, value] of Object.entries(options.decoderArgs ?? {})) {
        const at = this.args.indexOf(name);
        if (at >= 0) this.args[at + 1] = value;
        else this.args.push(name, value);
      }
    } catch (error) {
      rmSync(this.dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The words in 16 kHz mono `samples`. */
  recognize(samples: Int16Array): Promise<Recognition> {
    if (this.closed) return Promise.reject(new TypeError('recognizer closed'));
    if (!(samples instanceof Int16Array)) return Promise.reject(new TypeError(`samples expected as an Int16Array, got ${typeof samples}`));
    const started = performance.now();
    const id = `u${this.counter++}`;
    const file = (ext: string): string => join(this.dir, id + ext);
    writeFileSync(file('.wav'), wavFile(samples));
    writeFileSync(file('.ctl'), `${id}\n`);
    const cleanup = (): void => {
      for (const ext of ['.wav', '.ctl', '.seg']) rmSync(file(ext), { force: true });
    };
    return new Promise<Recognition>((resolve, reject) => {
      const args = [...this.args, '-ctl', file('.ctl'), '-hypseg', file('.seg'), '-hyp', '/dev/null'];
      const child = spawn(this.paths.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => (err = (err + t).slice(-2000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        cleanup();
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        let seg = '';
        try {
          seg = readFileSync(file('.seg'), 'utf8');
        } catch {
          // reported below
        }
        cleanup();
        if (code !== 0 || seg === '') {
          reject(new Error(`${BINARY} exited with ${signal ?? `code ${code}`} and no result: ${err.trim().split('\n').slice(-3).join(' | ')}`));
          return;
        }
        resolve({ ...parseHypseg(seg), elapsedMs: performance.now() - started });
      });
    });
  }

  /** Removes the temp directory. Safe to call twice. */
  close(): void {
    this.closed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** pocketsphinx frames are 10 ms (`-frate 100`). */
const FRAME_MS = 10;

/**
 * One `-hypseg` line: `uttid S scale T total A acoustic L language` then per word
 * `startFrame acoustic language word`, then the end frame. Silence and filler tokens (<s>, </s>, <sil>,
 * [NOISE], (NULL) for a grammar's empty transitions) are dropped, alternates `word(2)` named by their word.
 */
export function parseHypseg(line: string): { text: string; words: RecognizedWord[]; acousticScore: number; frames: number } {
  const tokens = line.trim().split(/\s+/);
  const at = tokens.indexOf('A');
  const acousticScore = at > 0 ? Number(tokens[at + 1]) : NaN;
  const words: RecognizedWord[] = [];
  const body = at > 0 ? tokens.slice(at + 4) : [];
  const frames = Number(body[body.length - 1] ?? 0);
  for (let i = 0; i + 3 < body.length; i += 4) {
    const word = body[i + 3]!.replace(/\(\d+\)$/, '');
    const startFrame = Number(body[i]);
    const endFrame = Number(body[i + 4] ?? frames);
    if (word === '(NULL)' || word.startsWith('<') || word.startsWith('[') || word.startsWith('+')) continue;
    words.push({ word, startMs: startFrame * FRAME_MS, endMs: endFrame * FRAME_MS });
  }
  return { text: words.map((w) => w.word).join(' '), words, acousticScore, frames };
}

/**
 * Per-frame acoustic score of the command decode minus that of the free word loop below which the
 * command is rejected (the user said something else). Measured on the test set (docs/figures/voice-asr.md)
 * with the alert commands and the word insertion penalty below: right in-domain decodes score above −18 clean
 * and −21.5 at 10 dB SNR for 95 % of them; out-of-domain sentences forced onto a command have a median near
 * −20.5. −22 keeps the commands and rejects the clearer part of the rest (−16, the threshold before the
 * penalty, lost 13 % of the right commands).
 */
export const REJECT_BELOW = -22;

/**
 * A word insertion penalty for the command grammars (pocketsphinx's default is 0.65). With the alert and volume
 * commands in the grammar, long phrases ("set a timer for two hours") swallowed short ones ("alexa stop"); on
 * every scripted phrase but the colours, 4 voices, clean (140 turns, wake word and a pause first), the intent was
 * right for 125 with the default, 129 with 1e-2 and 1e-3; 1e-4 took "what time is it" for "what's the date". Not for the free word loops, whose scores are the yardstick.
 */
export const COMMAND_DECODER_ARGS: Readonly<Record<string, string>> = { '-wip': '1e-2' };

export interface AssistantRecognition extends Recognition {
  /** The command decode fits much worse than free words: speech, but not something the assistant knows. */
  rejected: boolean;
  /** (command score − loop score) / frames; 0 or more is a perfect fit. */
  confidence: number;
  /** What the free word loop heard (for logs). */
  loopText: string;
}

/**
 * The recogniser the virtual device uses: the command grammar for the dialog state and, at the same
 * time, the free word loop, whose score decides whether the command is believed.
 */
export class AssistantRecognizer {
  private readonly main: PocketsphinxRecognizer;
  private readonly followUp: PocketsphinxRecognizer;
  private readonly loop: PocketsphinxRecognizer;
  private readonly rejectBelow: number;

  /** `timeoutMs` per recognition (PocketsphinxOptions): a bench on a loaded machine allows more. */
  constructor(options: { paths?: PocketsphinxPaths; rejectBelow?: number; timeoutMs?: number } = {}) {
    const paths = options.paths ?? findPocketsphinx();
    if (!paths) throw new Error(pocketsphinxMissingHint());
    this.rejectBelow = options.rejectBelow ?? REJECT_BELOW;
    const timeoutMs = options.timeoutMs;
    this.main = new PocketsphinxRecognizer({ grammar: assistantGrammar(), paths, decoderArgs: COMMAND_DECODER_ARGS, timeoutMs });
    this.followUp = new PocketsphinxRecognizer({ grammar: assistantGrammar({ awaiting: 'colour' }), paths, decoderArgs: COMMAND_DECODER_ARGS, timeoutMs });
    this.loop = new PocketsphinxRecognizer({ grammar: wordLoopGrammar(), paths, timeoutMs });
  }

  async recognize(samples: Int16Array, state: DialogState = {}): Promise<AssistantRecognition> {
    const started = performance.now();
    const grammar = state.awaiting === 'colour' ? this.followUp : this.main;
    const [command, loop] = await Promise.all([grammar.recognize(samples), this.loop.recognize(samples)]);
    const confidence = command.frames > 0 ? (command.acousticScore - loop.acousticScore) / command.frames : -Infinity;
    return { ...command, elapsedMs: performance.now() - started, confidence, rejected: confidence < this.rejectBelow, loopText: loop.text };
  }

  close(): void {
    this.main.close();
    this.followUp.close();
    this.loop.close();
  }
}

/**
 * Per-frame score of "alexa" minus the filler loop's below which a wake word is refused: true wakes
 * measured down to −11.9 at 10 dB SNR; "excuse me", "okay", "hey there" mostly below (docs/voice.md).
 */
export const WAKE_WORD_REJECT_BELOW = -11;

export interface WakeWordVerification {
  verified: boolean;
  /** (alexa score − filler loop score) / frames over the span. */
  confidence: number;
  /** What the filler loop heard in the span. */
  heard: string;
  elapsedMs: number;
}

/**
 * Cloud-based wake-word verification (AVS's, which the AMA FAQ requires too): the span the device says
 * holds "Alexa" is decoded twice, forced onto "alexa" and as free common words; a span where "alexa"
 * fits much worse than free words was a false wake.
 */
export class WakeWordVerifier {
  private readonly alexa: PocketsphinxRecognizer;
  private readonly loop: PocketsphinxRecognizer;
  private readonly rejectBelow: number;
  /** Audio kept either side of the reported span: the device's indices are estimates. */
  readonly marginSamples: number;

  constructor(options: { paths?: PocketsphinxPaths; rejectBelow?: number; marginMs?: number; decoderArgs?: Record<string, string>; timeoutMs?: number } = {}) {
    const paths = options.paths ?? findPocketsphinx();
    if (!paths) throw new Error(pocketsphinxMissingHint());
    this.rejectBelow = options.rejectBelow ?? WAKE_WORD_REJECT_BELOW;
    this.marginSamples = Math.round(((options.marginMs ?? 150) * SAMPLE_RATE) / 1000);
    this.alexa = new PocketsphinxRecognizer({ grammar: '#JSGF V1.0;\ngrammar wake;\npublic <wake> = alexa ;\n', paths, decoderArgs: options.decoderArgs, timeoutMs: options.timeoutMs });
    this.loop = new PocketsphinxRecognizer({ grammar: ['#JSGF V1.0;', 'grammar other;', `public <other> = ( ${FILLER_WORDS.join(' | ')} )+ ;`, ''].join('\n'), paths, decoderArgs: options.decoderArgs, timeoutMs: options.timeoutMs });
  }

  /** Checks samples [beginSample, endSample) of `samples` (the stream from the microphone's opening offset). */
  async verify(samples: Int16Array, beginSample: number, endSample: number): Promise<WakeWordVerification> {
    if (!(beginSample >= 0 && endSample > beginSample)) throw new RangeError(`a span 0 ≤ begin < end expected, got [${beginSample}, ${endSample})`);
    const started = performance.now();
    const span = samples.slice(Math.max(0, beginSample - this.marginSamples), Math.min(samples.length, endSample + this.marginSamples));
    if (span.length < SAMPLE_RATE / 10) return { verified: false, confidence: -Infinity, heard: '', elapsedMs: 0 };
    const [alexa, loop] = await Promise.all([this.alexa.recognize(span), this.loop.recognize(span)]);
    const confidence = alexa.frames > 0 ? (alexa.acousticScore - loop.acousticScore) / alexa.frames : -Infinity;
    return { verified: confidence >= this.rejectBelow, confidence, heard: loop.text, elapsedMs: performance.now() - started };
  }

  close(): void {
    this.alexa.close();
    this.loop.close();
  }
}
