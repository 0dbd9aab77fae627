// native/dsp/kws.c as the Node host runs it (WebAssembly): the trained "Alexa" detector finds the word, in
// the right place, in clips from voices its training never heard, and stays quiet in noise. The rates are
// measured by bench/wake-word.bench.ts (docs/figures/wake-word.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmWakeWord, dspMissingHint } from '../../hosts/node/dsp.js';
import { SpeechSynthesizer } from '../../emulator/voice/tts.js';
import { concat, silence, whiteNoise } from '../../emulator/voice/pcm.js';
import { FRAME, wakeClip } from '../support/wake-word-data.js';

const skip = dspMissingHint();

function detections(samples: Int16Array): number[] {
  const kws = new WasmWakeWord();
  const d = { beginSample: 0, endSample: 0 };
  const ends: number[] = [];
  for (let at = 0; at + FRAME <= samples.length; at += FRAME) if (kws.process(samples.subarray(at, at + FRAME), at, d)) ends.push(d.endSample);
  return ends;
}

test('"Alexa" from held-out voices is detected at its end in at least 4 of 5 clips', { skip }, async () => {
  const tts = await SpeechSynthesizer.create();
  let hits = 0;
  const seen: string[] = [];
  for (let n = 0; n < 5; n++) {
    const clip = wakeClip(tts, 'heldout', 91000 + n);
    const end = clip.word![1];
    const ends = detections(clip.samples);
    if (ends.some((e) => e >= end - 3200 && e <= end + 9600)) hits++;
    seen.push(`word ends ${end}, detections ${ends.join(',') || 'none'}`);
  }
  assert.ok(hits >= 4, `${hits}/5: ${seen.join('; ')}`);
});

test('noise and silence raise no detection', { skip }, () => {
  const noise = concat(silence(16000), whiteNoise(48000, 30, 1), whiteNoise(48000, 1000, 2), whiteNoise(48000, 8000, 3));
  assert.deepEqual(detections(noise), []);
});
