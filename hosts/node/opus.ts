// The opus port on Node: libopus from @evan/opus (a prebuilt linux-x64/arm64, macOS and Windows addon with no
// install script, and a WebAssembly build it falls back to elsewhere or with OPUS_FORCE_WASM=1). Chosen over
// opusscript (emscripten, WASM only): both encode 16 kHz mono 20 ms frames at 64 kbps CBR to exactly 160
// bytes on Node 20, but the addon does 50 frames in ~4 ms where opusscript's WASM takes ~90 ms (measured
// here, first call included).
//
// The package returns a new Uint8Array per call; the port copies it into the caller's buffer, so the core's
// contract (write into the caller's buffer) holds, while the host allocates one small array per frame.
import { Decoder, Encoder } from '@evan/opus';
import type { Opus, OpusDecoder, OpusEncoder, OpusEncoderOptions } from '../../src/ports/opus.js';
import { checkOpusDecoderOptions, checkOpusEncoderOptions } from '../../src/audio/opus-options.js';

const APPLICATION = { voip: 'voip', audio: 'audio', 'restricted-lowdelay': 'restricted_lowdelay' } as const;

class NodeOpusEncoder implements OpusEncoder {
  private encoder: Encoder | undefined;

  constructor(options: OpusEncoderOptions) {
    checkOpusEncoderOptions(options);
    this.encoder = new Encoder({ channels: 1, sample_rate: options.sampleRate as 16000, application: APPLICATION[options.application] });
    this.encoder.bitrate = options.bitsPerSecond;
    this.encoder.vbr = false; // hard CBR: every 20 ms frame the same size (§3.3, §5)
  }

  encode(pcm: Int16Array, out: Uint8Array): number {
    if (!this.encoder) throw new RangeError('encoder is closed');
    const packet = this.encoder.encode(pcm);
    if (packet.length > out.length) throw new RangeError(`Opus packet of ${packet.length} bytes does not fit a ${out.length}-byte buffer`);
    out.set(packet);
    return packet.length;
  }

  close(): void {
    this.encoder = undefined; // the package frees its state when the object is collected
  }
}

class NodeOpusDecoder implements OpusDecoder {
  private decoder: Decoder | undefined;

  constructor(options: { sampleRate: number; channels: 1 }) {
    checkOpusDecoderOptions(options);
    this.decoder = new Decoder({ channels: 1, sample_rate: options.sampleRate as 16000 });
  }

  decode(packet: Uint8Array, pcm: Int16Array): number {
    if (!this.decoder) throw new RangeError('decoder is closed');
    if (packet.length === 0) {
      // The addon refuses an empty packet (no concealment through this API): play the frame as silence.
      pcm.fill(0);
      return pcm.length;
    }
    const bytes = this.decoder.decode(packet);
    const samples = bytes.length >> 1;
    if (samples > pcm.length) throw new RangeError(`decoded ${samples} samples, the buffer holds ${pcm.length}`);
    // Little-endian 16-bit samples, copied whatever their alignment.
    for (let i = 0, j = 0; i < samples; i++, j += 2) pcm[i] = (bytes[j] | (bytes[j + 1] << 8)) << 16 >> 16;
    return samples;
  }

  close(): void {
    this.decoder = undefined;
  }
}

/** The Node host's opus port. */
export const nodeOpus: Opus = {
  createEncoder: (options) => new NodeOpusEncoder(options),
  createDecoder: (options) => new NodeOpusDecoder(options),
};
