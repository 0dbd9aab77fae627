// Binary stream entries, the bodies of the microphone and speaker topics (docs/protocol.md §3.3):
//
//   0  4  length    u32 LE: bytes of data after this 8-byte header
//   4  1  type      u8: 0 audio content; 1 marker (speaker) / wake-word metadata (microphone, never produced)
//   5  1  count     u8, zero-based: items in data minus one
//   6  2  reserved  zero
//   8  …  data      audio: u64 LE stream offset + audio bytes (count+1 equal frames); marker: count+1 × u32 LE
//
// Writing goes into the caller's buffer and parsing walks the caller's bytes with one reusable reader: no
// allocation per entry (a 20 ms frame path). Bad input never throws: the reader stops with a named error.

import { nameError } from '../util/error-name.js';

export const ENTRY_HEADER_BYTES = 8;
/** The u64 stream offset that opens every audio-content entry's data. */
export const AUDIO_OFFSET_BYTES = 8;
/** Header plus offset: where the audio of an audio entry starts. */
export const AUDIO_ENTRY_OVERHEAD = ENTRY_HEADER_BYTES + AUDIO_OFFSET_BYTES;

export const ENTRY_AUDIO = 0;
/** Speaker topic: count+1 u32 LE markers. */
export const ENTRY_MARKER = 1;
/** Microphone topic: the SDK's "wake word metadata" type (defined, never produced; carried opaque here). */
export const ENTRY_WAKEWORD_METADATA = 1;
export const MARKER_BYTES = 4;

const U32 = 0x100000000;

export type BinaryErrorKind =
  | 'TRUNCATED_HEADER'      // fewer than 8 bytes left for an entry header
  | 'LENGTH_PAST_END'       // the entry's length runs past the body
  | 'COUNT_MISMATCH'        // the data length is not count+1 equal items
  | 'SHORT_AUDIO'           // an audio entry too short for its u64 offset
  | 'OFFSET_RANGE'          // a u64 offset beyond 2^53 (not representable; no stream gets there)
  | 'UNKNOWN_TYPE';         // a type the topic does not define

/** A malformed binary body: what was expected and what came, with the entry's index and byte position. */
export class BinaryStreamError extends Error {
  constructor(readonly kind: BinaryErrorKind, readonly index: number, readonly position: number, detail: string) {
    super(`binary entry ${index} at byte ${position}: ${detail}`);
    nameError(this, 'BinaryStreamError');
  }
}

export function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) + bytes[at + 3] * 0x1000000;
}

/** Writes a u64 LE from a safe integer (stream offsets stay far below 2^53). */
export function writeU64(out: Uint8Array, at: number, value: number): void {
  if (value <= 0xffffffff) {
    // The usual case, kept in small integers: the double arithmetic below allocates a heap number per call
    // until the JIT optimises it (and always on XS).
    writeU32(out, at, value);
    writeU32(out, at + 4, 0);
    return;
  }
  const high = Math.floor(value / U32);
  writeU32(out, at, value - high * U32);
  writeU32(out, at + 4, high);
}

/** Reads a u64 LE; -1 when it exceeds Number.MAX_SAFE_INTEGER. */
export function readU64(bytes: Uint8Array, at: number): number {
  const high = readU32(bytes, at + 4);
  if (high === 0) return readU32(bytes, at); // small integers only (see writeU64)
  if (high > 0x1fffff) return -1;
  return high * U32 + readU32(bytes, at);
}

function checkEntry(out: Uint8Array, at: number, dataBytes: number, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 255) throw new RangeError(`count expected 0..255 (items minus one), got ${count}`);
  if (!Number.isInteger(at) || at < 0 || at + ENTRY_HEADER_BYTES + dataBytes > out.length) {
    throw new RangeError(`entry of ${ENTRY_HEADER_BYTES + dataBytes} bytes at ${at} does not fit a ${out.length}-byte buffer`);
  }
}

/** Writes an entry header; returns where its data starts. */
export function writeEntryHeader(out: Uint8Array, at: number, type: number, count: number, dataBytes: number): number {
  checkEntry(out, at, dataBytes, count);
  writeU32(out, at, dataBytes);
  out[at + 4] = type;
  out[at + 5] = count;
  out[at + 6] = 0;
  out[at + 7] = 0;
  return at + ENTRY_HEADER_BYTES;
}

/**
 * Writes the header and offset of an audio-content entry carrying `audioBytes` bytes (count+1 equal frames
 * for Opus; count 0 for L16 as the SDK sends); the caller fills the audio at the returned position.
 */
export function writeAudioEntryHeader(out: Uint8Array, at: number, offsetBytes: number, audioBytes: number, count = 0): number {
  if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0) throw new RangeError(`offsetBytes expected a non-negative safe integer, got ${offsetBytes}`);
  if (!Number.isInteger(audioBytes) || audioBytes < 0 || audioBytes % (count + 1) !== 0) {
    throw new RangeError(`audioBytes expected a multiple of count+1 (${count + 1}), got ${audioBytes}`);
  }
  const data = writeEntryHeader(out, at, ENTRY_AUDIO, count, AUDIO_OFFSET_BYTES + audioBytes);
  writeU64(out, data, offsetBytes);
  return data + AUDIO_OFFSET_BYTES;
}

/** Writes a whole audio-content entry (header, offset, a copy of `audio`); returns the position after it. */
export function writeAudioEntry(out: Uint8Array, at: number, offsetBytes: number, audio: Uint8Array, count = 0): number {
  const data = writeAudioEntryHeader(out, at, offsetBytes, audio.length, count);
  out.set(audio, data);
  return data + audio.length;
}

