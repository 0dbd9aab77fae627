// native/dsp/aec.c as the Node host runs it (WebAssembly from Debian clang + lld): it cancels the echo of
// synthetic speech played through the simulated room, keeps the user's voice while both talk, and leaves a
// microphone alone when the speaker is silent. The bench (bench/aec.bench.ts) measures it against speexdsp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEchoCanceller, dspMissingHint } from '../../hosts/node/dsp.js';
import { SpeechSynthesizer } from '../../emulator/voice/tts.js';
import { cancel, doubleTalk, echoScenarios, erleFrom } from '../support/echo.js';
import { recordInRoom } from '../../emulator/voice/room.js';
import { concat, whiteNoise } from '../../emulator/voice/pcm.js';

const skip = dspMissingHint();

test('the canceller removes ≥ 15 dB of echo once converged and keeps the user ≥ 10 dB above what is left in double talk', { skip }, async () => {
  const tts = await SpeechSynthesizer.create();
  const [farOnly, dt] = echoScenarios(tts, { seconds: 9, nearAtS: 5.5 });
  const run = (s: typeof dt) => {
    const aec = new WasmEchoCanceller();
    return cancel((m, r, o) => aec.process(m, r, o), s);
  };
  const a = run(farOnly);
  const b = run(dt);
  const erle = erleFrom(farOnly, a, 4);
  assert.ok(erle >= 15, `ERLE after 4 s: ${erle.toFixed(1)} dB`);
  const talk = doubleTalk(dt, b);
  assert.ok(talk.micSdrDb < 0, `the echo drowns the user at the microphone (${talk.micSdrDb.toFixed(1)} dB)`);
  assert.ok(talk.nearSdrDb >= 10, `the user against the rest after cancelling: ${talk.nearSdrDb.toFixed(1)} dB`);
});

test('an echo 68 ms late, beyond most of the filter, is found without a hint and cancelled ≥ 15 dB', { skip }, async () => {
  const tts = await SpeechSynthesizer.create();
  const [farOnly] = echoScenarios(tts, { seconds: 9, room: { delayMs: 68 } });
  const aec = new WasmEchoCanceller();
  const out = cancel((m, r, o) => aec.process(m, r, o), farOnly);
  assert.ok(Math.abs(aec.bulkDelaySamples - 68 * 16) <= 64, `bulk delay found: ${aec.bulkDelaySamples} samples`);
  const erle = erleFrom(farOnly, out, 4);
  assert.ok(erle >= 15, `ERLE after 4 s: ${erle.toFixed(1)} dB`);
});

test('the bulk delay follows a change of the echo path and stays unknown while the microphone hears no echo', { skip }, async () => {
  const tts = await SpeechSynthesizer.create();
  const [farOnly] = echoScenarios(tts, { seconds: 9 });
  const played = farOnly.played;
  const trace = (mic: Int16Array, ref: Int16Array, everyFrames: number) => {
    const aec = new WasmEchoCanceller();
    const out = new Int16Array(320);
    const seen: number[] = [];
    for (let f = 0; (f + 1) * 320 <= mic.length; f++) {
      aec.process(mic.subarray(f * 320, (f + 1) * 320), ref.subarray(f * 320, (f + 1) * 320), out);
      if (f % everyFrames === everyFrames - 1) seen.push(aec.bulkDelaySamples / 16);
    }
    return seen;
  };
  const near = recordInRoom(played, undefined, { delayMs: 28 }).mic;
  const far = recordInRoom(played, undefined, { delayMs: 68 }).mic;
  const half = played.length / 320;
  const moved = trace(concat(near, far), concat(played, played), half);
  assert.deepEqual(moved, [28, 68]);
  const unrelated = trace(whiteNoise(played.length, 300, 9), played, 50);
  assert.ok(unrelated.every((d) => d === -1 / 16), `delays found in noise: ${unrelated.join(', ')}`);
});

test('with a silent speaker the microphone goes through unchanged', { skip }, () => {
  const aec = new WasmEchoCanceller();
  const mic = new Int16Array(320);
  const out = new Int16Array(320);
  const ref = new Int16Array(320);
  for (let f = 0; f < 50; f++) {
    for (let i = 0; i < 320; i++) mic[i] = Math.round(3000 * Math.sin((f * 320 + i) * 0.05));
    aec.process(mic, ref, out);
    assert.deepEqual(out, mic);
  }
});

test('a frame that is not whole 64-sample blocks, or a filter longer than 2,048 taps, is refused', { skip }, () => {
  assert.throws(() => new WasmEchoCanceller({ frameSamples: 100 }), /frameSamples 100 must be a multiple of 64/);
  assert.throws(() => new WasmEchoCanceller({ taps: 4096 }), /taps 4096 a multiple of 64 up to 2048/);
});
