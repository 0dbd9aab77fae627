// The Node opus port (@evan/opus): 16 kHz mono 20 ms frames at 64 kbps CBR, decoding into the caller's buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeOpus } from '../../../hosts/node/opus.js';
import { align, chirp } from '../../support/audio.js';

test('every 20 ms frame of 16 kHz mono at 64 kbps is exactly 160 bytes, and decodes to 320 samples of the same signal', () => {
  const encoder = nodeOpus.createEncoder({ sampleRate: 16000, channels: 1, bitsPerSecond: 64000, application: 'voip' });
  const decoder = nodeOpus.createDecoder({ sampleRate: 16000, channels: 1 });
  const source = chirp(1000);
  const out = new Int16Array(source.length);
  const packet = new Uint8Array(1275);
  const pcm = new Int16Array(320);
  for (let f = 0; f < 50; f++) {
    assert.equal(encoder.encode(source.subarray(f * 320, (f + 1) * 320), packet), 160);
    assert.equal(decoder.decode(packet.subarray(0, 160), pcm), 320);
    out.set(pcm, f * 320);
  }
  const { correlation } = align(source.subarray(0, 12000), out, 480);
  assert.ok(correlation > 0.9, `correlation ${correlation.toFixed(3)}`);
  encoder.close();
  decoder.close();
});

test('an empty packet (loss) plays as a frame of silence; a closed codec and wrong options are errors', () => {
  const decoder = nodeOpus.createDecoder({ sampleRate: 16000, channels: 1 });
  const pcm = new Int16Array(320).fill(7);
  assert.equal(decoder.decode(new Uint8Array(0), pcm), 320);
  assert.ok(pcm.every((s) => s === 0));
  decoder.close();
  assert.throws(() => decoder.decode(new Uint8Array(1), pcm), { name: 'RangeError', message: 'decoder is closed' });
  assert.throws(() => nodeOpus.createDecoder({ sampleRate: 44100, channels: 1 }), { name: 'RangeError', message: 'Opus sample rate expected 8000, 12000, 16000, 24000 or 48000, got 44100' });
  const encoder = nodeOpus.createEncoder({ sampleRate: 16000, channels: 1, bitsPerSecond: 64000, application: 'voip' });
  assert.throws(() => encoder.encode(new Int16Array(320), new Uint8Array(10)), { name: 'RangeError', message: /does not fit a 10-byte buffer/ });
});
