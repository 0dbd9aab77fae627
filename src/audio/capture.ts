// The capture loop: reads every frame the audio-in port has ready into one frame buffer and hands it on (to
// the echo canceller and wake-word hooks, then Microphone.pushFrame). One frame made here; nothing per frame.
// It reads no more than the consumer has room for (Microphone.room: a stream's unsent frames are not
// overwritten); what is left waits in the port, in order, until resume(). A host whose timers ran late hands
// over seconds of frames at once: they are delayed, not dropped.

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
  private closed = false;
  private draining = false;
  framesCaptured = 0;

  constructor(options: CaptureOptions) {
    if (typeof options?.audioIn !== 'function' || typeof options.onFrame !== 'function') throw new TypeError('Capture needs options.audioIn and onFrame');
    this.onFrame = options.onFrame;
    this.room = options.room;
    const log = options.log;
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
    }
  }
}
