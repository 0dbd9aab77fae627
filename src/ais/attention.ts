// UX attention on the device (docs/protocol.md §4.6): what the attention LEDs show, from the cloud's
// SetAttentionState {state, offset?} (applied when speaker playback reaches the offset) and the device's own
// states: LISTENING while the microphone is open, ERROR while the error tone of a failed turn plays, ALERTING
// while an alert rings locally, MICROPHONE_OFF while the microphone is switched off.
//
// One light at a time, by priority (the AVS attention-system order; the sources say only that LISTENING is
// local and that NXP ignores the cloud's states while the microphone is open):
//   LISTENING > ERROR > local ALERTING > the cloud's THINKING / SPEAKING / ALERTING > MICROPHONE_OFF
//   > the cloud's DO_NOT_DISTURB > NOTIFICATION_AVAILABLE > IDLE
// The cloud's state is kept while a higher one shows, and shows again when that ends.

import type { AttentionLight } from '../ports/ui.js';
import type { Dispatcher } from './dispatcher.js';
import { MalformedMessageError } from './message.js';

/** Attention states the service sets (§4.6). */
export const ATTENTION_STATES = ['IDLE', 'THINKING', 'SPEAKING', 'ALERTING', 'NOTIFICATION_AVAILABLE', 'DO_NOT_DISTURB'] as const;
export type CloudAttentionState = (typeof ATTENTION_STATES)[number];

/** The device's own inputs to the light. */
export interface LocalAttention {
  listening: boolean;
  /** A turn failed: its error tone plays (src/app/voice.ts). */
  error: boolean;
  localAlerting: boolean;
  microphoneOff: boolean;
}

/** The light for the cloud's state and the local ones (the priority above). */
export function attentionLight(cloud: CloudAttentionState, local: LocalAttention): AttentionLight {
  if (local.listening) return 'LISTENING';
  if (local.error) return 'ERROR';
  if (local.localAlerting) return 'ALERTING';
  if (cloud === 'THINKING' || cloud === 'SPEAKING' || cloud === 'ALERTING') return cloud;
  if (local.microphoneOff) return 'MICROPHONE_OFF';
  return cloud;
}

export interface AttentionOptions {
  dispatcher: Dispatcher;
  /** Runs `action` when speaker playback reaches `offset` (Speaker.atOffset); absent: at once. */
  atOffset?(offset: number, action: () => void): void;
  /** The light changed. */
  onLight(light: AttentionLight): void;
  /** The cloud's state changed (applied), e.g. for the alerts: ALERTING means the cloud rings one. */
  onCloudState?(state: CloudAttentionState): void;
}

export class Attention {
  private readonly options: AttentionOptions;
  private cloud: CloudAttentionState = 'IDLE';
  private readonly local: LocalAttention = { listening: false, error: false, localAlerting: false, microphoneOff: false };
  private shown: AttentionLight = 'IDLE';

  constructor(options: AttentionOptions) {
    if (!options?.dispatcher || typeof options.onLight !== 'function') throw new TypeError('Attention needs options.dispatcher and onLight');
    this.options = options;
    options.dispatcher.register('SetAttentionState', (directive) => {
      const state = directive.payload?.state as CloudAttentionState;
      if (!(ATTENTION_STATES as readonly string[]).includes(state)) {
        throw new MalformedMessageError(`SetAttentionState state ${JSON.stringify(state)} is not one of ${ATTENTION_STATES.join(', ')}`);
      }
      const offset = directive.payload?.offset;
      if (offset !== undefined && (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)) {
        throw new MalformedMessageError(`SetAttentionState offset expected a non-negative integer, got ${JSON.stringify(offset)}`);
      }
      const apply = () => this.setCloud(state);
      if (offset !== undefined && options.atOffset) options.atOffset(offset, apply);
      else apply();
    });
  }

  /** What the LEDs show now. */
  get light(): AttentionLight { return this.shown; }
  /** The cloud's last applied state. */
  get cloudState(): CloudAttentionState { return this.cloud; }

  setListening(on: boolean): void { this.setLocal('listening', on); }
  setError(on: boolean): void { this.setLocal('error', on); }
  setLocalAlerting(on: boolean): void { this.setLocal('localAlerting', on); }
  setMicrophoneOff(on: boolean): void { this.setLocal('microphoneOff', on); }

  /** A new connection: the cloud's state from before is void (§4.6 states live within an interaction). */
  reset(): void {
    this.setCloud('IDLE');
  }

  private setCloud(state: CloudAttentionState): void {
    const changed = state !== this.cloud;
    this.cloud = state;
    if (changed) this.options.onCloudState?.(state);
    this.update();
  }

  private setLocal(which: keyof LocalAttention, on: boolean): void {
    this.local[which] = on;
    this.update();
  }

  private update(): void {
    const light = attentionLight(this.cloud, this.local);
    if (light === this.shown) return;
    this.shown = light;
    this.options.onLight(light);
  }
}
