// Speech synthesis for the virtual device: eSpeak NG compiled to WebAssembly
// (@echogarden/espeak-ng-emscripten, voices inside the npm package, no system library), resampled from its
// 22,050 Hz to the 16 kHz of the AIS audio path (docs/protocol.md §5). See docs/voice.md for the choice and
// the measured speed.
import createESpeak, { type ESpeakNGWorker } from '@echogarden/espeak-ng-emscripten';
import { SAMPLE_RATE, resample } from './pcm.js';

/** A synthetic speaker: an eSpeak NG voice name (a variant after '+'), words per minute and pitch (0–99). */
export interface Voice {
  /**
   * A voice file name with an optional variant: 'en-us', 'en-us+f3', 'en+m3' ('en' is British English;
   * 'en-gb' is not a file name and is refused). eSpeak accepts an unknown variant silently.
   */
  espeak: string;
  wordsPerMinute?: number;
  pitch?: number;
}

/** The assistant's own voice. */
export const ASSISTANT_VOICE: Voice = { espeak: 'en-us+f3', wordsPerMinute: 170, pitch: 55 };

/**
 * Users for tests and the demo: different accents, sexes, rates and pitches, so recognition is not tuned
 * to one voice. docs/voice.md measures the recogniser on each.
 */
export const USER_VOICES: Readonly<Record<string, Voice>> = {
  'us-male': { espeak: 'en-us', wordsPerMinute: 165, pitch: 45 },
  'us-female': { espeak: 'en-us+f2', wordsPerMinute: 175, pitch: 60 },
  'gb-male': { espeak: 'en+m3', wordsPerMinute: 155, pitch: 40 },
  'us-klatt': { espeak: 'en-us+klatt', wordsPerMinute: 185, pitch: 50 },
};

let shared: Promise<ESpeakNGWorker> | undefined;

// One eSpeak instance per process: the module loads 24 MB of voice data (measured 0.3 s on the CI machine's
// kind), and eSpeak keeps global state, so two instances would gain nothing.
// eSpeak seeds its random numbers (the voice's jitter and noise) from the clock when it initialises, so the same
// text came out different in every process: the benches' scenarios and corpora changed from run to run, and a test
// measured on them passed or failed by chance. A fixed clock while it initialises makes a process's synthesis
// reproducible (the same calls in the same order give the same samples).
const ESPEAK_SEED_TIME_MS = 1e12;

function espeak(): Promise<ESpeakNGWorker> {
  shared ??= createESpeak().then((module) => {
    const now = Date.now;
    Date.now = () => ESPEAK_SEED_TIME_MS;
    try {
      return new module.eSpeakNGWorker();
    } finally {
      Date.now = now;
    }
  });
  return shared;
}

export class SpeechSynthesizer {
  readonly sampleRate = SAMPLE_RATE;
  private readonly engine: ESpeakNGWorker;

  /** Use SpeechSynthesizer.create(). */
  constructor(engine: ESpeakNGWorker) {
    this.engine = engine;
  }

  static async create(): Promise<SpeechSynthesizer> {
    return new SpeechSynthesizer(await espeak());
  }

  /** `text` spoken by `voice`, as 16 kHz mono samples. Synchronous: about 40 ms per second of speech (docs/voice.md). */
  synthesize(text: string, voice: Voice = ASSISTANT_VOICE): Int16Array {
    if (typeof text !== 'string') throw new TypeError(`text expected as a string, got ${typeof text}`);
    if (typeof voice?.espeak !== 'string' || voice.espeak === '') throw new TypeError(`a voice with an espeak name expected, got ${JSON.stringify(voice)}`);
    const engine = this.engine;
    if (engine.set_voice(voice.espeak) !== 0) throw new RangeError(`eSpeak NG has no voice ${JSON.stringify(voice.espeak)}`);
    engine.set_rate(voice.wordsPerMinute ?? 175);
    engine.set_pitch(voice.pitch ?? 50);
    const chunks: Int16Array[] = [];
    let total = 0;
    engine.synthesize(text, (samples) => {
      chunks.push(samples);
      total += samples.length;
      return false;
    });
    const native = new Int16Array(total);
    let at = 0;
    for (const chunk of chunks) {
      native.set(chunk, at);
      at += chunk.length;
    }
    return resample(native, engine.get_samplerate(), SAMPLE_RATE);
  }
}
