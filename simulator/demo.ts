// The quick-start demo: the emulated AIS cloud and one device on the Node host, on embedded defaults, with the
// protocol trace of both sides. The device links its account (the demo approves the code as a user would on the
// /code page), registers, connects, rotates its secret, rides out a service disconnect and goes offline cleanly.
// Then a spoken turn: the user taps, a synthesised "what time is it" goes up the microphone topic, the emulator's
// virtual device recognises it and answers on the speaker topic; the answer is written to a WAV file (played
// with sox's `play` when installed and stdout is a terminal) and the attention state shows as one LED line.
// Without pocketsphinx the spoken turn is skipped with the install hint; the demo still ends by itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerFromEnv } from '../hosts/node/log.js';
import { nodePorts } from '../hosts/node/ports.js';
import { findExecutable, wavAudioIn, wavAudioOut } from '../hosts/node/audio.js';
import { nodeOpus } from '../hosts/node/opus.js';
import { POCKETSPHINX_INSTALL_HINT } from './voice/asr.js';
import { concat, silence, wavFile } from './voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from './voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from './voice/virtual-device.js';
import { Device, type DeviceState } from '../src/app/device.js';
import { deviceConfigFor, startCloud } from './cloud.js';

const log = loggerFromEnv('demo');
const dataDir = mkdtempSync(join(tmpdir(), 'ais-demo-device-'));
const transcripts: TranscriptEvent[] = [];
const answers: AnswerEvent[] = [];
let latencyMs: number | undefined;
const cloud = await startCloud({
  trace: true, pollIntervalMs: 1000, log: log.child('cloud'),
  voice: {
    onTranscript: (_id, t) => transcripts.push(t),
    onAnswer: (_id, a) => answers.push(a),
    onSpeakerStart: (_id, s) => (latencyMs ??= s.atMs - s.endOfSpeechAtMs),
  },
});
const audioIn = wavAudioIn({ realtime: true });
const audioOut = wavAudioOut({ realtime: true });

// The attention LEDs: one line per SetAttentionState (LISTENING is local, while the microphone is open).
const LEDS: Record<string, string> = { IDLE: '○ idle', LISTENING: '● listening (cyan)', THINKING: '◐ thinking (blue spin)', SPEAKING: '◉ speaking (blue pulse)' };
let led = 'IDLE';
const showLed = (state: string) => {
  if (state === led) return;
  log.info(`LED ${LEDS[led] ?? led} → ${LEDS[state] ?? state}`);
  led = state;
};

let readyCount = 0;
let onReady: (() => void) | undefined;
const clientId = 'demo-speaker-1';
const device = new Device({ ...nodePorts(dataDir, log.child(clientId)), audio: { audioIn, audioOut, opus: nodeOpus } }, {
  ...deviceConfigFor(cloud, clientId), trace: true,
  connection: { reconnect: { minDelayMs: 500, maxDelayMs: 5000 } },
}, {
  onCode: (pair) => {
    log.info(`(the user opens ${pair.verificationUri} and approves code ${pair.userCode}; the demo does it for them in 1 s)`);
    setTimeout(() => cloud.lwa.approve(pair.userCode), 1000);
  },
  onAttention: (state) => showLed(state),
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
    log.info('4/5 a spoken turn: the user taps and says "what time is it"');
    const synthesizer = await SpeechSynthesizer.create();
    const speech = concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-male']), silence(4000));
    const playedBefore = audioOut.last!.played.length;
    device.microphone!.tap();
    showLed('LISTENING');
    audioIn.last!.say(speech);
    await step('the answer', () => answers.length === 1, 25_000);
    log.info(`the emulator heard ${JSON.stringify(transcripts[0]?.text)} and answers ${JSON.stringify(answers[0].text)}`);
    const frames = answers[0].opusFrames.length;
    await step('the answer to be played', () => audioOut.last!.played.length - playedBefore >= frames && led === 'IDLE', 25_000);
    const played = audioOut.last!.samples().subarray(playedBefore * 320);
    const wavPath = join(tmpdir(), `ais-demo-answer-${process.pid}.wav`);
    writeFileSync(wavPath, wavFile(played));
    log.info(`the answer as played by the device (${(played.length / 16000).toFixed(1)} s): ${wavPath}`
      + `${latencyMs !== undefined ? `; end of speech → first speaker audio sent: ${latencyMs.toFixed(0)} ms` : ''}`);
    if (process.stdout.isTTY && findExecutable('play')) spawnSync('play', ['-q', wavPath], { stdio: 'ignore', timeout: 15_000 });
  } else {
    log.info(`4/5 spoken turn skipped: pocketsphinx not found; ${POCKETSPHINX_INSTALL_HINT}`);
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
