// WAV files of any length in bounded memory, for the tuning tools (hosts/node/tuning/): a reader that checks
// the header at open and then hands out samples block by block, and a writer that appends and fixes the
// sizes in the header on close. 16 kHz mono 16-bit PCM only, as wav.ts.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { WavFormatError, WAV_SAMPLE_RATE, checkWavFormat, wavLayout, wavBytes, type WavLayout } from './wav.js';

const CHUNK_BYTES = 64 * 1024;
const UNKNOWN_SIZE = 0xffffffff;

/** A WAV file's header, read without its samples (to compare two files' formats before refusing either). */
export function wavHeader(path: string): WavLayout {
  const fd = openSync(path, 'r');
  try {
    return wavLayout((offset, length) => readAt(fd, offset, length), path);
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  return bytes.subarray(0, readSync(fd, bytes, 0, length, offset));
}

/** Reads a 16 kHz mono 16-bit WAV file's samples in order; refuses a truncated file at open. */
export class WavReader {
  /** Samples in the file. */
  readonly samples: number;
  private readonly fd: number;
  private readonly buffer = new Uint8Array(CHUNK_BYTES);
  private readonly view = new DataView(this.buffer.buffer);
  private position: number;         // file offset of buffer[0]
  private filled = 0;
  private used = 0;
  private left: number;             // data bytes not yet in the buffer

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      const layout = wavLayout((offset, length) => readAt(this.fd, offset, length), path);
      checkWavFormat(layout, path);
      const available = fstatSync(this.fd).size - layout.dataOffset;
      // A writer that streamed (size unknown) leaves 0xffffffff or 0: the samples run to the end of the file.
      const declared = layout.dataBytes === UNKNOWN_SIZE || (layout.dataBytes === 0 && available > 0) ? available : layout.dataBytes;
      if (declared > available) throw new WavFormatError(path, `truncated: the data chunk declares ${declared} bytes, the file holds ${available}`);
      if (declared % 2) throw new WavFormatError(path, `truncated: ${declared} data bytes is not a whole number of 16-bit samples`);
      this.samples = declared / 2;
      this.position = layout.dataOffset;
      this.left = declared;
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  /** Fills `into` from the next samples; returns how many it got (fewer only at the end, 0 after it). */
  read(into: Int16Array): number {
    let n = 0;
    while (n < into.length) {
      if (this.used + 2 > this.filled && !this.refill()) break;
      into[n++] = this.view.getInt16(this.used, true);
      this.used += 2;
    }
    return n;
  }

  close(): void {
    closeSync(this.fd);
  }

  private refill(): boolean {
    if (this.left === 0) return false;
    this.position += this.used;
    const length = Math.min(CHUNK_BYTES, this.left);
    const got = readSync(this.fd, this.buffer, 0, length, this.position);
    if (got < 2) throw new WavFormatError(this.path, 'the file shrank while it was read');
    this.filled = got & ~1;
    this.used = 0;
    this.left -= this.filled;
    return true;
  }
}

/** Writes a 16 kHz mono 16-bit WAV file block by block; the header's sizes are set on close. */
export class WavWriter {
  private readonly fd: number;
  private bytes = new Uint8Array(0);
  private samples = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, wavBytes(new Int16Array(0), WAV_SAMPLE_RATE));
  }

  write(samples: Int16Array): void {
    if (this.bytes.length < samples.length * 2) this.bytes = new Uint8Array(samples.length * 2);
    const view = new DataView(this.bytes.buffer);
    for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
    writeSync(this.fd, this.bytes, 0, samples.length * 2);
    this.samples += samples.length;
  }

  close(): void {
    const size = new Uint8Array(4);
    const view = new DataView(size.buffer);
    view.setUint32(0, 36 + this.samples * 2, true);
    writeSync(this.fd, size, 0, 4, 4);
    view.setUint32(0, this.samples * 2, true);
    writeSync(this.fd, size, 0, 4, 40);
    closeSync(this.fd);
  }
}
