// The cloud hears audio by stream offset, not by arrival (issue 24 item 8): under CPU load a device's
// MicrophoneOpened event can be handled after many of its microphone messages (another topic, a late timer),
// and messages can be handled out of order. What the virtual device hears must depend only on the offsets that
// MicrophoneOpened and MicrophoneClosed name. Before, only the last 8 entries before MicrophoneOpened were kept
// and out-of-order audio was dropped as old: a late event cut the head off the question. A device that closed the
// turn itself is waited for by checks, not wall time: one late timer no longer ends it before its audio is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceSessions } from '../../emulator/ais/voice-session.js';
import type { AisService } from '../../emulator/ais/service.js';
import { bytesFromSamples, concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { TranscriptEvent } from '../../emulator/voice/virtual-device.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { FakeClock } from '../support/service-clock.js';
import { requirePocketsphinx } from './voice/tools.js';

const CAPABILITIES = [
  { type: 'AisInterface', interface: 'System', version: '1.0', configurations: { mqtt: { message: { maxSizeInBytes: 8000 } }, firmwareVersion: '1', locale: 'en-US' } },
  { type: 'AisInterface', interface: 'Microphone', version: '1.0', configurations: { audioEncoder: { format: 'AUDIO_L16_RATE_16000_CHANNELS_1' } } },
];

/** One microphone message body: an audio entry at `offset` (§3.3), written out by hand. */
function entry(offset: number, pcm: Uint8Array): Buffer {
  const body = Buffer.alloc(16 + pcm.length);
  body.writeUInt32LE(8 + pcm.length, 0);
  body.writeBigUInt64LE(BigInt(offset), 8);
  body.set(pcm, 16);
  return body;
}

/**
 * The turn's messages in the order `order` gives. `closedFirst`: the device's MicrophoneClosed (it ended the turn)
 * is handled right after MicrophoneOpened, then the service's clock jumps `stallMs` (its timers fire once, late),
 * and only then the audio: a loaded service that ran its timers before reading its sockets.
 */
async function hear(order: (chunks: Buffer[]) => { before: Buffer[]; after: Buffer[] }, closedFirst?: { stallMs: number }): Promise<TranscriptEvent[]> {
  const synthesizer = await SpeechSynthesizer.create();
  const transcripts: TranscriptEvent[] = [];
  const { log } = captureLogger('voice');
  const clock = new FakeClock();
  const voice = new VoiceSessions({ log, clock, onTranscript: (_id, t) => transcripts.push(t) });
  const service = {
    deviceState: () => ({ capabilities: CAPABILITIES, exceptions: [], connections: 1 }),
    sendDirectives: () => true, sendSpeaker: () => true, peekSpeakerSequence: () => 0, resendSpeakerFrom: () => true,
  };
  voice.attach(service as unknown as AisService);
  const hooks = voice.serviceHooks();
  try {
    hooks.onDeviceReady('dev-1');
    await until('the virtual device', () => voice.hasVoice('dev-1'), 30_000);
    // The stream is at 1 s already (earlier turns); 100 ms a message, as a device sends it.
    const start = 32_000;
    const pcm = bytesFromSamples(concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-female']), silence(12_000)));
    const chunks: Buffer[] = [];
    for (let at = 0; at < pcm.length; at += 3200) chunks.push(entry(start + at, pcm.subarray(at, at + 3200)));
    const { before, after } = order(chunks);
    let seq = 0;
    for (const body of before) hooks.onMicrophone('dev-1', seq++, body);
    hooks.onEvent('dev-1', { header: { name: 'MicrophoneOpened', messageId: 'm1' }, payload: { profile: 'NEAR_FIELD', offset: start, initiator: { type: 'TAP' } } });
    if (closedFirst) {
      hooks.onEvent('dev-1', { header: { name: 'MicrophoneClosed', messageId: 'm2' }, payload: { offset: start + pcm.length } });
      clock.advance(closedFirst.stallMs);
    }
    for (const body of after) hooks.onMicrophone('dev-1', seq++, body);
    await until('a transcript', () => transcripts.length > 0, 30_000);
    return transcripts;
  } finally {
    voice.close();
  }
}

test('MicrophoneOpened handled after 20 of the turn\'s microphone messages: the question is heard whole', { timeout: 90_000 }, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const transcripts = await hear((chunks) => ({ before: chunks.slice(0, 20), after: chunks.slice(20) }));
  assert.equal(transcripts[0].text, 'what time is it');
});

test('microphone messages handled out of order (pairs swapped): the question is heard whole', { timeout: 90_000 }, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const transcripts = await hear((chunks) => {
    const swapped = chunks.slice();
    for (let i = 0; i + 1 < swapped.length; i += 2) [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
    return { before: swapped.slice(0, 3), after: swapped.slice(3) };
  });
  assert.equal(transcripts[0].text, 'what time is it');
});

test('the device closed the turn and the service ran its timer 3 s late, before reading the audio: the question is heard whole', { timeout: 90_000 }, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const transcripts = await hear((chunks) => ({ before: [], after: chunks }), { stallMs: 3000 });
  assert.equal(transcripts[0].text, 'what time is it');
});
