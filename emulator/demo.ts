// The quick-start demo: the emulated AIS cloud and one device on the Node host, on embedded defaults, told as a
// person would tell it: one line per thing said or done, each with the device's LED ring (stdout); the protocol
// trace of both sides and the components' logs only with --trace (stderr); the dashboard's URL to watch it there. The device links its account (the demo approves the code as a user would on the
// /code page), registers, connects, rotates its secret, rides out a service disconnect and goes offline cleanly.
// Then a spoken conversation in a synthesised voice (with --mic on a terminal: the user's own, Enter to talk): "Alexa, what time is it?" opened by the wake word, a
// question the emulator asks back (it reopens the microphone itself), a joke the user interrupts (barge-in), and
// "turn on the lamp", which the cloud sends to the lamp the device proxies (its GPIO, here a line).
// Each goes up the microphone topic; the emulator's virtual device recognises it and answers on the speaker
// topic; answers are written to WAV files (played with sox's `play` when installed and stdout is a terminal) and
// the attention state shows as one LED line. Without pocketsphinx the conversation is skipped with the install
// hint; the demo still ends by itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerFromEnv } from '../hosts/node/log.js';
import { newOperatorPassword } from './dashboard/server.js';
import { nodePorts } from '../hosts/node/ports.js';
import { findExecutable, liveAudio, wavAudioIn, wavAudioOut } from '../hosts/node/audio.js';
import { createInterface } from 'node:readline';
import { nodeOpus } from '../hosts/node/opus.js';
import { SpanWakeWord } from '../hosts/node/span-wake-word.js';
import { fluidsynthMissingHint } from './voice/music.js';
import { POCKETSPHINX_INSTALL_HINT } from './voice/asr.js';
import { concat, silence, wavFile } from './voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from './voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from './voice/virtual-device.js';
import type { NowPlaying } from './ais/music-player.js';
import { Device, type DeviceState } from '../src/app/device.js';
import { deviceConfigFor, startCloud } from './cloud.js';
import { commandLine } from '../hosts/node/command-line.js';

const { mic, trace, 'plain-mqtt': plainMqtt } = commandLine({
  command: 'npm start --',
  summary: 'The quick-start demo: the emulated cloud and one device on the Node host, told line by line with the LED ring; linking,\n'
    + 'registration, a secret rotation, a service disconnect, then a spoken conversation (wake word, follow-up, barge-in).',
  options: {
    mic: { type: 'boolean', help: 'your own voice from the system microphone (sox\'s rec, on a terminal), Enter to talk' },
    'plain-mqtt': { type: 'boolean', help: 'plain MQTT instead of mutual TLS (development only; the device logs in with its issued password)' },
    trace: { type: 'boolean', help: 'also log both sides\' protocol trace and every component (stderr)' },
  },
}).values;

// The components' logs: everything with --trace (or a LOG_LEVEL asked for), else only what went wrong.
const log = loggerFromEnv('demo', trace || process.env.LOG_LEVEL ? process.env : { LOG_LEVEL: 'warn' });
const dataDir = mkdtempSync(join(tmpdir(), 'ais-demo-device-'));
const transcripts: TranscriptEvent[] = [];
const answers: AnswerEvent[] = [];
const latencies: number[] = [];
let closedSpeakers = 0;
let nowPlaying: NowPlaying | undefined;
let nowPlayingLine: string | undefined;
const speakerClosed = () => closedSpeakers;

// The story: one line per thing said or done, with the ring as it is then.
const LEDS: Record<string, { mark: string; change: string }> = {
  IDLE: { mark: '○ idle', change: 'The ring goes dark' },
  LISTENING: { mark: '● listening', change: 'The ring lights cyan: the device is listening' },
  THINKING: { mark: '◐ thinking', change: 'The ring spins blue: the device waits for the answer' },
  SPEAKING: { mark: '◉ speaking', change: 'The ring pulses blue: the device plays the answer' },
  ALERTING: { mark: '◎ alerting', change: 'The ring flashes: an alert rings' },
  ERROR: { mark: '✕ error', change: 'The ring flashes red and an error tone plays: the turn failed' },
};
let led = 'IDLE';
const tell = (line: string) => process.stdout.write(`[${(LEDS[led]?.mark ?? led).padEnd(11)}] ${line}\n`);

