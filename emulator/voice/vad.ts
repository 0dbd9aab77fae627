// End-of-speech detection on the uplink, frame by frame (20 ms at 16 kHz): frame energy against an
// adaptive noise floor, zero-crossing rate for the quiet fricatives that energy alone misses, a start
// confirmation (several speech frames in a row) and a hangover (so the pause after "Alexa," or between
// words does not end the utterance). The emulator sends CloseMicrophone when it fires
// (docs/protocol.md §4.4). No allocation per frame.
import { FRAME_SAMPLES } from './pcm.js';

export interface VadOptions {
  /** Samples per frame. Default 320 (20 ms at 16 kHz). */
  frameSamples?: number;
  /** Speech frames in a row that start an utterance. Default 4 (80 ms): a click or a cough is shorter. */
  startFrames?: number;
  /** Non-speech frames in a row that end it. Default 30 (600 ms), above eSpeak's pause at a comma (≈ 300 ms). */
  hangoverFrames?: number;
  /**
   * A frame is speech when its energy is this far above the noise floor, dB. Default 5: frame energy of
   * steady noise varies by ±0.4 dB over 320 samples, and at 10 dB SNR a 12 dB threshold lost a second of
   * speech (measured on the test set, docs/voice.md).
   */
  thresholdDb?: number;
  /** Quieter frames inside speech count as speech if their zero-crossing rate is fricative-like and energy this far above the floor, dB. Default 2. */
  fricativeThresholdDb?: number;
  /** Floor of the noise floor, in 16-bit RMS units (digital silence must not make every breath speech). Default 30. */
  minNoiseRms?: number;
}

export type VadEvent = 'none' | 'speechStart' | 'speechEnd';

/**
 * Feed frames with push(); it answers 'speechStart' once speech is confirmed, 'speechEnd' once the
 * hangover has passed after it, else 'none'. The frame indices of both are kept.
 */
export class VoiceActivityDetector {
  readonly frameSamples: number;
  private readonly startFrames: number;
  private readonly hangoverFrames: number;
  private readonly threshold: number;
  private readonly fricativeThreshold: number;
  private readonly minNoiseEnergy: number;
  private noiseEnergy = 0;
  private floorKnown = false;
  private frames = 0;
  private speechRun = 0;
  private silenceRun = 0;
  private state: 'waiting' | 'speech' | 'ended' = 'waiting';
  /** Frame index of the first frame of the confirmed speech; -1 before. */
  speechStartFrame = -1;
  /** Frame index just past the last speech frame; -1 before the end. */
  speechEndFrame = -1;

  constructor(options: VadOptions = {}) {
    this.frameSamples = options.frameSamples ?? FRAME_SAMPLES;
    if (!Number.isInteger(this.frameSamples) || this.frameSamples <= 0) throw new RangeError(`frameSamples expected as a positive integer, got ${options.frameSamples}`);
    this.startFrames = options.startFrames ?? 4;
    this.hangoverFrames = options.hangoverFrames ?? 30;
    this.threshold = 10 ** ((options.thresholdDb ?? 5) / 10);
    this.fricativeThreshold = 10 ** ((options.fricativeThresholdDb ?? 2) / 10);
    this.minNoiseEnergy = (options.minNoiseRms ?? 30) ** 2;
  }

  get inSpeech(): boolean {
    return this.state === 'speech';
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /** Frames seen so far. */
  get frameCount(): number {
    return this.frames;
  }

  /** Classifies one frame of `frameSamples` samples starting at `offset` in `samples`. */
  push(samples: Int16Array, offset = 0): VadEvent {
    const n = this.frameSamples;
    if (offset < 0 || offset + n > samples.length) throw new RangeError(`a frame of ${n} samples expected at ${offset}, got ${samples.length - offset}`);
    let energy = 0;
    let crossings = 0;
    let previous = samples[offset]!;
    for (let i = offset; i < offset + n; i++) {
      const v = samples[i]!;
      energy += v * v;
      if ((v >= 0) !== (previous >= 0)) crossings++;
      previous = v;
    }
    energy /= n;
    const zcr = crossings / n;
    const index = this.frames++;

    // The floor starts at the first frame (the 500 ms pre-roll is usually room noise, docs/protocol.md §5),
    // falls at once to a quieter frame, and rises slowly (≈ 1 dB a second at 20 ms frames) while no speech,
    // so steady noise joins the floor and speech does not.
    if (!this.floorKnown) {
      this.noiseEnergy = Math.max(energy, this.minNoiseEnergy);
      this.floorKnown = true;
    }
    const floor = this.noiseEnergy;
    const loud = energy > floor * this.threshold;
    // White noise and fricatives both cross zero often; only a fricative is also above the floor.
    const fricative = zcr > 0.25 && energy > floor * this.fricativeThreshold;
    const speech = loud || (this.state === 'speech' && fricative);
    if (!speech) {
      if (energy < floor) this.noiseEnergy = Math.max(energy, this.minNoiseEnergy);
      else if (this.state !== 'speech' || this.silenceRun > 10) this.noiseEnergy = floor * 1.005;
    }

    switch (this.state) {
      case 'waiting':
        this.speechRun = speech ? this.speechRun + 1 : 0;
        if (this.speechRun >= this.startFrames) {
          this.state = 'speech';
          this.speechStartFrame = index + 1 - this.speechRun;
          this.silenceRun = 0;
          return 'speechStart';
        }
        return 'none';
      case 'speech':
        this.silenceRun = speech ? 0 : this.silenceRun + 1;
        if (this.silenceRun >= this.hangoverFrames) {
          this.state = 'ended';
          this.speechEndFrame = index + 1 - this.silenceRun;
          return 'speechEnd';
        }
        return 'none';
      case 'ended':
        return 'none';
    }
  }

  /** Back to waiting for speech, the noise floor kept (the next turn is in the same room). */
  reset(): void {
    this.state = 'waiting';
    this.frames = 0;
    this.speechRun = 0;
    this.silenceRun = 0;
    this.speechStartFrame = -1;
    this.speechEndFrame = -1;
  }
}

/**
 * Where the speech is in a whole recording, by running the detector over it: [start, end) in samples,
 * widened by `marginSamples` each side (the recogniser wants a little silence around the words), or
 * undefined when it hears none. Speech still going at the end of the recording ends there.
 */
export function findSpeech(samples: Int16Array, options: VadOptions & { marginSamples?: number } = {}): { start: number; end: number } | undefined {
  const vad = new VoiceActivityDetector(options);
  const n = vad.frameSamples;
  for (let at = 0; at + n <= samples.length; at += n) {
    if (vad.push(samples, at) === 'speechEnd') break;
  }
  if (vad.speechStartFrame < 0) return undefined;
  const margin = options.marginSamples ?? 0;
  const end = vad.speechEndFrame >= 0 ? vad.speechEndFrame * n : samples.length;
  return { start: Math.max(0, vad.speechStartFrame * n - margin), end: Math.min(samples.length, end + margin) };
}
