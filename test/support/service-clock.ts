// A ServiceClock (emulator/ais/wire.ts) on fake time: timers fire only when a test calls advance().
import type { ServiceClock } from '../../emulator/ais/wire.js';

export class FakeClock implements ServiceClock {
  t = 0;
  timers: { at: number; fn: () => void }[] = [];
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const timer = { at: this.t + ms, fn }; this.timers.push(timer); return timer; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x !== h); }
  advance(ms: number) {
    this.t += ms;
    for (const due of this.timers.filter((x) => x.at <= this.t)) { this.clearTimeout(due); due.fn(); }
  }
}

