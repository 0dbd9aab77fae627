// The Microphone namespace on the device (docs/protocol.md §3.3, §3.4, §4.4, §4.9, §5; §7 gotchas 6, 7, 11):
//
//   OpenMicrophone {timeoutInMilliseconds, initiator?}  a TAP or WAKEWORD device opens now; a PRESS_AND_HOLD
//       device (or a muted one) waits for the press and, past the timeout, sends OpenMicrophoneTimedOut and
//       never MicrophoneOpened. Already open: ignored (the spec allows it).
//   CloseMicrophone {}                                  stop streaming; MicrophoneClosed {offset}
//   user actions: tap(), press()/release(), wakeWordDetected(begin, end), endOfSpeech()
//   MicrophoneOpened {profile, offset, initiator?}      offset = first byte that will be sent; for a wake word
//       the stream starts 500 ms before it and wakeWordIndices are byte offsets into the stream (§4.4)
//   MicrophoneClosed {offset}                           one past the last byte sent
//
// Audio: frames from the audio-in port go into a ring (≥ 500 ms pre-roll); while open, every 50 ms (§4.9 per-
// topic spacing) one binary audio entry with its u64 offset is published with up to `chunkSamples` samples
// (SDK: 1,600 = 100 ms per 50 ms, so pre-roll drains faster than real time). A publish that fails keeps its
// message and is retried as is on the next tick: no audio is lost and, the connection releasing the number,
// no sequence number is consumed (gotcha 11). While a stream still needs its oldest frames, `room` says how
// many more the ring takes without overwriting them: the capture loop reads no further (the port holds the
// rest) and onRoom wakes it, so a host that ran late delays the audio, never cuts it.
//
// Stream offsets count the bytes sent on this connection (NXP): 0 after each Connect, continuous across
// interactions, so each MicrophoneOpened.offset is the previous MicrophoneClosed.offset. With Opus they count
// encoded bytes; CBR keeps bytes proportional to time, so the 500 ms pre-roll is 25 frames either way.
//
// Per 20 ms frame nothing is allocated: ring slots and the message buffer are made in the constructor, the
// encoders write into it by index; the pacer's timer repeats without a new closure.

import type { Dispatcher } from './dispatcher.js';
import { AUDIO_ENTRY_OVERHEAD, writeAudioEntryHeader } from './binary.js';
import { ENVELOPE } from './envelope.js';
import { MalformedMessageError, type AisMessage } from './message.js';
import { Pacer } from './pacer.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import type { Opus } from '../ports/opus.js';
import {
  FRAME_MS, FRAME_SAMPLES, L16_FORMAT, L16Encoder, microphoneCapability, OPUS_FORMAT, OpusFrameEncoder,
  type FrameEncoder, type MicrophoneFormat,
} from '../audio/encoder.js';
import { FrameRing, PREROLL_MS } from '../audio/ring.js';

/** What the microphone needs of the connection (AisConnection has it all). */
export interface MicrophoneConnection {
  readonly dispatcher: Dispatcher;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean;
  publishMicrophone(body: Uint8Array, length: number): boolean;
}

/** What opening the microphone interrupts (the Speaker): barge-in closes it first (gotcha 6). */
export interface BargeIn {
  readonly isActive: boolean;
  stop(): void;
}

export type MicrophoneInitiator = 'TAP' | 'PRESS_AND_HOLD' | 'WAKEWORD';
export type MicrophoneProfile = 'CLOSE_TALK' | 'NEAR_FIELD' | 'FAR_FIELD';
/** armed: OpenMicrophone waits for the press; opening: the speaker was closed, MicrophoneOpened follows in 50 ms; closing: sending the rest. */
export type MicrophoneState = 'closed' | 'armed' | 'opening' | 'open' | 'closing';
// Constants, not literals, where the 50 ms slot compares states (docs/xs-host.md, string literals).
const OPEN: MicrophoneState = 'open';
const CLOSING: MicrophoneState = 'closing';
const OPENING: MicrophoneState = 'opening';

export const WAKE_WORD = 'ALEXA';

