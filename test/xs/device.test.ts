// The device application on XS (xsrun with the ECMA-419 ports of hosts/moddable) against the emulator, over
// real sockets: code-based linking, registration over HTTPS (mbedTLS, the emulator's development CA), MQTT,
// capabilities and SynchronizeState, then encrypted exchanges both ways (SetAttentionState answered with
// ExceptionEncountered, the secret rotation); the protocol trace equals a Node device's in the same cloud.
// Then MQTT over mutual TLS through mosquitto, and a wrong CA refused with a readable error. Then a spoken turn:
// the XS device with audio (xsrun's WAV-file audio in/out through the Moddable adapter, native libopus and
// AES-GCM) is tapped and hears "what time is it"; the emulator's answer plays and is recorded.
// Then an alert (issue 8): "set a timer for ten seconds" heard and answered as on a Node device, SetAlert stored,
// the timer rung by the cloud's speech while connected, and a second one rung by the device's local tone at its
// time with the MQTT connection cut (a TCP relay the test cuts). And a turn the network cuts: reported, the error
// tone played, and the next turn hears only its own file.
// Needs libmbedtls-dev (TLS on xsrun), and pocketsphinx for the spoken turn: skipped locally without them, a
// failure under CI=true.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { loadRegistration } from '../../src/ais/registration.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { openFolderStorage } from '../../hosts/node/storage.js';
import { mbedtlsMissingHint, prepareXsDevice, spawnXsDevice } from '../../hosts/node/xs-launch.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { inOrder, protocolTrace } from '../support/trace.js';
import { requirePocketsphinx } from '../emulator/voice/tools.js';
import { isAlertTone, isErrorTone } from '../support/audio.js';
import { childLines } from '../support/child-lines.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { B_WORDS, writeCutTurnFiles } from '../support/cut-turn-files.js';
import { AlertStore } from '../../src/ais/alert-store.js';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { writeWav } from '../../hosts/node/wav.js';
import { bestAlignment, concat, parseWav, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../emulator/voice/virtual-device.js';

const missing = mbedtlsMissingHint();
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const cleanup of cleanups.reverse()) await cleanup(); });
before(async () => { if (!missing) await prepareXsDevice(); });

