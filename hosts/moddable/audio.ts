// The audio ports over ECMA-419 audio in and out (`embedded:io/audio/in`, `embedded:io/audio/out` as Moddable
// implements them: modules/io/audioin/<platform>/audioin.js, modules/io/audioout/<platform>/audioout*.js).
// What the adapter adds to them:
//   - 20 ms frames: Moddable's buffers are not frames (Linux delivers sampleRate / 32 frames, 31.25 ms at
//     16 kHz), so bytes go into a ring of whole frames, each stamped with the monotonic time its last byte came;
//   - audio out takes any whole frame the core writes and hands the driver what its onWritable count allows;
//     the frames written are kept as the echo canceller's reference, by the time they are due to play.
// The ring and the reference history are allocated once, and the views the drivers and the core get are cut once
// (XS allocates a view per subarray()): nothing is allocated per frame.
// A driver's buffer meets the 20 ms frames at a few offsets, so a read or write of part of a frame goes through a
// staging area after the frames (one view per length, at most 16 lengths: a 1,000-byte Linux period makes 16).
const STAGING_LENGTHS = 16;
// The classes come in as arguments, so the same adapter runs over Moddable's drivers, a board's own (Zephyr)
// and the WAV-file ones of xsrun.
import type { AudioIn as AudioInPort, AudioInFactory, AudioOut as AudioOutPort, AudioOutFactory } from '../../src/ports/audio.js';
import type { Clock } from '../../src/ports/clock.js';
import type AudioIn from 'embedded:io/audio/in';
import type AudioOut from 'embedded:io/audio/out';
import { ViewsByLength } from '../../src/util/views.js';

export interface AudioIoOptions {
  clock: Clock;
  /** Frames the capture ring holds (older ones are dropped when the app falls behind). */
  inputFrames?: number;
  /** Frames of played audio kept for the echo canceller's reference. */
  referenceFrames?: number;
  /**
   * The driver's room lasts only through its onWritable call: Linux's audio out takes writes into the period it is
   * filling and then sets its size to 0 (xs_audioout_callback, modules/io/audioout/lin/audioout_.c, SDK 8.2.3), so a
   * later write() throws "invalid size"; frames written in between wait for its next call. Other drivers (the
   * co-processor link, xsrun's, ESP32's) keep the room they reported until it is written, as ECMA-419 has it, and
   * call onWritable again only once it ran out: there, forgetting it would stall the speaker. Default false.
   */
  roomOnlyInCallback?: boolean;
}

// The SDK's typings give the callbacks in the constructor's argument, not in AudioInOptions/AudioOutOptions.
export type AudioInOptions = ConstructorParameters<typeof AudioIn>[0];
export type AudioOutOptions = NonNullable<ConstructorParameters<typeof AudioOut>[0]>;
/** What the adapter calls of a driver: the SDK's, a board's own, or wav-in.ts. */
export type AudioInDriver = Pick<AudioIn, 'read' | 'start' | 'stop' | 'close'>;
/**
 * close() is missing from the SDK's typing of audio out (typings/embedded_io/audio/out.d.ts at 8.2.3, class
 * AudioOut), though every implementation has one (modules/io/audioout/lin/audioout_.js): optional here.
 */
export type AudioOutDriver = Pick<AudioOut, 'write' | 'start' | 'stop'> & { close?(): void };
type AudioInClass = new (options: AudioInOptions) => AudioInDriver;
type AudioOutClass = new (options: AudioOutOptions) => AudioOutDriver;

export function moddableAudioIn(Input: AudioInClass, options: AudioIoOptions): AudioInFactory {
  return (port) => new FramedAudioIn(Input, port, options);
}

export function moddableAudioOut(Output: AudioOutClass, options: AudioIoOptions): AudioOutFactory {
  return (port) => new FramedAudioOut(Output, port, options);
}

