// One publish regulator per producer (AIS §4.9: messages on one topic at least 50 ms apart). The microphone
// stream and the event batches each own one; the producer says when it has something to send (request()) and
// the pacer calls it back at the next free slot, again every spacing while the producer answers true.
//
// Nothing is allocated per slot: the timer repeats with one callback made in the constructor.

import type { Clock, TimerHandle } from '../ports/clock.js';

/** A timer may run this much before its time (millisecond clocks rounding). */
const TIMER_RESOLUTION_MS = 2;

export interface PacerOptions {
  clock: Clock;
  /** Least time between two sends (default 50 ms, §4.9). */
  spacingMs?: number;
  /** A slot is free: send what is waiting (calling sent() after an attempt); false when nothing is left. */
  onSlot(): boolean;
}

export class Pacer {
  readonly spacingMs: number;
  private readonly clock: Clock;
  private readonly onSlot: () => boolean;
  private readonly slotCallback = () => this.runSlot();
  private lastSentMs = -1e9;
  private timer: TimerHandle | undefined;

  constructor(options: PacerOptions) {
    if (!options?.clock || typeof options.onSlot !== 'function') throw new TypeError('Pacer needs options.clock and onSlot');
    const spacingMs = options.spacingMs ?? 50;
    if (!(spacingMs >= 0)) throw new RangeError(`spacingMs expected ≥ 0, got ${spacingMs}`);
    this.spacingMs = spacingMs;
    this.clock = options.clock;
    this.onSlot = options.onSlot;
  }

  /** Milliseconds until a send is allowed (0: now). */
  get waitMs(): number {
    return Math.max(0, this.lastSentMs + this.spacingMs - this.clock.monotonicMs());
  }

  /** Whether slots are being offered (a request is pending). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Something waits to be sent: onSlot runs at the next free slot, then every spacing until it returns false. */
  request(): void {
    if (this.timer !== undefined) return;
    // A zero spacing still repeats (a host may read repeatMs 0 as "once").
    this.timer = this.clock.setTimer(this.slotCallback, this.waitMs, Math.max(1, this.spacingMs));
  }

  /** A message went out now (or was refused, not to retry at once): the next one waits a spacing. */
  sent(): void {
    this.lastSentMs = this.clock.monotonicMs();
  }

  /** Stops offering slots. */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** A new connection: spacing starts afresh (it is per connection) and no slot is pending. */
  reset(): void {
    this.stop();
    this.lastSentMs = -1e9;
  }

  private runSlot(): void {
    // A repeating timer that ran late can run early next (Node keeps it on its schedule): wait for the next
    // slot then, so sends stay spacingMs apart, less the timers' resolution.
    if (this.clock.monotonicMs() - this.lastSentMs < this.spacingMs - TIMER_RESOLUTION_MS) return;
    if (!this.onSlot()) this.stop();
  }
}
