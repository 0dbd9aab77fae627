// Audio in and out ports on Node (src/ports/audio.ts): 16 kHz mono 16-bit, 20 ms frames.
//   WavAudioIn   plays WAV files (or samples) into the microphone, then silence like a live microphone; paced
//                in real time (one frame per 20 ms) or as fast as the reader takes them; abandon() drops the
//                rest (the person stops talking when their turn failed).
//   WavAudioOut  records what the speaker plays (to a WAV file on close), paced in real time like a sound
//                card (a few frames of queue) or as fast as frames come; optionally also to the live speaker.
//   live audio   `rec`/`play` from sox when installed (found at run time; never needed by tests).
// Host code: allocation per frame is allowed here (the core's rule is for src/).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AudioIn, AudioInFactory, AudioInOptions, AudioOut, AudioOutFactory, AudioOutOptions } from '../../src/ports/audio.js';
import type { Clock, TimerHandle } from '../../src/ports/clock.js';
import { NodeClock } from './clock.js';
import { readWav, WAV_SAMPLE_RATE, writeWav } from './wav.js';

export const FRAME_SAMPLES = 320;
export const FRAME_MS = 20;
export const SOX_HINT = 'live audio needs sox (rec/play): apt-get install sox';

const clock = new NodeClock();

function checkFormat(options: { sampleRate: number; frameSamples: number }, what: string): void {
  if (options.sampleRate !== WAV_SAMPLE_RATE || options.frameSamples !== FRAME_SAMPLES) {
    throw new RangeError(`${what} serves ${WAV_SAMPLE_RATE} Hz in ${FRAME_SAMPLES}-sample frames, asked for ${options.sampleRate} Hz in ${options.frameSamples}`);
  }
}

export interface WavAudioInConfig {
  /** WAV files (16 kHz mono 16-bit) said into the microphone one after another from start(). */
  paths?: string[];
  /** Samples said likewise (after the files). */
  samples?: Int16Array[];
  /** true (default): one frame per 20 ms. false: queued speech is readable at once; the silence after it is still paced. */
  realtime?: boolean;
  /** After the queued speech: 'silence' (a live microphone, default) or 'end' (no more frames). */
  after?: 'silence' | 'end';
  /** What paces it (default the Node clock); a test's clock can fire it late, as a loaded machine does. */
  clock?: Clock;
}

/** A microphone that says WAV files; say() queues more while it runs. */
export class WavAudioIn implements AudioIn {
  private readonly queue: Int16Array[] = [];
  private position = 0;             // in queue[0]
  private available = 0;            // frames made readable, not yet read
  private produced = 0;             // frames made readable since start
  private startMs = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private closed = false;
  private readonly realtime: boolean;
  private readonly after: 'silence' | 'end';
  private readonly clock: Clock;
  /** Frames of speech (not silence) read so far. */
  speechFramesRead = 0;

  constructor(private readonly options: AudioInOptions, config: WavAudioInConfig = {}) {
    checkFormat(options, 'WavAudioIn');
    this.realtime = config.realtime ?? true;
    this.after = config.after ?? 'silence';
    this.clock = config.clock ?? clock;
    for (const path of config.paths ?? []) this.queue.push(readWav(path));
    for (const samples of config.samples ?? []) this.queue.push(samples);
  }

  /**
   * Queues speech after what is queued. Returns the sample index, counted from the first frame read, at which
   * it will be heard (a reader that takes every frame, as Capture does, sees it at that capturedSamples).
   */
  say(samples: Int16Array): number {
    let queued = -this.position;
    for (const s of this.queue) queued += s.length;
    const at = (this.produced - this.available) * FRAME_SAMPLES + queued;
    this.queue.push(samples);
    if (!this.realtime && this.running) this.release();
    return at;
  }

  /**
   * The person stops talking (their turn failed): the rest of what is queued is dropped, silence follows. The next
   * say() starts from its own beginning. Returns the samples dropped.
   */
  abandon(): number {
    let dropped = -this.position;
    for (const s of this.queue) dropped += s.length;
    this.queue.length = 0;
    this.position = 0;
    return dropped;
  }

  /** Speech frames still to be read. */
  get speechFramesQueued(): number {
    let samples = -this.position;
    for (const s of this.queue) samples += s.length;
    return Math.ceil(samples / FRAME_SAMPLES);
  }

