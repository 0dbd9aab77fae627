// The cloud's side of alerts and volume by voice, over real sockets with the emulated cloud's voice: "set the
// volume to five" sets the device's volume; a timer set from the operator console rings through the cloud's
// speech (ALERTING, no local tone) while the device is connected, and "stop" ends it on both sides; a device
// that vanishes while the cloud rings (its socket destroyed) stops the cloud's stream at once and rings on locally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { createSocket } from '../../hosts/node/socket.js';
import type { Ringing } from '../../src/ais/alerts.js';
import { Device, type AttentionState } from '../../src/app/device.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import type { AnswerEvent } from '../../emulator/voice/virtual-device.js';
import { concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import { until } from '../support/ais.js';
import { cuttableNetwork } from '../support/cuttable-network.js';
import { captureLogger } from '../support/log.js';
import { requirePocketsphinx } from './voice/tools.js';

/** A Node device with audio on `cloud`, its code approved; what it shows is recorded. */
function boot(cloud: Cloud, clientId: string, socket = createSocket) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-alert-cloud-'));
  const audioIn = wavAudioIn({ realtime: true });
  const audioOut = wavAudioOut({ realtime: true });
  const lights: AttentionState[] = [];
  const ringing: (Ringing | undefined)[] = [];
  const { log } = captureLogger(clientId);
  const device = new Device({ ...nodePorts(dataDir, log), socket, audio: { audioIn, audioOut, opus: nodeOpus } },
    { ...deviceConfigFor(cloud, clientId), connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } },
    { onCode: (pair) => cloud.lwa.approve(pair.userCode), onAttention: (l) => lights.push(l), onAlert: (r) => ringing.push(r && { ...r }) });
  device.start();
  return { device, audioIn, lights, ringing, stop: () => { device.stop(); rmSync(dataDir, { recursive: true, force: true }); } };
}

test('"set the volume to five" sets the volume; a connected device\'s timer rings through the cloud\'s speech and "stop" ends it', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const speech = (text: string) => concat(silence(4000), synthesizer.synthesize(text, USER_VOICES['us-male']), silence(4000));
  const answers: AnswerEvent[] = [];
  const cloud = await startCloud({ pollIntervalMs: 100, alerts: { durationMs: 30_000 }, voice: { onAnswer: (_id, a) => answers.push(a) } });
  const { device, audioIn, lights, ringing, stop } = boot(cloud, 'study-1');
  try {
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('study-1')?.synchronizedState !== undefined, 15_000);

    device.microphone!.tap();
    audioIn.last!.say(speech('set the volume to five'));
    await until('the volume answer', () => answers.length === 1, 30_000);
    assert.equal(answers[0].intent, 'setVolume');
    await until('volume 50 on the device', () => device.speaker!.volume === 50);
    await until('the cloud knows it', () => cloud.alerts.volume('study-1').volume === 50);

    const token = cloud.alerts.set('study-1', 'TIMER', cloud.alerts.nowSeconds() + 2, '2 seconds');
    await until('stored on the device', () => device.alerts!.list().some((a) => a.token === token), 5000);
    await until('the cloud rings it', () => ringing.some((r) => r?.mode === 'cloud'), 8000);
    assert.equal(ringing.find((r) => r)?.alert.token, token);
    assert.ok(!ringing.some((r) => r?.mode === 'local'), 'no local tone while the cloud rings');
    assert.ok(lights.includes('ALERTING'));
    assert.equal(cloud.service.deviceState('study-1')!.attention, 'ALERTING');

    device.microphone!.tap();
    audioIn.last!.say(speech('stop'));
    await until('the alert over on both sides', () => device.alerts!.list().length === 0 && cloud.alerts.list('study-1').length === 0
      && ringing.at(-1) === undefined, 30_000);
    assert.ok(!cloud.alerts.stopRinging('study-1'), 'nothing rings in the cloud');
    await until('the light back to IDLE', () => lights.at(-1) === 'IDLE', 10_000);
  } finally {
    stop();
    await cloud.close();
  }
});

test('a device that vanishes while the cloud rings its timer: the cloud sees it lost, stops the stream at once and the device rings on locally', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const cloudLog = captureLogger('cloud');
  const cloud = await startCloud({ log: cloudLog.log, pollIntervalMs: 100, alerts: { durationMs: 30_000 } });
  const network = cuttableNetwork(createSocket);
  const { device, ringing, stop } = boot(cloud, 'study-2', network.socket);
  try {
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('study-2')?.synchronizedState !== undefined, 15_000);
    const token = cloud.alerts.set('study-2', 'TIMER', cloud.alerts.nowSeconds() + 1, '1 second');
    await until('the cloud rings it', () => ringing.some((r) => r?.mode === 'cloud'), 8000);
    network.cut(); // the device's socket destroyed: no AIS Disconnect
    await until('seen as lost', () => !cloud.service.isConnected('study-2'), 1000);
    const line = (text: string) => cloudLog.lines.some((l) => l.includes(text));
    assert.ok(line('study-2: connection lost (CONNECTION_LOST)'), cloudLog.lines.join('\n'));
    assert.ok(line('study-2: speaker stream stopped: the device is gone'), 'the stream stopped by the loss itself');
    assert.ok(line(`study-2: alert ${token}: connection lost while ringing; the device takes over`));
    assert.ok(!cloud.alerts.stopRinging('study-2'), 'nothing rings in the cloud');
    await until('the device rings on with its tone', () => ringing.at(-1)?.mode === 'local', 5000);
  } finally {
    stop();
    await cloud.close();
  }
});

test('four cloud-rung timers in a row: the device\'s clock agrees with the cloud\'s to the network delay, and every one rings through the cloud, none with the local tone', { timeout: 90_000 }, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const cloud = await startCloud({ pollIntervalMs: 100, alerts: { durationMs: 3000 } });
  const { device, ringing, stop } = boot(cloud, 'study-3');
  try {
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('study-3')?.synchronizedState !== undefined, 15_000);
    await until('the wall clock set by SetClock', () => device.clock!.synchronized, 5000);
    await until('the virtual device', () => cloud.voice!.hasVoice('study-3'), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the exact SetClock, on the cloud's next whole second
    const skew = device.wall.nowSeconds() - cloud.alerts.nowSeconds();
    t.diagnostic(`device clock − cloud clock: ${(skew * 1000).toFixed(0)} ms`);
    assert.ok(Math.abs(skew) < 0.25, `device clock off by ${(skew * 1000).toFixed(0)} ms`);
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      // Fractional due times, as "in 2.3 seconds" from a console or the assistant gives them.
      tokens.push(cloud.alerts.set('study-3', 'TIMER', cloud.alerts.nowSeconds() + 2.3 + 0.37 * i, `${i + 2} second`));
      await until(`timer ${i} rung and over`, () => ringing.some((r) => r?.alert.token === tokens[i]) && ringing.at(-1) === undefined
        && cloud.alerts.list('study-3').length === 0, 20_000);
    }
    const modes = ringing.filter((r) => r !== undefined).map((r) => `${r.alert.token}:${r.mode}`);
    assert.deepEqual(modes.filter((m) => m.endsWith(':local')), [], modes.join(' '));
    assert.deepEqual(tokens.map((token) => modes.includes(`${token}:cloud`)), [true, true, true, true], modes.join(' '));
  } finally {
    stop();
    await cloud.close();
  }
});
