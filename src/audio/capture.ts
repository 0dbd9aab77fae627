// The capture loop: reads every frame the audio-in port has ready into one frame buffer and hands it on (to
// the echo canceller and wake-word hooks, then Microphone.pushFrame). One frame made here; nothing per frame.
// It reads no more than the consumer has room for (Microphone.room: a stream's unsent frames are not
// overwritten); what is left waits in the port, in order, until resume(). A host whose timers ran late hands
// over seconds of frames at once: they are delayed, not dropped. What a bounded port drops meanwhile (its
// `dropped` count) is logged once per episode, when reading catches up.

import type { AudioIn, AudioInFactory } from '../ports/audio.js';
import type { Logger } from '../ports/log.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from './encoder.js';

export interface CaptureOptions {
  audioIn: AudioInFactory;
  log: Logger;
  /** One frame, valid only during the call; `captureTimeMs` from the port. Must not block. */
  onFrame(frame: Int16Array, captureTimeMs: number): void;
  /** Frames onFrame may take now (default: all). */
  room?(): number;
}

export class Capture {
  private readonly port: AudioIn;
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private readonly onFrame: CaptureOptions['onFrame'];
  private readonly room: CaptureOptions['room'];
  private readonly log: Logger;
  private closed = false;
  private draining = false;
  /** The port's dropped count when the current episode of drops began (-1: none going on). */
  private dropsFrom = -1;
  private lastDropped = 0;
  framesCaptured = 0;

  constructor(options: CaptureOptions) {
    if (typeof options?.audioIn !== 'function' || typeof options.onFrame !== 'function') throw new TypeError('Capture needs options.audioIn and onFrame');
    this.onFrame = options.onFrame;
    this.room = options.room;
    const log = options.log;
    this.log = log;
    this.port = options.audioIn({
      sampleRate: SAMPLE_RATE, frameSamples: FRAME_SAMPLES,
      onReadable: () => this.drain(),
      onError: (error) => log.error(`audio in: ${error.message}`),
    });
  }

  start(): void { this.port.start(); }
  stop(): void { this.port.stop(); }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
  }

  /** The consumer has room again: read on what the port holds. */
  resume(): void {
    this.drain();
  }

  private drain(): void {
    // A resume() from inside onFrame (the wake word opened the stream) leaves the reading to this loop.
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.closed && (this.room === undefined || this.room() > 0)) {
        const timeMs = this.port.read(this.frame);
        if (timeMs < 0) return;
        this.framesCaptured++;
        this.onFrame(this.frame, timeMs);
      }
    } finally {
      this.draining = false;
      this.noteDrops();
    }
  }

  /** Frames the port dropped, not read in time. */
  get framesDropped(): number {
    return this.port.dropped ?? 0;
  }

  private noteDrops(): void {
    const dropped = this.framesDropped;
    if (this.dropsFrom < 0) {
      if (dropped > this.lastDropped) this.dropsFrom = this.lastDropped;
    } else if (dropped === this.lastDropped) {
      this.log.warn(`audio in: ${dropped - this.dropsFrom} frames dropped by the port, not read in time (${dropped} since start)`);
      this.dropsFrom = -1;
    }
    this.lastDropped = dropped;
  }
}