export interface MicrophoneOptions {
  connection: MicrophoneConnection;
  clock: Clock;
  log: Logger;
  /** How this device's user opens the microphone; a PRESS_AND_HOLD device answers OpenMicrophone only once pressed. */
  initiator: MicrophoneInitiator;
  /** Default: CLOSE_TALK for press-and-hold (required), NEAR_FIELD for tap, FAR_FIELD for wake word. */
  profile?: MicrophoneProfile;
  /** Given: the device declares Opus and falls back to L16 if the capabilities are rejected. */
  opus?: Opus;
  opusBitsPerSecond?: number;   // 64000: 160-byte frames
  /** Capture ring length (default 2000 ms: the 500 ms pre-roll plus room for a lagging publisher). */
  ringMs?: number;
  /** Samples per published entry (default 1600, SDK AIA_MICROPHONE_CHUNK_SIZE_SAMPLES). */
  chunkSamples?: number;
  /** The System capability's mqtt.message.maxSizeInBytes (default 8000): bounds a message. */
  maxMessageBytes?: number;
  /** Per-topic spacing (§4.9: 50 ms). */
  publishSpacingMs?: number;
  bargeIn?: BargeIn;
  /** Between SpeakerClosed and MicrophoneOpened on barge-in (NXP: 50 ms). */
  bargeInDelayMs?: number;
  onStateChange?(state: MicrophoneState): void;
  /** A user action could not open the microphone (the connection is not ready): the app says so. */
  onNotOpened?(): void;
  /** `room` grew (a publish, a close): the capture loop may read on. */
  onRoom?(): void;
}

const DEFAULT_PROFILE: Record<MicrophoneInitiator, MicrophoneProfile> = { PRESS_AND_HOLD: 'CLOSE_TALK', TAP: 'NEAR_FIELD', WAKEWORD: 'FAR_FIELD' };

export class Microphone {
  readonly profile: MicrophoneProfile;
  readonly ring: FrameRing;
  private readonly options: MicrophoneOptions;
  private readonly connection: MicrophoneConnection;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** The microphone topic's regulator (§4.9): one publish per slot. */
  private readonly pacer: Pacer;
  private readonly chunkFrames: number;
  private readonly body: Uint8Array;
  /** body cut to each possible message length of the current format, so the envelope cuts no view per publish. */
  private views: Uint8Array[] = [];
  private readonly l16 = new L16Encoder();
  private opusEncoder: OpusFrameEncoder | undefined;
  private encoder!: FrameEncoder;
  private stateValue: MicrophoneState = 'closed';
  private muted = false;
  private streamOffset = 0;
  private nextFrame = 0;
  private stopFrame = -1;
  private pendingLength = 0;
  private pendingAudio = 0;
  /** Barge-in: the wait between SpeakerClosed and MicrophoneOpened. */
  private timer: TimerHandle | undefined;
  private armTimer: TimerHandle | undefined;
  private armedInitiator: Record<string, unknown> | undefined;
  private framesLostValue = 0;
  private publishFailuresValue = 0;

  constructor(options: MicrophoneOptions) {
    if (!options?.connection || !options.clock || !options.log) throw new TypeError('Microphone needs options.connection, clock and log');
    if (!(options.initiator in DEFAULT_PROFILE)) throw new RangeError(`initiator expected TAP, PRESS_AND_HOLD or WAKEWORD, got ${String(options.initiator)}`);
    this.options = options;
    this.connection = options.connection;
    this.clock = options.clock;
    this.log = options.log;
    this.profile = options.profile ?? DEFAULT_PROFILE[options.initiator];
    if (options.initiator === 'PRESS_AND_HOLD' && this.profile !== 'CLOSE_TALK') throw new RangeError(`press-and-hold requires the CLOSE_TALK profile, got ${this.profile}`);
    this.pacer = new Pacer({ clock: this.clock, spacingMs: options.publishSpacingMs, onSlot: () => this.publishSlot() });
    const ringMs = options.ringMs ?? 2000;
    if (!(ringMs >= PREROLL_MS + 100)) throw new RangeError(`ringMs expected ≥ ${PREROLL_MS + 100} (pre-roll plus a chunk), got ${ringMs}`);
    this.ring = new FrameRing({ frameSamples: FRAME_SAMPLES, capacityFrames: Math.ceil(ringMs / FRAME_MS) });
    const chunkSamples = options.chunkSamples ?? 1600;
    if (!Number.isInteger(chunkSamples) || chunkSamples < FRAME_SAMPLES || chunkSamples % FRAME_SAMPLES !== 0) {
      throw new RangeError(`chunkSamples expected a multiple of ${FRAME_SAMPLES}, got ${chunkSamples}`);
    }
    // Room for a chunk of the largest format (L16), within one message of the declared maximum.
    const maxBody = (options.maxMessageBytes ?? 8000) - ENVELOPE.headerBytes;
    this.chunkFrames = Math.min(chunkSamples / FRAME_SAMPLES, Math.floor((maxBody - AUDIO_ENTRY_OVERHEAD) / this.l16.frameBytes), 256);
    if (this.chunkFrames < 1) throw new RangeError(`maxMessageBytes ${options.maxMessageBytes} leaves no room for one frame`);
    this.body = new Uint8Array(AUDIO_ENTRY_OVERHEAD + this.chunkFrames * this.l16.frameBytes);
    if (options.opus) this.opusEncoder = new OpusFrameEncoder(options.opus, options.opusBitsPerSecond ?? 64000);
    this.useEncoder(this.opusEncoder ?? this.l16);
    const d = this.connection.dispatcher;
    d.register('OpenMicrophone', (m) => this.openDirective(m));
    d.register('CloseMicrophone', () => this.closeDirective());
  }

