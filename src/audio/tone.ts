// The local alert tone (docs/protocol.md §4.8: offline, the device rings with a stored or synthesised tone),
// made without allocation per frame: two one-frame tables, 800 Hz and 1000 Hz, hold whole periods in a 20 ms
// frame at 16 kHz (16 and 20 periods), so a frame is a table copy scaled by the gain, continuous in phase.
// Pattern (one cycle of 1.2 s): 800 Hz, 1000 Hz, 800 Hz, 1000 Hz beeps of 100 ms, 800 ms of silence.
// fill() follows the audio-out port's frame (20 ms = 320 samples).

import { FRAME_SAMPLES, SAMPLE_RATE } from './encoder.js';

export const TONE_LOW_HZ = 800;
export const TONE_HIGH_HZ = 1000;
/** Frames per beep (100 ms) and per cycle (1.2 s). */
const BEEP_FRAMES = 5;
const CYCLE_FRAMES = 60;
const BEEPS = 4;
/** Full scale of the tables: -6 dBFS, so volume 100 does not clip. */
const AMPLITUDE = 16384;

function sineFrame(hz: number): Int16Array {
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
  return frame;
}

/** A source of frames the speaker plays when no cloud stream does (Speaker.playLocal). */
export interface LocalSource {
  /** Writes the next frame into `frame` (FRAME_SAMPLES); false when the source has ended (frame unspecified). */
  fill(frame: Int16Array): boolean;
}

export class AlertTone implements LocalSource {
  private readonly low = sineFrame(TONE_LOW_HZ);
  private readonly high = sineFrame(TONE_HIGH_HZ);
  private frameIndex = 0;
  private gainQ15 = 0;

  constructor(volume = 60) {
    this.setVolume(volume);
  }

  /** 0–100, the alert volume (SetAlertVolume). */
  setVolume(volume: number): void {
    if (!Number.isInteger(volume) || volume < 0 || volume > 100) throw new RangeError(`volume expected an integer 0..100, got ${volume}`);
    this.gainQ15 = Math.round((volume * 32768) / 100);
  }

  /** From the start of the pattern. */
  restart(): void {
    this.frameIndex = 0;
  }

  /** Whether frame `index` of a cycle is in a beep, and which table. */
  static beepAt(index: number): 'low' | 'high' | undefined {
    const n = index % CYCLE_FRAMES;
    if (n >= BEEPS * BEEP_FRAMES) return undefined;
    return Math.floor(n / BEEP_FRAMES) % 2 === 0 ? 'low' : 'high';
  }

  fill(frame: Int16Array): boolean {
    const beep = AlertTone.beepAt(this.frameIndex++);
    if (beep === undefined) {
      frame.fill(0);
      return true;
    }
    const table = beep === 'low' ? this.low : this.high;
    const g = this.gainQ15;
    for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = (table[i] * g) >> 15;
    return true;
  }
}