/** Writes a marker entry with `markers` (u32 each); returns the position after it. */
export function writeMarkerEntry(out: Uint8Array, at: number, markers: ArrayLike<number>): number {
  if (markers.length < 1 || markers.length > 256) throw new RangeError(`1..256 markers expected, got ${markers.length}`);
  let p = writeEntryHeader(out, at, ENTRY_MARKER, markers.length - 1, markers.length * MARKER_BYTES);
  for (let i = 0; i < markers.length; i++, p += MARKER_BYTES) {
    const m = markers[i];
    if (!Number.isInteger(m) || m < 0 || m > 0xffffffff) throw new RangeError(`marker expected a u32, got ${m}`);
    writeU32(out, p, m);
  }
  return p;
}

/**
 * Walks the entries of one body. `next()` moves to the next entry and returns true, or false at the end or
 * on a malformed entry (then `error` says which and why, and nothing after it is read). The fields describe
 * the current entry and the reader is reusable (`reset`), so a hot path allocates nothing.
 */
export class BinaryReader {
  /** 0 audio content, 1 marker / wake-word metadata. */
  type = 0;
  /** Items in the entry: frames of an audio entry, markers of a marker entry (count + 1). */
  items = 0;
  /** Audio entries: the u64 stream offset of the first audio byte. */
  offsetBytes = 0;
  /** Where the entry's payload starts in `bytes`: audio bytes after the offset, or the first marker. */
  dataStart = 0;
  /** Payload bytes: audio bytes (without the offset), or 4 × markers. */
  dataBytes = 0;
  /** The current entry's 0-based index in the body. */
  index = -1;
  error: BinaryStreamError | undefined;
  private bytes: Uint8Array = new Uint8Array(0);
  private position = 0;
  private end = 0;
  private base = 0;

  /** @param knownTypes the types the topic defines (both topics define 0 and 1). */
  constructor(private readonly knownTypes: number = 2) {}

  /** Starts on `length` bytes of `bytes` from `start`. */
  reset(bytes: Uint8Array, start = 0, length = bytes.length - start): this {
    if (start < 0 || length < 0 || start + length > bytes.length) {
      throw new RangeError(`body ${start}+${length} expected within ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.position = this.base = start;
    this.end = start + length;
    this.index = -1;
    this.error = undefined;
    return this;
  }

  /** The marker `i` (0-based) of the current marker entry. */
  marker(i: number): number {
    return readU32(this.bytes, this.dataStart + i * MARKER_BYTES);
  }

  next(): boolean {
    if (this.error || this.position >= this.end) return false;
    const at = this.position;
    const b = this.bytes;
    this.index++;
    if (this.end - at < ENTRY_HEADER_BYTES) {
      return this.fail('TRUNCATED_HEADER', at, `an 8-byte header expected, ${this.end - at} bytes left`);
    }
    const length = readU32(b, at);
    const type = b[at + 4];
    const count = b[at + 5];
    const data = at + ENTRY_HEADER_BYTES;
    if (length > this.end - data) return this.fail('LENGTH_PAST_END', at, `length ${length} runs past the body (${this.end - data} bytes left)`);
    if (type >= this.knownTypes) return this.fail('UNKNOWN_TYPE', at, `type 0..${this.knownTypes - 1} expected, got ${type}`);
    this.type = type;
    this.items = count + 1;
    if (type === ENTRY_AUDIO) {
      if (length < AUDIO_OFFSET_BYTES) return this.fail('SHORT_AUDIO', at, `audio entry of length ${length} has no room for its 8-byte offset`);
      const audio = length - AUDIO_OFFSET_BYTES;
      if (audio % this.items !== 0) return this.fail('COUNT_MISMATCH', at, `${audio} audio bytes are not ${this.items} equal frames`);
      const offset = readU64(b, data);
      if (offset < 0) return this.fail('OFFSET_RANGE', at, 'offset beyond 2^53');
      this.offsetBytes = offset;
      this.dataStart = data + AUDIO_OFFSET_BYTES;
      this.dataBytes = audio;
    } else {
      // Type 1: speaker markers are count+1 u32 values. The microphone's wake-word metadata has the same
      // numbering but no defined layout; it is checked the same way (no source produces it, §3.3).
      if (length !== this.items * MARKER_BYTES) return this.fail('COUNT_MISMATCH', at, `${this.items} markers need length ${this.items * MARKER_BYTES}, got ${length}`);
      this.offsetBytes = 0;
      this.dataStart = data;
      this.dataBytes = length;
    }
    this.position = data + length;
    return true;
  }

  private fail(kind: BinaryErrorKind, at: number, detail: string): false {
    this.error = new BinaryStreamError(kind, this.index, at - this.base, detail); // positions within the body
    return false;
  }
}

/** One parsed entry, for tools and tests (allocates; the device walks a BinaryReader instead). */
export type BinaryEntry =
  | { type: 'audio'; offsetBytes: number; frames: number; frameBytes: number; audio: Uint8Array }
  | { type: 'marker'; markers: number[] };

/** Parses a whole body; throws the BinaryStreamError of the first malformed entry. */
export function parseBinaryBody(bytes: Uint8Array, start = 0, length = bytes.length - start): BinaryEntry[] {
  const reader = new BinaryReader().reset(bytes, start, length);
  const entries: BinaryEntry[] = [];
  while (reader.next()) {
    if (reader.type === ENTRY_AUDIO) {
      entries.push({
        type: 'audio', offsetBytes: reader.offsetBytes, frames: reader.items, frameBytes: reader.dataBytes / reader.items,
        audio: bytes.slice(reader.dataStart, reader.dataStart + reader.dataBytes),
      });
    } else {
      const markers: number[] = [];
      for (let i = 0; i < reader.items; i++) markers.push(reader.marker(i));
      entries.push({ type: 'marker', markers });
    }
  }
  if (reader.error) throw reader.error;
  return entries;
}