  get state(): MicrophoneState { return this.stateValue; }
  /** The format declared and, once the capabilities are accepted, in use. */
  get format(): MicrophoneFormat { return this.encoder.format; }
  /** Bytes one 20 ms frame takes in the stream. */
  get frameBytes(): number { return this.encoder.frameBytes; }
  /** Stream offset of the next byte to send. */
  get offset(): number { return this.streamOffset; }
  /** Samples captured since start: the time base of wakeWordDetected(). */
  get capturedSamples(): number { return this.ring.framesWritten * FRAME_SAMPLES; }
  /**
   * Frames pushFrame takes now without overwriting one the stream has still to send: the ring's capacity while
   * no stream needs its frames.
   */
  get room(): number {
    const ring = this.ring;
    const streaming = this.stateValue === OPEN || this.stateValue === CLOSING || this.stateValue === OPENING;
    if (!streaming || (this.stateValue === CLOSING && this.nextFrame >= this.stopFrame)) return ring.capacityFrames;
    return this.nextFrame + ring.capacityFrames - ring.framesWritten;
  }
  /** Frames that fell out of the ring before they were sent (pushed past `room`). */
  get framesLost(): number { return this.framesLostValue; }
  get publishFailures(): number { return this.publishFailuresValue; }

  /** The Microphone capability to declare (§6). */
  capability(): Record<string, unknown> {
    return microphoneCapability(this.encoder.format, this.opusEncoder?.bitsPerSecond);
  }

  /**
   * The capabilities were rejected: drop Opus for L16 and return true (publish again), or false when there is
   * nothing to fall back to. Wire it to AisConnectionOptions.onCapabilitiesRejected.
   */
  capabilitiesRejected(description: string): boolean {
    if (this.encoder.format !== OPUS_FORMAT) return false;
    this.log.warn(`capabilities rejected (${description}); the microphone falls back to ${L16_FORMAT}`);
    this.useEncoder(this.l16);
    return true;
  }

  /** One captured frame (320 samples) from the audio-in port, after echo cancellation. */
  pushFrame(frame: Int16Array, captureTimeMs = 0): void {
    this.ring.push(frame, captureTimeMs);
  }

  /**
   * A new AIS connection, or the old one lost: offsets from 0 (§3.4), nothing pending, closed without an event (the
   * old connection is gone); what was captured for a stream in progress is not sent later.
   */
  reset(): void {
    this.stopTimers();
    this.pendingLength = this.pendingAudio = 0;
    this.streamOffset = 0;
    this.stopFrame = -1;
    this.pacer.reset();
    this.encoder.reset();
    this.setState('closed');
  }

  /** Stops timers; the component stays registered but inert. Safe twice. */
  close(): void {
    this.stopTimers();
    this.stateValue = 'closed';
    this.opusEncoder?.close();
  }

  // ---- user actions ----

  tap(): void {
    if (this.stateValue === 'armed') return this.openArmed();
    if (this.stateValue !== 'closed' || this.muted) return;
    this.open(this.ring.framesWritten, { type: 'TAP' });
  }

  press(): void {
    if (this.stateValue === 'armed') return this.openArmed();
    if (this.stateValue !== 'closed' || this.muted) return;
    this.open(this.ring.framesWritten, { type: 'PRESS_AND_HOLD' });
  }

  /** Release of press-and-hold: what was captured until now is sent, then MicrophoneClosed. */
  release(): void {
    this.endOfSpeech();
  }

  /** The device decided the user stopped speaking (or released the button): drain, then MicrophoneClosed. */
  endOfSpeech(): void {
    if (this.stateValue === 'opening' || this.stateValue === 'open') this.startClosing(this.ring.framesWritten);
  }

