// Alerts end to end over real sockets, with the whole emulated cloud and its voice, and Node devices with audio:
// a timer set by voice rings with the local tone at its time when the network was cut before it was due; a
// timer due while the device was off rings as soon as the device is back (a missed alert, less than 30 min late);
// both are gone from the device and the cloud afterwards. The two devices run side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut, type WavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { createSocket } from '../../hosts/node/socket.js';
import { ALERTS_KEY, AlertStore } from '../../src/ais/alert-store.js';
import type { Ringing } from '../../src/ais/alerts.js';
import { Device, type AttentionState, type DeviceConfig } from '../../src/app/device.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../simulator/cloud.js';
import type { AnswerEvent } from '../../simulator/voice/virtual-device.js';
import { concat, silence } from '../../simulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../simulator/voice/tts.js';
import { until } from '../support/ais.js';
import { toneShare } from '../support/audio.js';
import { cuttableNetwork, type CuttableNetwork } from '../support/cuttable-network.js';
import { captureLogger } from '../support/log.js';
import { requirePocketsphinx } from './voice/tools.js';

/** Monotonic play times of the frames that are the alert tone. */
function toneTimes(out: WavAudioOut, fromIndex = 0): number[] {
  const times: number[] = [];
  for (let i = fromIndex; i < out.played.length; i++) if (toneShare(out.played[i]) > 0.9) times.push(out.playedAtMs[i]);
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

test('a timer set by voice rings locally at its time with the network cut, and one due while the device was off rings when it is back', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const speech = (text: string) => concat(silence(4000), synthesizer.synthesize(text, USER_VOICES['us-female']), silence(4000));
  const answers = new Map<string, AnswerEvent[]>();
  const cloud = await startCloud({
    pollIntervalMs: 100,
    alerts: { durationMs: 3000 },
    voice: { onAnswer: (id, a) => answers.set(id, [...(answers.get(id) ?? []), a]) },
  });
  const dirs = [mkdtempSync(join(tmpdir(), 'ais-alert-a-')), mkdtempSync(join(tmpdir(), 'ais-alert-b-'))];
  const networks = [cuttableNetwork(createSocket), cuttableNetwork(createSocket)];
  const devices: Device[] = [];
  try {
    const a = boot(cloud, dirs[0], 'kitchen-1', networks[0], speech);
    const b = boot(cloud, dirs[1], 'hall-1', networks[1], speech);
    devices.push(a.device, b.device);
    await until('both ready', () => [a, b].every((d) => d.device.state === 'ready') && ['kitchen-1', 'hall-1'].every((id) => cloud.service.deviceState(id)?.synchronizedState), 20_000);
    await until('the wall clock set by SetClock', () => a.device.clock!.synchronized && b.device.clock!.synchronized);

    // Both ask for a ten-second timer at once.
    for (const d of [a, b]) {
      d.device.microphone!.tap();
      d.say('set a timer for ten seconds');
    }
    await until('both timers stored on the devices', () => a.device.alerts!.list().length === 1 && b.device.alerts!.list().length === 1, 40_000);
    for (const id of ['kitchen-1', 'hall-1']) assert.equal(answers.get(id)?.[0]?.intent, 'setTimer', `${id} heard a timer`);
    const dueMs = (d: Booted) => performance.now() + (d.device.alerts!.list()[0].scheduledTime - d.device.wall.nowSeconds()) * 1000;
    const aDue = dueMs(a);
    const bDue = dueMs(b);
    const bToken = b.device.alerts!.list()[0].token;
    assert.ok(aDue - performance.now() > 3000, `time left to cut the network: ${(aDue - performance.now()).toFixed(0)} ms`);

    // kitchen-1: the network goes before the timer is due (while the answer may still be playing).
    const playedBefore = a.out().played.length;
    networks[0].cut();
    await until('kitchen-1 offline', () => a.device.state !== 'ready');
    assert.ok(aDue - performance.now() > 1000, `offline well before the due time: ${(aDue - performance.now()).toFixed(0)} ms before`);
    // hall-1: powered off before it is due.
    b.device.stop();
    devices.pop();

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
    assert.equal(new AlertStore(nodePorts(dirs[0], captureLogger('x').log).storage).size, 0);

    // Back online: the device lists no alert, and the cloud forgets the one it rang offline.
    networks[0].restore();
    await until('kitchen-1 reconnected and synchronized', () => a.device.state === 'ready' && cloud.service.deviceState('kitchen-1')!.connections >= 2, 15_000);
    await until('the cloud dropped kitchen-1\'s timer', () => cloud.alerts.list('kitchen-1').length === 0);

    // hall-1 boots again 2 s after its timer was due: it rings at once.
    const stored = nodePorts(dirs[1], captureLogger('x').log).storage.get(ALERTS_KEY);
    assert.ok(stored, 'the timer survived the power-off');
    await until('hall-1\'s timer past due', () => performance.now() > bDue + 2000, bDue - performance.now() + 5000);
    const rebootAt = performance.now();
    const b2 = boot(cloud, dirs[1], 'hall-1', networks[1], speech);
    devices.push(b2.device);
    await until('hall-1 rings its missed timer', () => b2.ringing.length > 0, 5000);
    assert.equal(b2.ringing[0]!.alert.token, bToken);
    t.diagnostic(`hall-1: missed timer ringing ${(performance.now() - rebootAt).toFixed(0)} ms after the reboot (${b2.ringing[0]!.mode})`);
    await until('hall-1\'s missed timer over on the device and in the cloud', () => b2.device.alerts?.list().length === 0
      && b2.ringing.at(-1) === undefined && cloud.alerts.list('hall-1').length === 0, 20_000);
    const rang = toneTimes(b2.out()).length > 0 || b2.lights.includes('ALERTING');
    assert.ok(rang, 'the missed timer was heard: the local tone or the cloud\'s alert speech');
  } finally {
    for (const d of devices) d.stop();
    await cloud.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
