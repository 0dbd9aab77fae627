import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HEADER_TYPE_BOS, HEADER_TYPE_EOS, oggCrc, oggOpusFile, oggPage, readOggPages } from '../../../emulator/voice/ogg.js';
import { encodeSpeakerFrames, OpusStreamDecoder, SPEAKER_FRAME_BYTES } from '../../../emulator/voice/opus.js';
import { bestAlignment, parseWav, resample, rms } from '../../../emulator/voice/pcm.js';
import { requireOpusdec } from './tools.js';

function chirp(count: number): Int16Array {
  // 200 → 2,000 Hz over the run, with an envelope: not periodic, so alignment has one answer.
  return Int16Array.from({ length: count }, (_, i) => {
    const t = i / 16000;
    return Math.round(8000 * Math.sin(2 * Math.PI * (200 * t + 900 * t * t)) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 1.3 * t)));
  });
}

test('the Ogg CRC is CRC-32 with polynomial 0x04c11db7, unreflected, from zero', () => {
  // Check value of this CRC variant (CRC-32/MPEG-2 without init and xorout): "123456789" → 0x89a1897f.
  assert.equal(oggCrc(new TextEncoder().encode('123456789')), 0x89a1897f);
  assert.equal(oggCrc(new Uint8Array(0)), 0);
});

test('a page laces a packet of 255 bytes as 255 then 0, and reads back with its CRC checked', () => {
  const packets = [new Uint8Array(255).fill(7), new Uint8Array(3).fill(9)];
  const page = oggPage({ serial: 5, sequence: 2, granule: 960n, headerType: HEADER_TYPE_BOS, packets });
  assert.deepEqual([...page.subarray(26, 30)], [3, 255, 0, 3]);
  const [read] = readOggPages(page);
  assert.equal(read!.serial, 5);
  assert.equal(read!.sequence, 2);
  assert.equal(read!.granule, 960n);
  assert.deepEqual(read!.packets, packets);
  page[40] ^= 1;
  assert.throws(() => readOggPages(page), /page 0 CRC 0x[0-9a-f]+ expected, got 0x[0-9a-f]+/);
});

test('an Ogg Opus file has OpusHead, OpusTags, then the packets with 48 kHz granule positions ending at EOS', () => {
  const packets = Array.from({ length: 120 }, (_, i) => new Uint8Array(160).fill(i));
  const file = oggOpusFile(packets, { preSkip: 312, endTrim: 100 });
  const pages = readOggPages(file);
  assert.equal(new TextDecoder().decode(pages[0]!.packets[0]!.subarray(0, 8)), 'OpusHead');
  assert.equal(pages[0]!.headerType, HEADER_TYPE_BOS);
  assert.equal(new DataView(pages[0]!.packets[0]!.buffer, pages[0]!.packets[0]!.byteOffset).getUint16(10, true), 312);
  assert.equal(new TextDecoder().decode(pages[1]!.packets[0]!.subarray(0, 8)), 'OpusTags');
  const audio = pages.slice(2);
  assert.deepEqual(audio.map((p) => p.packets.length), [50, 50, 20]);
  assert.deepEqual(audio.map((p) => p.granule), [48000n, 96000n, 120n * 960n - 100n]);
  assert.equal(audio[2]!.headerType, HEADER_TYPE_EOS);
  assert.deepEqual(audio.flatMap((p) => p.packets), packets);
});

test('speaker frames are 160-byte CBR packets that decode back to the speech', () => {
  const speech = chirp(16000);
  const encoded = encodeSpeakerFrames(speech);
  assert.equal(encoded.frames.length, 50);
  assert.ok(encoded.frames.every((f) => f.length === SPEAKER_FRAME_BYTES));
  const decoded = new OpusStreamDecoder().decodeAll(encoded.frames);
  assert.equal(decoded.length, 16000);
  const { correlation } = bestAlignment(speech.subarray(1000, 15000), decoded.subarray(1000, 15000), 200);
  assert.ok(correlation > 0.9, `correlation ${correlation}`);
});

test('opusdec decodes our Ogg Opus file to the audio we encoded', (t) => {
  if (!requireOpusdec(t)) return;
  const speech = chirp(32000);
  const encoded = encodeSpeakerFrames(speech);
  const dir = mkdtempSync(join(tmpdir(), 'ais-ogg-'));
  try {
    writeFileSync(join(dir, 'a.opus'), oggOpusFile(encoded.frames, { preSkip: encoded.preSkip48k, endTrim: encoded.paddingSamples * 3 }));
    execFileSync('opusdec', ['--quiet', '--rate', '48000', join(dir, 'a.opus'), join(dir, 'a.wav')]);
    const wav = parseWav(readFileSync(join(dir, 'a.wav')));
    assert.equal(wav.sampleRate, 48000);
    assert.equal(wav.channels, 1);
    const back = resample(wav.samples, 48000, 16000);
    // Pre-skip removes the encoder's delay, so the file is that much shorter than the packets and lines up
    // with the input within a few samples.
    assert.ok(Math.abs(back.length - (speech.length - encoded.preSkip48k / 3)) <= 3, `length ${back.length}`);
    const { lag, correlation } = bestAlignment(speech.subarray(2000, 30000), back.subarray(2000, 30000), 100);
    assert.ok(correlation > 0.9, `correlation ${correlation}`);
    assert.ok(Math.abs(lag) <= 3, `lag ${lag}`);
    assert.ok(rms(back) > rms(speech) * 0.8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
