// The virtual device's assistant: a pure function from what the user said (and the dialog state) to what
// Alexa answers, and whether she expects an answer back (multi-turn, as AVS ExpectSpeech and AIS
// OpenMicrophone do: docs/protocol.md §4.4). No clock, no randomness: the caller passes both in.
// Connected endpoints, notifications and music are answered in their own modules (endpoint-intents.ts,
// notification-intents.ts, music-intents.ts); their phrases are here with the rest.
// The phrase table below is also the recogniser's grammar (emulator/voice/asr.ts), so what the
// assistant understands and what the recogniser can hear stay one list.
import { ENDPOINT_NAMES, endpointAnswer, endpointIntent } from './endpoint-intents.js';
import { notificationIntent, notificationsAnswer } from './notification-intents.js';
import { classifyMusic, MUSIC_PHRASES, MUSIC_SLOTS, musicAnswer, type MusicAction, type MusicIntent } from './music-intents.js';

export type Intent = 'time' | 'date' | 'joke' | 'stop' | 'name' | 'quiz' | 'colour' | 'recallColour'
  | 'setTimer' | 'setAlarm' | 'setReminder' | 'cancelAlert' | 'listAlerts' | 'volumeUp' | 'volumeDown' | 'setVolume'
  | 'turnOn' | 'turnOff' | 'setBrightness' | 'readNotifications'
  | MusicIntent | 'unknown' | 'silence';

export type AlertKind = 'TIMER' | 'ALARM' | 'REMINDER';

/** What the device has, as the cloud keeps it (emulator/ais/alerts.ts): for listing and cancelling. */
export interface KnownAlert {
  token: string;
  type: AlertKind;
  at: Date;
}

/** What the service must do for an answer, beside speaking it. */
export type AssistantAction =
  | { kind: 'setAlert'; type: AlertKind; at: Date; label: string }
  | { kind: 'deleteAlerts'; tokens: string[] }
  | { kind: 'setVolume'; volume: number }
  | { kind: 'stopAlert' }
  /** A connected endpoint, by the name the user called it. */
  | { kind: 'endpoint'; name: string; power?: boolean; brightness?: number }
  | { kind: 'clearNotifications' }
  | MusicAction;

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
  /** Alerts to set or delete, a volume, an alert to stop (the service turns them into directives). */
  actions?: AssistantAction[];
  /** The state for the next turn. */
  state: DialogState;
}

export interface AssistantContext {
  /** The time to tell: the caller's clock. */
  now: Date;
  /** IANA zone for time and date answers; the host's when absent. */
  timeZone?: string;
  /** The device's alerts, for "what timers do I have" and "cancel my timer". */
  alerts?: readonly KnownAlert[];
  /** The device's speaker volume 0–100, for "volume up". */
  volume?: number;
  /** The device's connected endpoints by friendly name (emulator/ais/endpoints.ts). */
  endpoints?: readonly { name: string; power?: boolean; brightness?: number }[];
  /** Unread notifications, oldest first (emulator/ais/notifications.ts). */
  notifications?: readonly string[];
}

/** How long the device keeps the microphone open for a follow-up answer (AVS ExpectSpeech's usual 8 s). */
export const EXPECT_SPEECH_TIMEOUT_MS = 8000;

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'black', 'white', 'brown'] as const;

/**
 * Spoken numbers the grammar knows (`<number>`: a word, or a ten and a digit: "forty five"), with their values.
 * Measured: a slot of any two number words let short commands ("stop") decode as "set a two eight hour timer".
 */
export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  fifteen: 15, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, ninety: 90,
};
/** Seconds per spoken unit (`<unit>`). */
export const UNIT_SECONDS: Readonly<Record<string, number>> = { second: 1, seconds: 1, minute: 60, minutes: 60, hour: 3600, hours: 3600 };

/**
 * What the user can say, by intent; `<colour>` stands for one of COLOURS, `<number>` for one or two of
 * NUMBER_WORDS ("forty five"), `<unit>` for one of UNIT_SECONDS, `<hour>` for one to twelve.
 */
