// The virtual device end to end, without MQTT: synthesized user turns in three voices are fed as the
// AIS microphone stream (L16 bytes in 3,200-byte chunks, the SDK's size, docs/protocol.md §3.3) and the
// transcript, the answer, its speech and its Opus frames are checked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AssistantRecognizer, findPocketsphinx, WakeWordVerifier } from '../../../emulator/voice/asr.js';
import { renderUtterance } from '../../../emulator/voice/corpus.js';
import { oggOpusFile } from '../../../emulator/voice/ogg.js';
import { encodeSpeakerFrames, OpusStreamDecoder, SPEAKER_FRAME_BYTES } from '../../../emulator/voice/opus.js';
import { bestAlignment, bytesFromSamples, concat, parseWav, resample, silence, trimSilence } from '../../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../../emulator/voice/tts.js';
import { VirtualDevice, type AnswerEvent, type VirtualDeviceOptions } from '../../../emulator/voice/virtual-device.js';
import { requireOpusdec, requirePocketsphinx } from './tools.js';

const TEST_VOICES = ['us-male', 'us-female', 'gb-male'] as const;
const NOW = new Date('2026-11-23T09:30:00Z');
let tts: SpeechSynthesizer;
let recognizer: AssistantRecognizer | undefined;
let verifier: WakeWordVerifier | undefined;

before(async () => {
  tts = await SpeechSynthesizer.create();
  if (findPocketsphinx()) {
    recognizer = new AssistantRecognizer();
    verifier = new WakeWordVerifier();
  }
});
after(() => {
  recognizer?.close();
  verifier?.close();
});

async function device(options: Partial<VirtualDeviceOptions> = {}): Promise<VirtualDevice> {
  return VirtualDevice.create({ recognizer, verifier, synthesizer: tts, now: () => NOW, timeZone: 'UTC', ...options });
}

function feedAll(vd: VirtualDevice, bytes: Uint8Array, chunk = 3200): void {
  for (let at = 0; at < bytes.length; at += chunk) vd.feed(bytes.subarray(at, at + chunk));
}

/**
 * A wake-word turn as the SDK streams it: 500 ms pre-roll, "Alexa" (whose span the device reports), a
 * 250 ms pause, the command, 1 s of silence. eSpeak's own silence around each part is trimmed first.
 */
function wakeTurn(words: string, voice: string, offsetBytes = 0, wakeWord = 'Alexa'): { bytes: Uint8Array; begin: number; end: number } {
  const wake = trimSilence(tts.synthesize(wakeWord, USER_VOICES[voice]!));
  const command = trimSilence(tts.synthesize(words, USER_VOICES[voice]!));
  const samples = concat(silence(8000), wake, silence(4000), command, silence(16000));
  return { bytes: bytesFromSamples(samples), begin: offsetBytes + 16000, end: offsetBytes + 16000 + wake.length * 2 };
}

const cases = [
  { words: 'what time is it', intent: 'time', answer: 'It is 9:30 AM.' },
  { words: 'what day is it', intent: 'date', answer: 'Today is Monday, November 23, 2026.' },
  { words: "what's your name", intent: 'name' },
  { words: 'stop', intent: 'stop', answer: '' },
] as const;

for (const voice of TEST_VOICES) {
  test(`each scripted wake-word turn in the ${voice} voice is heard, verified and answered with speech`, async (t) => {
    if (!requirePocketsphinx(t)) return;
    let ends: number[] = [];
    let answers: AnswerEvent[] = [];
    const vd = await device({ onEndOfSpeech: (e) => ends.push(e.offsetBytes), onAnswer: (a) => answers.push(a) });
    let offset = 12_345 * 2;  // offsets continue across turns (docs/protocol.md §3.4)
    for (const c of cases) {
      const turn = wakeTurn(c.words, voice, offset);
      ends = [];
      answers = [];
      const done = vd.openMicrophone({ offsetBytes: offset, initiator: { type: 'WAKEWORD', wakeWordIndices: { beginOffset: turn.begin, endOffset: turn.end } } });
      feedAll(vd, turn.bytes);
      const result = await done;
      assert.equal(result.falseWake, false, `${c.words}: wake word refused (${result.wakeWord?.confidence})`);
      assert.equal(result.transcript!.text, `alexa ${c.words}`);
      assert.equal(result.answer!.intent, c.intent);
      if ('answer' in c) assert.equal(result.answer!.text, c.answer);
      assert.equal(ends.length, 1);
      assert.equal(answers.length, 1);
      // End of speech comes after the words and before the stream's end, within the 1 s of trailing silence.
      assert.ok(ends[0]! > turn.end && ends[0]! <= offset + turn.bytes.length, `end of speech at ${ends[0]}`);
      const a = result.answer!;
      if (a.text === '') {
        assert.equal(a.opusFrames.length, 0);
      } else {
        assert.ok(a.opusFrames.length > 25 && a.opusFrames.every((f) => f.length === SPEAKER_FRAME_BYTES));
        assert.equal(a.opusFrames.length, Math.ceil(a.pcm.length / 320));
        // The frames carry the synthesized answer.
        const decoded = new OpusStreamDecoder().decodeAll(a.opusFrames);
        const { correlation } = bestAlignment(a.pcm, decoded, 200);
        assert.ok(correlation > 0.8, `answer audio correlation ${correlation}`);
      }
      offset += turn.bytes.length;
    }
    vd.close();
  });
}

