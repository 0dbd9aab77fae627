// Microphone encoders (src/audio/encoder.ts): L16 bytes exactly, Opus CBR through the opus port, the choice
// and the capability objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createFrameEncoder, L16Encoder, L16_FORMAT, microphoneCapability, OPUS_FORMAT, OpusFrameEncoder, opusFrameBytes,
} from '../../src/audio/encoder.js';
import type { Opus } from '../../src/ports/opus.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { align, chirp, decodeOpus, FRAME } from '../support/audio.js';

test('L16 writes each sample little-endian at the given position, whatever the host byte order', () => {
  const pcm = new Int16Array(320);
  pcm[0] = 0x1234;
  pcm[1] = -2;
  pcm[319] = -32768;
  const out = new Uint8Array(650).fill(0xee);
  new L16Encoder().encode(pcm, out, 10);
  assert.deepEqual([...out.subarray(8, 14)], [0xee, 0xee, 0x34, 0x12, 0xfe, 0xff]);
  assert.deepEqual([...out.subarray(646, 650)], [0x00, 0x00, 0x00, 0x80]);
});

test('Opus at 64 kbps CBR makes every 20 ms frame exactly 160 bytes, and decoding gives back the signal', () => {
  assert.equal(opusFrameBytes(64000), 160);
  const encoder = new OpusFrameEncoder(nodeOpus, 64000);
  const source = chirp(1000);
  const stream = new Uint8Array(50 * 160);
  for (let f = 0; f < 50; f++) encoder.encode(source.subarray(f * FRAME, (f + 1) * FRAME), stream, f * 160);
  const frames = Array.from({ length: 50 }, (_, f) => stream.slice(f * 160, (f + 1) * 160));
  const decoded = decodeOpus(frames);
  const { correlation } = align(source.subarray(0, 12000), decoded, 400);
  assert.ok(correlation > 0.9, `decoded chirp correlates ${correlation.toFixed(3)}`);
  encoder.close();
});

test('an opus port that returns a packet of another size is a named error (VBR is not allowed)', () => {
  const vbr: Opus = {
    createEncoder: () => ({ encode: (_pcm, out) => { out[0] = 1; return 97; }, close() {} }),
    createDecoder: () => { throw new Error('unused'); },
  };
  const encoder = new OpusFrameEncoder(vbr, 64000);
  assert.throws(() => encoder.encode(new Int16Array(320), new Uint8Array(160), 0), { name: 'OpusFrameSizeError', message: 'Opus CBR frame of 160 bytes expected, the encoder produced 97' });
});

test('the encoder choice: L16 without a port, Opus with one; misuse is refused', () => {
  assert.equal(createFrameEncoder(L16_FORMAT).format, L16_FORMAT);
  assert.equal(createFrameEncoder(OPUS_FORMAT, nodeOpus, 32000).frameBytes, 80);
  assert.throws(() => createFrameEncoder(OPUS_FORMAT), { name: 'TypeError', message: 'the Opus microphone format needs the opus port' });
  assert.throws(() => new OpusFrameEncoder(nodeOpus, 64100), { name: 'RangeError' });
});

test('the Microphone capability declares L16 as documented, or Opus with its constant bitrate', () => {
  assert.deepEqual(microphoneCapability(L16_FORMAT), {
    type: 'AisInterface', interface: 'Microphone', version: '1.0', configurations: { audioEncoder: { format: 'AUDIO_L16_RATE_16000_CHANNELS_1' } },
  });
  assert.deepEqual(microphoneCapability(OPUS_FORMAT, 64000), {
    type: 'AisInterface', interface: 'Microphone', version: '1.0',
    configurations: { audioEncoder: { format: 'OPUS', bitrate: { type: 'CONSTANT', bitsPerSecond: 64000 }, numberOfChannels: 1 } },
  });
});
