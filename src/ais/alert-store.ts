// The device's alerts in the storage port, crash-safe (docs/protocol.md §4.8: "stores it persistently").
//
// Record design: the whole set lives under ONE key, `alerts`, as JSON `{"v":1,"alerts":[{token, type,
// scheduledTime, durationInMilliseconds}, …]}`, rewritten whole on every change. The storage port promises
// that after a power cut a key holds its old or its new value, never a mix (src/ports/storage.ts), so every
// change (add, replace, delete, several deletes at once) is one atomic step: a kill at any write step leaves
// the set before or after the change, never a lost alert nor one stored twice. The device answers
// SetAlertSucceeded only after set() returned, so an acknowledged alert is always on the medium. Tokens
// are unique in memory (a SetAlert with a known token replaces it) and checked unique when loading.
// Size: at most maxAlertCount (20, §6) records of ~100 bytes plus the token; a few KB for 120-byte tokens.
// The alert volume sits apart, under `alerts.volume` (one byte), since it changes on its own.

import type { Storage } from '../ports/storage.js';
import { decodeJson, encodeJson } from './message.js';
import { nameError } from '../util/error-name.js';

export const ALERT_TYPES = ['TIMER', 'ALARM', 'REMINDER'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface Alert {
  /** The service's token (SDK: 8 chars; NXP: up to 120 bytes, §7.9). */
  token: string;
  type: AlertType;
  /** When it rings: UTC seconds since the NTP epoch, like SetClock (§4.8). */
  scheduledTime: number;
  /** How long it rings unless stopped (the spec's timeout). */
  durationInMilliseconds: number;
}

export const ALERTS_KEY = 'alerts';
export const ALERT_VOLUME_KEY = 'alerts.volume';
const FORMAT_VERSION = 1;

/** Why `value` is not a valid alert, or undefined. */
export function alertProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const a = value as Record<string, unknown>;
  if (typeof a.token !== 'string' || a.token === '' || a.token.length > 256) return `token expected a string of 1-256 chars, got ${JSON.stringify(a.token)}`;
  if (!(ALERT_TYPES as readonly unknown[]).includes(a.type)) return `type expected one of ${ALERT_TYPES.join(', ')}, got ${JSON.stringify(a.type)}`;
  if (typeof a.scheduledTime !== 'number' || !Number.isFinite(a.scheduledTime) || a.scheduledTime < 0) return `scheduledTime expected NTP seconds, got ${JSON.stringify(a.scheduledTime)}`;
  const d = a.durationInMilliseconds;
  if (typeof d !== 'number' || !Number.isSafeInteger(d) || d <= 0) return `durationInMilliseconds expected a positive integer, got ${JSON.stringify(d)}`;
  return undefined;
}

/** A stored set that cannot be read: the message says what was wrong. */
export class AlertStoreError extends Error {
  constructor(message: string) {
    super(message);
    nameError(this, 'AlertStoreError');
  }
}

/** Parses a stored `alerts` value; throws AlertStoreError on anything but a valid set with unique tokens. */
export function decodeAlerts(bytes: Uint8Array): Alert[] {
  let value: { v?: unknown; alerts?: unknown };
  try {
    value = decodeJson(bytes) as { v?: unknown; alerts?: unknown };
  } catch (error) {
    throw new AlertStoreError(`stored alerts are not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || value.v !== FORMAT_VERSION || !Array.isArray(value.alerts)) {
    throw new AlertStoreError(`stored alerts expected {"v":${FORMAT_VERSION},"alerts":[…]}`);
  }
  const tokens = new Set<string>();
  const out: Alert[] = [];
  for (const [i, a] of (value.alerts as unknown[]).entries()) {
    const problem = alertProblem(a);
    if (problem) throw new AlertStoreError(`stored alert ${i}: ${problem}`);
    const { token, type, scheduledTime, durationInMilliseconds } = a as Alert;
    if (tokens.has(token)) throw new AlertStoreError(`stored alert ${i}: token ${JSON.stringify(token)} appears twice`);
    tokens.add(token);
    out.push({ token, type, scheduledTime, durationInMilliseconds });
  }
  return out;
}

export function encodeAlerts(alerts: readonly Alert[]): Uint8Array {
  return encodeJson({ v: FORMAT_VERSION, alerts });
}

/** The alerts as stored: every change is one atomic write of the whole set. */
export class AlertStore {
  private readonly storage: Storage;
  private readonly alerts = new Map<string, Alert>();

  /** Loads the stored set; a set that cannot be read throws (the app decides: log and start empty). */
  constructor(storage: Storage) {
    if (!storage) throw new TypeError('AlertStore needs a storage port');
    this.storage = storage;
    const stored = storage.get(ALERTS_KEY);
    if (stored) for (const a of decodeAlerts(stored)) this.alerts.set(a.token, a);
  }

  get size(): number {
    return this.alerts.size;
  }

  get(token: string): Alert | undefined {
    return this.alerts.get(token);
  }

  /** All alerts, earliest first. */
  list(): Alert[] {
    return [...this.alerts.values()].sort((a, b) => a.scheduledTime - b.scheduledTime);
  }

  tokens(): string[] {
    return this.list().map((a) => a.token);
  }

  /** Adds or replaces `alert` (by token), durably; on a storage error nothing changes and it throws. */
  put(alert: Alert): void {
    const next = new Map(this.alerts);
    next.set(alert.token, { ...alert });
    this.write(next);
  }

  /** Removes the alerts of `tokens` that are stored, in one write; returns how many were. */
  remove(...tokens: string[]): number {
    const next = new Map(this.alerts);
    let removed = 0;
    for (const t of tokens) if (next.delete(t)) removed++;
    if (removed > 0) this.write(next);
    return removed;
  }

  private write(next: Map<string, Alert>): void {
    if (next.size === 0) this.storage.delete(ALERTS_KEY);
    else this.storage.set(ALERTS_KEY, encodeAlerts([...next.values()]));
    // Memory follows the medium only once the write returned.
    this.alerts.clear();
    for (const [k, v] of next) this.alerts.set(k, v);
  }
}