  start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.startMs = this.clock.monotonicMs() - this.produced * FRAME_MS;
    if (!this.realtime) this.release();
    this.timer = this.clock.setTimer(() => this.paced(), FRAME_MS / 2, FRAME_MS / 2);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.closed = true;
    this.queue.length = 0;
  }

  read(frame: Int16Array): number {
    if (this.available === 0 || this.closed) return -1;
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame of ${FRAME_SAMPLES} samples expected, got ${frame.length}`);
    const index = this.produced - this.available;
    this.available--;
    let filled = 0;
    if (this.queue.length > 0) this.speechFramesRead++;
    while (filled < FRAME_SAMPLES && this.queue.length > 0) {
      const source = this.queue[0];
      const n = Math.min(FRAME_SAMPLES - filled, source.length - this.position);
      frame.set(source.subarray(this.position, this.position + n), filled);
      filled += n;
      this.position += n;
      if (this.position >= source.length) {
        this.queue.shift();
        this.position = 0;
      }
    }
    frame.fill(0, filled);
    // Fast mode dates released speech back from now; never below 0, which would read as "no frame".
    return Math.max(0, this.startMs + index * FRAME_MS);
  }

  /** Fast mode: every queued speech frame becomes readable now. */
  private release(): void {
    const frames = this.speechFramesQueued - this.available;
    if (frames <= 0) return;
    this.available += frames;
    this.produced += frames;
    this.startMs = this.clock.monotonicMs() - this.produced * FRAME_MS;
    setImmediate(() => { if (this.running && this.available > 0) this.options.onReadable(this.available); });
  }

  private paced(): void {
    if (!this.running) return;
    const due = Math.floor((this.clock.monotonicMs() - this.startMs) / FRAME_MS) - this.produced;
    if (due <= 0) return;
    const speechLeft = this.speechFramesQueued - this.available;
    if (!this.realtime && speechLeft > 0) return this.release();
    const frames = this.after === 'end' ? Math.min(due, speechLeft) : due;
    this.produced += due; // the timeline goes on either way
    if (frames <= 0) return;
    this.available += frames;
    this.options.onReadable(this.available);
  }
}

export function wavAudioIn(config: WavAudioInConfig = {}): AudioInFactory & { last?: WavAudioIn } {
  const factory = ((options: AudioInOptions) => (factory.last = new WavAudioIn(options, config))) as AudioInFactory & { last?: WavAudioIn };
  return factory;
}

export interface WavAudioOutConfig {
  /** Where close() writes what was played (16 kHz mono 16-bit WAV). */
  path?: string;
  /** true (default): a frame is played every 20 ms from a queue of `queueFrames`. false: played as written. */
  realtime?: boolean;
  queueFrames?: number;   // default 3 (60 ms, like a small DMA ring)
  /** Every played frame, with its monotonic play time (e.g. to the live speaker). */
  onPlayed?(frame: Int16Array, timeMs: number): void;
}

/** A speaker that records: the played frames, their times, a reference history for echo cancellation. */
export class WavAudioOut implements AudioOut {
  readonly played: Int16Array[] = [];
  readonly playedAtMs: number[] = [];
  /** Indexes into `played` of frames that started late because the queue had run dry (an underrun). */
  readonly underrunAt: number[] = [];
  private readonly queued: Int16Array[] = [];
  private readonly realtime: boolean;
  private readonly queueFrames: number;
  private timer: NodeJS.Timeout | undefined;
  private nextPlayMs = 0;
  private signalled = false;
  private closed = false;

  constructor(private readonly options: AudioOutOptions, private readonly config: WavAudioOutConfig = {}) {
    checkFormat(options, 'WavAudioOut');
    this.realtime = config.realtime ?? true;
    this.queueFrames = config.queueFrames ?? 3;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.nextPlayMs = clock.monotonicMs();
    if (this.realtime) this.timer = setInterval(() => this.tick(), FRAME_MS / 4);
    this.signal();
  }

  /** Playback stops now: what is queued is dropped unplayed (AudioOut.stop). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queued.length = 0;
  }

  write(frame: Int16Array): void {
    if (this.closed) return;
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame of ${FRAME_SAMPLES} samples expected, got ${frame.length}`);
    if (!this.realtime) {
      this.playNow(frame.slice(), clock.monotonicMs());
      this.signal();
      return;
    }
    if (this.queued.length >= this.queueFrames) throw new RangeError(`audio out queue full (${this.queueFrames} frames): write only as many frames as onWritable allows`);
    if (this.queued.length === 0 && this.nextPlayMs < clock.monotonicMs()) {
      // Ran dry: like a sound card after an underrun, playback resumes now, not at the missed slot.
      if (this.played.length > 0) this.underrunAt.push(this.played.length);
      this.nextPlayMs = clock.monotonicMs();
    }
    this.queued.push(frame.slice());
  }

  reference(frame: Int16Array, timeMs: number): boolean {
    for (let i = this.played.length - 1; i >= 0 && i >= this.played.length - 50; i--) {
      if (this.playedAtMs[i] <= timeMs && timeMs < this.playedAtMs[i] + FRAME_MS) {
        frame.set(this.played[i]);
        return true;
      }
    }
    return false;
  }

  /** Everything played, end to end (gaps where the speaker ran dry are not filled). */
  samples(): Int16Array {
    const out = new Int16Array(this.played.length * FRAME_SAMPLES);
    this.played.forEach((f, i) => out.set(f, i * FRAME_SAMPLES));
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    if (this.config.path) writeWav(this.config.path, this.samples());
  }

  private playNow(frame: Int16Array, timeMs: number): void {
    this.played.push(frame);
    this.playedAtMs.push(timeMs);
    this.config.onPlayed?.(frame, timeMs);
  }

  private tick(): void {
    const now = clock.monotonicMs();
    let played = false;
    while (this.queued.length > 0 && this.nextPlayMs <= now) {
      this.playNow(this.queued.shift()!, this.nextPlayMs);
      this.nextPlayMs += FRAME_MS;
      played = true;
    }
    if (played || this.queued.length < this.queueFrames) this.signal();
  }

  private signal(): void {
    if (this.signalled || this.closed) return;
    this.signalled = true;
    setImmediate(() => {
      this.signalled = false;
      if (this.closed) return;
      const room = this.realtime ? this.queueFrames - this.queued.length : this.queueFrames;
      if (room > 0) this.options.onWritable(room);
    });
  }
}

