// A Clock test double: time moves only when the test calls advance(); one-shot and repeating timers.
// Portable (XS loads it beside the *.portable.test.ts files): imports nothing but src/.
import type { Clock, TimerHandle } from '../../src/ports/clock.js';

interface Timer { at: number; repeatMs?: number; callback: () => void }

export class ManualClock implements Clock {
  /** What monotonicMs() returns; advance() moves it. */
  now: number;
  /** Every delay asked of setTimer, in order (the backoff schedules tests check). */
  readonly delays: number[] = [];
  /** How often clearTimer was called, fired and unknown handles included. */
  clearCalls = 0;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;

  constructor(startMs = 0) {
    this.now = startMs;
  }
  monotonicMs(): number { return this.now; }
  setTimer(callback: () => void, delayMs: number, repeatMs?: number): TimerHandle {
    this.delays.push(delayMs);
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + delayMs, repeatMs, callback });
    return id;
  }
  clearTimer(handle: TimerHandle): void {
    this.clearCalls++;
    this.timers.delete(handle as number);
  }
  /** How often setTimer was called. */
  get setCalls(): number { return this.delays.length; }
  /** Timers armed and not yet fired (one-shot) or cleared. */
  get pending(): number { return this.timers.size; }
  /**
   * Fires the earliest timer `lateMs` after its time, as a loaded host does. A repeating one keeps its schedule
   * (Node anchors the next run to when this one was due), so its next run comes early.
   */
  fireLate(lateMs: number): void {
    let due: [number, Timer] | undefined;
    for (const entry of this.timers) if (!due || entry[1].at < due[1].at) due = entry;
    if (!due) return;
    const [id, timer] = due;
    this.now = timer.at + lateMs;
    if (timer.repeatMs) timer.at += timer.repeatMs;
    else this.timers.delete(id);
    timer.callback();
  }
  /**
   * The host was busy for `ms` (a loaded machine, a long synchronous call): time jumps, then each timer due by
   * then fires once, late, earliest first; a repeating one runs next a period after this late run, as Node's
   * setInterval skips the runs it missed.
   */
  stall(ms: number): void {
    this.now += ms;
    const due = [...this.timers].filter(([, timer]) => timer.at <= this.now).sort((a, b) => a[1].at - b[1].at);
    for (const [id, timer] of due) {
      if (this.timers.get(id) !== timer) continue;
      if (timer.repeatMs) timer.at = this.now + timer.repeatMs;
      else this.timers.delete(id);
      timer.callback();
    }
  }
  /** Moves time forward by `ms`, firing each timer due by then at its own time, earliest (then oldest) first. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let due: [number, Timer] | undefined;
      for (const entry of this.timers) if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      const [id, timer] = due;
      this.now = timer.at;
      if (timer.repeatMs) timer.at += timer.repeatMs;
      else this.timers.delete(id);
      timer.callback();
    }
    this.now = until;
  }
}