class FramedAudioIn implements AudioInPort {
  private readonly io: AudioInDriver;
  private readonly frames: Int16Array;
  private readonly frameViews: Int16Array[]; // a view of each frame of the ring, made once
  private readonly times: Float64Array;
  private readonly frameBytes: number;
  private readonly bytes: Uint8Array;
  private readonly staging: ViewsByLength;
  private head = 0;   // next frame to read
  private count = 0;  // whole frames waiting
  private filled = 0; // bytes of the frame being filled, at (head + count) % capacity
  dropped = 0;

  constructor(Input: AudioInClass, private readonly port: Parameters<AudioInFactory>[0], private readonly options: AudioIoOptions) {
    const capacity = options.inputFrames ?? 25;
    const samples = port.frameSamples;
    this.frames = new Int16Array((capacity + 1) * samples); // the ring, then the staging frame
    this.frameViews = Array.from({ length: capacity }, (_, i) => this.frames.subarray(i * samples, (i + 1) * samples));
    this.bytes = new Uint8Array(this.frames.buffer);
    this.times = new Float64Array(capacity);
    this.frameBytes = samples * 2;
    this.staging = new ViewsByLength(this.bytes, capacity * this.frameBytes, STAGING_LENGTHS);
    const self = this;
    this.io = new Input({
      sampleRate: port.sampleRate, bitsPerSample: 16, channels: 1, audioType: 'LPCM', format: 'buffer',
      onReadable(byteLength: number) { self.fill(byteLength); },
    });
  }

  read(frame: Int16Array): number {
    if (this.count === 0) return -1;
    frame.set(this.frameViews[this.head]);
    const time = this.times[this.head];
    this.head = (this.head + 1) % this.times.length;
    this.count--;
    return time;
  }

  start(): void { this.io.start(); }
  stop(): void { this.io.stop(); }
  close(): void { this.io.close(); }

  private fill(byteLength: number): void {
    const capacity = this.times.length;
    let left = byteLength;
    let whole = 0;
    while (left > 0) {
      if (this.count === capacity) { // the app fell behind: the oldest frame goes
        this.head = (this.head + 1) % capacity;
        this.count--;
        this.dropped++;
      }
      const slot = (this.head + this.count) % capacity;
      const at = slot * this.frameBytes + this.filled;
      const take = Math.min(left, this.frameBytes - this.filled);
      const staged = this.staging.of(take);
      this.io.read(staged);
      this.bytes.copyWithin(at, staged.byteOffset, staged.byteOffset + take);
      left -= take;
      this.filled += take;
      if (this.filled === this.frameBytes) {
        this.times[slot] = this.options.clock.monotonicMs();
        this.filled = 0;
        this.count++;
        whole++;
      }
    }
    if (whole > 0) this.port.onReadable(this.count);
  }
}

class FramedAudioOut implements AudioOutPort {
  private readonly io: AudioOutDriver;
  private readonly pending: Int16Array; // frames written, not yet handed to the driver
  private readonly pendingBytes: Uint8Array;
  private readonly pendingFrames: Uint8Array[]; // a view of each frame of `pending`, made once: the usual write
  private readonly pendingSize: number; // bytes of the frames; the staging frame follows them
  private readonly staging: ViewsByLength;
  private pendingHead = 0; // byte offset of what goes next
  private pendingLength = 0;
  private readonly history: Int16Array; // frames handed to the driver, by play time
  private readonly historyFrames: Int16Array[]; // a view of each, made once
  private readonly historyTimes: Float64Array;
  private historyNext = 0;
  private writable = 0;
  private playsAt = 0; // monotonic ms at which the next byte handed over plays
  private readonly frameMs: number;