export function wavAudioOut(config: WavAudioOutConfig = {}): AudioOutFactory & { last?: WavAudioOut } {
  const factory = ((options: AudioOutOptions) => (factory.last = new WavAudioOut(options, config))) as AudioOutFactory & { last?: WavAudioOut };
  return factory;
}

// ---- live audio through sox ----

/** The path of `name` on PATH, or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const RAW = ['-q', '-t', 'raw', '-r', String(WAV_SAMPLE_RATE), '-e', 'signed-integer', '-b', '16', '-c', '1', '-L'];

/** The system microphone through sox's `rec`. */
export class SoxAudioIn implements AudioIn {
  private process: ChildProcess | undefined;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private startMs = 0;
  private framesRead = 0;

  constructor(private readonly options: AudioInOptions, private readonly rec: string) {
    checkFormat(options, 'SoxAudioIn');
  }

  start(): void {
    if (this.process) return;
    this.startMs = clock.monotonicMs();
    const child = spawn(this.rec, [...RAW, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      const frames = Math.floor(this.bytes / (FRAME_SAMPLES * 2));
      if (frames > 0) this.options.onReadable(frames);
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', (error) => this.options.onError?.(new Error(`rec: ${error.message}`)));
    child.on('exit', (code) => {
      if (this.process === child && code !== 0 && code !== null) this.options.onError?.(new Error(`rec exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  }

  read(frame: Int16Array): number {
    const need = FRAME_SAMPLES * 2;
    if (this.bytes < need) return -1;
    const whole = Buffer.concat(this.chunks);
    for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = whole.readInt16LE(i * 2);
    this.chunks.length = 0;
    if (whole.length > need) this.chunks.push(whole.subarray(need));
    this.bytes -= need;
    return this.startMs + this.framesRead++ * FRAME_MS;
  }

  stop(): void {
    const child = this.process;
    this.process = undefined;
    child?.kill();
  }

  close(): void {
    this.stop();
  }
}

/** Sends played frames to sox's `play` (the system speaker). */
export class SoxPlayer {
  private readonly child: ChildProcess;

  constructor(play: string, onError?: (error: Error) => void) {
    this.child = spawn(play, [...RAW, '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
    this.child.on('error', (error) => onError?.(new Error(`play: ${error.message}`)));
    this.child.stdin!.on('error', () => { /* play went away; the WAV recording goes on */ });
  }

  write(frame: Int16Array): void {
    this.child.stdin!.write(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }

  close(): void {
    this.child.stdin!.end();
  }
}

export interface LiveAudio {
  /** The system microphone, when `rec` is installed. */
  audioIn?: AudioInFactory;
  /** Starts sox's `play` for the system speaker, when installed. */
  openPlayer?(onError?: (error: Error) => void): SoxPlayer;
  /** One line for the user when something is missing. */
  hint?: string;
}

/** What live audio this machine has (sox's rec and play, found at run time). */
export function liveAudio(path?: string): LiveAudio {
  const rec = findExecutable('rec', path);
  const play = findExecutable('play', path);
  const live: LiveAudio = {};
  if (rec) live.audioIn = (options) => new SoxAudioIn(options, rec);
  if (play) live.openPlayer = (onError) => new SoxPlayer(play, onError);
  if (!rec || !play) live.hint = SOX_HINT;
  return live;
}
