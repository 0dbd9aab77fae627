// Opus for the opus port from libopus (fixed point, libopus/ais_opus_*.c) through opus-codec.c (XS in C): the
// binding src/audio/native-opus.ts wraps. A codec state is a Native instance, freed by close() or by the
// collector. The C side reads only byte views, so PCM goes as the Int16Array's buffer, byte offset and length:
// nothing is allocated per frame.
import { nativeOpus, type OpusBinding, type OpusState } from '../../src/audio/native-opus.js';
import type { Opus } from '../../src/ports/opus.js';

class EncoderState extends Native('xs_ais_opus_encoder_destructor') {
  constructor(sampleRate: number, application: string, bitsPerSecond: number) {
    super();
    native('xs_ais_opus_encoder').call(this, sampleRate, application, bitsPerSecond);
  }

  encode(buffer: ArrayBufferLike, byteOffset: number, samples: number, out: Uint8Array): number {
    return native('xs_ais_opus_encode').call(this, buffer, byteOffset, samples, out) as number;
  }

  close(): void {
    native('xs_ais_opus_encoder_close').call(this);
  }
}

class DecoderState extends Native('xs_ais_opus_decoder_destructor') {
  constructor(sampleRate: number) {
    super();
    native('xs_ais_opus_decoder').call(this, sampleRate);
  }

  decode(packet: Uint8Array, buffer: ArrayBufferLike, byteOffset: number, samples: number): number {
    return native('xs_ais_opus_decode').call(this, packet, buffer, byteOffset, samples) as number;
  }

  close(): void {
    native('xs_ais_opus_decoder_close').call(this);
  }
}

const binding: OpusBinding = {
  opusEncoderCreate: (sampleRate, application, bitsPerSecond) => new EncoderState(sampleRate, application, bitsPerSecond),
  opusEncode: (encoder: OpusState, pcm, out) => (encoder as EncoderState).encode(pcm.buffer, pcm.byteOffset, pcm.length, out),
  opusEncoderClose: (encoder: OpusState) => (encoder as EncoderState).close(),
  opusDecoderCreate: (sampleRate) => new DecoderState(sampleRate),
  opusDecode: (decoder: OpusState, packet, pcm) => (decoder as DecoderState).decode(packet, pcm.buffer, pcm.byteOffset, pcm.length),
  opusDecoderClose: (decoder: OpusState) => (decoder as DecoderState).close(),
};

export const nativeOpusCodec: Opus = nativeOpus(binding);
