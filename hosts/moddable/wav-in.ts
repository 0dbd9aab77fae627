// Audio in from a WAV held in memory, in the shape of ECMA-419 audio in (embedded:io/audio/in): onReadable
// every 20 ms with one frame's bytes, read() within that count, start/stop/close. The Moddable simulator has
// no simulated microphone (its audio in is the host's real one), so the simulator board loops a WAV resource
// here for runs that give the same input every time. 16-bit mono PCM at the rate asked for, nothing else.
import Timer from 'timer';
import type { AudioInOptions } from './audio.js';

const FRAME_MS = 20;

/** The PCM data of a 16-bit mono WAV at `sampleRate`, or a TypeError saying what is wrong. */
export function wavSamples(bytes: ArrayBufferLike | HostBuffer, sampleRate: number): Uint8Array {
  const wav = bytes as ArrayBufferLike; // XS takes a host buffer (a resource) wherever an ArrayBuffer goes
  const view = new DataView(wav);
  const tag = (at: number) => String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
  if (wav.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new TypeError('audio in: not a RIFF/WAVE file');
  let format: { channels: number; rate: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= wav.byteLength; at += 8 + view.getUint32(at + 4, true) + (view.getUint32(at + 4, true) & 1)) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === 'fmt ') format = { channels: view.getUint16(at + 10, true), rate: view.getUint32(at + 12, true), bits: view.getUint16(at + 22, true) };
    if (tag(at) === 'data') {
      if (!format || format.channels !== 1 || format.bits !== 16 || format.rate !== sampleRate) {
        throw new TypeError(`audio in: the WAV must be 16-bit mono at ${sampleRate} Hz, got ${format ? `${format.bits}-bit, ${format.channels} channel(s), ${format.rate} Hz` : 'no fmt chunk'}`);
      }
      return new Uint8Array(wav, at + 8, Math.min(size, wav.byteLength - at - 8) & ~1);
    }
  }
  throw new TypeError('audio in: the WAV has no data chunk');
}

export default class WavAudioIn {
  private readonly pcm: Uint8Array;
  private readonly frameBytes: number;
  private readonly onReadable: AudioInOptions['onReadable'];
  private position = 0;
  /** Whether the WAV plays again from its start; else silence follows it. */
  private readonly loop: boolean;
  private available = 0;
  private timer: Timer | undefined;
  readonly sampleRate: number;
  readonly bitsPerSample = 16;
  readonly channels = 1;

  constructor(options: AudioInOptions & { wav: ArrayBufferLike | HostBuffer; loop?: boolean }) {
    if ((options.bitsPerSample ?? 16) !== 16 || (options.channels ?? 1) !== 1) throw new RangeError('audio in: 16-bit mono only');
    const { sampleRate } = options;
    if (sampleRate === undefined) throw new TypeError('audio in: sampleRate is required');
    this.sampleRate = sampleRate;
    this.pcm = wavSamples(options.wav, sampleRate);
    this.frameBytes = (sampleRate * FRAME_MS / 1000) * 2;
    if (this.pcm.length < this.frameBytes) throw new RangeError('audio in: the WAV is shorter than one frame');
    this.onReadable = options.onReadable;
    this.loop = options.loop ?? true;
  }

  start(): void {
    this.timer ??= Timer.repeat(() => this.tick(), FRAME_MS);
  }

  stop(): void {
    if (this.timer !== undefined) Timer.clear(this.timer);
    this.timer = undefined;
  }

  close(): void { this.stop(); }

  read(buffer: ByteBuffer): number;
  read(byteLength?: number): ArrayBuffer;
  read(what?: number | ByteBuffer): number | ArrayBuffer {
    const into = what === undefined || typeof what === 'number' ? new Uint8Array(what ?? this.available)
      : !ArrayBuffer.isView(what) ? new Uint8Array(what as ArrayBufferLike) : new Uint8Array(what.buffer, what.byteOffset, what.byteLength);
    if (into.length === 0 || into.length > this.available) throw new RangeError('invalid size');
    for (let done = 0; done < into.length;) {
      if (this.position === this.pcm.length) { // played once, not looping: silence from here
        into.fill(0, done);
        break;
      }
      const take = Math.min(into.length - done, this.pcm.length - this.position);
      into.set(this.pcm.subarray(this.position, this.position + take), done);
      done += take;
      this.position += take;
      if (this.position === this.pcm.length && this.loop) this.position = 0;
    }
    this.available -= into.length;
    return what === undefined || typeof what === 'number' ? into.buffer as ArrayBuffer : into.length;
  }

  private tick(): void {
    this.available = this.frameBytes; // a frame not read in time is lost, as from a real microphone
    this.onReadable?.call(this as never, this.frameBytes, this.frameBytes / 2);
  }
}
