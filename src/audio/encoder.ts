// The microphone encoder: L16 (16-bit little-endian PCM, 16 kHz mono, the only format the service documents,
// docs/protocol.md §5) or Opus through the opus port when the device declares it and the capabilities exchange
// accepts it (§4.2; otherwise the device falls back to L16 and republishes). Either way the stream is made of
// fixed-size frames, so a byte offset maps linearly to time: Opus CBR 20 ms frames are bitsPerSecond/400 bytes.
// encode() writes into the caller's buffer at a position; nothing is allocated per frame.

import type { Opus, OpusEncoder } from '../ports/opus.js';
import { nameError } from '../util/error-name.js';

export const L16_FORMAT = 'AUDIO_L16_RATE_16000_CHANNELS_1';
export const OPUS_FORMAT = 'OPUS';
export type MicrophoneFormat = typeof L16_FORMAT | typeof OPUS_FORMAT;

export const SAMPLE_RATE = 16000;
export const FRAME_SAMPLES = 320;  // 20 ms
export const FRAME_MS = 20;
/** Largest Opus packet (RFC 6716 §3.2.1). */
export const MAX_OPUS_PACKET_BYTES = 1275;

/** Bytes of one 20 ms CBR Opus frame at `bitsPerSecond` (64000 → 160, §5). */
export function opusFrameBytes(bitsPerSecond: number): number {
  return (bitsPerSecond * FRAME_MS) / 8000;
}

export interface FrameEncoder {
  readonly format: MicrophoneFormat;
  /** Bytes every encoded 20 ms frame takes in the stream. */
  readonly frameBytes: number;
  /** Encodes one frame of FRAME_SAMPLES samples into `out` at `at` (exactly frameBytes bytes). */
  encode(pcm: Int16Array, out: Uint8Array, at: number): void;
  /** Called at the start of each stream (a new connection): Opus forgets its history. */
  reset(): void;
  close(): void;
}

/** 16-bit little-endian PCM, written byte by byte so a big-endian host sends the same stream. */
export class L16Encoder implements FrameEncoder {
  readonly format = L16_FORMAT;
  readonly frameBytes = FRAME_SAMPLES * 2;

  encode(pcm: Int16Array, out: Uint8Array, at: number): void {
    if (pcm.length !== FRAME_SAMPLES) throw new RangeError(`frame of ${FRAME_SAMPLES} samples expected, got ${pcm.length}`);
    for (let i = 0, j = at; i < FRAME_SAMPLES; i++, j += 2) {
      const s = pcm[i];
      out[j] = s & 0xff;
      out[j + 1] = (s >> 8) & 0xff;
    }
  }

  reset(): void {}
  close(): void {}
}

/** Raised when the opus port hands back a packet that is not the constant frame size (CBR is required, §3.3). */
export class OpusFrameSizeError extends Error {
  constructor(readonly expected: number, readonly received: number) {
    super(`Opus CBR frame of ${expected} bytes expected, the encoder produced ${received}`);
    nameError(this, 'OpusFrameSizeError');
  }
}

export class OpusFrameEncoder implements FrameEncoder {
  readonly format = OPUS_FORMAT;
  readonly frameBytes: number;
  private encoder: OpusEncoder;
  private readonly scratch = new Uint8Array(MAX_OPUS_PACKET_BYTES);

  constructor(private readonly opus: Opus, readonly bitsPerSecond: number) {
    const bytes = opusFrameBytes(bitsPerSecond);
    if (!Number.isInteger(bytes) || bytes < 8 || bytes > MAX_OPUS_PACKET_BYTES) {
      throw new RangeError(`bitsPerSecond expected a multiple of 400 giving 8..1275-byte frames, got ${bitsPerSecond}`);
    }
    this.frameBytes = bytes;
    this.encoder = this.create();
  }

  private create(): OpusEncoder {
    return this.opus.createEncoder({ sampleRate: SAMPLE_RATE, channels: 1, bitsPerSecond: this.bitsPerSecond, application: 'voip' });
  }

  encode(pcm: Int16Array, out: Uint8Array, at: number): void {
    const n = this.encoder.encode(pcm, this.scratch);
    if (n !== this.frameBytes) throw new OpusFrameSizeError(this.frameBytes, n);
    for (let i = 0; i < n; i++) out[at + i] = this.scratch[i];
  }

  reset(): void {
    this.encoder.close();
    this.encoder = this.create();
  }

  close(): void {
    this.encoder.close();
  }
}

/** The encoder for `format`; Opus needs the opus port. */
export function createFrameEncoder(format: MicrophoneFormat, opus?: Opus, opusBitsPerSecond = 64000): FrameEncoder {
  if (format === L16_FORMAT) return new L16Encoder();
  if (format !== OPUS_FORMAT) throw new RangeError(`microphone format ${L16_FORMAT} or ${OPUS_FORMAT} expected, got ${String(format)}`);
  if (!opus) throw new TypeError('the Opus microphone format needs the opus port');
  return new OpusFrameEncoder(opus, opusBitsPerSecond);
}

/** The Microphone capability object (§6) declaring `format`. */
export function microphoneCapability(format: MicrophoneFormat, opusBitsPerSecond = 64000): Record<string, unknown> {
  const audioEncoder: Record<string, unknown> = format === OPUS_FORMAT
    ? { format: OPUS_FORMAT, bitrate: { type: 'CONSTANT', bitsPerSecond: opusBitsPerSecond }, numberOfChannels: 1 }
    : { format: L16_FORMAT };
  return { type: 'AisInterface', interface: 'Microphone', version: '1.0', configurations: { audioEncoder } };
}
