// native/dsp/kws.c as the Node host runs it (WebAssembly): the trained "Alexa" detector finds the word, in
// the right place, in clips from voices its training never heard, and stays quiet in noise. The rates are
// measured by bench/wake-word.bench.ts (docs/figures/wake-word.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmWakeWord, dspMissingHint, wasmDsp } from '../../hosts/node/dsp.js';
import { SpeechSynthesizer } from '../../emulator/voice/tts.js';
import { concat, silence, trimSilence, whiteNoise } from '../../emulator/voice/pcm.js';
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

/** The detector's score for every frame of `samples`. */
function scores(samples: Int16Array): number[] {
  const kws = wasmDsp.kwsCreate();
  const out: number[] = [];
  for (let at = 0; at + FRAME <= samples.length; at += FRAME) out.push(wasmDsp.kwsProcess(kws, samples.subarray(at, at + FRAME)));
  return out;
}

test('the word scores the same loud or quiet, in digital silence or a quiet room', { skip }, async () => {
  const tts = await SpeechSynthesizer.create();
  const word = trimSilence(tts.synthesize('alexa', { espeak: 'en-029+m3', wordsPerMinute: 160, pitch: 50 }));
  const dry = concat(silence(16000), word, silence(16000));
  // A room 60 dB under the speech: the input's floor (KWS_RANGE, 36 dB under the loudest) hides it.
  const hiss = whiteNoise(dry.length, 2, 5);
  const room = dry.map((v, i) => v + hiss[i]);
  const quiet = dry.map((v) => Math.round(v / 8));
  const reference = scores(dry);
  // The frames whose second holds the word: its loudest part sets the floor there.
  const first = Math.ceil((16000 + word.length / 2) / FRAME), last = first + 40;
  for (const [name, other] of [['a quiet room', scores(room)], ['18 dB quieter', scores(quiet)]] as const) {
    let worst = 0;
    for (let f = first; f < last; f++) worst = Math.max(worst, Math.abs(other[f] - reference[f]));
    assert.ok(worst < 0.05, `${name}: scores differ by up to ${worst.toFixed(3)} from digital silence's`);
  }
  assert.ok(Math.max(...reference.slice(first, last)) > 0.5, 'the word scores high enough that the comparison means something');
});
