// The device's two audio frame paths, wired in one place (docs/architecture.md has the diagram):
//
//   microphone → publish, one 20 ms frame at a time:
//     audio-in port ─ Capture.drain (src/audio/capture.ts: one frame buffer, read in place)
//       → FrontEnd.push (src/audio/frontend.ts: echo canceller against the played reference, wake-word hook)
//       → Microphone.pushFrame (src/ais/microphone.ts: the one frame ring, 2 s, ≥ 500 ms pre-roll)
//     then every 50 ms slot (src/ais/pacer.ts): Microphone.publishSlot → build (encode ring frames into one entry)
//       → AisConnection.publishMicrophone → Emitter.publish (seal, number) → MqttClient.publish → socket port
//
//   message → speaker:
//     socket port → MqttClient → AisConnection.route → Inbound.receive (sequence, open, OVERRUN resend)
//       → AisConnection.deliver → Speaker.receive (src/ais/speaker.ts: jitter buffer by stream offset)
//     then as the audio-out port has room: Speaker.writable → pump → playFrame (Opus decode, volume)
//       → SpeakerOutput.play → audio-out port (whose reference() feeds FrontEnd's echo canceller)
//
// Nothing on either path allocates per frame: every buffer above is made when the voice opens.
//
// A turn the network cuts (connectionLost) ends here, visibly: the microphone stream is closed (its audio not
// sent later), the half-played answer stopped, the error tone played and the ERROR light shown while it plays,
// and one log line. The next turn needs a new user action; nothing of this one is sent or replayed. A tap or a
// wake word while the connection is not ready gets the same cue (the microphone logs why it did not open).

import type { AudioInFactory, AudioOut, AudioOutFactory } from '../ports/audio.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import type { Opus } from '../ports/opus.js';
import type { AisConnection } from '../ais/connection.js';
import { Microphone, type MicrophoneInitiator, type MicrophoneState } from '../ais/microphone.js';
import { Speaker, type SpeakerOptions, type SpeakerOutput } from '../ais/speaker.js';
import { Capture } from '../audio/capture.js';
import { ErrorTone } from '../audio/tone.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../audio/encoder.js';
import { FrontEnd } from '../audio/frontend.js';
import type { EchoCanceller, WakeWordDetector } from '../audio/hooks.js';

/**
 * A Speaker whose frames go to an audio-out port opened here: the port's room drives the speaker, and stopping
 * the port drops what it holds (a barge-in). `make` builds the speaker around the output it is given.
 */
export function speakerOnPort(audioOut: AudioOutFactory, log: Logger, make: (output: SpeakerOutput) => Speaker): { speaker: Speaker; port: AudioOut } {
  let speaker: Speaker | undefined;
  const port = audioOut({
    sampleRate: SAMPLE_RATE, frameSamples: FRAME_SAMPLES,
    onWritable: (frames) => speaker?.writable(frames),
    onError: (error) => log.error(`audio out: ${error.message}`),
  });
  speaker = make({
    play: (frame) => port.write(frame),
    silence: () => {
      port.stop();
      port.start();
    },
  });
  port.start();
  return { speaker, port };
}

export interface VoicePorts {
  audioIn: AudioInFactory;
  audioOut: AudioOutFactory;
  opus: Opus;
  echoCanceller?: EchoCanceller;
  wakeWord?: WakeWordDetector;
  outputDelayMs?: number;
}

export interface VoiceOptions {
  ports: VoicePorts;
  connection: AisConnection;
  clock: Clock;
  log: Logger;
  initiator: MicrophoneInitiator;
  maxMessageBytes: number;
  /** The speaker's buffer sizes, volume and callbacks. */
  speaker?: Partial<Omit<SpeakerOptions, 'connection' | 'opus' | 'output' | 'log'>>;
  onMicrophoneState?(state: MicrophoneState): void;
  /** The error tone of a failed turn started (true) or ended: the ERROR light. */
  onErrorCue?(playing: boolean): void;
  /** A turn failed (the connection was lost during it) or a user action could not start one; `reason` says which. */
  onTurnFailed?(reason: string): void;
}

