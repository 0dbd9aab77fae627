// The capture ring: the last `capacityFrames` microphone frames, addressed by their absolute frame number
// since the ring started, so the microphone can stream from 500 ms before a wake word (docs/protocol.md §4.4,
// §5) and a reader that fell behind learns exactly what it lost. Storage and one view per slot are made in
// the constructor; push() and frame() allocate nothing (a 20 ms path).

/** The spec's pre-roll before a wake word: 500 ms (§5; AVS PREROLL_DURATION). */
export const PREROLL_MS = 500;

export interface FrameRingOptions {
  frameSamples: number;    // 320 = 20 ms at 16 kHz
  capacityFrames: number;  // ≥ pre-roll + what the publisher may lag behind
}

export class FrameRing {
  readonly frameSamples: number;
  readonly capacityFrames: number;
  private readonly store: Int16Array;
  private readonly slots: Int16Array[] = [];
  private readonly times: Float64Array;
  private written = 0;

  constructor(options: FrameRingOptions) {
    const { frameSamples, capacityFrames } = options ?? ({} as FrameRingOptions);
    if (!Number.isInteger(frameSamples) || frameSamples < 1) throw new RangeError(`frameSamples expected a positive integer, got ${frameSamples}`);
    if (!Number.isInteger(capacityFrames) || capacityFrames < 2) throw new RangeError(`capacityFrames expected an integer ≥ 2, got ${capacityFrames}`);
    this.frameSamples = frameSamples;
    this.capacityFrames = capacityFrames;
    this.store = new Int16Array(frameSamples * capacityFrames);
    this.times = new Float64Array(capacityFrames);
    for (let i = 0; i < capacityFrames; i++) this.slots.push(this.store.subarray(i * frameSamples, (i + 1) * frameSamples));
  }

  /** Frames pushed since the ring started: the number the next frame will get. */
  get framesWritten(): number {
    return this.written;
  }

  /** The oldest frame number still held. */
  get oldestFrame(): number {
    return this.written > this.capacityFrames ? this.written - this.capacityFrames : 0;
  }

  /** Copies one frame in (exactly frameSamples samples), overwriting the oldest when full. */
  push(frame: Int16Array, captureTimeMs = 0): void {
    if (frame.length !== this.frameSamples) throw new RangeError(`frame of ${this.frameSamples} samples expected, got ${frame.length}`);
    const slot = this.written % this.capacityFrames;
    this.slots[slot].set(frame);
    this.times[slot] = captureTimeMs;
    this.written++;
  }

  /** Whether frame `n` is still held. */
  holds(n: number): boolean {
    return n >= this.oldestFrame && n < this.written;
  }

  /** The ring's own view of frame `n` (valid until it is overwritten); RangeError if not held. */
  frame(n: number): Int16Array {
    if (!this.holds(n)) throw new RangeError(`frame ${n} is not held (frames ${this.oldestFrame}..${this.written - 1})`);
    return this.slots[n % this.capacityFrames];
  }

  /** Capture time (monotonic ms) of frame `n` as given to push(). */
  captureTimeMs(n: number): number {
    return this.holds(n) ? this.times[n % this.capacityFrames] : -1;
  }
}