export const PHRASES: Readonly<Record<Exclude<Intent, 'unknown' | 'silence'>, readonly string[]>> = {
  time: ['what time is it', "what's the time", 'what is the time', 'tell me the time'],
  date: ["what's the date", 'what is the date', 'what day is it', "what's today's date", 'what is today'],
  joke: ['tell me a joke', 'tell me another joke', 'make me laugh'],
  stop: ['stop', 'cancel', 'never mind', 'be quiet'],
  name: ["what's your name", 'what is your name', 'who are you'],
  quiz: ['ask me a question', 'ask me something'],
  colour: ['<colour>', 'my favourite colour is <colour>', 'i like <colour>', "it's <colour>"],
  recallColour: ["what's my favourite colour", 'what is my favourite colour'],
  // Few variants on purpose: each one more made short commands ("alexa stop") decode as it (docs/voice.md).
  setTimer: ['set a timer for <number> <unit>'],
  setAlarm: ['set an alarm for <hour>'],
  setReminder: ['remind me in <number> <unit>'],
  cancelAlert: ['cancel my timer', 'cancel my alarm', 'cancel my reminder'],
  listAlerts: ['what timers do i have', 'what alarms do i have', 'what reminders do i have'],
  volumeUp: ['volume up'],
  volumeDown: ['volume down'],
  setVolume: ['set the volume to <number>'],
  // `<endpoint>` is one of ENDPOINT_NAMES.
  turnOn: ['turn on the <endpoint>'],
  turnOff: ['turn off the <endpoint>'],
  setBrightness: ['dim the <endpoint> to <number> percent'],
  readNotifications: ['what are my notifications', 'read my notifications'],
  ...MUSIC_PHRASES,
};

