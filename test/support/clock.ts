// The Node clock with a record of every timer delay asked for, so tests can check backoff schedules.
import { NodeClock } from '../../hosts/node/clock.js';
import type { Clock } from '../../src/ports/clock.js';

export function recordingClock(): Clock & { delays: number[] } {
  const inner = new NodeClock();
  const delays: number[] = [];
  return {
    delays,
    monotonicMs: () => inner.monotonicMs(),
    setTimer: (callback, delayMs, repeatMs) => {
      delays.push(delayMs);
      return inner.setTimer(callback, delayMs, repeatMs);
    },
    clearTimer: (handle) => inner.clearTimer(handle),
  };
}
