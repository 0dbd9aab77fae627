// Connected endpoints, notifications and cards by voice, over real sockets with the emulated cloud's voice:
// "turn on the lamp" and "dim the lamp to thirty percent" reach the device's lamp, which acts and reports its
// state to the cloud; a notification's indicator stays on after another answer and "what are my notifications"
// reads it and turns it off; each answer, and a timer, is the device's card in the cloud.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { createSocket } from '../../hosts/node/socket.js';
import { Device, type AttentionState } from '../../src/app/device.js';
import type { EndpointLook } from '../../src/ports/ui.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import type { AnswerEvent } from '../../emulator/voice/virtual-device.js';
import { concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { requirePocketsphinx } from './voice/tools.js';

test('by voice: the lamp turned on and dimmed, a notification read and its indicator gone, a card per answer', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const speech = (text: string) => concat(silence(4000), synthesizer.synthesize(text, USER_VOICES['us-male']), silence(4000));
  const answers: AnswerEvent[] = [];
  const cloudLog = captureLogger('cloud');
  const cloud = await startCloud({ log: cloudLog.log, pollIntervalMs: 100, voice: { onAnswer: (_id, a) => answers.push(a) } });
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-smart-home-'));
  const audioIn = wavAudioIn({ realtime: true });
  const lights: AttentionState[] = [];
  const lamp: EndpointLook[] = [];
  const device = new Device({ ...nodePorts(dataDir, captureLogger('kitchen-9').log), socket: createSocket, audio: { audioIn, audioOut: wavAudioOut({ realtime: true }), opus: nodeOpus } },
    { ...deviceConfigFor(cloud, 'kitchen-9'), connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } },
    { onCode: (pair) => cloud.lwa.approve(pair.userCode), onAttention: (l) => lights.push(l), onEndpoint: (id, look) => id === 'lamp' && lamp.push(look) });
  device.start();
  const turn = async (text: string, count: number) => {
    device.microphone!.tap();
    audioIn.last!.say(speech(text));
    await until(`the answer to "${text}"`, () => answers.length === count, 30_000);
    return answers[count - 1];
  };
  try {
    await until('discovered', () => device.state === 'ready' && cloud.endpoints.list('kitchen-9').length === 2 && cloud.voice!.hasVoice('kitchen-9'), 20_000);

    let answer = await turn('alexa turn on the lamp', 1);
    assert.equal(answer.intent, 'turnOn');
    await until('the lamp on, reported', () => cloud.endpoints.find('kitchen-9', 'lamp')?.power === true, 10_000);
    assert.deepEqual(lamp.at(-1), { power: true, brightness: 100 });
    assert.equal(cloud.cards.current('kitchen-9')?.type, 'BodyTemplate1');

    answer = await turn('alexa dim the lamp to thirty percent', 2);
    assert.equal(answer.intent, 'setBrightness');
    await until('30 %, reported', () => cloud.endpoints.find('kitchen-9', 'lamp')?.brightness === 30, 10_000);
    assert.deepEqual(lamp.at(-1), { power: true, brightness: 30 });
    const card = cloud.cards.current('kitchen-9');
    assert.ok(card?.type === 'BodyTemplate1' && card.textField === answer.text, 'the answer is the card');
    assert.ok(cloudLog.lines.some((l) => l.includes(`kitchen-9: card [`) && l.includes(answer.text)), 'the console shows the card in one line');

    assert.ok(cloud.operator.notify('kitchen-9', 'Your parcel has arrived').ok);
    await until('the indicator', () => lights.at(-1) === 'NOTIFICATION_AVAILABLE');
    answer = await turn('alexa what time is it', 3);
    assert.equal(answer.intent, 'time');
    await until('the answer played and the indicator back', () => lights.includes('SPEAKING') && lights.at(-1) === 'NOTIFICATION_AVAILABLE', 15_000);

    const before = lights.length;
    answer = await turn('alexa what are my notifications', 4);
    assert.equal(answer.intent, 'readNotifications');
    assert.match(answer.text, /Your parcel has arrived/);
    await until('read out and the indicator off', () => lights.slice(before).includes('SPEAKING') && lights.at(-1) === 'IDLE', 20_000);
    assert.deepEqual(cloud.notifications.list('kitchen-9'), []);

    assert.ok(cloud.operator.timer('kitchen-9', 600).ok);
    assert.equal(cloud.cards.current('kitchen-9')?.type, 'TimerTemplate');
    cloud.cards.nowPlaying('kitchen-9', { title: 'Blue in Green', artist: 'The Emulator Trio' });
    assert.deepEqual(cloud.cards.current('kitchen-9'), { type: 'PlayerInfo', content: { title: 'Blue in Green', titleSubtext1: 'The Emulator Trio', provider: 'ais-mcu emulator' } });
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