/** The sample filling of each slot in scripted phrases (samplePhrases). */
const SAMPLE_SLOTS: Readonly<Record<string, string>> = {
  '<colour>': 'blue', '<number>': 'ten', '<unit>': 'seconds', '<hour>': 'seven', '<endpoint>': ENDPOINT_NAMES[0]!, ...MUSIC_SLOTS,
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

/** The value of the number words in `words` (consecutive ones add up: "forty five"); undefined without any. */
export function numberIn(words: string[]): number | undefined {
  let value: number | undefined;
  for (const w of words) {
    if (!(w in NUMBER_WORDS)) {
      if (value !== undefined) break;
      continue;
    }
    value = (value ?? 0) + NUMBER_WORDS[w]!;
  }
  return value;
}

function durationIn(words: string[]): number | undefined {
  const n = numberIn(words);
  const unit = words.find((w) => w in UNIT_SECONDS);
  return n !== undefined && n > 0 && unit ? n * UNIT_SECONDS[unit]! : undefined;
}

function kindIn(words: string[]): AlertKind {
  if (words.some((w) => w === 'alarm' || w === 'alarms')) return 'ALARM';
  if (words.some((w) => w === 'reminder' || w === 'reminders')) return 'REMINDER';
  return 'TIMER';
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
  const feature = endpointIntent(words, numberIn(words)) ?? notificationIntent(words);
  if (feature) return feature;
  // Alerts and volume first: "time" in "how much time is left" and "timer" must not read as the time.
  if (has('cancel', 'delete') && has('timer', 'alarm', 'reminder')) return 'cancelAlert';
  if (has('have', 'left') && (has('timers', 'alarms', 'reminders') || has('time'))) return 'listAlerts';
  if (has('timer') && durationIn(words) !== undefined) return 'setTimer';
  if (has('remind') && durationIn(words) !== undefined) return 'setReminder';
  if ((has('alarm') || has('wake')) && numberIn(words) !== undefined) return 'setAlarm';
  if (has('louder') || (has('volume', 'turn') && has('up'))) return 'volumeUp';
  if (has('quieter') || (has('volume', 'turn') && has('down'))) return 'volumeDown';
  if (has('volume') && numberIn(words) !== undefined) return 'setVolume';
  const music = classifyMusic(words);
  if (music) return music;
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

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "10 seconds", "1 minute and 30 seconds", "2 hours". */
export function spokenDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  if (s >= 3600) parts.push(plural(Math.floor(s / 3600), 'hour'));
  if (s % 3600 >= 60) parts.push(plural(Math.floor((s % 3600) / 60), 'minute'));
  if (s % 60 > 0 || parts.length === 0) parts.push(plural(s % 60, 'second'));
  return parts.join(' and ');
}

const KIND_WORD: Record<AlertKind, string> = { TIMER: 'timer', ALARM: 'alarm', REMINDER: 'reminder' };

/** The alert intents' answers. */
function alertAnswer(intent: Intent, words: string[], context: AssistantContext, base: DialogState): Answer {
  const now = context.now.getTime();
  const zone = context.timeZone ? { timeZone: context.timeZone } : {};
  const clock = (d: Date) => d.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', hour12: true, ...zone });
  const alerts = context.alerts ?? [];
  switch (intent) {
    case 'setTimer':
    case 'setReminder': {
      const seconds = durationIn(words)!;
      const type: AlertKind = intent === 'setTimer' ? 'TIMER' : 'REMINDER';
      const label = spokenDuration(seconds);
      return {
        intent, state: base,
        text: type === 'TIMER' ? `${label[0]!.toUpperCase()}${label.slice(1)}, starting now.` : `Okay, I will remind you in ${label}.`,
        actions: [{ kind: 'setAlert', type, at: new Date(now + seconds * 1000), label }],
      };
    }
    case 'setAlarm': {
      const hour = numberIn(words)!;
      if (hour < 1 || hour > 12) return { intent, text: 'Sorry, I can set alarms for one to twelve o\'clock.', state: base };
      // The next time the clock shows hour:00, morning or evening, in the assistant's zone.
      const at = nextHour(context.now, hour, context.timeZone);
      return { intent, state: base, text: `Alarm set for ${clock(at)}.`, actions: [{ kind: 'setAlert', type: 'ALARM', at, label: clock(at) }] };
    }
    case 'cancelAlert': {
      const kind = kindIn(words);
      const matching = alerts.filter((a) => a.type === kind);
      if (matching.length === 0) return { intent, text: `You have no ${KIND_WORD[kind]}s.`, state: base };
      const text = matching.length === 1 ? `Your ${KIND_WORD[kind]} is cancelled.` : `Your ${matching.length} ${KIND_WORD[kind]}s are cancelled.`;
      return { intent, text, state: base, actions: [{ kind: 'deleteAlerts', tokens: matching.map((a) => a.token) }] };
    }
    case 'listAlerts': {
      const kind = words.includes('time') ? 'TIMER' : kindIn(words);
      const matching = alerts.filter((a) => a.type === kind).sort((a, b) => a.at.getTime() - b.at.getTime());
      if (matching.length === 0) return { intent, text: `You have no ${KIND_WORD[kind]}s.`, state: base };
      const each = matching.map((a) => (kind === 'ALARM' ? `one for ${clock(a.at)}` : `one with ${spokenDuration((a.at.getTime() - now) / 1000)} left`));
      return { intent, text: `You have ${plural(matching.length, KIND_WORD[kind])}: ${each.join(', ')}.`, state: base };
    }
    case 'volumeUp':
    case 'volumeDown': {
      const volume = Math.max(0, Math.min(100, (context.volume ?? 50) + (intent === 'volumeUp' ? 10 : -10)));
      return { intent, text: '', state: base, actions: [{ kind: 'setVolume', volume }] };
    }
    case 'setVolume': {
      const level = numberIn(words)!;
      // Alexa's volume is 0 to 10; AIS carries 0 to 100.
      if (level > 10) return { intent, text: 'The volume goes from zero to ten.', state: base };
      return { intent, text: '', state: base, actions: [{ kind: 'setVolume', volume: level * 10 }] };
    }
    default:
      throw new RangeError(`not an alert or volume intent: ${intent}`);
  }
}

/** The next instant after `now` at which the wall clock in `timeZone` reads hour:00 (1–12, AM or PM). */
function nextHour(now: Date, hour: number, timeZone?: string): Date {
  const zone = timeZone ? { timeZone } : {};
  for (let step = 1; step <= 24 * 4; step++) {
    const at = new Date(Math.ceil(now.getTime() / 900_000) * 900_000 + (step - 1) * 900_000);
    if (at.getTime() <= now.getTime()) continue;
    const parts = at.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', hour12: true, ...zone });
    if (parts.startsWith(`${hour}:00 `)) return at;
  }
  return new Date(now.getTime() + 12 * 3_600_000);
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
      // Also stops a ringing alert (the service knows whether one rings).
      return { intent, text: '', state: base, actions: [{ kind: 'stopAlert' }] };
    case 'setTimer':
    case 'setReminder':
    case 'setAlarm':
    case 'cancelAlert':
    case 'listAlerts':
    case 'volumeUp':
    case 'volumeDown':
    case 'setVolume':
      return alertAnswer(intent, text.split(' '), context, base);
    case 'turnOn':
    case 'turnOff':
    case 'setBrightness':
      return endpointAnswer(intent, text.split(' '), numberIn(text.split(' ')), context, base);
    case 'readNotifications':
      return notificationsAnswer(context, base);
    case 'playMusic':
    case 'nextTrack':
    case 'previousTrack':
    case 'pauseMusic':
    case 'resumeMusic':
      return { intent, state: base, ...musicAnswer(intent, text.split(' ')) };
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

/** Every phrase of PHRASES with its slots filled (blue, ten, seconds, seven): the scripted test sentences. */
export function samplePhrases(): { intent: Intent; text: string }[] {
  const out: { intent: Intent; text: string }[] = [];
  for (const [intent, phrases] of Object.entries(PHRASES) as [Intent, readonly string[]][]) {
    for (const phrase of phrases) out.push({ intent, text: phrase.replace(/<\w+>/g, (slot) => SAMPLE_SLOTS[slot] ?? slot) });
  }
  return out;
}
