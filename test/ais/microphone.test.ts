// The Microphone namespace end to end over real sockets: the device (src/ais/microphone.ts on the Node host's
// WAV audio in) streams to the emulator's AIS service through its broker, which checks the exact PCM, the
// offsets, the pace and the events (docs/protocol.md §3.3, §3.4, §4.4, §4.9, §5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../../hosts/node/wav.js';
import { AisTestbed, until } from '../support/ais.js';
import { align, chirp, decodeOpus, samplesOf } from '../support/audio.js';
import { ServiceRecorder, voiceDevice, type VoiceDevice } from '../support/voice.js';

const ready = (bed: AisTestbed, d: VoiceDevice) => d.connection.state === 'ready' && bed.service.deviceState(d.clientId)?.synchronizedState !== undefined;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where `received` sits in `source`, sample for sample; -1 if nowhere. */
function exactPosition(source: Int16Array, received: Int16Array): number {
  outer: for (let k = 0; k + received.length <= source.length; k++) {
    for (let i = 0; i < received.length; i++) if (source[k + i] !== received[i]) continue outer;
    return k;
  }
  return -1;
}

async function start(options: Parameters<typeof voiceDevice>[2], serviceOptions: Record<string, unknown> = {}) {
  const recorder = new ServiceRecorder();
  const bed = await new AisTestbed().start({ ...recorder.options, ...serviceOptions });
  const d = voiceDevice(bed, 'thing-1', options);
  d.connection.start();
  await until('ready', () => ready(bed, d));
  return { bed, d, recorder, stop: async () => { d.stop(); await bed.stop(); } };
}

