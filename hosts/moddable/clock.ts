// The Clock port over Moddable's `timer` and `time` modules.
import Timer from 'timer';
import Time from 'time';
import type { Clock, TimerHandle } from '../../src/ports/clock.js';

interface Handle { id: Timer | undefined }

export const moddableClock: Clock = {
  monotonicMs: () => Time.ticks,
  setTimer(callback, delayMs, repeatMs) {
    const handle: Handle = { id: undefined };
    handle.id = repeatMs === undefined
      // A fired one-shot forgets its id, so clearTimer never hands Timer.clear an id that is gone.
      ? Timer.set(() => { handle.id = undefined; callback(); }, delayMs)
      : Timer.set(() => callback(), delayMs, repeatMs);
    return handle;
  },
  clearTimer(handle: TimerHandle) {
    const h = handle as Handle | undefined;
    if (h?.id === undefined) return;
    Timer.clear(h.id);
    h.id = undefined;
  },
};
