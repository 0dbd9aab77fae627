import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { addNoise, concat, silence, whiteNoise } from '../../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../../emulator/voice/tts.js';
import { findSpeech, VoiceActivityDetector } from '../../../emulator/voice/vad.js';

let tts: SpeechSynthesizer;
before(async () => {
  tts = await SpeechSynthesizer.create();
});

const MS = 16;  // samples per millisecond

test('speech between silences starts and ends within 100 ms of where it is, the comma pause inside it', () => {
  const speech = tts.synthesize('Alexa, what time is it?', USER_VOICES['us-male']!);
  const samples = concat(silence(500 * MS), speech, silence(1000 * MS));
  const vad = new VoiceActivityDetector();
  const events: string[] = [];
  for (let at = 0; at + 320 <= samples.length; at += 320) {
    const e = vad.push(samples, at);
    if (e !== 'none') events.push(`${e}@${at / MS}`);
  }
  assert.equal(events.length, 2, events.join(' '));
  assert.ok(events[0]!.startsWith('speechStart') && events[1]!.startsWith('speechEnd'));
  const start = vad.speechStartFrame * 20;
  const end = vad.speechEndFrame * 20;
  assert.ok(Math.abs(start - 500) <= 100, `start ${start} ms`);
  assert.ok(Math.abs(end - (500 + speech.length / MS)) <= 200, `end ${end} ms, speech ends at ${500 + speech.length / MS}`);
  // The end is declared one hangover (600 ms) after the last speech frame.
  assert.equal(Number(events[1]!.split('@')[1]), end + 600 - 20);
});

test('speech in white noise at 10 dB SNR is found in each voice', () => {
  for (const [name, voice] of Object.entries(USER_VOICES)) {
    const speech = tts.synthesize('tell me a joke', voice);
    const samples = addNoise(concat(silence(500 * MS), speech, silence(1000 * MS)), 10, 11);
    const found = findSpeech(samples);
    assert.ok(found, `${name}: no speech found`);
    assert.ok(Math.abs(found.start / MS - 500) <= 150, `${name}: start ${found.start / MS} ms`);
    assert.ok(Math.abs(found.end / MS - (500 + speech.length / MS)) <= 250, `${name}: end ${found.end / MS} ms`);
  }
});

test('steady noise alone, even loud, is never speech', () => {
  for (const level of [30, 300, 3000]) {
    assert.equal(findSpeech(whiteNoise(3 * 16000, level, level)), undefined, `noise at RMS ${level}`);
  }
  assert.equal(findSpeech(silence(3 * 16000)), undefined);
});

test('a click shorter than the start confirmation is not speech', () => {
  const click = whiteNoise(40 * MS, 8000, 5);
  assert.equal(findSpeech(concat(silence(500 * MS), click, silence(1500 * MS))), undefined);
});

test('a frame of the wrong size is refused with what was expected', () => {
  assert.throws(() => new VoiceActivityDetector().push(new Int16Array(100)), /a frame of 320 samples expected at 0, got 100/);
  assert.throws(() => new VoiceActivityDetector({ frameSamples: 0 }), RangeError);
});
