// The protocol trace: one line per AIS message with topic, direction, sequence number and the decrypted
// JSON, secrets redacted. Shared by the device and the emulator so their traces read alike.

import { redact } from '../ports/log.js';

/** Payload fields that carry secrets or credentials. */
const SECRET_FIELDS = new Set(['newSecret', 'token', 'refreshToken', 'refresh_token', 'access_token', 'privateKey', 'key']);

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELDS.has(k) && typeof v === 'string' ? redact(v) : redactValue(v);
  return out;
}

/**
 * `→ event #3 SynchronizeState {"speaker":…}` (device view: → out, ← in). `json` is the parsed body, or
 * undefined for binary bodies, which are summarised by `bytes`.
 */
export function traceLine(direction: 'in' | 'out', leaf: string, sequenceNumber: number | undefined, json: unknown, bytes: number): string {
  const arrow = direction === 'out' ? '→' : '←';
  const seq = sequenceNumber === undefined ? '' : ` #${sequenceNumber}`;
  if (json === undefined) return `${arrow} ${leaf}${seq} binary ${bytes} B`;
  const entries = (json as { events?: unknown[]; directives?: unknown[] }).events ?? (json as { directives?: unknown[] }).directives ?? [json];
  const names = Array.isArray(entries)
    ? entries.map((e) => (e as { header?: { name?: unknown } })?.header?.name ?? '?').join(',')
    : '?';
  return `${arrow} ${leaf}${seq} ${names} ${JSON.stringify(redactValue(json))}`;
}
