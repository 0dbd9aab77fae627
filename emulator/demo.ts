// The quick-start demo: the emulated AIS cloud and one device on the Node host, on embedded defaults, with the
// protocol trace of both sides. The device links its account (the demo approves the code as a user would on the
// /code page), registers, connects, rotates its secret, rides out a service disconnect and goes offline cleanly.
// Then a spoken conversation in a synthesised voice (with --mic on a terminal: the user's own, Enter to talk): "Alexa, what time is it?" opened by the wake word, a
// question the emulator asks back (it reopens the microphone itself), and a joke the user interrupts (barge-in).
// Each goes up the microphone topic; the emulator's virtual device recognises it and answers on the speaker
// topic; answers are written to WAV files (played with sox's `play` when installed and stdout is a terminal) and
// the attention state shows as one LED line. Without pocketsphinx the conversation is skipped with the install
// hint; the demo still ends by itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerFromEnv } from '../hosts/node/log.js';
import { nodePorts } from '../hosts/node/ports.js';
import { findExecutable, liveAudio, wavAudioIn, wavAudioOut } from '../hosts/node/audio.js';
import { createInterface } from 'node:readline';
import { nodeOpus } from '../hosts/node/opus.js';
import { POCKETSPHINX_INSTALL_HINT } from './voice/asr.js';
import { concat, silence, wavFile } from './voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from './voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from './voice/virtual-device.js';
import { Device, type DeviceState } from '../src/app/device.js';
import { deviceConfigFor, startCloud } from './cloud.js';
import { commandLine } from '../hosts/node/command-line.js';

const { mic, 'plain-mqtt': plainMqtt } = commandLine({
  command: 'npm start --',
  summary: 'The quick-start demo: the emulated cloud and one device on the Node host with both sides\' protocol trace; linking,\n'
    + 'registration, a secret rotation, a service disconnect, then a spoken conversation (wake word, follow-up, barge-in).',
  options: {
    mic: { type: 'boolean', help: 'your own voice from the system microphone (sox\'s rec, on a terminal), Enter to talk' },
    'plain-mqtt': { type: 'boolean', help: 'plain MQTT instead of mutual TLS (development only; the device logs in with its issued password)' },
  },
}).values;

const log = loggerFromEnv('demo');
const dataDir = mkdtempSync(join(tmpdir(), 'ais-demo-device-'));
const transcripts: TranscriptEvent[] = [];
const answers: AnswerEvent[] = [];
const latencies: number[] = [];
let closedSpeakers = 0;
const speakerClosed = () => closedSpeakers;
const cloud = await startCloud({
  trace: true, pollIntervalMs: 1000, log: log.child('cloud'), plainMqtt,
  voice: {
    onTranscript: (_id, t) => transcripts.push(t),
    onAnswer: (_id, a) => answers.push(a),
    onSpeakerStart: (_id, s) => latencies.push(s.atMs - s.endOfSpeechAtMs),
  },
  service: { onEvent: (_id, event) => { if (event.header.name === 'SpeakerClosed') closedSpeakers++; } },
});
// `npm start -- --mic`: the user's turns from the system microphone (sox's `rec`, on a terminal), Enter to talk.
const live = mic && process.stdin.isTTY ? liveAudio() : undefined;
if (live && !live.audioIn) log.warn(`--mic: ${live.hint}; the demo speaks for you`);
const fromMic = live?.audioIn !== undefined;
const audioIn = wavAudioIn({ realtime: true });
const audioOut = wavAudioOut({ realtime: true });

// The attention LEDs: one line per SetAttentionState (LISTENING is local, while the microphone is open).
const LEDS: Record<string, string> = {
  IDLE: '○ idle', LISTENING: '● listening (cyan)', THINKING: '◐ thinking (blue spin)', SPEAKING: '◉ speaking (blue pulse)', ERROR: '✕ turn failed (red, error tone)',
};
let led = 'IDLE';
const showLed = (state: string) => {
  if (state === led) return;
  log.info(`LED ${LEDS[led] ?? led} → ${LEDS[state] ?? state}`);
  led = state;
};

