// The service's own reading of the AIS wire rules, written from the protocol text (docs/emulator.md,
// "What the emulator shares with the device") and not from the device's code: sequence numbers and their
// ordering window, the per-topic key schedule of a secret rotation, the JSON message checks, the binary
// stream entries, and the trace line. The device has its own versions in src/ais/; the tests run one against
// the other and both against vectors made by other tools, so a bug in either shows.
//
// Only the topic table (src/ais/topics.ts) is shared: names on the wire, not behaviour.

/** Half the u32 space: a number less than this ahead of another is "after" it (serial arithmetic, RFC 1982). */
const HALF = 0x80000000;

/** How far `to` is after `from`, modulo 2^32. */
export function u32Ahead(from: number, to: number): number {
  return (to - from + 0x100000000) % 0x100000000;
}

/** The numbers one outbound topic gives its messages: 0, 1, … wrapping at 2^32 (§3.5). */
export class OutboundNumbers {
  private value: number;

  constructor(first = 0) {
    this.value = first >>> 0;
  }

  /** The number the next message will carry. */
  peek(): number {
    return this.value;
  }

  take(): number {
    const n = this.value;
    this.value = (n + 1) >>> 0;
    return n;
  }

  /** The next message carries `n` (a resend after OVERRUN, or 0 for a new connection). */
  restartAt(n: number): void {
    this.value = n >>> 0;
  }
}

/** The service's clock: time in ms and one-shot timers, injected so the service can run on fake time. */
export interface ServiceClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: ServiceClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface InboundOrderOptions {
  clock: ServiceClock;
  /** Out-of-order messages held while a number is missing (the SDK holds 4). */
  windowSlots: number;
  /** How long a missing number is waited for (the SDK waits 10 s). */
  gapTimeoutMs: number;
  /** Each message, in number order. */
  deliver(sequenceNumber: number, payload: Uint8Array): void;
  /** The window overflowed or the wait ran out: the connection is to be closed UNEXPECTED_SEQUENCE_NUMBER. */
  fail(reason: string): void;
  /** A number already delivered came again. */
  duplicate(sequenceNumber: number): void;
}

/** One inbound topic's ordering (§3.5): in number order, a few held across a gap, a gap waited for a while. */
export class InboundOrder {
  private expected = 0;
  private readonly held = new Map<number, Uint8Array>();
  private timer: unknown;
  private failed = false;

  constructor(private readonly options: InboundOrderOptions) {}

  push(sequenceNumber: number, payload: Uint8Array): void {
    if (this.failed) return;
    const ahead = u32Ahead(this.expected, sequenceNumber);
    if (ahead >= HALF || this.held.has(sequenceNumber)) return this.options.duplicate(sequenceNumber);
    if (ahead > 0) {
      if (ahead > this.options.windowSlots) {
        return this.fail(`#${sequenceNumber} is ${ahead} ahead of #${this.expected}, more than the ${this.options.windowSlots} held`);
      }
      this.held.set(sequenceNumber, payload.slice());
      if (this.timer === undefined) {
        const missing = this.expected;
        this.timer = this.options.clock.setTimeout(() => this.fail(`#${missing} never came within ${this.options.gapTimeoutMs} ms`), this.options.gapTimeoutMs);
      }
      return;
    }
    this.take(sequenceNumber, payload);
    for (let next = this.held.get(this.expected); next !== undefined && !this.failed; next = this.held.get(this.expected)) {
      this.held.delete(this.expected);
      this.take(this.expected, next);
    }
    if (this.held.size === 0) this.stopTimer();
  }

  /** A new connection: numbering starts again at 0. */
  reset(): void {
    this.stopTimer();
    this.held.clear();
    this.expected = 0;
    this.failed = false;
  }

  private take(sequenceNumber: number, payload: Uint8Array): void {
    this.expected = (sequenceNumber + 1) >>> 0;
    this.options.deliver(sequenceNumber, payload);
  }

  private fail(reason: string): void {
    this.failed = true;
    this.stopTimer();
    this.held.clear();
    this.options.fail(reason);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * One topic's keys across a secret rotation (§3.6): each key applies from its first sequence number on,
 * the newest applicable one wins. A new connection starts every topic at 0 on the newest key.
 */
export class KeySchedule {
  private entries: { from: number; key: Uint8Array }[];

  constructor(key: Uint8Array) {
    this.entries = [{ from: 0, key }];
  }

  keyFor(sequenceNumber: number): Uint8Array {
    for (let i = this.entries.length - 1; i > 0; i--) {
      if (u32Ahead(this.entries[i].from, sequenceNumber) < HALF) return this.entries[i].key;
    }
    return this.entries[0].key;
  }

  /** `key` seals or opens every message from number `from` on. Three kept at most: rotations rarely overlap. */
  from(from: number, key: Uint8Array): void {
    this.entries.push({ from: from >>> 0, key });
    if (this.entries.length > 3) this.entries.shift();
  }

  only(key: Uint8Array): void {
    this.entries = [{ from: 0, key }];
  }
}

/** A JSON message object (§3.1). */
export interface WireMessage {
  header: { name: string; messageId: string };
  payload?: Record<string, unknown>;
}

/** What is wrong with a value that should be a message object, or undefined. */
export function messageProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const header = (value as { header?: { name?: unknown; messageId?: unknown } }).header;
  if (typeof header !== 'object' || header === null) return 'no header object';
  if (typeof header.name !== 'string' || header.name === '') return 'header.name is not a non-empty string';
  if (typeof header.messageId !== 'string' || header.messageId === '') return 'header.messageId is not a non-empty string';
  const payload = (value as { payload?: unknown }).payload;
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) return 'payload is not an object';
  return undefined;
}

