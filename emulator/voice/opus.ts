// Opus for the virtual device through @evan/opus (libopus 1.3 with a prebuilt addon for linux-x64 and
// others inside the package, a WASM build otherwise; no install script). The AIS speaker stream is raw
// Opus packets, constant bitrate 64 kbps, mono, 20 ms frames → 160 bytes each (docs/protocol.md §5,
// §7 item 17); the SDK rejects a frame of another size, so the encoder runs hard CBR.
import { Decoder, Encoder } from '@evan/opus';
import { FRAME_SAMPLES, SAMPLE_RATE } from './pcm.js';

export const SPEAKER_BITRATE = 64000;
/** 20 ms at 64 kbps: 64,000 × 0.02 / 8. */
export const SPEAKER_FRAME_BYTES = 160;
/** Samples at 48 kHz per 20 ms packet, for Ogg granule positions. */
export const FRAME_SAMPLES_48K = 960;

export interface OpusEncoding {
  /** One packet per 20 ms, each exactly `frameBytes` long. */
  frames: Uint8Array[];
  /** Samples of padding (at the input rate) added to fill the last frame. */
  paddingSamples: number;
  /** The encoder's lookahead at 48 kHz: an Ogg file's pre-skip. */
  preSkip48k: number;
}

/**
 * Speech to AIS speaker frames: 16 kHz mono in, 160-byte CBR packets out. The input is cut in 20 ms
 * frames, the last padded with silence. A new encoder per call: each answer is its own stream start.
 */
export function encodeSpeakerFrames(samples: Int16Array, options: { bitrate?: number; sampleRate?: 16000 | 48000; signal?: 'voice' | 'music' } = {}): OpusEncoding {
  const bitrate = options.bitrate ?? SPEAKER_BITRATE;
  const sampleRate = options.sampleRate ?? SAMPLE_RATE;
  const frameSamples = (sampleRate / 1000) * 20;
  const frameBytes = (bitrate * 20) / 8000;
  if (!Number.isInteger(frameBytes)) throw new RangeError(`a bitrate giving whole bytes per 20 ms expected, got ${bitrate}`);
  const encoder = new Encoder({ channels: 1, sample_rate: sampleRate, application: 'audio' });
  encoder.bitrate = bitrate;
  encoder.vbr = false;  // hard CBR: every packet frameBytes (docs/protocol.md §5: SDK rejects VBR)
  encoder.signal = options.signal ?? 'voice'; // a hint to libopus's mode choice: speech, or music (emulator/voice/music.ts)
  const frame = new Int16Array(frameSamples);
  const frames: Uint8Array[] = [];
  const count = Math.ceil(samples.length / frameSamples);
  for (let i = 0; i < count; i++) {
    const chunk = samples.subarray(i * frameSamples, (i + 1) * frameSamples);
    frame.fill(0);
    frame.set(chunk);
    const packet = encoder.encode(frame);
    if (packet.length !== frameBytes) throw new Error(`libopus CBR packet of ${frameBytes} bytes expected, got ${packet.length}`);
    frames.push(packet.slice());
  }
  // OPUS_GET_LOOKAHEAD (4027) is in input samples; Ogg counts 48 kHz samples. Through ctl(): the typings
  // name the getter `lookhead`, the object has `lookahead`.
  const preSkip48k = encoder.ctl(4027) * (48000 / sampleRate);
  return { frames, paddingSamples: count * frameSamples - samples.length, preSkip48k };
}

/**
 * Opus packets back to 16 kHz mono samples (the uplink when a device sends Opus, and tests of the speaker
 * stream). Keeps its decoder state across calls, as a stream decoder must.
 */
export class OpusStreamDecoder {
  private readonly decoder: Decoder;
  readonly sampleRate: number;

  constructor(options: { sampleRate?: 16000 | 48000 } = {}) {
    this.sampleRate = options.sampleRate ?? SAMPLE_RATE;
    this.decoder = new Decoder({ channels: 1, sample_rate: this.sampleRate as 16000 | 48000 });
  }

  /** One packet → its samples (320 for 20 ms at 16 kHz). */
  decode(packet: Uint8Array): Int16Array {
    const bytes = this.decoder.decode(packet);
    return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  /** Many packets → one run of samples. */
  decodeAll(packets: readonly Uint8Array[]): Int16Array {
    const parts = packets.map((p) => this.decode(p));
    const out = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** 320 samples: one 20 ms frame at 16 kHz. */
export const OPUS_FRAME_SAMPLES = FRAME_SAMPLES;
