// The Clock namespace on the device (docs/protocol.md §4.7): wall time set by the cloud, kept between updates
// from the monotonic clock port.
//
//   SetClock {currentTime}   UTC seconds since the NTP epoch (1900-01-01); the wall clock is set to it
//   SynchronizeClock         (event, no payload) asks the service for SetClock: on every connection that finds
//                            the time unknown, and every `syncIntervalMs` while connected (NXP: 40 s; ours 1 h)
//
// Wall time is held as "NTP milliseconds at monotonic time m": monotonicMs() drifts with the board's crystal,
// which the periodic SetClock corrects. A board with a battery-backed RTC (the clock port's optional utcMs())
// passes `rtcUtcMs` so that the time is known at boot, before any connection (the alerts due while the device was off need it, §4.8).

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import type { Dispatcher } from './dispatcher.js';
import { MalformedMessageError } from './message.js';

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01) (RFC 868, NXP's 2208988800). */
export const NTP_UNIX_OFFSET_S = 2208988800;

export interface WallClockOptions {
  clock: Clock;
  /** A battery-backed real-time clock, UTC ms since 1970: the wall time is known from boot. */
  rtcUtcMs?: () => number;
}

/** Wall time in NTP seconds, from the last SetClock (or the RTC) plus the monotonic time since. */
export class WallClock {
  private readonly clock: Clock;
  private baseNtpMs = 0;
  private baseMonotonicMs = 0;
  private known = false;
  private readonly listeners: (() => void)[] = [];

  constructor(options: WallClockOptions) {
    if (!options?.clock) throw new TypeError('WallClock needs options.clock');
    this.clock = options.clock;
    if (options.rtcUtcMs) this.setNtpMs(options.rtcUtcMs() + NTP_UNIX_OFFSET_S * 1000);
  }

  /** Whether the wall time is known (a SetClock or an RTC since boot). */
  get isSet(): boolean {
    return this.known;
  }

  /** Now in NTP seconds (fractional), or NaN while unknown. */
  nowSeconds(): number {
    if (!this.known) return NaN;
    return (this.baseNtpMs + this.clock.monotonicMs() - this.baseMonotonicMs) / 1000;
  }

  /** Sets the wall time to `ntpSeconds` (SetClock.currentTime). Listeners run after. */
  set(ntpSeconds: number): void {
    if (typeof ntpSeconds !== 'number' || !Number.isFinite(ntpSeconds) || ntpSeconds < 0) {
      throw new RangeError(`wall time expected NTP seconds ≥ 0, got ${String(ntpSeconds)}`);
    }
    this.setNtpMs(ntpSeconds * 1000);
  }

  /** Calls `listener` after each change of the wall time (alerts re-arm their timer); returns its removal. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  private setNtpMs(ntpMs: number): void {
    this.baseNtpMs = ntpMs;
    this.baseMonotonicMs = this.clock.monotonicMs();
    this.known = true;
    for (const listener of this.listeners) listener();
  }
}

/** What the clock component needs of the connection (AisConnection has it). */
export interface ClockConnection {
  readonly dispatcher: Dispatcher;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean;
}

export interface AisClockOptions {
  connection: ClockConnection;
  clock: Clock;
  wall: WallClock;
  log: Logger;
  /** SynchronizeClock while connected, this often (default 1 h; the service also sends SetClock by itself). */
  syncIntervalMs?: number;
}

/** The Clock namespace: SetClock into the WallClock, SynchronizeClock when the time is unknown and periodically. */
export class AisClock {
  private readonly options: AisClockOptions;
  private timer: TimerHandle | undefined;
  private setSinceConnect = false;

  constructor(options: AisClockOptions) {
    if (!options?.connection || !options.clock || !options.wall || !options.log) throw new TypeError('AisClock needs options.connection, clock, wall and log');
    this.options = options;
    options.connection.dispatcher.register('SetClock', (m) => {
      const currentTime = m.payload?.currentTime;
      if (typeof currentTime !== 'number' || !Number.isFinite(currentTime) || currentTime < NTP_UNIX_OFFSET_S) {
        throw new MalformedMessageError(`SetClock currentTime expected NTP seconds (≥ ${NTP_UNIX_OFFSET_S}), got ${JSON.stringify(currentTime)}`);
      }
      const before = options.wall.nowSeconds();
      this.setSinceConnect = true;
      options.wall.set(currentTime);
      if (options.log.enabled('info')) {
        options.log.info(`clock set to ${currentTime} (NTP s)${Number.isNaN(before) ? '' : `, ${(currentTime - before).toFixed(3)} s from ours`}`);
      }
    });
  }

  /** The connection is ready: ask for the time if it is unknown, and keep asking periodically. */
  connected(): void {
    this.setSinceConnect = false;
    if (!this.options.wall.isSet) this.options.connection.sendEvent('SynchronizeClock');
    this.stopTimer();
    const interval = this.options.syncIntervalMs ?? 3_600_000;
    this.timer = this.options.clock.setTimer(() => {
      this.options.connection.sendEvent('SynchronizeClock');
    }, interval, interval);
  }

  /** Whether a SetClock came on the current connection. */
  get synchronized(): boolean {
    return this.setSinceConnect;
  }

  /** The connection is gone: stop asking. Safe twice. */
  disconnected(): void {
    this.stopTimer();
  }

  close(): void {
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
