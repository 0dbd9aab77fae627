// The opus port in the browser: libopus as WebAssembly, the build the npm package @evan/opus ships (opus.wasm),
// loaded with our own glue (its JavaScript wrapper reads the file with Node's fs). One scratch area in the module's
// memory for a packet and one for PCM; each call copies in and out of the caller's buffers.
import type { Opus, OpusDecoder, OpusEncoder, OpusEncoderOptions } from '../../src/ports/opus.js';
import { checkOpusDecoderOptions, checkOpusEncoderOptions } from '../../src/audio/opus-options.js';

interface OpusExports {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(state: number, rate: number, channels: number, application: number): number;
  opus_encoder_ctl_set(state: number, request: number, value: number): number;
  opus_encode(state: number, pcm: number, frameSize: number, packet: number, maxPacket: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(state: number, rate: number, channels: number): number;
  opus_decode(state: number, packet: number, length: number, pcm: number, frameSize: number, fec: number): number;
}

const APPLICATION = { voip: 2048, audio: 2049, 'restricted-lowdelay': 2051 } as const;
const SET_BITRATE = 4002;
const SET_VBR = 4006;
const PACKET_BYTES = 4000;
const PCM_SAMPLES = 5760;

function check(code: number, what: string): number {
  if (code < 0) throw new Error(`opus: ${what} failed (${code})`);
  return code;
}

/** Loads libopus from `wasmUrl` (the package's opus.wasm, served by the emulator). */
export async function loadBrowserOpus(wasmUrl: string): Promise<Opus> {
  const imports = {
    wasi_snapshot_preview1: { fd_seek: () => 0, fd_write: () => 0, fd_close: () => 0, proc_exit: () => undefined },
    env: { emscripten_notify_memory_growth: () => undefined },
  };
  const { instance } = await WebAssembly.instantiateStreaming(fetch(wasmUrl), imports);
  const w = instance.exports as unknown as OpusExports;
  const packetAt = w.malloc(PACKET_BYTES);
  const pcmAt = w.malloc(PCM_SAMPLES * 2);
  // Views of the module's memory, made again only when it grew (its buffer replaced): none per frame.
  let buffer: ArrayBuffer | undefined;
  let byteView = new Uint8Array(0);
  let sampleView = new Int16Array(0);
  const refresh = () => {
    if (buffer === w.memory.buffer) return;
    buffer = w.memory.buffer;
    byteView = new Uint8Array(buffer);
    sampleView = new Int16Array(buffer, pcmAt, PCM_SAMPLES);
  };
  const bytes = () => (refresh(), byteView);
  const samples = () => (refresh(), sampleView);

  class Encoder implements OpusEncoder {
    private state: number;
    constructor(options: OpusEncoderOptions) {
      checkOpusEncoderOptions(options);
      this.state = w.malloc(w.opus_encoder_get_size(1));
      check(w.opus_encoder_init(this.state, options.sampleRate, 1, APPLICATION[options.application]), 'encoder init');
      check(w.opus_encoder_ctl_set(this.state, SET_BITRATE, options.bitsPerSecond), 'bitrate');
      check(w.opus_encoder_ctl_set(this.state, SET_VBR, 0), 'constant bitrate'); // every 20 ms frame the same size
    }
    encode(pcm: Int16Array, out: Uint8Array): number {
      if (!this.state) throw new RangeError('encoder is closed');
      samples().set(pcm);
      const length = check(w.opus_encode(this.state, pcmAt, pcm.length, packetAt, Math.min(PACKET_BYTES, out.length)), 'encode');
      const from = bytes();
      for (let i = 0; i < length; i++) out[i] = from[packetAt + i];
      return length;
    }
    close(): void {
      if (this.state) w.free(this.state);
      this.state = 0;
    }
  }

  class Decoder implements OpusDecoder {
    private state: number;
    constructor(options: { sampleRate: number; channels: 1 }) {
      checkOpusDecoderOptions(options);
      this.state = w.malloc(w.opus_decoder_get_size(1));
      check(w.opus_decoder_init(this.state, options.sampleRate, 1), 'decoder init');
    }
    decode(packet: Uint8Array, pcm: Int16Array): number {
      if (!this.state) throw new RangeError('decoder is closed');
      // An empty packet asks libopus for loss concealment (a null packet).
      if (packet.length > 0) bytes().set(packet, packetAt);
      const n = check(w.opus_decode(this.state, packet.length > 0 ? packetAt : 0, packet.length, pcmAt, Math.min(pcm.length, PCM_SAMPLES), 0), 'decode');
      const from = samples();
      for (let i = 0; i < n; i++) pcm[i] = from[i];
      return n;
    }
    close(): void {
      if (this.state) w.free(this.state);
      this.state = 0;
    }
  }

  return { createEncoder: (options) => new Encoder(options), createDecoder: (options) => new Decoder(options) };
}
