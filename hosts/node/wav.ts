// WAV files for the Node host's audio ports: the device speaks AIS's one audio format, 16 kHz mono 16-bit
// little-endian PCM (docs/protocol.md §5), and anything else is refused with one line saying what came.
import { readFileSync, writeFileSync } from 'node:fs';

export const WAV_SAMPLE_RATE = 16000;

/** A WAV file that is not 16 kHz mono 16-bit PCM, or not a WAV file. */
export class WavFormatError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}; 16000 Hz mono 16-bit PCM WAV expected (sox in.wav -r 16000 -c 1 -b 16 out.wav converts one)`);
    this.name = 'WavFormatError';
  }
}

/** Where a WAV file's samples are, from its header; `format` is what the fmt chunk says. */
export interface WavLayout {
  format: { code: number; channels: number; rate: number; bits: number };
  /** Byte offset of the samples and the data chunk's declared size (0xffffffff: to the end, a streaming writer's). */
  dataOffset: number;
  dataBytes: number;
}

/**
 * Walks a RIFF/WAVE header through `bytesAt(offset, length)` (fewer bytes at the end of the file), skipping
 * unknown chunks without reading them, up to the data chunk. Throws WavFormatError when it is not a WAV file.
 */
export function wavLayout(bytesAt: (offset: number, length: number) => Uint8Array, path = 'WAV'): WavLayout {
  const tag = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  const riff = bytesAt(0, 12);
  if (riff.length < 12 || tag(riff, 0) !== 'RIFF' || tag(riff, 8) !== 'WAVE') throw new WavFormatError(path, 'not a RIFF/WAVE file');
  let format: WavLayout['format'] | undefined;
  for (let at = 12; ;) {
    const head = bytesAt(at, 8);
    if (head.length < 8) break;
    const id = tag(head, 0);
    const size = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      const b = bytesAt(body, 16);
      if (size < 16 || b.length < 16) throw new WavFormatError(path, `fmt chunk of ${Math.min(size, b.length)} bytes`);
      const view = new DataView(b.buffer, b.byteOffset, 16);
      format = { code: view.getUint16(0, true), channels: view.getUint16(2, true), rate: view.getUint32(4, true), bits: view.getUint16(14, true) };
    } else if (id === 'data') {
      if (!format) throw new WavFormatError(path, 'data before the fmt chunk');
      return { format, dataOffset: body, dataBytes: size };
    }
    at = body + size + (size & 1);
  }
  throw new WavFormatError(path, format ? 'no data chunk' : 'no fmt chunk');
}

/** Throws WavFormatError unless `layout` is 16 kHz mono 16-bit PCM. */
export function checkWavFormat(layout: WavLayout, path = 'WAV'): void {
  const { format } = layout;
  // 0xfffe (WAVE_FORMAT_EXTENSIBLE) still carries integer PCM for 16-bit mono.
  const pcm = format.code === 1 || format.code === 0xfffe;
  if (!pcm || format.channels !== 1 || format.rate !== WAV_SAMPLE_RATE || format.bits !== 16) {
    const kind = pcm ? 'PCM' : `format 0x${format.code.toString(16)}`;
    throw new WavFormatError(path, `got ${format.rate} Hz, ${format.channels === 1 ? 'mono' : `${format.channels} channels`}, ${format.bits}-bit ${kind}`);
  }
}

/** Parses a RIFF/WAVE image of 16 kHz mono 16-bit PCM; unknown chunks are skipped. */
export function parseWav(bytes: Uint8Array, path = 'WAV'): Int16Array {
  const layout = wavLayout((offset, length) => bytes.subarray(offset, offset + length), path);
  checkWavFormat(layout, path);
  const body = layout.dataOffset;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Math.min(layout.dataBytes, Math.max(0, bytes.length - body)) & ~1;
  const samples = new Int16Array(length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + i * 2, true);
  return samples;
}

export function readWav(path: string): Int16Array {
  return parseWav(new Uint8Array(readFileSync(path)), path);
}

/** A 44-byte-header WAV image of 16 kHz mono 16-bit samples. */
export function wavBytes(samples: Int16Array, sampleRate = WAV_SAMPLE_RATE): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const put = (at: number, text: string) => { for (let i = 0; i < 4; i++) bytes[at + i] = text.charCodeAt(i); };
  put(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);            // PCM
  view.setUint16(22, 1, true);            // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  put(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, samples[i], true);
  return bytes;
}

export function writeWav(path: string, samples: Int16Array): void {
  writeFileSync(path, wavBytes(samples));
}