/** Parses UTF-8 JSON text; a readable error for anything else. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SyntaxError('body is not well-formed UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`body is not JSON: ${(error as Error).message}`);
  }
}

/** The entries of `{"events": […]}`, unchecked one by one. */
export function eventEntries(bytes: Uint8Array): unknown[] {
  const value = parseJson(bytes) as { events?: unknown } | null;
  if (typeof value !== 'object' || value === null || !Array.isArray(value.events)) throw new SyntaxError('body has no "events" array');
  return value.events;
}

// ---- binary stream entries (§3.3): u32 length of data, u8 type, u8 count-1, 2 zero bytes, data ----

const ENTRY_HEADER = 8;
export const AUDIO_ENTRY_OVERHEAD = ENTRY_HEADER + 8;
export const MARKER_ENTRY_BYTES = ENTRY_HEADER + 4;

function header(out: DataView, at: number, dataBytes: number, type: number, items: number): void {
  out.setUint32(at, dataBytes, true);
  out.setUint8(at + 4, type);
  out.setUint8(at + 5, items - 1);
  out.setUint16(at + 6, 0, true);
}

/**
 * One speaker message body: an audio entry of `frames` (equal CBR frames) at stream offset `offset`, then a
 * marker entry when `marker` is given.
 */
export function speakerBody(offset: number, frames: readonly Uint8Array[], marker?: number): Uint8Array {
  const frameBytes = frames[0].length;
  if (frames.length < 1 || frames.length > 256 || frames.some((f) => f.length !== frameBytes)) {
    throw new RangeError(`speaker entry expected 1..256 frames of one size, got ${frames.length}`);
  }
  const size = AUDIO_ENTRY_OVERHEAD + frames.length * frameBytes + (marker === undefined ? 0 : MARKER_ENTRY_BYTES);
  const body = new Uint8Array(size);
  const view = new DataView(body.buffer);
  header(view, 0, 8 + frames.length * frameBytes, 0, frames.length);
  view.setBigUint64(ENTRY_HEADER, BigInt(offset), true);
  frames.forEach((f, i) => body.set(f, AUDIO_ENTRY_OVERHEAD + i * frameBytes));
  if (marker !== undefined) {
    const at = AUDIO_ENTRY_OVERHEAD + frames.length * frameBytes;
    header(view, at, 4, 1, 1);
    view.setUint32(at + ENTRY_HEADER, marker >>> 0, true);
  }
  return body;
}

export type StreamEntry = { type: 'audio'; offset: number; audio: Uint8Array } | { type: 'other'; kind: number };

/** The entries of a microphone message body; a RangeError naming the entry for a malformed one. */
export function streamEntries(body: Uint8Array): StreamEntry[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: StreamEntry[] = [];
  for (let at = 0, index = 0; at < body.length; index++) {
    if (body.length - at < ENTRY_HEADER) throw new RangeError(`entry ${index} at byte ${at}: ${body.length - at} bytes left, a header is 8`);
    const length = view.getUint32(at, true);
    const type = view.getUint8(at + 4);
    if (at + ENTRY_HEADER + length > body.length) throw new RangeError(`entry ${index} at byte ${at}: length ${length} runs past the body`);
    if (type === 0) {
      if (length < 8) throw new RangeError(`entry ${index} at byte ${at}: audio of ${length} bytes has no offset`);
      const offset = view.getBigUint64(at + ENTRY_HEADER, true);
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`entry ${index} at byte ${at}: offset ${offset} out of range`);
      out.push({ type: 'audio', offset: Number(offset), audio: body.subarray(at + AUDIO_ENTRY_OVERHEAD, at + ENTRY_HEADER + length) });
    } else out.push({ type: 'other', kind: type });
    at += ENTRY_HEADER + length;
  }
  return out;
}

// ---- trace ----

const SECRETS = new Set(['newSecret', 'token', 'refreshToken', 'refresh_token', 'access_token', 'privateKey', 'key']);

/** `← event #3 SynchronizeState {…}` (the service's view: ← from the device, → to it); secrets redacted to their length. */
export function serviceTrace(direction: 'in' | 'out', leaf: string, sequenceNumber: number | undefined, json: unknown, bytes: number): string {
  const arrow = direction === 'in' ? '←' : '→';
  const seq = sequenceNumber === undefined ? '' : ` #${sequenceNumber}`;
  if (json === undefined) return `${arrow} ${leaf}${seq} binary ${bytes} B`;
  const list = (json as { events?: unknown[]; directives?: unknown[] }).events ?? (json as { directives?: unknown[] }).directives ?? [json];
  const names = Array.isArray(list) ? list.map((e) => (e as WireMessage)?.header?.name ?? '?').join(',') : '?';
  const text = JSON.stringify(json, (k, v: unknown) => (SECRETS.has(k) && typeof v === 'string' ? `<redacted ${v.length} chars>` : v));
  return `${arrow} ${leaf}${seq} ${names} ${text}`;
}
