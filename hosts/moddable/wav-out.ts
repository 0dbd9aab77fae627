// Audio out to a WAV file, in the shape of ECMA-419 audio out (embedded:io/audio/out): onWritable every 20 ms with
// one frame's bytes, as a real device's driver asks at the pace it plays, write() within that count, start, stop,
// close. For the simulator's headless runs (config.audioOutFile): the answer is kept in a file, paced as it would
// play, instead of going to a sound card there may not be. 16-bit mono PCM; the header's sizes are rewritten
// after every write, so the file is whole even when the simulator is killed.
/// <reference path="./files-default.d.ts" />
import Timer from 'timer';
import root from 'embedded:storage/files';
import type { File } from 'embedded:storage/files';
import type { AudioOutOptions } from './audio.js';

const FRAME_MS = 20;
const HEADER_BYTES = 44;

export default class WavAudioOut {
  private readonly file: File;
  private readonly frameBytes: number;
  private readonly onWritable: AudioOutOptions['onWritable'];
  private readonly size = new DataView(new ArrayBuffer(4)); // a header size field, rewritten in place
  private timer: Timer | undefined;
  private written = 0;
  private room = 0;
  readonly sampleRate: number;
  volume = 1;

  constructor(options: AudioOutOptions & { path: string }) {
    if ((options.bitsPerSample ?? 16) !== 16 || (options.channels ?? 1) !== 1) throw new RangeError('audio out to a file: 16-bit mono only');
    const { sampleRate } = options;
    if (sampleRate === undefined) throw new TypeError('audio out to a file: sampleRate is required');
    this.sampleRate = sampleRate;
    this.frameBytes = (sampleRate * FRAME_MS / 1000) * 2;
    this.onWritable = options.onWritable;
    this.file = root.openFile({ path: options.path, mode: 'w+' });
    const header = new DataView(new ArrayBuffer(HEADER_BYTES));
    const tag = (at: number, text: string) => { for (let i = 0; i < 4; i++) header.setUint8(at + i, text.charCodeAt(i)); };
    tag(0, 'RIFF'); header.setUint32(4, HEADER_BYTES - 8, true); tag(8, 'WAVE');
    tag(12, 'fmt '); header.setUint32(16, 16, true); header.setUint16(20, 1, true); header.setUint16(22, 1, true);
    header.setUint32(24, sampleRate, true); header.setUint32(28, sampleRate * 2, true); header.setUint16(32, 2, true); header.setUint16(34, 16, true);
    tag(36, 'data'); header.setUint32(40, 0, true);
    this.file.write(header.buffer, 0);
  }

  start(): void {
    if (this.timer !== undefined) throw new Error('already started');
    this.timer = Timer.repeat(() => this.tick(), FRAME_MS);
  }

  stop(): void {
    if (this.timer !== undefined) Timer.clear(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.file.close();
  }

  write(samples: ByteBuffer): void {
    const length = samples.byteLength;
    if (length <= 0 || length > this.room) throw new RangeError('invalid size');
    this.file.write(samples, HEADER_BYTES + this.written);
    this.written += length;
    this.room -= length;
    this.size.setUint32(0, HEADER_BYTES - 8 + this.written, true);
    this.file.write(this.size.buffer, 4);
    this.size.setUint32(0, this.written, true);
    this.file.write(this.size.buffer, 40);
  }

  private tick(): void {
    // The room lasts for this call only, as with the Linux driver (audio.ts).
    this.room = this.frameBytes;
    this.onWritable?.call(this as never, this.frameBytes, this.frameBytes / 2);
    this.room = 0;
  }
}