  constructor(Output: AudioOutClass, private readonly port: Parameters<AudioOutFactory>[0], private readonly options: AudioIoOptions) {
    const frames = 4;
    const samples = port.frameSamples;
    this.pending = new Int16Array((frames + 1) * samples);
    this.pendingBytes = new Uint8Array(this.pending.buffer);
    const frameBytes = samples * 2;
    this.pendingSize = frames * frameBytes;
    this.pendingFrames = Array.from({ length: frames }, (_, i) => this.pendingBytes.subarray(i * frameBytes, (i + 1) * frameBytes));
    this.staging = new ViewsByLength(this.pendingBytes, this.pendingSize, STAGING_LENGTHS);
    const references = options.referenceFrames ?? 16;
    this.history = new Int16Array(references * samples);
    this.historyFrames = Array.from({ length: references }, (_, i) => this.history.subarray(i * samples, (i + 1) * samples));
    this.historyTimes = new Float64Array(references).fill(-Infinity);
    this.frameMs = (port.frameSamples * 1000) / port.sampleRate;
    const self = this;
    this.io = new Output({
      sampleRate: port.sampleRate, bitsPerSample: 16, channels: 1, audioType: 'LPCM', format: 'buffer',
      onWritable(byteLength: number) {
        self.writable = byteLength;
        self.drain();
        if (options.roomOnlyInCallback) self.writable = 0;
      },
    });
  }

  write(frame: Int16Array): void {
    const samples = this.port.frameSamples;
    if (frame.length !== samples) throw new RangeError(`audio out: a frame is ${samples} samples, got ${frame.length}`);
    if (this.pendingLength + samples * 2 > this.pendingSize) throw new RangeError('audio out: write() beyond the room onWritable reported');
    const end = (this.pendingHead + this.pendingLength) % this.pendingSize;
    this.pending.set(frame, end / 2); // frames never straddle the end: the buffer holds whole frames
    this.pendingLength += samples * 2;
    this.remember(frame);
    this.drain();
  }

  reference(frame: Int16Array, timeMs: number): boolean {
    for (let i = 0; i < this.historyTimes.length; i++) {
      const start = this.historyTimes[i];
      if (timeMs >= start && timeMs < start + this.frameMs) {
        frame.set(this.historyFrames[i]);
        return true;
      }
    }
    return false;
  }

  start(): void { this.io.start(); }

  /** The driver's stop() drops what it queued (the link's AUDIO_OUT_FLUSH, xsrun's ring); the frames held here go too. */
  stop(): void {
    this.io.stop();
    this.pendingHead = this.pendingLength = 0;
    this.writable = 0; // the driver reports its room again once started
    // Frames that will not play are no reference for the echo canceller.
    const now = this.options.clock.monotonicMs();
    for (let i = 0; i < this.historyTimes.length; i++) if (this.historyTimes[i] >= now) this.historyTimes[i] = -Infinity;
    this.playsAt = now;
  }

  close(): void { this.io.close?.(); }

  private remember(frame: Int16Array): void {
    const now = this.options.clock.monotonicMs();
    // A frame plays after those already queued, or now when the driver ran dry.
    this.playsAt = Math.max(this.playsAt, now);
    const slot = this.historyNext;
    this.history.set(frame, slot * this.port.frameSamples);
    this.historyTimes[slot] = this.playsAt;
    this.playsAt += this.frameMs;
    this.historyNext = (slot + 1) % this.historyTimes.length;
  }

  private drain(): void {
    const size = this.pendingSize;
    const frameBytes = this.port.frameSamples * 2;
    while (this.writable > 0 && this.pendingLength > 0) {
      // A frame at most per write, so a whole one goes as its view made once, and part of one by the staging
      // frame (the driver copies what it is given before write() returns).
      const within = this.pendingHead % frameBytes;
      const take = Math.min(this.writable, this.pendingLength, frameBytes - within);
      if (within === 0 && take === frameBytes) this.io.write(this.pendingFrames[this.pendingHead / frameBytes]);
      else {
        const staged = this.staging.of(take);
        this.pendingBytes.copyWithin(staged.byteOffset, this.pendingHead, this.pendingHead + take);
        this.io.write(staged);
      }
      this.writable -= take;
      this.pendingLength -= take;
      this.pendingHead = (this.pendingHead + take) % size;
    }
    const room = Math.floor((size - this.pendingLength) / frameBytes);
    if (room > 0) this.port.onWritable(room);
  }
}