test('OpenMicrophone on a tap device: the service receives the WAV\'s exact PCM at contiguous offsets, paced 50 ms apart, then MicrophoneClosed at its end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-mic-'));
  const source = chirp(3000, 200, 3000);
  writeWav(join(dir, 'speech.wav'), source);
  const { bed, d, recorder, stop } = await start({ initiator: 'TAP', speechPaths: [join(dir, 'speech.wav')] });
  try {
    await pause(200);
    bed.service.sendDirectives('thing-1', [{ name: 'OpenMicrophone', payload: { timeoutInMilliseconds: 8000, initiator: { type: 'TAP', payload: { token: 'turn-2' } } } }]);
    await until('MicrophoneOpened', () => recorder.named('MicrophoneOpened').length === 1);
    assert.deepEqual(recorder.named('MicrophoneOpened')[0].payload, { profile: 'NEAR_FIELD', offset: 0, initiator: { type: 'TAP', payload: { token: 'turn-2' } } });
    await until('a second of audio', () => recorder.micBytes().length >= 32000);
    bed.service.sendDirectives('thing-1', [{ name: 'CloseMicrophone', payload: {} }]);
    await until('MicrophoneClosed', () => recorder.named('MicrophoneClosed').length === 1);
    await pause(120);
    const bytes = recorder.micBytes();
    assert.deepEqual(recorder.named('MicrophoneClosed')[0].payload, { offset: bytes.length }, 'the offset just past the last byte sent');
    assert.equal(recorder.mic.at(-1)!.offset + recorder.mic.at(-1)!.audio.length, bytes.length, 'nothing after MicrophoneClosed');
    assert.equal(bytes.length % 640, 0);
    const pcm = samplesOf(bytes);
    assert.ok(exactPosition(source, pcm) >= 0, 'the PCM is a stretch of the WAV, sample for sample');
    // One entry per message, L16 with count 0 (SDK), sequence numbers from 0 with no gap.
    assert.deepEqual(recorder.mic.map((m) => m.seq), recorder.mic.map((_, i) => i));
    assert.ok(recorder.mic.every((m) => m.frames === 1 && m.audio.length <= 3200));
    // §4.9: 50 ms between microphone publishes (timer resolution allowed).
    const gaps = d.micPublishMs.slice(1).map((t, i) => t - d.micPublishMs[i]);
    assert.ok(Math.min(...gaps) >= 48, `publish gaps ${gaps.map((g) => g.toFixed(0)).join(' ')}`);
    assert.ok(d.lines.some((l) => /→ microphone #0 binary \d+ B/.test(l)), 'the device trace shows the microphone messages');
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wake word opens with 500 ms pre-roll: indices are byte offsets 16000 apart from the stream start, the pre-roll drains faster than real time, the next turn goes on at the closed offset', async () => {
  const source = chirp(4000, 150, 3800);
  const { bed, d, recorder, stop } = await start({ initiator: 'WAKEWORD', speech: [source] });
  try {
    await until('1.2 s captured', () => d.microphone.capturedSamples >= 19200);
    const end = d.microphone.capturedSamples;
    const begin = end - 8000; // "Alexa" took the last 500 ms
    d.microphone.wakeWordDetected(begin, end);
    await until('MicrophoneOpened', () => recorder.named('MicrophoneOpened').length === 1);
    assert.deepEqual(recorder.named('MicrophoneOpened')[0].payload, {
      profile: 'FAR_FIELD', offset: 0, initiator: { type: 'WAKEWORD', payload: { wakeWord: 'ALEXA', wakeWordIndices: { beginOffset: 16000, endOffset: 32000 } } },
    });
    await until('the pre-roll and the wake word', () => recorder.micBytes().length >= 40000);
    const pcm = samplesOf(recorder.micBytes());
    assert.equal(exactPosition(source, pcm), begin - 8000, 'the stream starts exactly 500 ms before the wake word');
    // SDK chunks: 1,600 samples per 50 ms while the backlog lasts.
    assert.deepEqual(recorder.mic.slice(0, 4).map((m) => m.audio.length), [3200, 3200, 3200, 3200]);
    bed.service.sendDirectives('thing-1', [{ name: 'CloseMicrophone', payload: {} }]);
    await until('MicrophoneClosed', () => recorder.named('MicrophoneClosed').length === 1);
    const closedAt = recorder.named('MicrophoneClosed')[0].payload.offset as number;
    assert.equal(closedAt, recorder.micBytes().length);

    // A follow-up question (multi-turn): the stream goes on from where it stopped (§3.4).
    bed.service.sendDirectives('thing-1', [{ name: 'OpenMicrophone', payload: { timeoutInMilliseconds: 8000 } }]);
    await until('second MicrophoneOpened', () => recorder.named('MicrophoneOpened').length === 2);
    assert.deepEqual(recorder.named('MicrophoneOpened')[1].payload, { profile: 'FAR_FIELD', offset: closedAt });
    await until('more audio', () => recorder.micBytes().length >= closedAt + 6400);
    const second = samplesOf(recorder.micBytes(closedAt));
    assert.ok(exactPosition(source, second) > begin, 'the second turn is later audio of the same source');
  } finally {
    await stop();
  }
});

test('a publish the MQTT client refuses loses no audio and no sequence number: the message is retried as it was', async () => {
  const source = chirp(3000, 400, 2000);
  const { bed, d, recorder, stop } = await start({ initiator: 'TAP', speech: [source] });
  try {
    d.microphone.tap();
    await until('some audio', () => recorder.mic.length >= 3);
    d.failMicPublishes(4);
    await until('failures retried', () => d.microphone.publishFailures === 4 && recorder.mic.length >= 10);
    d.microphone.endOfSpeech();
    await until('MicrophoneClosed', () => recorder.named('MicrophoneClosed').length === 1);
    const bytes = recorder.micBytes(); // throws if an offset is missing
    assert.equal(recorder.named('MicrophoneClosed')[0].payload.offset, bytes.length);
    assert.deepEqual(recorder.mic.map((m) => m.seq), recorder.mic.map((_, i) => i), 'no sequence gap (the service would have disconnected)');
    assert.ok(exactPosition(source, samplesOf(bytes)) >= 0);
    assert.equal(bed.service.deviceState('thing-1')!.connections, 1);
    assert.ok(d.audioLines.some((l) => /WARN \[microphone\] microphone publish at \d+ failed; retried on the next tick/.test(l)), d.audioLines.join('\n'));
  } finally {
    await stop();
  }
});

test('press and hold: OpenMicrophone times out without a press (OpenMicrophoneTimedOut, no MicrophoneOpened); with one it echoes the initiator and release sends what was captured', async () => {
  const { bed, d, recorder, stop } = await start({ initiator: 'PRESS_AND_HOLD', speech: [chirp(3000)] });
  try {
    bed.service.sendDirectives('thing-1', [{ name: 'OpenMicrophone', payload: { timeoutInMilliseconds: 200 } }]);
    await until('timed out', () => recorder.named('OpenMicrophoneTimedOut').length === 1);
    assert.deepEqual(recorder.named('OpenMicrophoneTimedOut')[0].payload, {});
    assert.equal(d.microphone.state, 'closed');
    assert.ok(d.lines.some((l) => /→ event #\d+ OpenMicrophoneTimedOut \{"events":\[\{"header":\{"name":"OpenMicrophoneTimedOut","messageId":"\w+"\}\}\]\}/.test(l)), 'no payload');

    const initiator = { type: 'PRESS_AND_HOLD', payload: { token: 'abc' } };
    bed.service.sendDirectives('thing-1', [{ name: 'OpenMicrophone', payload: { timeoutInMilliseconds: 3000, initiator } }]);
    await until('armed', () => d.microphone.state === 'armed');
    await pause(150);
    d.microphone.press();
    await until('MicrophoneOpened', () => recorder.named('MicrophoneOpened').length === 1);
    assert.deepEqual(recorder.named('MicrophoneOpened')[0].payload, { profile: 'CLOSE_TALK', offset: 0, initiator });
    await pause(600);
    const capturedAtRelease = d.microphone.capturedSamples;
    d.microphone.release();
    await until('MicrophoneClosed', () => recorder.named('MicrophoneClosed').length === 1);
    const bytes = recorder.micBytes();
    assert.equal(recorder.named('MicrophoneClosed')[0].payload.offset, bytes.length);
    assert.ok(bytes.length >= 600 * 32 - 640 * 2, `about 600 ms sent (${bytes.length} bytes)`);
    assert.ok(bytes.length / 2 <= capturedAtRelease, 'nothing captured after the release');
    await pause(2000);
    assert.equal(recorder.named('OpenMicrophoneTimedOut').length, 1, 'the armed timeout was cancelled by the press');
  } finally {
    await stop();
  }
});

test('Opus is declared and accepted: the uplink is Opus CBR entries (count+1 frames of 160 bytes) that decode to the captured audio', async () => {
  const source = chirp(3000, 300, 3000);
  const { bed, d, recorder, stop } = await start({ initiator: 'TAP', opus: true, speech: [source] });
  try {
    const mic = bed.service.deviceState('thing-1')!.capabilities!.find((c) => c.interface === 'Microphone') as { configurations: unknown };
    assert.deepEqual(mic.configurations, { audioEncoder: { format: 'OPUS', bitrate: { type: 'CONSTANT', bitsPerSecond: 64000 }, numberOfChannels: 1 } });
    assert.equal(d.microphone.format, 'OPUS');
    const startSample = d.microphone.capturedSamples; // a tap streams from the next captured frame
    d.microphone.tap();
    await until('a second of Opus', () => recorder.micBytes().length >= 8000);
    d.microphone.endOfSpeech();
    await until('MicrophoneClosed', () => recorder.named('MicrophoneClosed').length === 1);
    const bytes = recorder.micBytes();
    assert.equal(recorder.named('MicrophoneClosed')[0].payload.offset, bytes.length);
    assert.ok(recorder.mic.every((m) => m.audio.length === m.frames * 160), 'count+1 frames of 160 bytes per entry');
    const frames = Array.from({ length: bytes.length / 160 }, (_, i) => bytes.slice(i * 160, (i + 1) * 160));
    const decoded = decodeOpus(frames);
    // Opus delays the signal by its look-ahead: compare after the best alignment.
    const { correlation, lag } = align(source.subarray(startSample, startSample + 12000), decoded, 480);
    assert.ok(correlation > 0.9, `decoded uplink correlates ${correlation.toFixed(3)} with the source (lag ${lag})`);
  } finally {
    await stop();
  }
});

test('an emulator that refuses Opus rejects the capabilities; the device republishes with L16 on a new connection and streams L16', async () => {
  const { bed, d, recorder, stop } = await start({ initiator: 'TAP', opus: true, speech: [chirp(2000)] }, { microphoneFormats: ['AUDIO_L16_RATE_16000_CHANNELS_1'] });
  try {
    assert.equal(d.microphone.format, 'AUDIO_L16_RATE_16000_CHANNELS_1');
    assert.equal(d.fatal.length, 0);
    assert.ok(d.audioLines.some((l) => l === 'WARN [microphone] capabilities rejected (Microphone audioEncoder format "OPUS" is not supported (AUDIO_L16_RATE_16000_CHANNELS_1)); the microphone falls back to AUDIO_L16_RATE_16000_CHANNELS_1'), d.audioLines.join('\n'));
    assert.equal(d.lines.filter((l) => /→ capabilities\/publish #0/.test(l)).length, 2, 'published twice, once per connection');
    const mic = bed.service.deviceState('thing-1')!.capabilities!.find((c) => c.interface === 'Microphone') as { configurations: unknown };
    assert.deepEqual(mic.configurations, { audioEncoder: { format: 'AUDIO_L16_RATE_16000_CHANNELS_1' } });
    d.microphone.tap();
    await until('audio', () => recorder.micBytes().length >= 6400);
    assert.equal(recorder.mic[0].audio.length % 640, 0);
  } finally {
    await stop();
  }
});

test('a tap while the connection is not ready does not open the microphone (nothing would reach the service)', async () => {
  const recorder = new ServiceRecorder();
  const bed = await new AisTestbed().start(recorder.options);
  const d = voiceDevice(bed, 'thing-1', { initiator: 'TAP', speech: [chirp(500)] });
  try {
    await until('frames captured', () => d.microphone.capturedSamples > 0);
    d.microphone.tap();
    assert.equal(d.microphone.state, 'closed');
    assert.ok(d.audioLines.includes('WARN [microphone] microphone not opened: the connection is not ready'), d.audioLines.join('\n'));
    assert.equal(d.micPublishMs.length, 0);
  } finally {
    d.stop();
    await bed.stop();
  }
});
