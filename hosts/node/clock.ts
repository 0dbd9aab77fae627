// Clock port on Node: performance.now() for monotonic time, setTimeout/setInterval for timers.
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../src/ports/clock.js';

/** The handle we give out: it holds the Node timer while one is pending, so clearing twice is harmless. */
class NodeTimer {
  pending: NodeJS.Timeout | undefined;
}

export class NodeClock implements Clock {
  monotonicMs(): number {
    // performance.now() is monotonic (it does not follow wall-clock changes), unlike Date.now().
    return performance.now();
  }

  setTimer(callback: () => void, delayMs: number, repeatMs?: number): TimerHandle {
    if (typeof callback !== 'function') throw new TypeError(`timer callback must be a function, got ${typeof callback}`);
    checkDelay('delayMs', delayMs);
    if (repeatMs !== undefined) checkDelay('repeatMs', repeatMs);
    const timer = new NodeTimer();
    timer.pending = setTimeout(() => {
      if (repeatMs === undefined) {
        timer.pending = undefined;
      } else {
        // First run after delayMs, then every repeatMs; the callback may clear the timer, which clears this interval.
        timer.pending = setInterval(callback, repeatMs);
      }
      callback();
    }, delayMs);
    return timer;
  }

  /** The host's RTC: the computer's clock, kept by its own NTP. */
  utcMs(): number {
    return Date.now();
  }

  clearTimer(handle: TimerHandle): void {
    // Safe with a fired, cleared or foreign handle: only a pending NodeTimer has something to cancel.
    if (!(handle instanceof NodeTimer) || handle.pending === undefined) return;
    clearTimeout(handle.pending); // clears intervals too: Node uses one Timeout class for both
    handle.pending = undefined;
  }
}

function checkDelay(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
}