test('the two-turn exchange asks for a colour, expects speech, and understands the answer without a wake word', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const expects: number[] = [];
  const vd = await device({ onExpectSpeech: (e) => expects.push(e.timeoutMs) });
  const first = wakeTurn('ask me a question', 'us-female');
  const turn1 = vd.openMicrophone({ offsetBytes: 0, initiator: { type: 'WAKEWORD', wakeWordIndices: { beginOffset: first.begin, endOffset: first.end } } });
  feedAll(vd, first.bytes);
  const r1 = await turn1;
  assert.equal(r1.answer!.text, 'What is your favourite colour?');
  assert.deepEqual(expects, [8000]);
  assert.equal(vd.dialogState.awaiting, 'colour');
  const second = renderUtterance(tts, 'i like green', USER_VOICES['us-female']!);
  const turn2 = vd.openMicrophone({ offsetBytes: first.bytes.length, initiator: { type: 'TAP' } });
  feedAll(vd, bytesFromSamples(second.samples));
  const r2 = await turn2;
  assert.equal(r2.transcript!.text, 'i like green');
  assert.match(r2.answer!.text, /^Green\./);
  assert.equal(r2.answer!.expectSpeech, undefined);
  assert.equal(vd.dialogState.favouriteColour, 'green');
  vd.close();
});

test('a false wake (the span holds "excuse me", not "Alexa") is closed without an answer', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const falseWakes: number[] = [];
  const answers: AnswerEvent[] = [];
  const ends: string[] = [];
  const vd = await device({ onFalseWake: (v) => falseWakes.push(v.confidence), onAnswer: (a) => answers.push(a), onEndOfSpeech: (e) => ends.push(e.reason) });
  const turn = wakeTurn('what time is it', 'gb-male', 0, 'excuse me');
  const done = vd.openMicrophone({ offsetBytes: 0, initiator: { type: 'WAKEWORD', wakeWordIndices: { beginOffset: turn.begin, endOffset: turn.end } } });
  feedAll(vd, turn.bytes);
  const result = await done;
  assert.equal(result.falseWake, true, `confidence ${result.wakeWord?.confidence}`);
  assert.equal(falseWakes.length, 1);
  assert.equal(ends.length, 1);
  assert.equal(result.answer, undefined);
  assert.equal(answers.length, 0);
  vd.close();
});

test('an Opus uplink, written as Ogg Opus, decodes with opusdec to audio the recogniser understands', async (t) => {
  if (!requirePocketsphinx(t) || !requireOpusdec(t)) return;
  const utterance = renderUtterance(tts, 'alexa what is the date', USER_VOICES['gb-male']!);
  const uplink = encodeSpeakerFrames(utterance.samples);  // what a device's Opus encoder sends: 160-byte packets
  // Through the virtual device as an Opus stream.
  const vd = await device({ format: 'OPUS' });
  const done = vd.openMicrophone({ offsetBytes: 0, initiator: { type: 'TAP' } });
  feedAll(vd, Uint8Array.from(uplink.frames.flatMap((f) => [...f])), 1600);
  const result = await done;
  assert.equal(result.transcript!.text, 'alexa what is the date');
  assert.match(result.answer!.text, /^Today is Monday, November 23, 2026\.$/);
  vd.close();
  // And through opusdec, as a person would check the stream.
  const dir = mkdtempSync(join(tmpdir(), 'ais-uplink-'));
  try {
    writeFileSync(join(dir, 'uplink.opus'), oggOpusFile(uplink.frames, { preSkip: uplink.preSkip48k }));
    execFileSync('opusdec', ['--quiet', '--rate', '16000', join(dir, 'uplink.opus'), join(dir, 'uplink.wav')]);
    const wav = parseWav(readFileSync(join(dir, 'uplink.wav')));
    const samples = wav.sampleRate === 16000 ? wav.samples : resample(wav.samples, wav.sampleRate, 16000);
    const heard = await recognizer!.recognize(samples.slice(6000, samples.length - 14000));
    assert.equal(heard.text, 'alexa what is the date');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wake-word indices outside the stream are refused at once', async () => {
  const vd = await VirtualDevice.create({ synthesizer: tts, recognizer: {} as AssistantRecognizer, verifier: {} as WakeWordVerifier });
  assert.throws(() => vd.openMicrophone({ offsetBytes: 100, initiator: { type: 'WAKEWORD', wakeWordIndices: { beginOffset: 50, endOffset: 60 } } }), /wakeWordIndices with offset ≤ begin < end expected/);
  assert.throws(() => vd.openMicrophone({ offsetBytes: -1 }), /offsetBytes expected as a non-negative integer, got -1/);
  vd.close();
});