  /**
   * The wake-word engine found "Alexa" in capture samples [beginSample, endSample) (the capturedSamples time
   * base). The stream starts 500 ms before it (what the ring holds of that) so the cloud can verify it.
   */
  wakeWordDetected(beginSample: number, endSample: number): void {
    const captured = this.capturedSamples;
    if (!Number.isInteger(beginSample) || !Number.isInteger(endSample) || beginSample < 0 || endSample <= beginSample || endSample > captured) {
      throw new RangeError(`wake word expected 0 ≤ begin < end ≤ ${captured} captured samples, got ${beginSample}..${endSample}`);
    }
    if ((this.stateValue !== 'closed' && this.stateValue !== 'armed') || this.muted) return;
    this.cancelArm();
    const prerollSamples = (PREROLL_MS * FRAME_SAMPLES) / FRAME_MS;
    const startFrame = Math.max(this.ring.oldestFrame, Math.floor(Math.max(0, beginSample - prerollSamples) / FRAME_SAMPLES));
    const startSample = startFrame * FRAME_SAMPLES;
    if (beginSample < startSample) throw new RangeError(`wake word begins at sample ${beginSample}, before the oldest held (${startSample})`);
    const bytesPerSample = this.encoder.frameBytes / FRAME_SAMPLES;
    const beginOffset = this.streamOffset + Math.floor((beginSample - startSample) * bytesPerSample);
    const endOffset = this.streamOffset + Math.floor((endSample - startSample) * bytesPerSample);
    this.open(startFrame, { type: 'WAKEWORD', payload: { wakeWord: WAKE_WORD, wakeWordIndices: { beginOffset, endOffset } } });
  }

  /** The microphone-off switch: an open microphone closes; OpenMicrophone then times out (§4.4). */
  setMuted(muted: boolean): void {
    this.muted = muted;
    if (muted && (this.stateValue === 'open' || this.stateValue === 'opening')) this.startClosing(this.nextFrame);
    else if (!muted && this.stateValue === 'armed' && this.options.initiator !== 'PRESS_AND_HOLD') this.openArmed();
  }

  // ---- directives ----

