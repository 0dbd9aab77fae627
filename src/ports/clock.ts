// Clock and timers port. Callbacks run on the host's single event loop and must not block.

/** Opaque handle of a scheduled timer. */
export type TimerHandle = unknown;

export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
  /** Schedules `callback` once after `delayMs` (or every `repeatMs` when given). */
  setTimer(callback: () => void, delayMs: number, repeatMs?: number): TimerHandle;
  /** Cancels a timer; safe with an already fired or cleared handle. */
  clearTimer(handle: TimerHandle): void;
  /**
   * Optional: a battery-backed real-time clock, UTC ms since 1970. With it the wall time is known at boot, so
   * alerts due while the device was off ring before any connection; without it they wait for SetClock.
   */
  utcMs?(): number;
}
