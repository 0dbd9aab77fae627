// WAV files for the Node audio ports: 16 kHz mono 16-bit round trip, and a one-line error for anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav, readWav, wavBytes, writeWav } from '../../../hosts/node/wav.js';
import { pattern } from '../../support/audio.js';

function header(rate: number, channels: number, bits: number, code = 1): Uint8Array {
  const bytes = wavBytes(new Int16Array(4), rate);
  const view = new DataView(bytes.buffer);
  view.setUint16(20, code, true);
  view.setUint16(22, channels, true);
  view.setUint16(34, bits, true);
  return bytes;
}

test('a 16 kHz mono 16-bit WAV round-trips sample for sample through a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wav-'));
  try {
    const samples = pattern(16000, 3);
    writeWav(join(dir, 'a.wav'), samples);
    assert.deepEqual(readWav(join(dir, 'a.wav')), samples);
    const bytes = wavBytes(new Int16Array([1, -1]));
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString(), 'RIFF');
    assert.deepEqual([...bytes.subarray(44)], [1, 0, 0xff, 0xff]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown chunks before the data are skipped', () => {
  const plain = wavBytes(new Int16Array([5, 6]));
  const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]); // "LIST", odd size, pad byte
  const bytes = new Uint8Array(plain.length + list.length);
  bytes.set(plain.subarray(0, 36));
  bytes.set(list, 36);
  bytes.set(plain.subarray(36), 36 + list.length);
  assert.deepEqual(parseWav(bytes), new Int16Array([5, 6]));
});

for (const [what, bytes, message] of [
  ['44.1 kHz stereo', header(44100, 2, 16), 'x.wav: got 44100 Hz, 2 channels, 16-bit PCM; 16000 Hz mono 16-bit PCM WAV expected (sox in.wav -r 16000 -c 1 -b 16 out.wav converts one)'],
  ['8-bit', header(16000, 1, 8), 'x.wav: got 16000 Hz, mono, 8-bit PCM; 16000 Hz mono 16-bit PCM WAV expected (sox in.wav -r 16000 -c 1 -b 16 out.wav converts one)'],
  ['float', header(16000, 1, 32, 3), 'x.wav: got 16000 Hz, mono, 32-bit format 0x3; 16000 Hz mono 16-bit PCM WAV expected (sox in.wav -r 16000 -c 1 -b 16 out.wav converts one)'],
  ['not a WAV', new TextEncoder().encode('hello, this is text'), 'x.wav: not a RIFF/WAVE file; 16000 Hz mono 16-bit PCM WAV expected (sox in.wav -r 16000 -c 1 -b 16 out.wav converts one)'],
] as const) {
  test(`a ${what} file is refused with one line saying what came`, () => {
    assert.throws(() => parseWav(bytes, 'x.wav'), { name: 'WavFormatError', message });
    assert.ok(!message.includes('\n'));
  });
}

test('reading a file that is not there names it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wav-'));
  try {
    writeFileSync(join(dir, 'short.wav'), new Uint8Array(4));
    assert.throws(() => readWav(join(dir, 'short.wav')), { name: 'WavFormatError' });
    assert.throws(() => readWav(join(dir, 'missing.wav')), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
