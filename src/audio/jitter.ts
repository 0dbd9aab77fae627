// The speaker jitter buffer: encoded (Opus CBR) speaker bytes addressed by their byte offset in the speaker
// stream (docs/protocol.md §3.4), with the markers that sit between them (§3.3), decoded one 20 ms frame at a
// time through the opus port into PCM for the audio-out port. The byte ring, the marker ring and the packet
// view are made once; per frame only index arithmetic and a 160-byte copy (a frame may wrap the ring's end).
//
//   readOffset ≤ writeOffset, writeOffset − readOffset ≤ sizeInBytes
//   [readOffset, writeOffset) is held; a marker at offset m is "played" once readOffset ≥ m.

import type { OpusDecoder } from '../ports/opus.js';
import { MAX_OPUS_PACKET_BYTES } from './encoder.js';

export interface JitterBufferOptions {
  /** The declared speaker buffer (Speaker capability audioBuffer.sizeInBytes, §6). */
  sizeInBytes: number;
  /** Markers held at once; more are dropped oldest first (default 64). */
  maxMarkers?: number;
}

export class JitterBuffer {
  readonly sizeInBytes: number;
  readonly maxMarkers: number;
  private readonly store: Uint8Array;
  private readonly packetStore = new Uint8Array(MAX_OPUS_PACKET_BYTES);
  private packet: Uint8Array = this.packetStore.subarray(0, 0);
  private frameBytesValue = 0;
  private write = 0;
  private read = 0;
  private readonly markerOffsets: Float64Array;
  private readonly markerValues: Uint32Array;
  private markerHead = 0;
  private markerCount = 0;

  constructor(options: JitterBufferOptions) {
    const size = options?.sizeInBytes;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`sizeInBytes expected a positive integer, got ${size}`);
    const markers = options.maxMarkers ?? 64;
    if (!Number.isInteger(markers) || markers < 1) throw new RangeError(`maxMarkers expected a positive integer, got ${markers}`);
    this.sizeInBytes = size;
    this.maxMarkers = markers;
    this.store = new Uint8Array(size);
    this.markerOffsets = new Float64Array(markers);
    this.markerValues = new Uint32Array(markers);
  }

  /** Next stream offset expected from the service (one past the last byte received). */
  get writeOffset(): number { return this.write; }
  /** Next stream offset to play. */
  get readOffset(): number { return this.read; }
  get bufferedBytes(): number { return this.write - this.read; }
  get freeBytes(): number { return this.sizeInBytes - (this.write - this.read); }
  /** The stream's constant frame size, 0 until the first audio entry fixes it. */
  get frameBytes(): number { return this.frameBytesValue; }
  get markersHeld(): number { return this.markerCount; }
  get hasFrame(): boolean { return this.frameBytesValue > 0 && this.write - this.read >= this.frameBytesValue; }

  /** Fixes the frame size (the first audio entry's; CBR keeps it, §3.3). The only view made after construction. */
  setFrameBytes(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_OPUS_PACKET_BYTES) throw new RangeError(`frame of 1..${MAX_OPUS_PACKET_BYTES} bytes expected, got ${bytes}`);
    if (bytes === this.frameBytesValue) return;
    this.frameBytesValue = bytes;
    this.packet = this.packetStore.subarray(0, bytes);
  }

  /** Empties the buffer and starts the stream at `offset` (0 on every connection, §3.4). Forgets the frame size. */
  reset(offset = 0): void {
    this.write = this.read = offset;
    this.markerHead = this.markerCount = 0;
    this.frameBytesValue = 0;
    this.packet = this.packetStore.subarray(0, 0);
  }

  /**
   * Appends `length` bytes at writeOffset. When they do not fit, the oldest held bytes are overwritten (and
   * their markers dropped): returns how many bytes were lost that way. The speaker only lets that happen while
   * closed (§3.4: SDK overwrites while closed, reports OVERRUN while open).
   */
  append(bytes: Uint8Array, start: number, length: number): number {
    let lost = 0;
    if (length > this.sizeInBytes) {
      // Only the last sizeInBytes bytes can be held.
      const skip = length - this.sizeInBytes;
      lost += this.write - this.read + skip;
      this.write += skip;
      this.read = this.write;
      start += skip;
      length = this.sizeInBytes;
    }
    const over = this.write + length - this.read - this.sizeInBytes;
    if (over > 0) {
      lost += over;
      this.read += over;
      this.dropMarkersBefore(this.read);
    }
    const size = this.sizeInBytes;
    let at = this.write % size;
    const first = Math.min(length, size - at);
    for (let i = 0; i < first; i++) this.store[at + i] = bytes[start + i];
    at = 0;
    for (let i = first; i < length; i++) this.store[at++] = bytes[start + i];
    this.write += length;
    return lost;
  }

  /** Lets `length` incoming bytes go by unstored (data before the speaker's open offset, §7 gotcha 6). Needs an empty buffer. */
  skipIncoming(length: number): void {
    if (this.write !== this.read) throw new RangeError(`skipIncoming needs an empty buffer, ${this.write - this.read} bytes held`);
    this.write += length;
    this.read = this.write;
  }

  /** Moves an empty buffer's stream position forward to `offset` (the service skipped ahead). */
  jumpTo(offset: number): void {
    if (this.write !== this.read) throw new RangeError(`jumpTo needs an empty buffer, ${this.write - this.read} bytes held`);
    if (offset < this.write) throw new RangeError(`jumpTo expected an offset ≥ ${this.write}, got ${offset}`);
    this.write = this.read = offset;
  }

  /** Discards held bytes before `offset` (at most all of them) and their markers; returns the new readOffset. */
  dropTo(offset: number): number {
    if (offset > this.read) {
      this.read = Math.min(offset, this.write);
      this.dropMarkersBefore(this.read);
    }
    return this.read;
  }

  /** Records a marker at the current writeOffset (after the audio before it). False if the oldest had to go. */
  addMarker(value: number): boolean {
    let kept = true;
    if (this.markerCount === this.maxMarkers) {
      this.markerHead = (this.markerHead + 1) % this.maxMarkers;
      this.markerCount--;
      kept = false;
    }
    const slot = (this.markerHead + this.markerCount) % this.maxMarkers;
    this.markerOffsets[slot] = this.write;
    this.markerValues[slot] = value;
    this.markerCount++;
    return kept;
  }

  /** The oldest marker at or before `offset`, removed; -1 when there is none. */
  takeMarker(offset: number): number {
    if (this.markerCount === 0 || this.markerOffsets[this.markerHead] > offset) return -1;
    const value = this.markerValues[this.markerHead];
    this.markerHead = (this.markerHead + 1) % this.maxMarkers;
    this.markerCount--;
    return value;
  }

  /** Copies the frame at readOffset into the packet view, advances, and decodes it into `pcm`; returns samples. */
  decodeFrame(decoder: OpusDecoder, pcm: Int16Array): number {
    const n = this.frameBytesValue;
    if (!this.hasFrame) throw new RangeError(`no whole frame held (${this.write - this.read} bytes, frame ${n})`);
    const size = this.sizeInBytes;
    let at = this.read % size;
    for (let i = 0; i < n; i++) {
      this.packet[i] = this.store[at++];
      if (at === size) at = 0;
    }
    this.read += n;
    return decoder.decode(this.packet, pcm);
  }

  private dropMarkersBefore(offset: number): void {
    while (this.markerCount > 0 && this.markerOffsets[this.markerHead] < offset) {
      this.markerHead = (this.markerHead + 1) % this.maxMarkers;
      this.markerCount--;
    }
  }
}
