// Tones the device makes itself, without allocation per frame: each frequency has a one-frame table holding
// whole periods in 20 ms at 16 kHz (a multiple of 50 Hz), so a frame is a table copy scaled by the gain,
// continuous in phase. fill() follows the audio-out port's frame (20 ms = 320 samples).
//   AlertTone  the local alert tone (docs/protocol.md §4.8: offline, the device rings with a stored or
//              synthesised tone): 800, 1000, 800, 1000 Hz beeps of 100 ms, then 800 ms of silence, repeated.
//   ErrorTone  the cue of a turn that failed (the connection was lost during it): 600 Hz for 120 ms, 20 ms of
//              silence, 400 Hz for 200 ms, once. Falling and lower than the alert, so the two are not confused.

import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from './encoder.js';

export const TONE_LOW_HZ = 800;
export const TONE_HIGH_HZ = 1000;
export const ERROR_HIGH_HZ = 600;
export const ERROR_LOW_HZ = 400;
/** Full scale of the tables: -6 dBFS, so volume 100 does not clip. */
const AMPLITUDE = 16384;

/** `frames` 20 ms frames of `hz`, or of silence when hz is 0. */
export interface ToneStep { hz: number; frames: number }

const ALERT_STEPS: ToneStep[] = [
  { hz: TONE_LOW_HZ, frames: 5 }, { hz: TONE_HIGH_HZ, frames: 5 }, { hz: TONE_LOW_HZ, frames: 5 }, { hz: TONE_HIGH_HZ, frames: 5 }, { hz: 0, frames: 40 },
];
const ERROR_STEPS: ToneStep[] = [{ hz: ERROR_HIGH_HZ, frames: 6 }, { hz: 0, frames: 1 }, { hz: ERROR_LOW_HZ, frames: 10 }];

function sineFrame(hz: number): Int16Array {
  if (!(hz > 0 && (hz * FRAME_SAMPLES) % SAMPLE_RATE === 0)) throw new RangeError(`tone frequency expected a positive multiple of ${SAMPLE_RATE / FRAME_SAMPLES} Hz, got ${hz}`);
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
  return frame;
}

/** A source of frames the speaker plays when no cloud stream does (Speaker.playLocal, Speaker.playCue). */
export interface LocalSource {
  /** Writes the next frame into `frame` (FRAME_SAMPLES); false when the source has ended (frame unspecified). */
  fill(frame: Int16Array): boolean;
}

/** A pattern of tone steps, played once or repeated, at a volume. */
export class TonePattern implements LocalSource {
  /** The table of each frame of the pattern (undefined: silence). */
  private readonly tables: (Int16Array | undefined)[] = [];
  private frameIndex = 0;
  private gainQ15 = 0;

  constructor(steps: readonly ToneStep[], private readonly repeat: boolean, volume: number) {
    const tables = new Map<number, Int16Array>();
    for (const { hz, frames } of steps) {
      let table: Int16Array | undefined;
      if (hz !== 0) {
        table = tables.get(hz) ?? sineFrame(hz);
        tables.set(hz, table);
      }
      for (let i = 0; i < frames; i++) this.tables.push(table);
    }
    if (this.tables.length === 0) throw new RangeError('a tone pattern needs at least one frame');
    this.setVolume(volume);
  }

  /** One pass of the pattern, in milliseconds. */
  get durationMs(): number { return this.tables.length * FRAME_MS; }

  /** 0–100 (the alert volume, SetAlertVolume; the speaker volume for a cue). */
  setVolume(volume: number): void {
    if (!Number.isInteger(volume) || volume < 0 || volume > 100) throw new RangeError(`volume expected an integer 0..100, got ${volume}`);
    this.gainQ15 = Math.round((volume * 32768) / 100);
  }

  /** From the start of the pattern. */
  restart(): void {
    this.frameIndex = 0;
  }

  fill(frame: Int16Array): boolean {
    if (this.frameIndex === this.tables.length) {
      if (!this.repeat) return false;
      this.frameIndex = 0;
    }
    const table = this.tables[this.frameIndex++];
    if (table === undefined) {
      frame.fill(0);
      return true;
    }
    const g = this.gainQ15;
    for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = (table[i] * g) >> 15;
    return true;
  }
}

export class AlertTone extends TonePattern {
  constructor(volume = 60) {
    super(ALERT_STEPS, true, volume);
  }
}

export class ErrorTone extends TonePattern {
  constructor(volume = 60) {
    super(ERROR_STEPS, false, volume);
  }
}