const cloud = await startCloud({
  trace, pollIntervalMs: 1000, log: log.child('cloud'), plainMqtt, dashboard: { password: newOperatorPassword() },
  voice: {
    onTranscript: (_id, t) => {
      transcripts.push(t);
      tell(`Alexa heard ${t.text ? JSON.stringify(t.text) : 'nothing'}${t.rejected ? ' (not understood)' : ''}`);
    },
    onAnswer: (_id, a) => {
      answers.push(a);
      if (a.text) tell(`Alexa answers: ${JSON.stringify(a.text)}`);
    },
    onSpeakerStart: (_id, s) => latencies.push(s.atMs - s.endOfSpeechAtMs),
  },
  service: { onEvent: (_id, event) => { if (event.header.name === 'SpeakerClosed') closedSpeakers++; } },
  music: {
    onNowPlaying: (_id, np) => {
      nowPlaying = np;
      const line = np?.streaming ? `Now playing "${np.title}" by ${np.artist} (${np.genre}), mixed in the cloud into the one speaker stream`
        : np?.state === 'PAUSED' ? `Paused: "${np.title}" at ${(np.positionMs / 1000).toFixed(1)} s` : undefined;
      if (line && line !== nowPlayingLine) tell(line);
      if (line) nowPlayingLine = line;
    },
  },
});
// `npm start -- --mic`: the user's turns from the system microphone (sox's `rec`, on a terminal), Enter to talk.
const live = mic && process.stdin.isTTY ? liveAudio() : undefined;
if (live && !live.audioIn) log.warn(`--mic: ${live.hint}; the demo speaks for you`);
const fromMic = live?.audioIn !== undefined;
const audioIn = wavAudioIn({ realtime: true });
const audioOut = wavAudioOut({ realtime: true });
const wakeWord = new SpanWakeWord();

tell(`Watch it on the dashboard: ${cloud.dashboard!.url} (operator password ${cloud.dashboard!.password})`);

// The ring: a line when it changes (LISTENING is the device's own, while its microphone is open).
const showLed = (state: string) => {
  if (state === led) return;
  led = state;
  tell(LEDS[state]?.change ?? `The ring shows ${state}`);
};

let readyCount = 0;
let onReady: (() => void) | undefined;
const clientId = 'demo-speaker-1';
const device = new Device({ ...nodePorts(dataDir, log.child(clientId)), audio: { audioIn: fromMic ? live!.audioIn! : audioIn, audioOut, opus: nodeOpus, wakeWord } }, {
  ...deviceConfigFor(cloud, clientId), trace,
  connection: { reconnect: { minDelayMs: 500, maxDelayMs: 5000 } },
}, {
  onCode: (pair) => {
    tell(`The device asks to be linked: the user opens ${pair.verificationUri} and enters ${pair.userCode} (the demo does it in 1 s)`);
    setTimeout(() => cloud.lwa.approve(pair.userCode), 1000);
  },
  onAttention: (state) => showLed(state),
  onEndpoint: (id, look) => {
    if (id === 'lamp' && readyCount > 0) tell(`The lamp's GPIO goes ${look.power ? `high: the lamp is on (${look.brightness} %)` : 'low: the lamp is off'}`);
  },
  // The network cut a turn: the demo's speaker stops talking (the next turn starts with its own tap).
  onTurnFailed: () => audioIn.last?.abandon(),
  onStateChange: (state: DeviceState) => {
    if (state !== 'ready') return;
    readyCount++;
    onReady?.();
  },
  onStopped: (reason) => {
    log.error(`demo failed: ${reason}`);
    process.exitCode = 1;
  },
});

const step = (what: string, done: () => boolean, timeoutMs = 30_000) => new Promise<void>((resolve, reject) => {
  const deadline = setTimeout(() => reject(new Error(`demo: timed out waiting for ${what}`)), timeoutMs);
  const check = () => {
    if (!done()) return;
    clearTimeout(deadline);
    onReady = undefined;
    resolve();
  };
  onReady = check;
  const poll = setInterval(() => { check(); if (done()) clearInterval(poll); }, 50);
});

/** The user's turns from the system microphone: Enter taps to talk; "q" and Enter go on to the end. */
async function talk(): Promise<void> {
  tell('Press Enter, then speak ("what time is it", "tell me a joke", "ask me a question", "stop"); q and Enter to go on');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'q') break;
    device.microphone!.tap();
  }
  lines.close();
  if (audioOut.last!.played.length > 0) saveWav('conversation', audioOut.last!.samples());
}

/** Writes `samples` to a WAV under the temp dir (played with sox's `play` on a terminal) and says where. */
function saveWav(name: string, samples: Int16Array): void {
  const path = join(tmpdir(), `ais-demo-${name}-${process.pid}.wav`);
  writeFileSync(path, wavFile(samples));
  tell(`The device played it; the recording: ${path}`);
  if (process.stdout.isTTY && findExecutable('play')) spawnSync('play', ['-q', path], { stdio: 'ignore', timeout: 15_000 });
}