let readyCount = 0;
let onReady: (() => void) | undefined;
const clientId = 'demo-speaker-1';
const device = new Device({ ...nodePorts(dataDir, log.child(clientId)), audio: { audioIn: fromMic ? live!.audioIn! : audioIn, audioOut, opus: nodeOpus } }, {
  ...deviceConfigFor(cloud, clientId), trace: true,
  connection: { reconnect: { minDelayMs: 500, maxDelayMs: 5000 } },
}, {
  onCode: (pair) => {
    log.info(`(the user opens ${pair.verificationUri} and approves code ${pair.userCode}; the demo does it for them in 1 s)`);
    setTimeout(() => cloud.lwa.approve(pair.userCode), 1000);
  },
  onAttention: (state) => showLed(state),
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
  log.info('  press Enter, then speak ("what time is it", "tell me a joke", "ask me a question", "stop"); q and Enter to go on');
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
  log.info(`  the answer as the device played it: ${path}`);
  if (process.stdout.isTTY && findExecutable('play')) spawnSync('play', ['-q', path], { stdio: 'ignore', timeout: 15_000 });
}

/** The user's turns, synthesised (or spoken into the system microphone with --mic), and the answers written out. */
async function converse(): Promise<void> {
  const synthesizer = await SpeechSynthesizer.create();
  const voice = USER_VOICES['us-male'];
  const mic = device.microphone!;
  const audio = audioIn.last!;
  const out = audioOut.last!;
  const said = (text: string) => audio.say(concat(silence(4000), synthesizer.synthesize(text, voice), silence(8000)));
  const answered = (n: number, what: string) => step(what, () => answers.length >= n, 30_000);
  const played = (n: number) => step('the answer to be played', () => speakerClosed() >= n && led === 'IDLE', 30_000);
  const saveAnswer = (name: string, fromFrame: number) => saveWav(name, out.samples().subarray(fromFrame * 320));
  const heard = (i: number) => log.info(`  the emulator heard ${JSON.stringify(transcripts[i]?.text)} and answers ${JSON.stringify(answers[i].text)}`);

  // a) "Alexa, what time is it?": the wake word opens the microphone with 500 ms of pre-roll. The wake-word
  // engine is the audio front end's (issue 7); the demo stands in for it, reporting where it put "Alexa".
  log.info('4a "Alexa, what time is it?" (the wake word opens the microphone)');
  const alexa = synthesizer.synthesize('alexa', voice);
  const at = audio.say(concat(silence(8000), alexa, silence(1600), synthesizer.synthesize('what time is it', voice), silence(8000)));
  let from = out.played.length;
  await step('the wake word to be heard', () => mic.capturedSamples >= at + 8000 + alexa.length + 3200);
  mic.wakeWordDetected(at + 8000, at + 8000 + alexa.length);
  await answered(1, 'the answer');
  heard(0);
  await played(1);
  saveAnswer('time', from);
  log.info(`  end of speech → first speaker audio sent: ${latencies[0]?.toFixed(0)} ms`);

  // b) A question back: the emulator opens the microphone again once it has asked (ExpectSpeech).
  log.info('4b "ask me a question", then the answer to it without a tap');
  mic.tap();
  said('ask me a question');
  await answered(2, 'the question');
  heard(1);
  await step('the microphone to reopen', () => led === 'LISTENING', 30_000);
  said('blue');
  await answered(3, 'the answer to the question');
  heard(2);
  await played(3);

  // c) Barge-in: a tap while the joke plays closes the speaker, then opens the microphone (50 ms apart).
  log.info('4c "tell me a joke", interrupted by a tap and "what\'s your name"');
  mic.tap();
  said('tell me a joke');
  await answered(4, 'the joke');
  heard(3);
  await step('the joke to play', () => led === 'SPEAKING');
  from = out.played.length;
  await step('a second of the joke', () => out.played.length - from >= 50);
  log.info('  (the user taps and talks over the joke)');
  mic.tap();
  said("what's your name");
  await answered(5, 'the answer after the barge-in');
  heard(4);
  await played(5);
  saveAnswer('barge-in', from);
}

try {
  log.info('1/5 linking, registering and connecting a new device');
  device.start();
  await step('the device to be ready', () => readyCount === 1 && cloud.service.deviceState(clientId)?.synchronizedState !== undefined);

  log.info('2/5 the cloud rotates the device secret');
  const key = cloud.service.rotateSecret(clientId);
  await step('the rotation to be confirmed', () => key !== undefined && Buffer.from(cloud.registration.registry.get(clientId)!.aesKey).equals(Buffer.from(key)));

  log.info('3/5 the cloud disconnects the device (GOING_OFFLINE); it reconnects with fresh sequence numbers');
  cloud.service.disconnect(clientId, 'GOING_OFFLINE', 'demo');
  await step('the device to be ready again', () => readyCount === 2 && cloud.service.deviceState(clientId)?.connections === 2);

  if (cloud.voice) {
    log.info('4/5 a spoken conversation');
    await (fromMic ? talk() : converse());
  } else {
    log.info(`4/5 spoken conversation skipped: pocketsphinx not found; ${POCKETSPHINX_INSTALL_HINT}`);
  }

  log.info('5/5 the device goes offline');
  device.stop();
  const state = cloud.service.deviceState(clientId)!;
  log.info(`demo finished: linked, registered, ${state.connections} connections, secret rotated, state kept by the cloud: ${JSON.stringify(state.synchronizedState)}`);
} catch (error) {
  log.error((error as Error).message);
  process.exitCode = 1;
  device.stop();
} finally {
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}
