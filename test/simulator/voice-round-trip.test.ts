// The spoken round trip over real sockets: the whole emulated cloud with voice (simulator/ais/voice-session.ts)
// and a Device on the Node host with audio ports. The user taps and speaks (synthesised speech into the
// microphone); the device streams it; the emulator hears the end of speech, closes the microphone, recognises,
// answers on the speaker stream; the device plays the answer. Then the two-turn exchange: the emulator's
// question reopens the microphone (OpenMicrophone) once the question has played.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../simulator/cloud.js';
import type { AnswerEvent, TranscriptEvent } from '../../simulator/voice/virtual-device.js';
import { bestAlignment, concat, silence } from '../../simulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../simulator/voice/tts.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { requirePocketsphinx } from './voice/tools.js';

function config(cloud: Cloud, clientId: string): DeviceConfig {
  return { ...deviceConfigFor(cloud, clientId), trace: true, connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } };
}

test('a spoken turn end to end: tap, "what day is it", the transcript in the cloud, the answer played by the device matches the synthesised answer; a question reopens the microphone', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const say = (text: string) => concat(silence(4000), synthesizer.synthesize(text, USER_VOICES['us-male']), silence(4000));
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const latencies: number[] = [];
  const directives: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-voice-'));
  const cloud = await startCloud({
    pollIntervalMs: 100,
    voice: {
      onTranscript: (_id, e) => transcripts.push(e),
      onAnswer: (_id, a) => answers.push(a),
      onSpeakerStart: (_id, s) => latencies.push(s.atMs - s.endOfSpeechAtMs),
    },
  });
  assert.ok(cloud.voice, 'voice is on when pocketsphinx is installed');
  const audioIn = wavAudioIn({ realtime: true });
  const audioOut = wavAudioOut({ realtime: true });
  const { log, lines } = captureLogger('kitchen-1');
  const device = new Device({ ...nodePorts(dataDir, log), audio: { audioIn, audioOut, opus: nodeOpus } }, config(cloud, 'kitchen-1'), {
    onCode: (pair) => cloud.lwa.approve(pair.userCode),
    onAttention: (state) => { if (state !== 'LISTENING') directives.push(`SetAttentionState ${state}`); },
  });
  try {
    device.start();
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('kitchen-1')?.synchronizedState !== undefined, 15_000);
    const playedBefore = () => audioOut.last!.played.length;
    // Turn 1: tap and ask.
    device.microphone!.tap();
    audioIn.last!.say(say('what day is it'));
    await until('the transcript', () => transcripts.length === 1, 20_000);
    assert.equal(transcripts[0].text, 'what day is it');
    await until('the answer', () => answers.length === 1, 10_000);
    assert.equal(answers[0].intent, 'date');
    const frames = answers[0].opusFrames.length;
    await until('the answer played', () => lines.some((l) => /SpeakerClosed/.test(l)) && playedBefore() >= frames, 20_000);
    const played = audioOut.last!.samples();
    // The device's own decode may differ from the synthesis by the codec; align and correlate.
    const reference = answers[0].pcm.subarray(0, Math.min(answers[0].pcm.length, 16000 * 2));
    const start = played.findIndex((s) => Math.abs(s) > 300);
    const { correlation, lag } = bestAlignment(reference, played.subarray(Math.max(0, start - 1500)), 2000);
    assert.ok(correlation > 0.8, `played answer correlates ${correlation.toFixed(3)} with the synthesised one (lag ${lag})`);
    assert.deepEqual(directives.slice(0, 3), ['SetAttentionState THINKING', 'SetAttentionState SPEAKING', 'SetAttentionState IDLE']);
    const order = ['→ event #\\d+ [\\w,]*MicrophoneOpened', '← directive #\\d+ .*CloseMicrophone', '→ event #\\d+ [\\w,]*MicrophoneClosed', '← directive #\\d+ .*OpenSpeaker',
      '→ event #\\d+ [\\w,]*SpeakerOpened', '→ event #\\d+ [\\w,]*SpeakerMarkerEncountered', '→ event #\\d+ [\\w,]*SpeakerClosed'];
    let at = -1;
    for (const pattern of order) {
      const next = lines.findIndex((l, i) => i > at && new RegExp(pattern).test(l));
      assert.ok(next > at, `${pattern} in the device trace after the previous step`);
      at = next;
    }
    const closeSpeaker = lines.findIndex((l) => /← directive #\d+ .*CloseSpeaker/.test(l));
    assert.ok(closeSpeaker >= 0 && closeSpeaker < at, 'CloseSpeaker came before SpeakerClosed');
    t.diagnostic(`end of speech → first speaker message published: ${latencies[0].toFixed(0)} ms; played correlation ${correlation.toFixed(3)}`);

    // Turn 2: a question; once it has played the emulator opens the microphone again (no tap).
    const opened = () => lines.filter((l) => /→ event #\d+ [\w,]*MicrophoneOpened/.test(l)).length;
    device.microphone!.tap();
    audioIn.last!.say(say('ask me a question'));
    await until('the question', () => answers.length === 2, 30_000);
    assert.equal(answers[1].intent, 'quiz');
    await until('the microphone reopened by OpenMicrophone', () => opened() === 3 && lines.some((l) => /OpenMicrophone/.test(l)), 20_000);
    audioIn.last!.say(say('blue'));
    await until('the colour answer', () => answers.length === 3, 30_000);
    assert.equal(answers[2].intent, 'colour', `heard ${JSON.stringify(transcripts[2]?.text)}`);
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