  private openDirective(m: AisMessage): void {
    const p = m.payload ?? {};
    const timeout = p.timeoutInMilliseconds;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
      throw new MalformedMessageError(`OpenMicrophone timeoutInMilliseconds expected a number ≥ 0, got ${JSON.stringify(timeout)}`);
    }
    const initiator = p.initiator;
    if (initiator !== undefined && (typeof initiator !== 'object' || initiator === null || Array.isArray(initiator))) {
      throw new MalformedMessageError(`OpenMicrophone initiator expected an object, got ${JSON.stringify(initiator)}`);
    }
    if (this.stateValue !== 'closed' && this.stateValue !== 'armed') {
      return this.log.info(`OpenMicrophone while ${this.stateValue}: ignored`);
    }
    const echo = initiator as Record<string, unknown> | undefined;
    if (this.options.initiator !== 'PRESS_AND_HOLD' && !this.muted) {
      this.cancelArm();
      return this.open(this.ring.framesWritten, echo);
    }
    // SDK: a press-and-hold device arms the timeout and opens when the user presses.
    this.cancelArm();
    this.armedInitiator = echo;
    this.setState('armed');
    this.armTimer = this.clock.setTimer(() => {
      this.armTimer = undefined;
      if (this.stateValue !== 'armed') return;
      this.armedInitiator = undefined;
      this.setState('closed');
      this.log.info(`OpenMicrophone: not opened within ${timeout} ms`);
      this.connection.sendEvent('OpenMicrophoneTimedOut');
    }, timeout);
  }

  private closeDirective(): void {
    if (this.stateValue === 'armed') {
      this.cancelArm();
      return this.setState('closed');
    }
    if (this.stateValue === 'opening' || this.stateValue === 'open' || this.stateValue === 'closing') this.startClosing(this.stateValue === 'closing' ? Math.min(this.stopFrame, this.nextFrame) : this.nextFrame);
  }

  // ---- streaming ----

  private openArmed(): void {
    const initiator = this.armedInitiator;
    this.cancelArm();
    this.open(this.ring.framesWritten, initiator);
  }

  private cancelArm(): void {
    if (this.armTimer !== undefined) this.clock.clearTimer(this.armTimer);
    this.armTimer = undefined;
    this.armedInitiator = undefined;
    if (this.stateValue === 'armed') this.stateValue = 'closed';
  }

  private open(startFrame: number, initiator: Record<string, unknown> | undefined): void {
    this.nextFrame = Math.max(startFrame, this.ring.oldestFrame);
    this.stopFrame = -1;
    const bargeIn = this.options.bargeIn;
    if (bargeIn?.isActive) {
      // Barge-in (gotcha 6): SpeakerClosed first, 50 ms, then MicrophoneOpened. Capture goes on meanwhile.
      bargeIn.stop();
      this.setState('opening');
      this.timer = this.clock.setTimer(() => {
        this.timer = undefined;
        if (this.stateValue === 'opening') this.announceOpen(initiator);
      }, this.options.bargeInDelayMs ?? 50);
      return;
    }
    this.announceOpen(initiator);
  }

  private announceOpen(initiator: Record<string, unknown> | undefined): void {
    const payload: Record<string, unknown> = { profile: this.profile, offset: this.streamOffset };
    if (initiator !== undefined) payload.initiator = initiator;
    if (!this.connection.sendEvent('MicrophoneOpened', payload)) {
      // Offline: the service cannot hear this turn; stay closed rather than stream into a failing publish.
      this.log.warn('microphone not opened: the connection is not ready');
      this.setState('closed');
      return this.options.onNotOpened?.();
    }
    this.setState('open');
    this.log.info(`microphone open at ${this.streamOffset} (${this.encoder.format}, from frame ${this.nextFrame}, ${this.ring.framesWritten - this.nextFrame} frames held)`);
    this.pacer.request();
  }

  private startClosing(stopFrame: number): void {
    if (this.stateValue === 'opening') {
      // Never announced: nothing to close.
      this.stopTimers();
      return this.setState('closed');
    }
    this.stopFrame = stopFrame;
    this.setState('closing');
    if (this.pendingLength === 0 && this.nextFrame >= stopFrame) this.announceClosed();
    else this.pacer.request();
  }

  private announceClosed(): void {
    this.stopTimers();
    this.setState('closed');
    this.connection.sendEvent('MicrophoneClosed', { offset: this.streamOffset });
    this.log.info(`microphone closed at ${this.streamOffset}`);
  }

  private stopTimers(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.armTimer !== undefined) this.clock.clearTimer(this.armTimer);
    this.armTimer = undefined;
    this.pacer.stop();
  }

  /** One publish slot (pacer.ts): the message that failed last time, or the next chunk; false when done. */
  private publishSlot(): boolean {
    if (this.stateValue !== OPEN && this.stateValue !== CLOSING) return false;
    if (this.pendingLength === 0) this.build();
    if (this.pendingLength > 0) {
      const view = this.views[(this.pendingLength - AUDIO_ENTRY_OVERHEAD) / this.encoder.frameBytes];
      if (!this.connection.publishMicrophone(view, this.pendingLength)) {
        if (this.publishFailuresValue++ === 0 || this.log.enabled('debug')) this.log.warn(`microphone publish at ${this.streamOffset} failed; retried on the next tick`);
        return true;
      }
      this.pacer.sent();
      this.streamOffset += this.pendingAudio;
      this.pendingLength = this.pendingAudio = 0;
      this.options.onRoom?.();
    }
    if (this.stateValue === CLOSING && this.nextFrame >= this.stopFrame) {
      this.announceClosed();
      return false;
    }
    return true;
  }

  /** Encodes up to chunkFrames waiting frames into one audio entry in `body`. */
  private build(): void {
    const ring = this.ring;
    if (this.nextFrame < ring.oldestFrame) {
      const lost = ring.oldestFrame - this.nextFrame;
      this.framesLostValue += lost;
      this.log.warn(`microphone: ${lost} frames fell out of the ring before they were sent`);
      this.nextFrame = ring.oldestFrame;
    }
    let end = ring.framesWritten;
    if (this.stateValue === CLOSING && this.stopFrame < end) end = this.stopFrame;
    const frames = Math.min(end - this.nextFrame, this.chunkFrames);
    if (frames <= 0) return;
    const encoder = this.encoder;
    const frameBytes = encoder.frameBytes;
    const audio = frames * frameBytes;
    // Opus: count+1 equal CBR frames (as on the speaker topic); L16: count 0, as the SDK sends.
    let at = writeAudioEntryHeader(this.body, 0, this.streamOffset, audio, encoder.format === OPUS_FORMAT ? frames - 1 : 0);
    for (let i = 0; i < frames; i++, at += frameBytes) encoder.encode(ring.frame(this.nextFrame + i), this.body, at);
    this.nextFrame += frames;
    this.pendingLength = AUDIO_ENTRY_OVERHEAD + audio;
    this.pendingAudio = audio;
  }

  private useEncoder(encoder: FrameEncoder): void {
    this.encoder = encoder;
    this.views = [];
    for (let frames = 0; frames <= this.chunkFrames; frames++) this.views.push(this.body.subarray(0, AUDIO_ENTRY_OVERHEAD + frames * encoder.frameBytes));
  }

  private setState(state: MicrophoneState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.options.onStateChange?.(state);
    this.options.onRoom?.();
  }
}
