// test/support/wake-word-corpus.ts: the split is by whole source (no synthesizer, voice or near-word on both sides), and
// a clip is the same for the same seed, with "Alexa" where the clip says it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeechSynthesizer } from '../../emulator/voice/tts.js';
import { rms } from '../../emulator/voice/pcm.js';
import { SOURCES, heldOutNearWords, nearWordClip, positiveClip, trainingNearWords } from '../support/wake-word-corpus.js';

test('training, validation and held-out sources, voices and near-words do not overlap', async () => {
  const splits = new Set(SOURCES.map((s) => s.split));
  assert.deepEqual([...splits].sort(), ['heldout', 'train', 'validation']);
  const names = SOURCES.map((s) => s.name);
  assert.equal(new Set(names).size, names.length, 'a source appears once, on one side');
  const tts = await SpeechSynthesizer.create();
  const seen = new Map<string, string>();
  for (const source of SOURCES) {
    for (const v of source.voices(tts)) {
      const key = `${v.source}/${v.name}`;
      assert.ok(!seen.has(key) || seen.get(key) === source.split, `${key} is in both ${seen.get(key)} and ${source.split}`);
      seen.set(key, source.split);
    }
  }
  const near = new Set(trainingNearWords());
  for (const w of heldOutNearWords()) assert.ok(!near.has(w), `"${w}" is both trained on and held out`);
});

test('a positive is the same for the same seed, and "Alexa" is where it says', async () => {
  const tts = await SpeechSynthesizer.create();
  const espeak = SOURCES.find((s) => s.name === 'espeak-ng')!.voices(tts);
  const a = positiveClip(espeak, 'train', 42, { rt60: 0.8, snr: 5, noise: 'babble' });
  const b = positiveClip(espeak, 'train', 42, { rt60: 0.8, snr: 5, noise: 'babble' });
  assert.deepEqual(a.word, b.word);
  assert.deepEqual(a.samples, b.samples);
  assert.notDeepEqual(positiveClip(espeak, 'train', 43).samples, a.samples);
  const [begin, end] = a.word!;
  assert.ok(begin >= 16000 && end - begin > 4000 && end <= a.samples.length, `word [${begin}, ${end}) in ${a.samples.length}`);
  // Dry and clean: silence before the lead-in, the word louder than it.
  const dry = positiveClip(espeak, 'train', 7, { rt60: 0, snr: Infinity, noise: 'none' });
  assert.ok(rms(dry.samples, dry.word![0], dry.word![1]) > 20 * rms(dry.samples, 0, 8000) + 1, 'the word stands out of the quiet before it');
  const near = nearWordClip(espeak, 'train', 42);
  assert.ok(trainingNearWords().includes(near.text) && near.word === undefined);
});
