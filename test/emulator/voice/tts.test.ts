import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ASSISTANT_VOICE, SpeechSynthesizer, USER_VOICES } from '../../../emulator/voice/tts.js';

let tts: SpeechSynthesizer;
before(async () => {
  tts = await SpeechSynthesizer.create();
});

test('speech comes out at 16 kHz, about as long as the sentence takes to say', () => {
  const pcm = tts.synthesize('What is your favourite colour?');
  assert.equal(tts.sampleRate, 16000);
  const seconds = pcm.length / 16000;
  assert.ok(seconds > 1 && seconds < 3.5, `${seconds} s`);
  assert.ok(pcm.some((v) => Math.abs(v) > 3000), 'audible');
});

test('each voice sounds different: no two give the same audio for the same text', () => {
  const text = 'Alexa, tell me a joke';
  const voices = [...Object.values(USER_VOICES), ASSISTANT_VOICE].map((v) => tts.synthesize(text, v));
  for (let i = 0; i < voices.length; i++) {
    for (let j = i + 1; j < voices.length; j++) assert.notDeepEqual(voices[i], voices[j], `voices ${i} and ${j}`);
  }
});

test('an unknown voice or a missing text is refused with what was wrong', () => {
  assert.throws(() => tts.synthesize('hi', { espeak: 'en-gb' }), /eSpeak NG has no voice "en-gb"/);
  assert.throws(() => tts.synthesize(undefined as unknown as string), /text expected as a string, got undefined/);
});