/** The Microphone and Speaker on one connection, with the ports and the front end between them. */
export class Voice {
  readonly microphone: Microphone;
  readonly speaker: Speaker;
  private readonly port: AudioOut;
  private readonly capture: Capture;
  private readonly options: VoiceOptions;
  private readonly errorTone = new ErrorTone();
  private errorTimer: TimerHandle | undefined;
  private closed = false;

  constructor(options: VoiceOptions) {
    const { ports, connection, log } = options;
    this.options = options;
    const { speaker, port } = speakerOnPort(ports.audioOut, log.child('speaker'), (output) => new Speaker({
      ...options.speaker, connection, opus: ports.opus, output, log: log.child('speaker'),
    }));
    const microphone = new Microphone({
      connection, clock: options.clock, log: log.child('microphone'), initiator: options.initiator,
      opus: ports.opus, maxMessageBytes: options.maxMessageBytes, bargeIn: speaker, onStateChange: options.onMicrophoneState,
      onNotOpened: () => this.notOpened(),
      onRoom: () => this.capture.resume(),
    });
    const frontEnd = new FrontEnd({
      frameSamples: FRAME_SAMPLES, echoCanceller: ports.echoCanceller, wakeWord: ports.wakeWord, outputDelayMs: ports.outputDelayMs,
      reference: (frame, timeMs) => !this.closed && port.reference(frame, timeMs),
      onFrame: (frame, timeMs) => microphone.pushFrame(frame, timeMs),
      onWakeWord: (begin, end) => microphone.wakeWordDetected(begin, end),
    });
    this.capture = new Capture({
      audioIn: ports.audioIn, log: log.child('capture'), onFrame: (frame, timeMs) => frontEnd.push(frame, timeMs), room: () => microphone.room,
    });
    this.microphone = microphone;
    this.speaker = speaker;
    this.port = port;
    this.capture.start();
  }

  /**
   * The connection was lost (or is not ready). A turn in progress (the microphone streaming or waiting for the
   * press, or the cloud at THINKING or SPEAKING: `cloudStage`) fails: its stream closed, its answer stopped, the
   * error tone played, one log line, onTurnFailed.
   */
  connectionLost(cloudStage: string | undefined): void {
    const microphone = this.microphone.state;
    const failed = microphone !== 'closed' || cloudStage === 'THINKING' || cloudStage === 'SPEAKING';
    // The light goes to ERROR first, so LISTENING or THINKING never shows IDLE in between.
    if (failed) this.showErrorCue();
    this.microphone.reset();
    this.speaker.reset();
    if (!failed) return;
    const reason = `the connection was lost ${microphone !== 'closed' ? `while the microphone was ${microphone}` : `while the cloud was ${cloudStage}`}`;
    this.options.log.warn(`turn failed: ${reason}; error tone`);
    this.playErrorTone();
    this.options.onTurnFailed?.(reason);
  }

  /** A tap or wake word while the connection is not ready (the microphone logged it): the same cue, no turn. */
  private notOpened(): void {
    this.showErrorCue();
    this.playErrorTone();
    this.options.onTurnFailed?.('the microphone did not open: the connection is not ready');
  }

  private playErrorTone(): void {
    this.errorTone.setVolume(this.speaker.volume);
    this.errorTone.restart();
    this.speaker.playCue(this.errorTone);
  }

  /** The ERROR light for as long as the error tone plays. */
  private showErrorCue(): void {
    if (this.errorTimer !== undefined) this.options.clock.clearTimer(this.errorTimer);
    this.options.onErrorCue?.(true);
    this.errorTimer = this.options.clock.setTimer(() => {
      this.errorTimer = undefined;
      this.options.onErrorCue?.(false);
    }, this.errorTone.durationMs);
  }

  /** Closes both ports and both components (an error cue ends, its light too); safe twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.errorTimer !== undefined) {
      // The audio path goes (a fatal connection error): the tone ends here, and so does its light.
      this.options.clock.clearTimer(this.errorTimer);
      this.errorTimer = undefined;
      this.options.onErrorCue?.(false);
    }
    this.capture.close();
    this.microphone.close();
    this.speaker.close();
    this.port.close();
  }
}
