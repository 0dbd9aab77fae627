// Alerts end to end over real sockets, with the whole emulated cloud and its voice, and Node devices with audio:
// a timer set by voice rings with the local tone at its time when the network was cut before it was due; a
// timer due while the device was off rings as soon as the device is back (a missed alert, less than 30 min late);
// both are gone from the device and the cloud afterwards. The two devices run side by side: kitchen-1 in this
// process (its network cut by the test), hall-1 as `npm run device` in a child process, killed by SIGKILL (a
// power cut) while its timer is pending and started again on the same data folder after the timer was due. The
// broker's presence event tells the cloud hall-1 is gone, so the cloud keeps the timer and rings it once hall-1
// lists it in SynchronizeState (§4.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut, type WavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { createSocket } from '../../hosts/node/socket.js';
import { AlertStore } from '../../src/ais/alert-store.js';
import type { Ringing } from '../../src/ais/alerts.js';
import { Device, type AttentionState, type DeviceConfig } from '../../src/app/device.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import type { AnswerEvent } from '../../emulator/voice/virtual-device.js';
import { concat, parseWav, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import { writeWav } from '../../hosts/node/wav.js';
import { openFolderStorage } from '../../hosts/node/storage.js';
import { until } from '../support/ais.js';
import { isAlertTone } from '../support/audio.js';
import { childLines } from '../support/child-lines.js';
import { fromRoot } from '../support/paths.js';
import { inOrder, protocolTrace } from '../support/trace.js';
import { cuttableNetwork, type CuttableNetwork } from '../support/cuttable-network.js';
import { captureLogger } from '../support/log.js';
import { requirePocketsphinx } from './voice/tools.js';

/** Monotonic play times of the frames that are the alert tone. */
function toneTimes(out: WavAudioOut, fromIndex = 0): number[] {
  const times: number[] = [];
  for (let i = fromIndex; i < out.played.length; i++) if (isAlertTone(out.played[i])) times.push(out.playedAtMs[i]);
  return times;
}

interface Booted {
  device: Device;
  out: () => WavAudioOut;
  say(text: string): void;
  lines: string[];
  lights: AttentionState[];
  ringing: (Ringing | undefined)[];
}

function boot(cloud: Cloud, dataDir: string, clientId: string, network: CuttableNetwork, speech: (text: string) => Int16Array): Booted {
  const { log, lines } = captureLogger(clientId);
  const audioIn = wavAudioIn({ realtime: true });
  const audioOut = wavAudioOut({ realtime: true });
  const lights: AttentionState[] = [];
  const ringing: (Ringing | undefined)[] = [];
  const config: DeviceConfig = { ...deviceConfigFor(cloud, clientId), trace: true, connection: { reconnect: { minDelayMs: 50, maxDelayMs: 300 } } };
  const device = new Device({ ...nodePorts(dataDir, log), socket: network.socket, audio: { audioIn, audioOut, opus: nodeOpus } }, config, {
    onCode: (pair) => cloud.lwa.approve(pair.userCode),
    onAttention: (light) => lights.push(light),
    onAlert: (r) => ringing.push(r && { ...r }),
  });
  device.start();
  return { device, out: () => audioOut.last!, say: (text) => audioIn.last!.say(speech(text)), lines, lights, ringing };
}

/** `npm run device` for hall-1 in a child process on `dataDir`, its code approved, its lines gathered. */
function spawnNodeDevice(cloud: Cloud, clientId: string, dataDir: string, args: string[]) {
  const child = spawn(process.execPath, [fromRoot('build/hosts/node/main.js'), '--cloud', cloud.httpUrl, '--mqtt-port', String(cloud.mqttPort),
    '--client-id', clientId, '--data-dir', dataDir, '--trace', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { lines, times } = childLines(child, (line) => {
    const code = /enter the code (\w+)/.exec(line);
    if (code) cloud.lwa.approve(code[1]);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, times, exited };
}

/** An alert's lines in a device's log: `alert TOKEN set: TIMER at T (NTP s) …`. */
const SET_LINE = /alert (\S+) set: TIMER at (\d+) \(NTP s\) for 3000 ms/;

test('a timer set by voice rings locally at its time with the network cut, and one due while the device was off rings when it is back', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const speech = (text: string) => concat(silence(4000), synthesizer.synthesize(text, USER_VOICES['us-female']), silence(4000));
  const answers = new Map<string, AnswerEvent[]>();
  const cloudLog = captureLogger('cloud');
  const cloud = await startCloud({
    log: cloudLog.log, pollIntervalMs: 100,
    alerts: { durationMs: 3000 },
    voice: { onAnswer: (id, a) => answers.set(id, [...(answers.get(id) ?? []), a]) },
  });
  const work = mkdtempSync(join(tmpdir(), 'ais-alert-'));
  const kitchenDir = join(work, 'kitchen-1');
  const hallDir = join(work, 'hall-1');
  const timerWav = join(work, 'timer.wav');
  writeWav(timerWav, speech('set a timer for ten seconds'));
  const network = cuttableNetwork(createSocket);
  const devices: Device[] = [];
  const children: ChildProcess[] = [];
  try {
    // hall-1 taps and says the WAV once ready (--say); kitchen-1 is told the same words when both are ready.
    const hall = spawnNodeDevice(cloud, 'hall-1', hallDir, ['--say', timerWav]);
    children.push(hall.child);
    const a = boot(cloud, kitchenDir, 'kitchen-1', network, speech);
    devices.push(a.device);
    await until('both ready', () => a.device.state === 'ready' && ['kitchen-1', 'hall-1'].every((id) => cloud.service.deviceState(id)?.synchronizedState), 20_000);
    await until('the wall clock set by SetClock', () => a.device.clock!.synchronized);
    a.device.microphone!.tap();
    a.say('set a timer for ten seconds');
    const hallSet = () => hall.lines.map((l) => SET_LINE.exec(l)).find((m) => m !== null);
    await until('both timers stored on the devices', () => a.device.alerts!.list().length === 1 && hallSet() !== undefined
      && protocolTrace(hall.lines).some((m) => m.name === 'SetAlertSucceeded'), 40_000);
    for (const id of ['kitchen-1', 'hall-1']) assert.equal(answers.get(id)?.[0]?.intent, 'setTimer', `${id} heard a timer`);
    const aDue = performance.now() + (a.device.alerts!.list()[0].scheduledTime - a.device.wall.nowSeconds()) * 1000;
    const [, bToken, bScheduled] = hallSet()!;
    const bDue = performance.now() + (Number(bScheduled) - cloud.alerts.nowSeconds()) * 1000;
    assert.ok(aDue - performance.now() > 3000, `time left to cut the network: ${(aDue - performance.now()).toFixed(0)} ms`);

    // kitchen-1: the network goes before the timer is due (while the answer may still be playing).
    const playedBefore = a.out().played.length;
    network.cut();
    await until('kitchen-1 offline', () => a.device.state !== 'ready');
    assert.ok(aDue - performance.now() > 1000, `offline well before the due time: ${(aDue - performance.now()).toFixed(0)} ms before`);
    // hall-1: the power goes before its timer is due (SIGKILL: nothing runs after it).
    hall.child.kill('SIGKILL');
    await hall.exited;
    assert.equal(hall.child.signalCode, 'SIGKILL');
    assert.ok(bDue - performance.now() > 1000, `hall-1 off well before its due time: ${(bDue - performance.now()).toFixed(0)} ms before`);

    await until('kitchen-1 rings', () => toneTimes(a.out(), playedBefore).length > 0, aDue - performance.now() + 5000);
    const firstTone = toneTimes(a.out(), playedBefore)[0];
    t.diagnostic(`kitchen-1: local tone ${(firstTone - aDue).toFixed(0)} ms after the due time`);
    assert.ok(Math.abs(firstTone - aDue) < 1500, `the tone starts at the due time: ${(firstTone - aDue).toFixed(0)} ms off`);
    assert.equal(a.ringing.find((r) => r)?.mode, 'local');
    assert.ok(a.lights.includes('ALERTING'), 'the LEDs show ALERTING');
    // It stops after its duration (3 s) and is deleted from storage.
    await until('the alert over', () => a.device.alerts!.list().length === 0 && a.ringing.at(-1) === undefined, 8000);
    const lastTone = toneTimes(a.out(), playedBefore).at(-1)!;
    assert.ok(lastTone - firstTone < 3000 + 500, `rang ${(lastTone - firstTone).toFixed(0)} ms of a 3000 ms duration`);
    assert.ok(lastTone - firstTone > 2000, `rang ${(lastTone - firstTone).toFixed(0)} ms of a 3000 ms duration`);
    assert.equal(new AlertStore(openFolderStorage(kitchenDir)).size, 0);

    // Back online: the device lists no alert, and the cloud forgets the one it rang offline.
    network.restore();
    await until('kitchen-1 reconnected and synchronized', () => a.device.state === 'ready' && cloud.service.deviceState('kitchen-1')!.connections >= 2, 15_000);
    await until('the cloud dropped kitchen-1\'s timer', () => cloud.alerts.list('kitchen-1').length === 0);

    // hall-1 is started again, a new process on the same folder, 2 s after its timer was due: it rings at once.
    assert.deepEqual(new AlertStore(openFolderStorage(hallDir)).tokens(), [bToken], 'the timer survived the power cut');
    await until('hall-1\'s timer past due', () => performance.now() > bDue + 2000, bDue - performance.now() + 5000);
    const played = join(work, 'hall-1.wav');
    const rebootAt = performance.now();
    const hall2 = spawnNodeDevice(cloud, 'hall-1', hallDir, ['--out', played]);
    children.push(hall2.child);
    const dueLines = () => hall2.lines.map((l, i) => ({ l, i })).filter(({ l }) => l.includes(`alert ${bToken} (TIMER) due`));
    await until('hall-1 rings its missed timer', () => dueLines().length > 0, 10_000);
    const due = dueLines()[0];
    const late = Number(/due \((\d+) s late\)/.exec(due.l)?.[1]);
    t.diagnostic(`hall-1: missed timer ringing ${(hall2.times[due.i] - rebootAt).toFixed(0)} ms after the new process started, ${late} s late: ${due.l}`);
    assert.ok(late >= 2 && late < 1800, `rung as a missed alert: ${due.l}`);
    assert.match(due.l, /ringing locally/, 'rung at once, before the connection is up');
    await until('the LEDs show ALERTING', () => hall2.lines.some((l) => /LED \w+ → ALERTING/.test(l)));
    // The cloud saw hall-1 vanish (presence event), kept the timer unrung, and rings it through the speaker once
    // hall-1 lists it, then deletes it.
    assert.ok(cloudLog.lines.some((l) => l.includes('hall-1: connection lost (CONNECTION_LOST)')), 'the cloud saw hall-1 go');
    await until('the cloud rang hall-1\'s missed timer and deleted it', () => protocolTrace(hall2.lines).some((m) => m.name === 'DeleteAlertSucceeded'), 20_000);
    const [sync, , attention] = inOrder(protocolTrace(hall2.lines), ['→SynchronizeState', '←OpenSpeaker', '←SetAttentionState', '←DeleteAlert', '→DeleteAlertSucceeded']);
    assert.deepEqual((sync.payload.alerts as { allAlerts: string[] }).allAlerts, [bToken]);
    assert.equal(attention.payload.state, 'ALERTING');
    // Rung once: no second ring from the device nor a SetAlert again from the cloud.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(dueLines().length, 1, 'rung once');
    assert.ok(!protocolTrace(hall2.lines).some((m) => m.name === 'SetAlert'), 'the cloud did not set it again');
    hall2.child.kill('SIGTERM');
    await hall2.exited;
    assert.equal(new AlertStore(openFolderStorage(hallDir)).size, 0, 'deleted from hall-1\'s storage');
    assert.ok(existsSync(played), 'hall-1 wrote what its speaker played on stop');
    const samples = parseWav(new Uint8Array(readFileSync(played))).samples;
    let toneFrames = 0;
    for (let at = 0; at + 320 <= samples.length; at += 320) if (isAlertTone(samples.subarray(at, at + 320))) toneFrames++;
    assert.ok(toneFrames > 0, 'hall-1\'s speaker played the local tone');
    t.diagnostic(`hall-1: ${toneFrames} frames of the local tone (${toneFrames * 20} ms of beeps)`);
  } finally {
    for (const d of devices) d.stop();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cloud.close();
    rmSync(work, { recursive: true, force: true });
  }
});
