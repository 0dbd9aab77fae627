// The opus port over a native libopus binding: the XS hosts' (hosts/xs/xr_opus.c, on the global `natives`) or a
// board's. Mono, hard CBR (every 20 ms frame the same size, docs/protocol.md §3.3, §5), the frames in the
// caller's typed arrays: a frame allocates nothing here or in the binding.
import type { Opus, OpusDecoder, OpusEncoder, OpusEncoderOptions } from '../ports/opus.js';
import { checkOpusDecoderOptions, checkOpusEncoderOptions } from './opus-options.js';

/** A codec state the binding made; opaque here. */
export type OpusState = object;

export interface OpusBinding {
  opusEncoderCreate(sampleRate: number, application: OpusEncoderOptions['application'], bitsPerSecond: number): OpusState;
  /** Encodes all of `pcm` (one frame) into `out`; returns the packet's bytes. */
  opusEncode(encoder: OpusState, pcm: Int16Array, out: Uint8Array): number;
  opusEncoderClose(encoder: OpusState): void;
  opusDecoderCreate(sampleRate: number): OpusState;
  /** Decodes into `pcm` (an empty packet conceals a lost one); returns the samples written. */
  opusDecode(decoder: OpusState, packet: Uint8Array, pcm: Int16Array): number;
  opusDecoderClose(decoder: OpusState): void;
}

class NativeOpusEncoder implements OpusEncoder {
  private state: OpusState | undefined;

  constructor(private readonly binding: OpusBinding, options: OpusEncoderOptions) {
    checkOpusEncoderOptions(options);
    this.state = binding.opusEncoderCreate(options.sampleRate, options.application, options.bitsPerSecond);
  }

  encode(pcm: Int16Array, out: Uint8Array): number {
    if (this.state === undefined) throw new RangeError('encoder is closed');
    return this.binding.opusEncode(this.state, pcm, out);
  }

  close(): void {
    if (this.state !== undefined) this.binding.opusEncoderClose(this.state);
    this.state = undefined;
  }
}

class NativeOpusDecoder implements OpusDecoder {
  private state: OpusState | undefined;

  constructor(private readonly binding: OpusBinding, options: { sampleRate: number; channels: 1 }) {
    checkOpusDecoderOptions(options);
    this.state = binding.opusDecoderCreate(options.sampleRate);
  }

  decode(packet: Uint8Array, pcm: Int16Array): number {
    if (this.state === undefined) throw new RangeError('decoder is closed');
    return this.binding.opusDecode(this.state, packet, pcm);
  }

  close(): void {
    if (this.state !== undefined) this.binding.opusDecoderClose(this.state);
    this.state = undefined;
  }
}

export function nativeOpus(binding: OpusBinding): Opus {
  if (typeof binding?.opusEncode !== 'function' || typeof binding.opusDecode !== 'function') {
    throw new TypeError('Opus binding expected an object with opusEncode and opusDecode');
  }
  return {
    createEncoder: (options) => new NativeOpusEncoder(binding, options),
    createDecoder: (options) => new NativeOpusDecoder(binding, options),
  };
}