function skipWithoutTls(t: { skip(message: string): void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') throw new Error(missing);
  t.skip(missing);
  return true;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ais-xs-device-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether the XS device has announced ready (its log line). */
function isReady(xs: { lines: string[] }): boolean {
  return xs.lines.some((l) => l.endsWith('[device] state ready'));
}

/** The device on xsrun, its log lines gathered, each user code approved at once. */
function bootXs(cloud: Cloud, config: DeviceConfig, voice?: { out: string }) {
  const dataDir = tempDir();
  const child = spawnXsDevice({ config, dataDir, voice });
  const { lines, times } = childLines(child, (line) => {
    const code = /enter the code (\S+)$/.exec(line);
    if (code) cloud.lwa.approve(code[1]);
  });
  let exited = false;
  child.on('exit', () => { exited = true; });
  cleanups.push(() => { if (!exited) child.kill('SIGKILL'); });
  return { child, lines, times, dataDir, stop: () => child.kill('SIGTERM') };
}

/** The protocol trace without what differs from run to run: arrow, topic leaf, sequence number, names. */
function traceOf(lines: string[]): string[] {
  return lines.map((line) => /\[ais\] ([→←] \S+(?: #\d+)? \S+)/.exec(line)?.[1]).filter((l): l is string => l !== undefined);
}

function config(cloud: Cloud, clientId: string): DeviceConfig {
  return { ...deviceConfigFor(cloud, clientId), trace: true };
}

test('on XS the device links, registers over HTTPS, connects, answers directives and rotates its key, with the trace of a Node device', async (t) => {
  if (skipWithoutTls(t)) return;
  const cloud = await startCloud({ pollIntervalMs: 100 });
  cleanups.push(() => cloud.close());
  const xs = bootXs(cloud, config(cloud, 'xs-kitchen'));
  const nodeDir = tempDir();
  const { log, lines: nodeLines } = captureLogger('node-kitchen');
  const node = new Device(nodePorts(nodeDir, log), config(cloud, 'node-kitchen'), { onCode: (pair) => cloud.lwa.approve(pair.userCode) });
  cleanups.push(() => node.stop());
  node.start();

  const synchronized = (id: string) => cloud.service.deviceState(id)?.synchronizedState !== undefined;
  // The device sends SynchronizeState before it announces ready: the cloud can see it first, so wait for both.
  await until('both devices ready and synchronized', () => synchronized('xs-kitchen') && isReady(xs) && synchronized('node-kitchen') && node.state === 'ready', 20_000);
  assert.ok(xs.lines.some((l) => l.includes('[device] state linking')), xs.lines.join('\n'));
  for (const state of ['registering', 'connecting', 'ready']) assert.ok(xs.lines.some((l) => l.endsWith(`[device] state ${state}`)), state);
  const capabilities = cloud.service.deviceState('xs-kitchen')!.capabilities;
  assert.deepEqual(capabilities, cloud.service.deviceState('node-kitchen')!.capabilities);

  // The cloud sends SetClock at once and again on its next whole second (a timer): the directives below wait for
  // both, so that their sequence numbers, which the exceptions name, are the same on both devices.
  const setClocks = (lines: string[]) => traceOf(lines).filter((l) => l.endsWith(' SetClock')).length;
  await until('both devices traced two SetClocks', () => setClocks(xs.lines) >= 2 && setClocks(nodeLines) >= 2, 5_000);

  // An encrypted directive both ways: the device applies THINKING and answers DANCING with ExceptionEncountered.
  for (const id of ['xs-kitchen', 'node-kitchen']) {
    cloud.service.sendDirectives(id, [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }, { name: 'SetAttentionState', payload: { state: 'DANCING' } }]);
  }
  await until('both exceptions', () => cloud.service.deviceState('xs-kitchen')!.exceptions.length === 1 && cloud.service.deviceState('node-kitchen')!.exceptions.length === 1);
  assert.deepEqual(cloud.service.deviceState('xs-kitchen')!.exceptions, cloud.service.deviceState('node-kitchen')!.exceptions);

  // Secret rotation: the new key reaches the XS device's store, readable by the Node host's store (same format).
  const newKey = cloud.service.rotateSecret('xs-kitchen')!;
  cloud.service.rotateSecret('node-kitchen');
  // SecretRotated goes out once the key is stored; only then open the folder here (opening it removes a
  // temporary file, which would break a write in flight: one process owns a folder at a time).
  // A wait past the default 8 s: on a loaded 2-core machine the XS device once took longer to store and answer.
  await until('the XS device traced its SecretRotated', () => traceOf(xs.lines).some((l) => l.includes('SecretRotated')), 30_000);
  await until('the Node device rotated too', () => traceOf(nodeLines).some((l) => l.includes('SecretRotated')), 30_000);
  assert.deepEqual(loadRegistration(openFolderStorage(xs.dataDir))?.aesKey, new Uint8Array(newKey), 'the new key in the XS store, read by the Node host');
  assert.ok(!xs.lines.some((l) => l.includes(Buffer.from(newKey).toString('base64'))), 'the key never appears in a log line');

  // Where the second SetClock falls among the connection's first directives differs from run to run: both devices
  // must trace the same SetClocks, and the rest in the same order.
  await until('both devices traced the same SetClocks', () => setClocks(xs.lines) >= 2 && setClocks(xs.lines) === setClocks(nodeLines), 5_000);
  const ordered = (lines: string[]) => traceOf(lines).filter((l) => !l.endsWith(' SetClock')).map((l) => l.replace(/^← directive #\d+/, '← directive'));
  const xsTrace = ordered(xs.lines);
  assert.ok(xsTrace.length >= 8, xsTrace.join('\n'));
  assert.deepEqual(xsTrace, ordered(nodeLines).slice(0, xsTrace.length));
  assert.equal(xsTrace.length, ordered(nodeLines).length);
});

test('on XS the device connects to mosquitto with mutual TLS, and refuses an HTTPS server its CA did not sign', async (t) => {
  if (skipWithoutTls(t)) return;
  const { mosquittoMissingHint, startMosquitto } = await import('../support/mosquitto.js');
  const { createTestPki } = await import('../support/pki.js');
  const noBroker = mosquittoMissingHint();
  if (noBroker) {
    if (process.env.CI === 'true') throw new Error(noBroker);
    return t.skip(noBroker);
  }
  const pki = createTestPki({ dir: join(tempDir(), 'pki'), clientNames: ['ais-service', 'xs-porch'] });
  const broker = await startMosquitto({ tls: { caPath: pki.ca.certPath, certPath: pki.server.certPath, keyPath: pki.server.keyPath }, serviceIdentity: 'ais-service' });
  cleanups.push(() => broker.close());
  const tlsFor = (cn: string) => ({ ca: pki.ca.certPem, certificate: pki.client(cn).certPem, key: pki.client(cn).keyPem, serverName: 'localhost' });
  const cloud = await startCloud({ pollIntervalMs: 100, externalBroker: { host: '127.0.0.1', port: broker.tlsPort!, tls: tlsFor('ais-service') } });
  cleanups.push(() => cloud.close());

  const porch = bootXs(cloud, { ...config(cloud, 'xs-porch'), mqttTls: tlsFor('xs-porch') });
  await until('ready through mosquitto over mutual TLS', () => cloud.service.deviceState('xs-porch')?.synchronizedState !== undefined && isReady(porch), 20_000);
  assert.ok(porch.lines.some((l) => l.endsWith('[device] state ready')));

  // The test PKI's CA did not sign the emulator's HTTPS certificate: linking fails, saying why.
  const wrong = config(cloud, 'xs-wrong-ca');
  const wrongTrust = { ca: pki.ca.certPem };
  const refused = bootXs(cloud, { ...wrong, lwa: { ...wrong.lwa, tls: wrongTrust }, registration: { ...wrong.registration, tls: wrongTrust } });
  await until('a certificate error in the log', () => refused.lines.some((l) => l.includes('server certificate rejected')));
  const line = refused.lines.find((l) => l.includes('server certificate rejected'))!;
  assert.match(line, /The certificate is not correctly signed by the trusted CA/);
  assert.equal(cloud.service.deviceState('xs-wrong-ca'), undefined);
});

test('on XS the device holds a spoken turn through the Moddable adapter: tapped, it asks the time, the emulator answers, the answer plays', async (t) => {
  if (skipWithoutTls(t) || !requirePocketsphinx(t)) return;
  const now = new Date('2026-11-23T14:05:00Z');
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const cloud = await startCloud({
    pollIntervalMs: 100,
    voice: { now: () => now, timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
  });
  cleanups.push(() => cloud.close());
  const dir = tempDir();
  const played = join(dir, 'speaker.wav');
  const xs = bootXs(cloud, config(cloud, 'xs-talker'), { out: played });
  await until('ready and synchronized', () => cloud.service.deviceState('xs-talker')?.synchronizedState !== undefined && isReady(xs), 20_000);
  const capabilities = cloud.service.deviceState('xs-talker')!.capabilities as { interface: string }[];
  assert.ok(['Microphone', 'Speaker'].every((name) => capabilities.some((c) => c.interface === name)), JSON.stringify(capabilities));

  const synthesizer = await SpeechSynthesizer.create();
  const question = join(dir, 'question.wav');
  writeWav(question, concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-male']), silence(8000)));
  xs.child.stdin.write(`tap\nsay ${question}\n`);
  await until('the answer', () => answers.length === 1, 30_000);
  assert.equal(transcripts[0].text, 'what time is it');
  assert.equal(answers[0].intent, 'time');
  assert.equal(answers[0].text, 'It is 2:05 PM.');
  await until('the speaker closed', () => protocolTrace(xs.lines).some((m) => m.name === 'SpeakerClosed'), 30_000);

  const trace = protocolTrace(xs.lines);
  const [opened, , , openSpeaker, speakerOpened, , speakerClosed] = inOrder(trace, [
    '→MicrophoneOpened', '←CloseMicrophone', '→MicrophoneClosed', '←OpenSpeaker', '→SpeakerOpened', '→SpeakerMarkerEncountered', '→SpeakerClosed',
  ]);
  const [, closeSpeaker] = inOrder(trace, ['←OpenSpeaker', '←CloseSpeaker', '→SpeakerClosed']);
  assert.equal((opened.payload.initiator as { type: string }).type, 'TAP');
  assert.equal(speakerOpened.payload.offset, openSpeaker.payload.offset, 'playback began where the service opened it');
  assert.equal(speakerClosed.payload.offset, closeSpeaker.payload.offset, 'closed where the service asked');

  // SpeakerClosed goes out when the last frame is handed to audio out: its queues play out within half a second.
  await new Promise((resolve) => setTimeout(resolve, 600));
  const recording = parseWav(new Uint8Array(readFileSync(played)));
  assert.equal(recording.sampleRate, 16000);
  const start = recording.samples.findIndex((s) => Math.abs(s) > 300);
  assert.ok(start >= 0, 'the answer was audible in the recording');
  const reference = answers[0].pcm.subarray(0, Math.min(answers[0].pcm.length, 16000 * 2));
  const { correlation } = bestAlignment(reference, recording.samples.subarray(Math.max(0, start - 1500)), 2000);
  assert.ok(correlation > 0.8, `the recorded answer correlates ${correlation.toFixed(3)} with the synthesised one`);
  t.diagnostic(`played correlation ${correlation.toFixed(3)}; the recording ${(recording.samples.length / 16000).toFixed(1)} s, the answer from ${(start / 16000).toFixed(2)} s`);
});

test('on XS a turn the network cuts ends visibly (reported, the error tone played) and the next turn hears only its own file', async (t) => {
  if (skipWithoutTls(t) || !requirePocketsphinx(t)) return;
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const cloud = await startCloud({
    pollIntervalMs: 100,
    voice: { now: () => new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
  });
  cleanups.push(() => cloud.close());
  const relay = await startTcpProxy(cloud.mqttPort);
  cleanups.push(() => relay.close());
  const dir = tempDir();
  const played = join(dir, 'speaker.wav');
  const xs = bootXs(cloud, { ...config(cloud, 'xs-cut'), mqttPort: relay.port, connection: { reconnect: { minDelayMs: 50, maxDelayMs: 300 } } }, { out: played });
  await until('ready and synchronized', () => cloud.service.deviceState('xs-cut')?.synchronizedState !== undefined && isReady(xs), 20_000);
  const { a, b } = await writeCutTurnFiles(dir);

  xs.child.stdin.write(`tap\nsay ${a}\n`);
  await until('a.wav streaming', () => protocolTrace(xs.lines).some((m) => m.name === 'MicrophoneOpened'), 10_000);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const linesBeforeCut = xs.lines.length;
  relay.cut();
  const failedLine = () => xs.lines.findIndex((l, i) => i >= linesBeforeCut && /WARN \[device\] turn failed: the connection was lost while the microphone was open/.test(l));
  await until('the failed turn reported', () => failedLine() >= 0, 5000);
  relay.restore();
  const readyAgain = () => xs.lines.findIndex((l, i) => i > failedLine() && l.endsWith('[device] state ready'));
  await until('ready again', () => readyAgain() >= 0, 15_000);
  xs.child.stdin.write(`tap\nsay ${b}\n`);
  await until("b.wav's answer", () => answers.length > 0, 40_000);
  await until('the speaker closed', () => protocolTrace(xs.lines.slice(readyAgain())).some((m) => m.name === 'SpeakerClosed'), 30_000);
  assert.deepEqual(answers.map((e) => e.intent), ['time'], `only b.wav answered: heard ${JSON.stringify(transcripts.map((e) => e.text))}`);
  assert.equal(transcripts.at(-1)?.text, B_WORDS, 'b.wav heard as exactly its words');
  assert.ok(xs.lines.slice(linesBeforeCut).some((l) => /the rest of the speech queued \(\d+ samples\) dropped/.test(l)), 'the rest of a.wav dropped');

  // The error tone in the recording, after the cut (xsrun's recording runs on real time from the connection).
  await new Promise((resolve) => setTimeout(resolve, 600));
  const recording = parseWav(new Uint8Array(readFileSync(played))).samples;
  let toneFrames = 0;
  for (let at = 0; at + 320 <= recording.length; at += 320) if (isErrorTone(recording.subarray(at, at + 320))) toneFrames++;
  t.diagnostic(`${toneFrames} error-tone frames of 20 ms in the recording`);
  // xsrun moves 31.25 ms periods: the tone's 17 frames land across period boundaries, most of them whole.
  assert.ok(toneFrames >= 10, `the error tone played: ${toneFrames} frames`);
});

/** Times (ms from the recording's start) of the 20 ms windows of a recording that are the alert tone. */
function toneTimesMs(samples: Int16Array, fromMs = 0): number[] {
  const times: number[] = [];
  for (let at = Math.max(0, Math.round((fromMs * 16000) / 1000)); at + 320 <= samples.length; at += 320) {
    if (isAlertTone(samples.subarray(at, at + 320))) times.push((at * 1000) / 16000);
  }
  return times;
}

test('on XS a timer set by voice is heard as on Node, stored, rung by the cloud while connected and by the local tone with the network cut', async (t) => {
  if (skipWithoutTls(t) || !requirePocketsphinx(t)) return;
  const PHRASE = 'set a timer for ten seconds';
  const ANSWER = '10 seconds, starting now.';
  const transcripts = new Map<string, TranscriptEvent[]>();
  const answers = new Map<string, AnswerEvent[]>();
  const push = <T>(map: Map<string, T[]>, id: string, value: T) => map.set(id, [...(map.get(id) ?? []), value]);
  const cloud = await startCloud({
    pollIntervalMs: 100,
    alerts: { durationMs: 3000 },
    voice: { onTranscript: (id, e) => push(transcripts, id, e), onAnswer: (id, a) => push(answers, id, a) },
  });
  cleanups.push(() => cloud.close());
  // The XS device reaches the broker through a relay the test can cut; HTTPS goes direct.
  const relay = await startTcpProxy(cloud.mqttPort);
  cleanups.push(() => relay.close());
  const dir = tempDir();
  const played = join(dir, 'speaker.wav');
  const quickReconnect = { reconnect: { minDelayMs: 50, maxDelayMs: 300 } };
  const xs = bootXs(cloud, { ...config(cloud, 'xs-timer'), mqttPort: relay.port, connection: quickReconnect }, { out: played });
  // The same words to a Node device in the same cloud.
  const nodeIn = wavAudioIn({ realtime: true });
  const node = new Device({ ...nodePorts(tempDir(), captureLogger('node-timer').log), audio: { audioIn: nodeIn, audioOut: wavAudioOut({ realtime: true }), opus: nodeOpus } },
    config(cloud, 'node-timer'), { onCode: (pair) => cloud.lwa.approve(pair.userCode) });
  cleanups.push(() => node.stop());
  node.start();
  const synchronized = (id: string) => cloud.service.deviceState(id)?.synchronizedState !== undefined;
  await until('both devices ready and synchronized', () => synchronized('xs-timer') && isReady(xs) && synchronized('node-timer') && node.state === 'ready', 20_000);
  // The speaker's audio out starts as the connection is made, just before `state connecting`: the recording's
  // time 0, within the pipe's latency (xsrun's audio clock keeps the recording on real time, gaps as silence).
  const recordingStart = xs.times[xs.lines.findIndex((l) => l.endsWith('[device] state connecting'))];
  const recordingMs = (at: number) => at - recordingStart;
  const recording = () => parseWav(new Uint8Array(readFileSync(played))).samples;

  const synthesizer = await SpeechSynthesizer.create();
  const speech = concat(silence(4000), synthesizer.synthesize(PHRASE, USER_VOICES['us-female']), silence(8000));
  const said = join(dir, 'timer.wav');
  writeWav(said, speech);
  const tell = () => xs.child.stdin.write(`tap\nsay ${said}\n`);
  tell();
  node.microphone!.tap();
  nodeIn.last!.say(speech);
  await until('both answered', () => answers.get('xs-timer')?.length === 1 && answers.get('node-timer')?.length === 1, 40_000);
  node.stop();
  const [xsHeard, nodeHeard] = [transcripts.get('xs-timer')![0], transcripts.get('node-timer')![0]];
  const [xsAnswer, nodeAnswer] = [answers.get('xs-timer')![0], answers.get('node-timer')![0]];
  assert.equal(xsHeard.text, nodeHeard.text, 'the same transcript as on Node');
  assert.equal(xsHeard.text, PHRASE);
  assert.deepEqual([xsAnswer.intent, xsAnswer.text], [nodeAnswer.intent, nodeAnswer.text], 'the same answer as on Node');
  assert.deepEqual([xsAnswer.intent, xsAnswer.text], ['setTimer', ANSWER]);

  /** Timer n as the XS device stored it (its log; the trace redacts tokens) and confirmed; its due time on performance.now(). */
  const stored = async (n: number) => {
    const setLines = () => xs.lines.map((l) => /alert (\S+) set: TIMER at (\d+) \(NTP s\) for (\d+) ms/.exec(l)).filter((m) => m !== null);
    const succeeded = () => protocolTrace(xs.lines).filter((m) => m.name === 'SetAlertSucceeded').length;
    await until(`timer ${n} stored on the XS device`, () => setLines().length === n && succeeded() === n, 20_000);
    const [, token, scheduledTime, duration] = setLines()[n - 1];
    const alert = cloud.alerts.list('xs-timer').find((a) => a.token === token);
    assert.ok(alert, `the cloud set ${token}`);
    assert.deepEqual([Number(scheduledTime), Number(duration)], [Math.round(alert.scheduledTime), 3000]);
    await until(`the cloud has timer ${n} confirmed`, () => alert.confirmed);
    return { token, dueMs: performance.now() + (alert.scheduledTime - cloud.alerts.nowSeconds()) * 1000 };
  };
  const alertingLine = (from: number) => xs.lines.findIndex((l, i) => i >= from && /← directive .*"SetAttentionState".*"ALERTING"/.test(l));

  // Connected: the cloud rings the first timer through speech (ALERTING), then deletes it.
  const first = await stored(1);
  await until('the cloud rings timer 1: ALERTING', () => alertingLine(0) >= 0, first.dueMs - performance.now() + 6000);
  const alertingAt = xs.times[alertingLine(0)];
  t.diagnostic(`timer 1: ALERTING reached the XS device ${(alertingAt - first.dueMs).toFixed(0)} ms after the due time`);
  assert.ok(Math.abs(alertingAt - first.dueMs) < 2500, `ALERTING at the due time: ${(alertingAt - first.dueMs).toFixed(0)} ms off`);
  await until('timer 1 deleted on the device and in the cloud', () => protocolTrace(xs.lines).some((m) => m.name === 'DeleteAlertSucceeded')
    && cloud.alerts.list('xs-timer').length === 0, 10_000);
  assert.ok(xs.lines.some((l) => l.includes(`alert ${first.token} (TIMER) due`)), 'the device saw timer 1 due');
  assert.ok(!xs.lines.some((l) => l.includes(`alert ${first.token}`) && l.includes('ringing locally')), 'the device left the ringing to the cloud');
  const ringStart = Math.round((recordingMs(first.dueMs) * 16000) / 1000);
  const ringWindow = recording().subarray(Math.max(0, ringStart - 8000), ringStart + 3 * 16000);
  assert.ok(ringWindow.some((s) => Math.abs(s) > 1000), 'the cloud\'s alert speech played around the due time');
  assert.equal(toneTimesMs(ringWindow).length, 0, 'no local tone while the cloud rang it');

  // Offline: the second timer rings with the local tone at its time, the MQTT connection cut before it is due.
  tell();
  await until('the second answer', () => answers.get('xs-timer')!.length === 2, 40_000);
  assert.equal(answers.get('xs-timer')![1].text, ANSWER);
  const second = await stored(2);
  const linesBeforeCut = xs.lines.length;
  relay.cut();
  await until('the XS device offline', () => xs.lines.slice(linesBeforeCut).some((l) => /\[device\] state (waiting|connecting)/.test(l)), 5000);
  const cutAt = performance.now();
  assert.ok(second.dueMs - cutAt > 1000, `offline well before the due time: ${(second.dueMs - cutAt).toFixed(0)} ms before`);
  const tones = () => toneTimesMs(recording(), recordingMs(cutAt));
  await until('the local tone in the recording', () => tones().length > 0, second.dueMs - performance.now() + 6000);
  const firstTone = tones()[0];
  const offBy = firstTone - recordingMs(second.dueMs);
  t.diagnostic(`timer 2: local tone ${offBy.toFixed(0)} ms after the due time in the recording`);
  assert.ok(Math.abs(offBy) < 2000, `the tone starts at the due time: ${offBy.toFixed(0)} ms off`);
  await until('timer 2 rang its duration', () => xs.lines.some((l) => l.includes(`alert ${second.token}: rang its 3000 ms; stopped`)), 8000);
  assert.ok(xs.lines.some((l) => l.includes(`alert ${second.token} (TIMER) due`) && l.includes('ringing locally')), 'timer 2 rung locally');
  assert.equal(alertingLine(linesBeforeCut), -1, 'no ALERTING from the cloud for timer 2');
  await new Promise((resolve) => setTimeout(resolve, 500)); // the audio queues play out
  const span = tones().at(-1)! - firstTone;
  assert.ok(span > 2000 && span < 3500, `the tone rang ${span.toFixed(0)} ms of a 3000 ms duration`);

  // Back online: SynchronizeState no longer lists the timer the device rang offline. (The cloud's own list is no
  // evidence here: the emulator learns of a lost connection only from an AIS Disconnect, so it "rang" timer 2
  // into the dead session at its time and dropped it.)
  relay.restore();
  await until('reconnected and synchronized', () => cloud.service.deviceState('xs-timer')!.connections >= 2
    && protocolTrace(xs.lines.slice(linesBeforeCut)).some((m) => m.name === 'SynchronizeState'), 15_000);
  const synchronizeState = protocolTrace(xs.lines.slice(linesBeforeCut)).find((m) => m.name === 'SynchronizeState')!;
  assert.deepEqual(synchronizeState.payload.alerts, { allAlerts: [] });
  const exited = new Promise((resolve) => xs.child.once('exit', resolve));
  xs.stop();
  await exited;
  assert.equal(new AlertStore(openFolderStorage(xs.dataDir)).size, 0, 'no alert left in the XS store');
});
