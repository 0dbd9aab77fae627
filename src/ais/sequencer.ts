// Sequence numbers of the encrypted AIS topics (docs/protocol.md §3.5): an independent u32 counter per topic
// and direction, 0 after each Connect, +1 per MQTT message, wrapping at 2^32.
//
// Sequencer: the receive side of one topic (directive, speaker, capabilities/acknowledge). It delivers in
// order, drops duplicates and older numbers, buffers up to `windowSlots` messages that arrive early (SDK
// AIA_SEQUENCER_SLOTS = 4) and reports UNEXPECTED_SEQUENCE_NUMBER when a gap stays open `gapTimeoutMs`
// (SDK AIA_SEQUENCER_TIMEOUT = 10000 ms).
//
// SequenceCounter: the send side of one topic.
//
// Sequence by the plaintext outer number (envelope.ts peekSequenceNumber) and open the envelope in
// onMessage: then only in-order messages are decrypted, each with the key valid for its number (rotation.ts).

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import { nameError } from '../util/error-name.js';

const U32_SPAN = 0x100000000;
const HALF_SPAN = 0x80000000;

/** Distance from `from` forward to `to` in u32 serial arithmetic (RFC 1982): 0..2^32-1. */
export function sequenceDistance(from: number, to: number): number {
  return (to - from + U32_SPAN) % U32_SPAN;
}

