import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addNoise, bestAlignment, bytesFromSamples, concat, parseWav, resample, rms, samplesFromBytes, silence, wavFile, whiteNoise } from '../../../emulator/voice/pcm.js';

function sine(frequency: number, rate: number, count: number, amplitude = 10000): Int16Array {
  return Int16Array.from({ length: count }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate)));
}

test('samples and little-endian bytes round-trip, low byte first', () => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 0x1234]);
  const bytes = bytesFromSamples(samples);
  assert.deepEqual([...bytes.subarray(0, 6)], [0, 0, 1, 0, 0xff, 0xff]);
  assert.deepEqual([...bytes.subarray(10)], [0x34, 0x12]);
  assert.deepEqual(samplesFromBytes(bytes), samples);
  assert.throws(() => samplesFromBytes(new Uint8Array(3)), /an even number of L16 bytes expected, got 3/);
});

test('resampling 22,050 → 16,000 Hz keeps a 1 kHz tone at 1 kHz and its level', () => {
  const input = sine(1000, 22050, 22050);
  const output = resample(input, 22050, 16000);
  assert.equal(output.length, 16000);
  const reference = sine(1000, 16000, 16000);
  const { lag, correlation } = bestAlignment(reference.subarray(2000, 14000), output.subarray(2000, 14000), 20);
  assert.ok(correlation > 0.999, `correlation ${correlation}`);
  assert.ok(Math.abs(lag) <= 1, `lag ${lag}`);
  assert.ok(Math.abs(rms(output, 2000, 14000) / rms(reference) - 1) < 0.01);
});

test('resampling removes a tone above the new Nyquist frequency instead of folding it down', () => {
  const output = resample(sine(10000, 22050, 22050), 22050, 16000);
  assert.ok(rms(output, 2000, 14000) < 100, `alias level ${rms(output, 2000, 14000)}`);
});

test('a WAV file written is read back with its rate and samples', () => {
  const samples = concat(sine(440, 16000, 800), silence(10));
  const wav = wavFile(samples, 16000);
  assert.equal(wav.length, 44 + samples.length * 2);
  assert.equal(new TextDecoder().decode(wav.subarray(0, 4)), 'RIFF');
  const back = parseWav(wav);
  assert.equal(back.sampleRate, 16000);
  assert.equal(back.channels, 1);
  assert.deepEqual(back.samples, samples);
  assert.throws(() => parseWav(new Uint8Array(12)), /a RIFF\/WAVE file expected/);
});

test('noise is added at the asked signal-to-noise ratio and is the same for the same seed', () => {
  const speech = sine(300, 16000, 16000);
  const noisy = addNoise(speech, 10, 3);
  const noise = Int16Array.from(noisy, (v, i) => v - speech[i]!);
  const snr = 20 * Math.log10(rms(speech) / rms(noise));
  assert.ok(Math.abs(snr - 10) < 0.3, `SNR ${snr}`);
  assert.deepEqual(addNoise(speech, 10, 3), noisy);
  assert.notDeepEqual(whiteNoise(100, 100, 1), whiteNoise(100, 100, 2));
});
