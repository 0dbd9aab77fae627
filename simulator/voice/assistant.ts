// The virtual device's assistant: a pure function from what the user said (and the dialog state) to what
// Alexa answers, and whether she expects an answer back (multi-turn, as AVS ExpectSpeech and AIS
// OpenMicrophone do: ais-protocol.md §4.4). No clock, no randomness: the caller passes both in.
// The phrase table below is also the recogniser's grammar (simulator/voice/asr.ts), so what the
// assistant understands and what the recogniser can hear stay one list.

export type Intent = 'time' | 'date' | 'joke' | 'stop' | 'name' | 'quiz' | 'colour' | 'recallColour' | 'unknown' | 'silence';

export interface DialogState {
  /** The question the assistant asked and waits an answer to. */
  awaiting?: 'colour';
  /** How often the current question was asked again because the answer was not understood. */
  reprompts?: number;
  /** Remembered for the rest of the session. */
  favouriteColour?: string;
  /** Which joke comes next (cycles through JOKES). */
  jokeIndex?: number;
}

export interface Answer {
  intent: Intent;
  /** What Alexa says; '' when she says nothing ("stop"). */
  text: string;
  /** Reopen the microphone after speaking (AIS OpenMicrophone; AVS ExpectSpeech). */
  expectSpeech?: { timeoutMs: number };
  /** The state for the next turn. */
  state: DialogState;
}

export interface AssistantContext {
  /** The time to tell: the caller's clock. */
  now: Date;
  /** IANA zone for time and date answers; the host's when absent. */
  timeZone?: string;
}

/** How long the device keeps the microphone open for a follow-up answer (AVS ExpectSpeech's usual 8 s). */
export const EXPECT_SPEECH_TIMEOUT_MS = 8000;

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'black', 'white', 'brown'] as const;

/** What the user can say, by intent; `<colour>` stands for one of COLOURS. */
export const PHRASES: Readonly<Record<Exclude<Intent, 'unknown' | 'silence'>, readonly string[]>> = {
  time: ['what time is it', "what's the time", 'what is the time', 'tell me the time'],
  date: ["what's the date", 'what is the date', 'what day is it', "what's today's date", 'what is today'],
  joke: ['tell me a joke', 'tell me another joke', 'make me laugh'],
  stop: ['stop', 'cancel', 'never mind', 'be quiet'],
  name: ["what's your name", 'what is your name', 'who are you'],
  quiz: ['ask me a question', 'ask me something'],
  colour: ['<colour>', 'my favourite colour is <colour>', 'i like <colour>', "it's <colour>"],
  recallColour: ["what's my favourite colour", 'what is my favourite colour'],
};

export const JOKES: readonly string[] = [
  'Why did the microcontroller go to school? To improve its memory.',
  'I told a joke about U D P. I am not sure you got it.',
  'There are ten kinds of people: those who understand binary, and those who do not.',
];

/** Lower case, words only, a leading wake word and "please" removed: what the intent rules read. */
export function normaliseTranscript(transcript: string): string {
  const words = transcript
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== 'please');
  while (words[0] === 'alexa') words.shift();
  return words.join(' ');
}

function colourIn(words: string[]): string | undefined {
  return words.find((w): w is (typeof COLOURS)[number] => (COLOURS as readonly string[]).includes(w));
}

/**
 * The intent of a normalised transcript, by keywords rather than whole phrases, so a recogniser that
 * hears "what's the time now" or drops a word still lands on the right intent.
 */
export function classify(text: string, state: DialogState = {}): Intent {
  if (text === '') return 'silence';
  const words = text.split(' ');
  const has = (...w: string[]): boolean => w.some((x) => words.includes(x));
  if (/^(stop|cancel|never mind|be quiet|shut up)$/.test(text)) return 'stop';
  if (has('colour', 'color') && has('my') && (has('what', "what's", 'whats'))) return 'recallColour';
  if (state.awaiting === 'colour' && colourIn(words)) return 'colour';
  if (has('time') && !has('joke')) return 'time';
  if (has('date', 'day', 'today', "today's")) return 'date';
  if (has('joke', 'laugh')) return 'joke';
  if (has('name') || text === 'who are you') return 'name';
  if (has('ask') && has('question', 'something')) return 'quiz';
  return 'unknown';
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** What Alexa answers to `transcript` in `state`. Pure: same input, same answer. */
export function respond(transcript: string, state: DialogState, context: AssistantContext): Answer {
  const text = normaliseTranscript(transcript);
  const intent = classify(text, state);
  const zone = context.timeZone ? { timeZone: context.timeZone } : {};
  // A follow-up question left unanswered is dropped by any other intent, as Alexa drops it.
  const base: DialogState = { favouriteColour: state.favouriteColour, jokeIndex: state.jokeIndex };
  switch (intent) {
    case 'time': {
      const time = context.now.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', hour12: true, ...zone });
      return { intent, text: `It is ${time}.`, state: base };
    }
    case 'date': {
      const date = context.now.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric', ...zone });
      return { intent, text: `Today is ${date}.`, state: base };
    }
    case 'joke': {
      const index = (state.jokeIndex ?? 0) % JOKES.length;
      return { intent, text: JOKES[index]!, state: { ...base, jokeIndex: index + 1 } };
    }
    case 'stop':
      return { intent, text: '', state: base };
    case 'name':
      return { intent, text: 'My name is Alexa. I am the voice of this emulator.', state: base };
    case 'quiz':
      return {
        intent,
        text: 'What is your favourite colour?',
        expectSpeech: { timeoutMs: EXPECT_SPEECH_TIMEOUT_MS },
        state: { ...base, awaiting: 'colour', reprompts: 0 },
      };
    case 'colour': {
      const colour = colourIn(text.split(' '))!;
      return { intent, text: `${capitalise(colour)}. Good choice! I will remember that.`, state: { ...base, favouriteColour: colour } };
    }
    case 'recallColour':
      return state.favouriteColour
        ? { intent, text: `Your favourite colour is ${state.favouriteColour}.`, state: base }
        : { intent, text: 'I do not know yet. Say: ask me a question.', state: base };
    case 'silence':
    case 'unknown':
      if (state.awaiting === 'colour' && (state.reprompts ?? 0) < 1) {
        // One more chance, then give up, as Alexa re-prompts once.
        return {
          intent,
          text: 'Sorry, which colour?',
          expectSpeech: { timeoutMs: EXPECT_SPEECH_TIMEOUT_MS },
          state: { ...base, awaiting: 'colour', reprompts: (state.reprompts ?? 0) + 1 },
        };
      }
      return { intent, text: intent === 'silence' ? '' : "Sorry, I didn't get that.", state: base };
  }
}

/** Every phrase of PHRASES with `<colour>` spelled out with the first colour: the scripted test sentences. */
export function samplePhrases(): { intent: Intent; text: string }[] {
  const out: { intent: Intent; text: string }[] = [];
  for (const [intent, phrases] of Object.entries(PHRASES) as [Intent, readonly string[]][]) {
    for (const phrase of phrases) out.push({ intent, text: phrase.replace('<colour>', 'blue') });
  }
  return out;
}
