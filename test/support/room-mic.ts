// A microphone in the simulated room (emulator/voice/room.ts), in real time, for barge-in tests: every frame
// is what the user says (say(), through their own impulse response) plus what the device's loudspeaker played
// at that moment (through the loudspeaker's soft clip and the room's response), plus microphone noise. The
// loudspeaker is the device's own audio-out port: the echo is of what it really played, when it played it.
// A test double at the one boundary that cannot run here: air.
import { WavAudioIn, type WavAudioOut } from '../../hosts/node/audio.js';
import type { AudioIn, AudioInFactory, AudioInOptions } from '../../src/ports/audio.js';
import { roomImpulseResponse } from '../../emulator/voice/room.js';
import { whiteNoise } from '../../emulator/voice/pcm.js';

const FRAME = 320;

/**
 * Streaming FIR over a sparse response: each call filters one frame, keeping the input history it needs. The
 * direct path and reflections are kept whole; of the diffuse tail every 8th tap, √8 times louder (the same
 * energy and decay): a response as hard to cancel, at an eighth of the cost, so JavaScript keeps up in real time.
 */
class Filter {
  private readonly taps: Int32Array;
  private readonly gains: Float64Array;
  private readonly past: number;
  private readonly history: Float64Array;

  constructor(h: Float64Array) {
    const taps: number[] = [];
    const gains: number[] = [];
    let tail = 0;
    for (let j = 0; j < h.length; j++) {
      if (Math.abs(h[j]) >= 0.1) {
        taps.push(j);
        gains.push(h[j]);
      } else if (h[j] !== 0 && tail++ % 8 === 0) {
        taps.push(j);
        gains.push(h[j] * Math.SQRT2 * 2);
      }
    }
    this.taps = Int32Array.from(taps);
    this.gains = Float64Array.from(gains);
    this.past = h.length - 1;
    this.history = new Float64Array(this.past + FRAME);
  }

  /** Adds h * x (this frame of it) into `out`. */
  addInto(x: Float64Array, out: Float64Array): void {
    const { taps, gains, history, past } = this;
    history.copyWithin(0, FRAME);
    history.set(x, past);
    for (let n = 0; n < FRAME; n++) {
      let acc = 0;
      const at = past + n;
      for (let k = 0; k < taps.length; k++) acc += gains[k] * history[at - taps[k]];
      out[n] += acc;
    }
  }
}

export interface RoomMicOptions {
  /** The device's loudspeaker (its audio-out port, once made). */
  speaker(): WavAudioOut | undefined;
  seed?: number;
  /** Loudspeaker to microphone bulk delay, ms (default 8, as the room's). */
  delayMs?: number;
  /** The user's level at the microphone against the samples said (default 1). */
  nearGain?: number;
  /** The loudspeaker's level at the microphone against the samples played (default 1; the microphone clips at full scale). */
  echoGain?: number;
}

export class RoomMic implements AudioIn {
  private readonly near: WavAudioIn;
  private readonly echoPath: Filter;
  private readonly nearPath: Filter;
  private readonly played = new Int16Array(FRAME);
  private readonly x = new Float64Array(FRAME);
  private readonly mix = new Float64Array(FRAME);
  private readonly echo = new Float64Array(FRAME);
  private overlapNear = 0;
  private overlapEcho = 0;
  private readonly noise: Int16Array;
  private frames = 0;
  /** Frames in which the loudspeaker was playing. */
  echoFrames = 0;
  /** Samples read so far: the device's capture time base. */
  samplesRead = 0;

  constructor(options: AudioInOptions, private readonly room: RoomMicOptions) {
    this.near = new WavAudioIn(options, { realtime: true });
    const seed = room.seed ?? 1;
    this.echoPath = new Filter(roomImpulseResponse({ delayMs: room.delayMs ?? 8, seed }));
    this.nearPath = new Filter(roomImpulseResponse({ delayMs: 2, lengthMs: 100, seed: seed + 101 }));
    this.noise = whiteNoise(FRAME * 500, 20, seed + 7);
  }

  /** Queues the user's speech; returns the capture sample at which it starts (WavAudioIn.say). */
  say(samples: Int16Array): number {
    return this.near.say(samples);
  }

  read(frame: Int16Array): number {
    const timeMs = this.near.read(frame);
    if (timeMs < 0) return timeMs;
    this.mix.fill(0);
    const gain = this.room.nearGain ?? 1;
    for (let i = 0; i < FRAME; i++) this.x[i] = frame[i] * gain;
    this.nearPath.addInto(this.x, this.mix);
    // What the loudspeaker was playing at this frame's capture time: the same lookup the device's reference makes.
    if (this.room.speaker()?.reference(this.played, timeMs)) this.echoFrames++;
    else this.played.fill(0);
    const echoGain = this.room.echoGain ?? 1;
    for (let i = 0; i < FRAME; i++) this.x[i] = Math.tanh(this.played[i] / 32768) * 32768 * echoGain;   // room.ts's loudspeaker, drive 1
    this.echo.fill(0);
    this.echoPath.addInto(this.x, this.echo);
    let nearEnergy = 0, echoEnergy = 0;
    for (let i = 0; i < FRAME; i++) {
      nearEnergy += this.mix[i] * this.mix[i];
      echoEnergy += this.echo[i] * this.echo[i];
      this.mix[i] += this.echo[i];
    }
    // Frames where the user speaks over the loudspeaker (both above −50 dBFS): the level ratio the detector faces.
    if (nearEnergy > FRAME * 100 ** 2 && echoEnergy > FRAME * 100 ** 2) {
      this.overlapNear += nearEnergy;
      this.overlapEcho += echoEnergy;
    }
    const noise = this.noise.subarray((this.frames++ % 500) * FRAME);
    this.samplesRead += FRAME;
    for (let i = 0; i < FRAME; i++) {
      const v = Math.round(this.mix[i] + noise[i]);
      frame[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return timeMs;
  }

  /** The user's voice over the echo, in dB, in the frames where both sounded (undefined if none did). */
  get overlapDb(): number | undefined {
    return this.overlapNear > 0 ? 10 * Math.log10(this.overlapNear / this.overlapEcho) : undefined;
  }

  start(): void { this.near.start(); }
  stop(): void { this.near.stop(); }
  close(): void { this.near.close(); }
}

export function roomMic(room: RoomMicOptions): AudioInFactory & { last?: RoomMic } {
  const factory = ((options: AudioInOptions) => (factory.last = new RoomMic(options, room))) as AudioInFactory & { last?: RoomMic };
  return factory;
}
