// Opus codec port for 20 ms frames (native libopus on MCU/XS, an npm build on Node).

export interface OpusEncoderOptions {
  sampleRate: number;      // 16000
  channels: 1;
  bitsPerSecond: number;   // constant bitrate
  /** 'voip' lets libopus pick SILK; 'restricted-lowdelay' forces CELT, cheaper on an M7. */
  application: 'voip' | 'audio' | 'restricted-lowdelay';
}

export interface OpusEncoder {
  /** Encodes one frame of PCM into `out`; returns the packet length in bytes. */
  encode(pcm: Int16Array, out: Uint8Array): number;
  close(): void;
}

export interface OpusDecoder {
  /** Decodes one packet into `pcm`; returns samples per channel. An empty packet asks for loss concealment. */
  decode(packet: Uint8Array, pcm: Int16Array): number;
  close(): void;
}

export interface Opus {
  createEncoder(options: OpusEncoderOptions): OpusEncoder;
  createDecoder(options: { sampleRate: number; channels: 1 }): OpusDecoder;
}
