// Audio in and out ports: 16 kHz mono 16-bit frames, 20 ms = 320 samples by default.
// Callbacks run on the host's event loop and must not block; read/write copy into/out of the caller's buffer.

export interface AudioInOptions {
  sampleRate: number;    // Hz
  frameSamples: number;  // 320 = 20 ms at 16 kHz
  /** `frames` whole frames wait to be read. */
  onReadable(frames: number): void;
  onError?(error: Error): void;
}

export interface AudioIn {
  /** Copies one frame into `frame` (length frameSamples); returns the capture time in monotonic ms, or -1 if none waits. */
  read(frame: Int16Array): number;
  /** Frames lost because they were not read in time (a bounded driver ring); absent for a port that never drops. */
  readonly dropped?: number;
  start(): void;
  stop(): void;
  close(): void;
}

export interface AudioOutOptions {
  sampleRate: number;
  frameSamples: number;
  /** Room for `frames` more frames. */
  onWritable(frames: number): void;
  onError?(error: Error): void;
}

export interface AudioOut {
  /** Queues one frame for playback; the port copies it. */
  write(frame: Int16Array): void;
  /** Copies the frame that was played at monotonic time `timeMs` (the echo canceller's reference); false if unknown. */
  reference(frame: Int16Array, timeMs: number): boolean;
  start(): void;
  /**
   * Playback stops now: frames written and not yet played are dropped, not heard (a barge-in, a stopped alert).
   * start() plays again from an empty queue; onWritable reports the room then.
   */
  stop(): void;
  close(): void;
}

export type AudioInFactory = (options: AudioInOptions) => AudioIn;
export type AudioOutFactory = (options: AudioOutOptions) => AudioOut;