function checkU32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} expected a u32, got ${value}`);
  }
}

/**
 * DUPLICATE: the number was already delivered (or is older): dropped, harmless (MQTT QoS 1 may redeliver).
 * TOO_LARGE: the payload is over `slotBytes`: its number is taken in order but the payload never delivered
 *   (the peer broke the declared message size; the caller answers as for any malformed message).
 * BEYOND_WINDOW: more than `windowSlots` ahead of the expected number: dropped.
 * GAP_TIMEOUT: a buffered message waited `gapTimeoutMs` for the expected number.
 * The last two are fatal for the connection: `disconnectCode` names the spec's reason.
 */
export type SequenceErrorKind = 'DUPLICATE' | 'TOO_LARGE' | 'BEYOND_WINDOW' | 'GAP_TIMEOUT';

export class SequenceError extends Error {
  /** The AIS Disconnect code to send, or null when the error is not fatal. */
  readonly disconnectCode: 'UNEXPECTED_SEQUENCE_NUMBER' | null;
  constructor(readonly expected: number, readonly received: number, readonly kind: SequenceErrorKind = 'GAP_TIMEOUT', detail = '') {
    super(`sequence ${expected} expected, got ${received}${detail ? `: ${detail}` : ''}`);
    nameError(this, 'SequenceError');
    this.disconnectCode = kind === 'BEYOND_WINDOW' || kind === 'GAP_TIMEOUT' ? 'UNEXPECTED_SEQUENCE_NUMBER' : null;
  }
}

export interface SequencerOptions {
  /** Timers for the gap timeout. */
  clock: Clock;
  /**
   * Largest payload delivered (the AIS maxMessageBytes); slots are made once. A larger one, in order or not, takes
   * its number and is reported as TOO_LARGE through onDropped: wire input never throws.
   */
  slotBytes: number;
  /**
   * Make each slot at its first out-of-order message rather than up front. For a service holding thousands of
   * sequencers (the emulator: 768 KB a device up front), where out of order is rare. A device keeps the default:
   * its memory is taken at boot, where a shortage shows, not mid-conversation.
   */
  slotsOnDemand?: boolean;
  /** Out-of-order messages kept while a number is missing (default 4, SDK AIA_SEQUENCER_SLOTS). */
  windowSlots?: number;
  /** How long a gap may stay open before UNEXPECTED_SEQUENCE_NUMBER (default 10000 ms). */
  gapTimeoutMs?: number;
  /**
   * In-order delivery. Synchronous, must not block; `payload` is valid only during the call (it is the
   * caller's array or a slot). May call rewind(), reset() or close().
   */
  onMessage(sequenceNumber: number, payload: Uint8Array): void;
  /** BEYOND_WINDOW and GAP_TIMEOUT: the caller disconnects (§3.5) and calls reset() on reconnect. */
  onError(error: SequenceError): void;
  /** DUPLICATE and TOO_LARGE reports; optional. */
  onDropped?(error: SequenceError): void;
  logger?: Logger;
}

export class Sequencer {
  readonly windowSlots: number;
  readonly gapTimeoutMs: number;
  private readonly slotBytes: number;
  private expectedNumber = 0;
  private readonly clock: Clock;
  private readonly slotData: Uint8Array[] = [];
  private readonly slotLength: number[] = [];
  private readonly slotNumber: number[] = [];
  private readonly slotUsed: boolean[] = [];
  private buffered = 0;
  private timer: TimerHandle | null = null;
  private readonly onGapTimeout: () => void;
  private onMessage: SequencerOptions['onMessage'] | null;
  private onError: SequencerOptions['onError'] | null;
  private onDropped: SequencerOptions['onDropped'] | null;
  private readonly logger: Logger | undefined;

  constructor(options: SequencerOptions) {
    if (!options || typeof options.onMessage !== 'function' || typeof options.onError !== 'function') {
      throw new TypeError('Sequencer expected options with onMessage and onError');
    }
    if (!options.clock) throw new TypeError('Sequencer expected options.clock');
    const slots = options.windowSlots ?? 4;
    if (!Number.isInteger(slots) || slots < 1 || slots > 64) throw new RangeError(`windowSlots expected 1..64, got ${slots}`);
    const gapMs = options.gapTimeoutMs ?? 10000;
    if (!(gapMs > 0)) throw new RangeError(`gapTimeoutMs expected > 0, got ${gapMs}`);
    if (!Number.isInteger(options.slotBytes) || options.slotBytes < 1) {
      throw new RangeError(`slotBytes expected a positive integer, got ${options.slotBytes}`);
    }
    this.windowSlots = slots;
    this.gapTimeoutMs = gapMs;
    this.slotBytes = options.slotBytes;
    this.clock = options.clock;
    this.onMessage = options.onMessage;
    this.onError = options.onError;
    this.onDropped = options.onDropped ?? null;
    this.logger = options.logger;
    for (let i = 0; i < slots; i++) {
      this.slotData.push(new Uint8Array(options.slotsOnDemand ? 0 : options.slotBytes));
      this.slotLength.push(0);
      this.slotNumber.push(0);
      this.slotUsed.push(false);
    }
    this.onGapTimeout = () => this.gapTimedOut();
  }

  /** The next number to be delivered. */
  get expected(): number {
    return this.expectedNumber;
  }

  /** Messages held for a missing number. */
  get bufferedCount(): number {
    return this.buffered;
  }

  /** Accepts the message numbered `sequenceNumber`; delivers it and any buffered successors when it is next. */
  push(sequenceNumber: number, payload: Uint8Array): void {
    checkU32(sequenceNumber, 'sequence number');
    if (!this.onMessage) return; // closed
    const distance = sequenceDistance(this.expectedNumber, sequenceNumber);
    if (distance === 0) {
      this.expectedNumber = (sequenceNumber + 1) >>> 0;
      this.deliver(sequenceNumber, payload, payload.length);
      if (this.buffered > 0) this.drain(); // in order with nothing held: no slot scan, no timer work
      return;
    }
    if (distance >= HALF_SPAN) {
      // Behind the expected number: already delivered, or older (§3.5: dropped).
      if (this.logger?.enabled('debug')) this.logger.debug(`drop duplicate ${sequenceNumber}, expecting ${this.expectedNumber}`);
      this.onDropped?.(new SequenceError(this.expectedNumber, sequenceNumber, 'DUPLICATE', 'already delivered or older'));
      return;
    }
    if (distance > this.windowSlots) {
      this.onError?.(new SequenceError(this.expectedNumber, sequenceNumber, 'BEYOND_WINDOW',
        `more than ${this.windowSlots} ahead (the window)`));
      return;
    }
    // Slots only ever hold numbers 1..windowSlots ahead of the expected one (rewind() drops the rest), so
    // the expected number itself is never in a slot and a free slot always exists.
    this.store(sequenceNumber, payload);
    if (this.timer === null) this.timer = this.clock.setTimer(this.onGapTimeout, this.gapTimeoutMs);
  }

  /**
   * Moves the expected number back to `sequenceNumber`: the speaker OVERRUN resend (§3.5), where the device
   * discards a message that did not fit and the service redrives from it. Buffered messages still inside the
   * new window stay (a resent copy replaces them); others are dropped.
   */
  rewind(sequenceNumber: number): void {
    checkU32(sequenceNumber, 'sequence number');
    this.expectedNumber = sequenceNumber;
    for (let i = 0; i < this.windowSlots; i++) {
      if (!this.slotUsed[i]) continue;
      const distance = sequenceDistance(sequenceNumber, this.slotNumber[i]);
      if (distance === 0 || distance > this.windowSlots) this.freeSlot(i);
    }
    if (this.buffered === 0) this.stopTimer();
  }

  /** Back to 0 with nothing buffered and no timer: call on every (re)connect (§3.5). */
  reset(): void {
    this.expectedNumber = 0;
    for (let i = 0; i < this.windowSlots; i++) if (this.slotUsed[i]) this.freeSlot(i);
    this.stopTimer();
  }

  /** Clears the timer and drops the callbacks, so a late timer finds nothing; safe twice. */
  close(): void {
    this.reset();
    this.onMessage = null;
    this.onError = null;
    this.onDropped = null;
  }

  /** onMessage, or the TOO_LARGE report for a payload over slotBytes (`length` is the payload's own). */
  private deliver(sequenceNumber: number, payload: Uint8Array, length: number): void {
    if (length <= this.slotBytes) return this.onMessage!(sequenceNumber, payload);
    this.onDropped?.(new SequenceError(sequenceNumber, sequenceNumber, 'TOO_LARGE',
      `${length}-byte payload exceeds the ${this.slotBytes}-byte limit`));
  }

  private store(sequenceNumber: number, payload: Uint8Array): void {
    let slot = -1;
    for (let i = 0; i < this.windowSlots; i++) {
      if (this.slotUsed[i] && this.slotNumber[i] === sequenceNumber) { slot = i; break; } // resent copy replaces
      if (!this.slotUsed[i] && slot < 0) slot = i;
    }
    // An oversized payload holds its number with its length only: it is reported when its turn comes.
    if (payload.length <= this.slotBytes) {
      let data = this.slotData[slot];
      if (data.length === 0) data = this.slotData[slot] = new Uint8Array(this.slotBytes);
      data.set(payload, 0);
    }
    if (!this.slotUsed[slot]) this.buffered++;
    this.slotUsed[slot] = true;
    this.slotNumber[slot] = sequenceNumber;
    this.slotLength[slot] = payload.length;
  }

  private drain(): void {
    for (;;) {
      if (!this.onMessage) return;
      const expected = this.expectedNumber;
      let slot = -1;
      for (let i = 0; i < this.windowSlots; i++) {
        if (this.slotUsed[i] && this.slotNumber[i] === expected) { slot = i; break; }
      }
      if (slot < 0) break;
      this.expectedNumber = (expected + 1) >>> 0;
      this.slotUsed[slot] = false;
      this.buffered--;
      // Rare path (a message came early): one view per buffered delivery. The slot is free again, but
      // nothing can overwrite it before onMessage returns except a push() from inside onMessage.
      const length = this.slotLength[slot];
      this.deliver(expected, length <= this.slotBytes ? this.slotData[slot].subarray(0, length) : this.slotData[slot], length);
    }
    // The gap that was filled had its own timer; a remaining buffered message means a new gap.
    this.stopTimer();
    if (this.buffered > 0 && this.onMessage !== null) this.timer = this.clock.setTimer(this.onGapTimeout, this.gapTimeoutMs);
  }

  private gapTimedOut(): void {
    this.timer = null;
    if (!this.onError || this.buffered === 0) return;
    let lowest = -1;
    let lowestDistance = U32_SPAN;
    for (let i = 0; i < this.windowSlots; i++) {
      if (!this.slotUsed[i]) continue;
      const d = sequenceDistance(this.expectedNumber, this.slotNumber[i]);
      if (d < lowestDistance) { lowestDistance = d; lowest = this.slotNumber[i]; }
    }
    this.onError(new SequenceError(this.expectedNumber, lowest, 'GAP_TIMEOUT',
      `UNEXPECTED_SEQUENCE_NUMBER after ${this.gapTimeoutMs} ms`));
  }

  private freeSlot(i: number): void {
    this.slotUsed[i] = false;
    this.slotLength[i] = 0;
    this.buffered--;
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      this.clock.clearTimer(this.timer);
      this.timer = null;
    }
  }
}

/**
 * The send side of one topic (§3.5). Take a number with next() when publishing; if the publish fails,
 * release() it so the next message reuses it (§7 gotcha 11: a failed publish must not consume a number).
 */
export class SequenceCounter {
  private nextNumber: number;
  private taken = false;

  /** `startAt` is for tests and the emulator; a connection starts at 0. */
  constructor(startAt = 0) {
    checkU32(startAt, 'startAt');
    this.nextNumber = startAt;
  }

  /** The number the next message will carry, without taking it (SecretRotated computes next + 5, §3.6). */
  peek(): number {
    return this.nextNumber;
  }

  /** Takes the next number. */
  next(): number {
    const n = this.nextNumber;
    this.nextNumber = (n + 1) >>> 0;
    this.taken = true;
    return n;
  }

  /** Gives back the number last taken by next(), after a failed publish. Anything else is a RangeError. */
  release(sequenceNumber: number): void {
    const last = (this.nextNumber - 1) >>> 0;
    if (!this.taken || sequenceNumber !== last) {
      throw new RangeError(`release expected the last number taken (${this.taken ? last : 'none'}), got ${sequenceNumber}`);
    }
    this.nextNumber = last;
    this.taken = false;
  }

  /** Back to 0: on every (re)connect (§3.5). */
  reset(): void {
    this.nextNumber = 0;
    this.taken = false;
  }
}