/** The user's turns, synthesised (or spoken into the system microphone with --mic), and the answers written out. */
async function converse(): Promise<void> {
  const synthesizer = await SpeechSynthesizer.create();
  const voice = USER_VOICES['us-male'];
  const mic = device.microphone!;
  const audio = audioIn.last!;
  const out = audioOut.last!;
  const said = (text: string) => {
    tell(`The user says: ${JSON.stringify(text)}`);
    return audio.say(concat(silence(4000), synthesizer.synthesize(text, voice), silence(8000)));
  };
  const answered = (n: number, what: string) => step(what, () => answers.length >= n, 30_000);
  const played = (n: number) => step('the answer to be played', () => speakerClosed() >= n && led === 'IDLE', 30_000);
  const saveAnswer = (name: string, fromFrame: number) => saveWav(name, out.samples().subarray(fromFrame * 320));

  // a) "Alexa, what time is it?": the wake word opens the microphone with 500 ms of pre-roll. The wake-word
  // engine is the audio front end's (issue 7); the demo stands in for it there, reporting where it put "Alexa".
  tell('The user says: "Alexa, what time is it?" (the wake word opens the microphone)');
  const alexa = synthesizer.synthesize('alexa', voice);
  const at = audio.say(concat(silence(8000), alexa, silence(1600), synthesizer.synthesize('what time is it', voice), silence(8000)));
  let from = out.played.length;
  wakeWord.expect(at + 8000, at + 8000 + alexa.length);
  await answered(1, 'the answer');
  await played(1);
  saveAnswer('time', from);
  tell(`(${latencies[0]?.toFixed(0)} ms from the end of the user's speech to the answer's first audio)`);

  // b) A question back: the emulator opens the microphone again once it has asked (ExpectSpeech).
  tell('The user taps the button');
  mic.tap();
  said('ask me a question');
  await answered(2, 'the question');
  await step('the microphone to reopen', () => led === 'LISTENING', 30_000);
  said('blue');
  await answered(3, 'the answer to the question');
  await played(3);

  // c) Barge-in: a tap while the joke plays closes the speaker, then opens the microphone (50 ms apart).
  tell('The user taps the button');
  mic.tap();
  said('tell me a joke');
  await answered(4, 'the joke');
  await step('the joke to play', () => led === 'SPEAKING');
  from = out.played.length;
  await step('a second of the joke', () => out.played.length - from >= 50);
  tell('The user taps and talks over the joke (barge-in)');
  mic.tap();
  said("what's your name");
  await answered(5, 'the answer after the barge-in');
  await played(5);
  saveAnswer('barge-in', from);

  // d) A connected endpoint: the cloud sends TurnOn to the lamp; the device switches it and reports its state.
  tell('The user taps the button');
  mic.tap();
  said('turn on the lamp');
  await answered(6, 'the lamp answer');
  await step('the lamp to be on in the cloud', () => cloud.endpoints.find(clientId, 'lamp')?.power === true, 30_000);
  await played(6);

  // e) Music: the cloud renders, mixes and encodes it; the device's PlaybackController buttons act on it.
  const noMusic = fluidsynthMissingHint();
  if (noMusic) {
    tell(`(No music: ${noMusic})`);
    return;
  }
  tell('The user taps the button');
  mic.tap();
  said('play some music');
  await answered(7, 'the music answer');
  await step('the music to play', () => nowPlaying?.streaming === true);
  from = out.played.length;
  await step('two seconds of music', () => out.played.length - from >= 100);
  tell('The user presses the next button (AIS ButtonCommandIssued NEXT)');
  const first = nowPlaying!.title;
  device.controls.button('next', true);
  await step('the next track', () => nowPlaying?.streaming === true && nowPlaying.title !== first);
  const next = out.played.length;
  await step('a second of it', () => out.played.length - next >= 50);
  tell('The user presses the pause button');
  device.controls.button('pause', true);
  await step('the music to pause', () => nowPlaying?.state === 'PAUSED');
  saveWav('music', out.samples().subarray(from * 320));
}

try {
  tell('A new device starts: it links the user\'s account, registers and connects');
  device.start();
  await step('the device to be ready', () => readyCount === 1 && cloud.service.deviceState(clientId)?.synchronizedState !== undefined);

  tell(`The device is connected and has told the cloud its state`);
  tell('The cloud rotates the device\'s secret');
  const key = cloud.service.rotateSecret(clientId);
  await step('the rotation to be confirmed', () => key !== undefined && Buffer.from(cloud.registration.registry.get(clientId)!.aesKey).equals(Buffer.from(key)));

  tell('The device confirmed its new secret; the cloud disconnects it (GOING_OFFLINE)');
  cloud.service.disconnect(clientId, 'GOING_OFFLINE', 'demo');
  await step('the device to be ready again', () => readyCount === 2 && cloud.service.deviceState(clientId)?.connections === 2);

  if (cloud.voice) {
    tell('The device is back (connection 2); now a conversation');
    await (fromMic ? talk() : converse());
  } else {
    tell(`(No conversation: pocketsphinx not found; ${POCKETSPHINX_INSTALL_HINT})`);
  }

  tell('The device goes offline');
  device.stop();
  const state = cloud.service.deviceState(clientId)!;
  tell(`The end: linked, registered, ${state.connections} connections, secret rotated; the cloud keeps the device's state ${JSON.stringify(state.synchronizedState)}`);
} catch (error) {
  log.error((error as Error).message);
  process.exitCode = 1;
  device.stop();
} finally {
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}
