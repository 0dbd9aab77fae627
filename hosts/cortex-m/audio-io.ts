// `embedded:io/audio/in` and `embedded:io/audio/out` on the firmware image: ECMA-419 audio over the co-processor
// link (netlink.c: 20 ms frames of 16-bit PCM cross the UART), in the shape hosts/moddable/audio.ts adapts.
// onReadable/onWritable(byteLength) as Moddable's; read/write stay within the reported count.
import type { AudioInOptions, AudioOutOptions } from '../moddable/audio.js';

type Handle = object;
interface AudioNatives {
  open(kind: 'in' | 'out', options: object, target: object): Handle;
  start(handle: Handle): void;
  stop(handle: Handle): void;
  read(handle: Handle, buffer: ArrayBufferLike, offset: number, length: number): number;
  readable(handle: Handle): number;
  write(handle: Handle, buffer: ArrayBufferLike, offset: number, length: number): number;
  close(handle: Handle): void;
}
declare const xsrun: { io: { audio: AudioNatives } };

function checkFormat(options: AudioInOptions | AudioOutOptions): void {
  if (options.sampleRate !== 16000 || (options.bitsPerSample ?? 16) !== 16 || (options.channels ?? 1) !== 1) {
    throw new RangeError(`the link carries 16 kHz mono 16-bit audio, got ${options.sampleRate} Hz ${options.bitsPerSample ?? 16} bit ${options.channels ?? 1} channels`);
  }
}


export class LinkAudioIn {
  readonly sampleRate = 16000;
  readonly bitsPerSample = 16;
  readonly channels = 1;
  private handle: Handle;
  constructor(options: AudioInOptions) {
    checkFormat(options);
    this.handle = xsrun.io.audio.open('in', { onReadable: options.onReadable }, this);
  }
  read(buffer: ArrayBuffer | ArrayBufferView): number;
  read(byteLength?: number): ArrayBuffer;
  read(what?: ArrayBuffer | ArrayBufferView | number): number | ArrayBuffer {
    if (what === undefined || typeof what === 'number') {
      const result = new ArrayBuffer(what ?? xsrun.io.audio.readable(this.handle));
      xsrun.io.audio.read(this.handle, result, 0, result.byteLength);
      return result;
    }
    // Per frame: the view's parts passed as they are, no array of them for the collector.
    if (what instanceof ArrayBuffer) return xsrun.io.audio.read(this.handle, what, 0, what.byteLength);
    return xsrun.io.audio.read(this.handle, what.buffer, what.byteOffset, what.byteLength);
  }
  start(): void { xsrun.io.audio.start(this.handle); }
  stop(): void { xsrun.io.audio.stop(this.handle); }
  close(): void { xsrun.io.audio.close(this.handle); }
}

export class LinkAudioOut {
  readonly sampleRate = 16000;
  volume = 1;
  private handle: Handle;
  constructor(options: AudioOutOptions) {
    checkFormat(options);
    this.handle = xsrun.io.audio.open('out', { onWritable: options.onWritable }, this);
  }
  write(samples: ArrayBuffer | ArrayBufferView): number {
    // Per frame: as read(), nothing for the collector.
    if (samples instanceof ArrayBuffer) xsrun.io.audio.write(this.handle, samples, 0, samples.byteLength);
    else xsrun.io.audio.write(this.handle, samples.buffer, samples.byteOffset, samples.byteLength);
    return samples.byteLength;
  }
  start(): void { xsrun.io.audio.start(this.handle); }
  stop(): void { xsrun.io.audio.stop(this.handle); }
  close(): void { xsrun.io.audio.close(this.handle); }
}
