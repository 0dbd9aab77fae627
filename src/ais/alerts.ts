// The Alerts namespace on the device (docs/protocol.md §4.8, §4.3 SynchronizeState, §6 maxAlertCount):
//
//   SetAlert {token, scheduledTime, durationInMilliseconds, type}  stored (alert-store.ts), then
//                                    SetAlertSucceeded {token}; SetAlertFailed {token} when it is invalid,
//                                    the device is full, or storage failed
//   DeleteAlert {token}              DeleteAlertSucceeded {token} (also for a token already gone: the goal
//                                    holds), DeleteAlertFailed {token} when storage failed
//   SetAlertVolume {volume}          stored, AlertVolumeChanged {volume}; local changes report it too
//   SynchronizeState                 alerts: {allAlerts: [token, …]} after every (re)connect (§4.3)
//
// Ringing. One timer on the monotonic clock for the earliest alert (re-armed at most an hour ahead and on
// every change of the wall time). At its time:
//   - online, the cloud rings it through speech (SetAttentionState ALERTING): the device waits `cloudGraceMs`
//     for that (the two clocks may differ by a little) and, if it comes, leaves the ringing to the cloud;
//   - offline, or the cloud did not start within the grace, the device rings it itself with its local tone
//     at the alert volume (SDK AiaAlertManager_PlayOfflineAlertOrCheckStatus);
//   - the cloud's ringing lost with the connection goes on locally for the rest of the duration.
// It stops by stop() (a button, "stop" heard locally), by the cloud (ALERTING ends, DeleteAlert), or after
// durationInMilliseconds (the spec's timeout); a stopped or finished alert is deleted from storage, so
// SynchronizeState no longer lists it and the service drops it too.
// Missed alerts: an alert whose time passed while the device was off (or before the wall time was known)
// rings as soon as the time is known, unless it is more than 30 minutes late (SDK
// AIA_ALERT_EXPIRATION_DURATION 1800 s), when it is deleted unrung. Alerts due together ring one after another.

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import type { Storage } from '../ports/storage.js';
import { ALERT_VOLUME_KEY, AlertStore, alertProblem, type Alert } from './alert-store.js';
import type { WallClock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import { MalformedMessageError, type AisMessage } from './message.js';

export { type Alert, type AlertType, ALERT_TYPES } from './alert-store.js';

/** An alert more than this late is dropped unrung (SDK AIA_ALERT_EXPIRATION_DURATION). */
export const ALERT_EXPIRATION_S = 1800;
/** maxAlertCount declared in the Alerts capability (SDK 20, NXP 6). */
export const MAX_ALERT_COUNT = 20;
/** The alert volume before the service sets one. */
export const DEFAULT_ALERT_VOLUME = 60;
const MAX_TIMER_MS = 3_600_000;

export interface AlertsConnection {
  readonly dispatcher: Dispatcher;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean;
}

/** Who rings the current alert: waiting for the cloud (grace), the cloud's speech, or the local tone. */
export type RingMode = 'waiting' | 'cloud' | 'local';

export interface Ringing {
  alert: Alert;
  mode: RingMode;
  /** Monotonic ms when it stops by itself (started + durationInMilliseconds). */
  endsAtMs: number;
}

export interface AlertsOptions {
  connection: AlertsConnection;
  clock: Clock;
  wall: WallClock;
  storage: Storage;
  log: Logger;
  /** Whether the cloud is there to ring an alert (the connection is ready). */
  online(): boolean;
  /** Online, how long to wait at the due time for the cloud's ALERTING before ringing locally. Default 3000 ms. */
  cloudGraceMs?: number;
  maxAlertCount?: number;
  /** The local tone must play (at `volume`) or stop (undefined). */
  onLocalTone?(volume: number | undefined): void;
  /** The ringing alert changed (undefined: none rings): the LEDs show ALERTING for a local one. */
  onRinging?(ringing: Ringing | undefined): void;
  /** The stored set changed. */
  onChange?(): void;
}

function checkVolume(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
    throw new MalformedMessageError(`${what} volume expected an integer 0..100, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class Alerts {
  readonly store: AlertStore;
  private readonly options: AlertsOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly wall: WallClock;
  private readonly maxAlertCount: number;
  private volumeValue: number;
  private current: Ringing | undefined;
  private timer: TimerHandle | undefined;
  private graceTimer: TimerHandle | undefined;
  private endTimer: TimerHandle | undefined;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(options: AlertsOptions) {
    if (!options?.connection || !options.clock || !options.wall || !options.storage || !options.log || typeof options.online !== 'function') {
      throw new TypeError('Alerts needs options.connection, clock, wall, storage, log and online()');
    }
    this.options = options;
    this.log = options.log;
    this.clock = options.clock;
    this.wall = options.wall;
    this.maxAlertCount = options.maxAlertCount ?? MAX_ALERT_COUNT;
    this.store = new AlertStore(options.storage);
    const volume = options.storage.get(ALERT_VOLUME_KEY);
    this.volumeValue = volume && volume.length === 1 && volume[0] <= 100 ? volume[0] : DEFAULT_ALERT_VOLUME;
    const d = options.connection.dispatcher;
    d.register('SetAlert', (m) => this.setAlert(m));
    d.register('DeleteAlert', (m) => this.deleteAlert(m));
    d.register('SetAlertVolume', (m) => this.setVolume(checkVolume(m.payload?.volume, 'SetAlertVolume')));
    this.unsubscribe = this.wall.onChange(() => this.schedule());
    this.schedule();
  }

  /** The Alerts capability (§6). */
  capability(): Record<string, unknown> {
    return { type: 'AisInterface', interface: 'Alerts', version: '1.0', configurations: { maxAlertCount: this.maxAlertCount } };
  }

  /** The `alerts` part of SynchronizeState (§4.3). */
  synchronizeState(): { allAlerts: string[] } {
    return { allAlerts: this.store.tokens() };
  }

  get volume(): number { return this.volumeValue; }
  get ringing(): Ringing | undefined { return this.current; }
  list(): Alert[] { return this.store.list(); }

  /** The user changed the alert volume (buttons while an alert rings): stored and reported. */
  setVolume(volume: number): void {
    const v = checkVolume(volume, 'alert');
    this.options.storage.set(ALERT_VOLUME_KEY, Uint8Array.of(v));
    this.volumeValue = v;
    this.options.connection.sendEvent('AlertVolumeChanged', { volume: v });
    if (this.current?.mode === 'local') this.options.onLocalTone?.(v);
  }

  /** Stops the ringing alert (a button, a local "stop"): deleted; returns its token, or undefined if none rang. */
  stop(): string | undefined {
    const ringing = this.current;
    if (!ringing) return undefined;
    this.log.info(`alert ${ringing.alert.token} stopped by the user`);
    this.deleteRung();
    return ringing.alert.token;
  }

  /**
   * The cloud's attention state says whether it is ringing an alert (SetAttentionState ALERTING, applied at its
   * offset). ALERTING takes the ringing over from the grace wait or the local tone; its end finishes the alert.
   */
  cloudAlerting(alerting: boolean): void {
    const ringing = this.current;
    if (alerting) {
      if (ringing) {
        if (ringing.mode !== 'cloud') this.setMode('cloud');
        return;
      }
      // The cloud's timer fired first: take the earliest alert that is due (or nearly) as the one it rings.
      const now = this.wall.nowSeconds();
      const due = this.store.list().find((a) => !(a.scheduledTime > now + (this.options.cloudGraceMs ?? 3000) / 1000 + 2));
      if (due) this.start(due, 'cloud');
      return;
    }
    if (ringing?.mode === 'cloud') {
      this.log.info(`alert ${ringing.alert.token}: the cloud stopped ringing it`);
      this.deleteRung();
    }
  }

  /** The connection is gone: an alert the cloud was ringing (or was about to) rings on locally. */
  offline(): void {
    const ringing = this.current;
    if (ringing && ringing.mode !== 'local') {
      this.log.info(`alert ${ringing.alert.token}: connection lost while the cloud rang it; ringing locally`);
      this.setMode('local');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.clearTimers();
    if (this.current?.mode === 'local') this.options.onLocalTone?.(undefined);
    this.current = undefined;
  }

  // ---- directives ----

  private setAlert(m: AisMessage): void {
    const p = m.payload ?? {};
    const token = p.token;
    if (typeof token !== 'string' || token === '') throw new MalformedMessageError(`SetAlert token expected a non-empty string, got ${JSON.stringify(token)}`);
    const alert = { token, type: p.type, scheduledTime: p.scheduledTime, durationInMilliseconds: p.durationInMilliseconds } as Alert;
    const problem = alertProblem(alert);
    if (problem) return this.failed('SetAlertFailed', token, problem);
    if (!this.store.get(token) && this.store.size >= this.maxAlertCount) return this.failed('SetAlertFailed', token, `${this.maxAlertCount} alerts stored already (maxAlertCount)`);
    try {
      this.store.put(alert);
    } catch (error) {
      return this.failed('SetAlertFailed', token, `storage: ${(error as Error).message}`);
    }
    if (this.current?.alert.token === token) this.finishRinging(); // replaced while ringing: the new one counts
    this.log.info(`alert ${token} set: ${alert.type} at ${alert.scheduledTime} (NTP s) for ${alert.durationInMilliseconds} ms`);
    this.options.connection.sendEvent('SetAlertSucceeded', { token });
    this.changed();
    this.schedule();
  }

  private deleteAlert(m: AisMessage): void {
    const token = m.payload?.token;
    if (typeof token !== 'string' || token === '') throw new MalformedMessageError(`DeleteAlert token expected a non-empty string, got ${JSON.stringify(token)}`);
    try {
      if (this.store.remove(token) === 0) this.log.info(`DeleteAlert ${token}: not stored (already rung or deleted)`);
    } catch (error) {
      return this.failed('DeleteAlertFailed', token, `storage: ${(error as Error).message}`);
    }
    if (this.current?.alert.token === token) this.finishRinging();
    this.options.connection.sendEvent('DeleteAlertSucceeded', { token });
    this.changed();
    this.schedule();
  }

  private failed(event: 'SetAlertFailed' | 'DeleteAlertFailed', token: string, why: string): void {
    this.log.warn(`${event} ${token}: ${why}`);
    this.options.connection.sendEvent(event, { token });
  }

  // ---- scheduling ----

  /** Arms the timer for the earliest alert not ringing; rings (or drops) those already due. */
  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (!this.wall.isSet) return; // unknown time: wait for SetClock (or the RTC)
    const now = this.wall.nowSeconds();
    const expired = this.store.list().filter((a) => a.scheduledTime + ALERT_EXPIRATION_S < now && a.token !== this.current?.alert.token);
    if (expired.length > 0) {
      for (const a of expired) this.log.warn(`alert ${a.token} expired unrung: due ${(now - a.scheduledTime).toFixed(0)} s ago (> ${ALERT_EXPIRATION_S} s)`);
      try {
        this.store.remove(...expired.map((a) => a.token));
        this.changed();
      } catch (error) {
        this.log.error(`expired alerts not deleted: ${(error as Error).message}`);
      }
    }
    const next = this.store.list().find((a) => a.token !== this.current?.alert.token);
    if (!next) return;
    const delayMs = (next.scheduledTime - now) * 1000;
    if (delayMs <= 0) {
      if (this.current) return; // rings after the current one (deleteRung() schedules again)
      return this.start(next, this.options.online() ? 'waiting' : 'local');
    }
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.schedule();
    }, Math.min(Math.ceil(delayMs), MAX_TIMER_MS));
  }

  private start(alert: Alert, mode: RingMode): void {
    const late = this.wall.nowSeconds() - alert.scheduledTime;
    this.log.info(`alert ${alert.token} (${alert.type}) due${late > 1 ? ` (${late.toFixed(0)} s late)` : ''}: ${mode === 'waiting' ? 'waiting for the cloud to ring it' : mode === 'cloud' ? 'the cloud rings it' : 'ringing locally'}`);
    this.current = { alert, mode: 'waiting', endsAtMs: this.clock.monotonicMs() + alert.durationInMilliseconds };
    this.endTimer = this.clock.setTimer(() => {
      this.endTimer = undefined;
      this.log.info(`alert ${alert.token}: rang its ${alert.durationInMilliseconds} ms; stopped`);
      this.deleteRung();
    }, alert.durationInMilliseconds);
    if (mode === 'waiting') {
      this.graceTimer = this.clock.setTimer(() => {
        this.graceTimer = undefined;
        if (this.current?.mode === 'waiting') {
          this.log.info(`alert ${alert.token}: the cloud did not ring it within ${this.options.cloudGraceMs ?? 3000} ms; ringing locally`);
          this.setMode('local');
        }
      }, this.options.cloudGraceMs ?? 3000);
    }
    this.setMode(mode);
    this.schedule();
  }

  private setMode(mode: RingMode): void {
    const ringing = this.current!;
    const wasLocal = ringing.mode === 'local';
    ringing.mode = mode;
    if (mode === 'local' && !wasLocal) this.options.onLocalTone?.(this.volumeValue);
    if (mode !== 'local' && wasLocal) this.options.onLocalTone?.(undefined);
    this.options.onRinging?.({ ...ringing });
  }

  /** The current alert is over: deleted, then the next due one rings. */
  private deleteRung(): void {
    const ringing = this.current;
    if (!ringing) return;
    this.finishRinging();
    try {
      if (this.store.remove(ringing.alert.token) > 0) this.changed();
    } catch (error) {
      this.log.error(`alert ${ringing.alert.token} not deleted after ringing: ${(error as Error).message}`);
    }
    this.schedule();
  }

  /** Stops the sound and timers of the current alert without touching storage. */
  private finishRinging(): void {
    const ringing = this.current;
    if (!ringing) return;
    this.current = undefined;
    if (this.graceTimer !== undefined) this.clock.clearTimer(this.graceTimer);
    if (this.endTimer !== undefined) this.clock.clearTimer(this.endTimer);
    this.graceTimer = this.endTimer = undefined;
    if (ringing.mode === 'local') this.options.onLocalTone?.(undefined);
    this.options.onRinging?.(undefined);
  }

  private clearTimers(): void {
    for (const t of [this.timer, this.graceTimer, this.endTimer]) if (t !== undefined) this.clock.clearTimer(t);
    this.timer = this.graceTimer = this.endTimer = undefined;
  }

  private changed(): void {
    this.options.onChange?.();
  }
}
