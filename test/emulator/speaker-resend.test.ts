// The emulator's speaker stream when an OVERRUN reaches it after it has sent the whole answer: here it sends each
// answer in one burst, so every OVERRUN of a small device buffer comes back once the stream has ended. The device
// discarded the named message and waits for it, so the answer's tail must go again (§3.5); before this was handled
// the device held the rest of the answer until its gap timeout ended the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { Device } from '../../src/app/device.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import { concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { AnswerEvent } from '../../emulator/voice/virtual-device.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { protocolTrace } from '../support/trace.js';
import { requirePocketsphinx } from './voice/tools.js';

test('an OVERRUN that comes back after the whole answer was sent: its tail goes again and the answer plays whole, on the same connection', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const answers: AnswerEvent[] = [];
  const cloudLog = captureLogger('cloud');
  const cloud = await startCloud({
    log: cloudLog.log, pollIntervalMs: 100,
    voice: { aheadMessages: 1000, overrunWaitMs: 100, onAnswer: (_id, a) => answers.push(a) },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-resend-'));
  const { log, lines } = captureLogger('small-buffer');
  const audioIn = wavAudioIn({ realtime: true });
  const audioOut = wavAudioOut({ realtime: true });
  const device = new Device({ ...nodePorts(dataDir, log), audio: { audioIn, audioOut, opus: nodeOpus } }, {
    ...deviceConfigFor(cloud, 'small-buffer'), trace: true,
    // 12 Opus frames: a whole answer sent at once overruns it.
    speakerBuffer: { bufferBytes: 1920, overrunWarningBytes: 1600, underrunWarningBytes: 320 },
  }, { onCode: (pair) => cloud.lwa.approve(pair.userCode) });
  try {
    device.start();
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('small-buffer')?.synchronizedState !== undefined, 20_000);
    const playedBefore = audioOut.last!.played.length;
    device.microphone!.tap();
    audioIn.last!.say(concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-female']), silence(8000)));
    await until('the answer', () => answers.length === 1, 30_000);
    assert.equal(answers[0].intent, 'time');
    await until('the answer played', () => protocolTrace(lines).some((m) => m.name === 'SpeakerClosed'), 30_000);
    const trace = protocolTrace(lines);
    const overruns = trace.filter((m) => m.name === 'BufferStateChanged' && m.payload.state === 'OVERRUN');
    assert.ok(overruns.length > 0, 'the burst overran the small buffer');
    assert.ok(cloudLog.lines.some((l) => /its tail goes again/.test(l)), 'the emulator resent the tail');
    // SpeakerClosed comes as the last frame is queued to the speaker; it plays a frame or two later.
    const played = () => audioOut.last!.played.length - playedBefore;
    await until('the queued frames played', () => played() >= answers[0].opusFrames.length, 2000).catch(() => undefined);
    assert.equal(played(), answers[0].opusFrames.length, 'every frame of the answer played once');
    assert.equal(cloud.service.deviceState('small-buffer')!.connections, 1, 'no reconnect');
    assert.ok(!lines.some((l) => /UNEXPECTED_SEQUENCE_NUMBER/.test(l)));
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
