// AIS JSON messages (docs/protocol.md §3.1): `{"header": {"name", "messageId"}, "payload": {...}}`, bare on
// connection/* and capabilities/*, in `{"events": [...]}` / `{"directives": [...]}` arrays elsewhere.
// Parsing is strict about what the protocol needs and tolerant of everything else (unknown fields ignored).

import { decodeUtf8, encodeUtf8 } from '../encoding/utf8.js';
import { nameError } from '../util/error-name.js';

export interface AisMessage {
  header: { name: string; messageId: string };
  payload?: Record<string, unknown>;
}

/** Raised for a body that is not the JSON the protocol needs; `index` names the array entry when there is one. */
export class MalformedMessageError extends Error {
  constructor(message: string, readonly index?: number) {
    super(message);
    nameError(this, 'MalformedMessageError');
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A message id of 16 random alphanumerics (the SDK uses 8 printable chars; any non-empty id is valid, §7.14). */
export function newMessageId(randomBytes: (out: Uint8Array) => void): string {
  const bytes = new Uint8Array(16);
  randomBytes(bytes);
  let id = '';
  for (let i = 0; i < bytes.length; i++) id += ID_ALPHABET[bytes[i] % ID_ALPHABET.length];
  return id;
}

export function message(name: string, messageId: string, payload?: Record<string, unknown>): AisMessage {
  return payload === undefined ? { header: { name, messageId } } : { header: { name, messageId }, payload };
}

export function encodeJson(value: unknown): Uint8Array {
  return encodeUtf8(JSON.stringify(value));
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** Decodes UTF-8 JSON; throws MalformedMessageError saying what was wrong. */
export function decodeJson(bytes: Uint8Array, offset = 0, length = bytes.length - offset): unknown {
  const text = decodeUtf8(bytes, offset, offset + length);
  if (text === undefined) throw new MalformedMessageError('body is not well-formed UTF-8');
  try {
    return JSON.parse(text);
  } catch (error) {
    // The engine's message may quote the body, control characters included: one log line must stay one line.
    throw new MalformedMessageError(`body is not JSON: ${(error as Error).message.replace(CONTROL_CHARACTERS, ' ')}`);
  }
}

/** Checks one message object's header; returns it typed. */
export function checkMessage(value: unknown, index?: number): AisMessage {
  const where = index === undefined ? 'message' : `entry ${index}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedMessageError(`${where} is not an object`, index);
  const header = (value as { header?: unknown }).header as { name?: unknown; messageId?: unknown } | undefined;
  if (typeof header !== 'object' || header === null) throw new MalformedMessageError(`${where} has no header object`, index);
  if (typeof header.name !== 'string' || header.name === '') throw new MalformedMessageError(`${where} header.name is not a non-empty string`, index);
  if (typeof header.messageId !== 'string' || header.messageId === '') throw new MalformedMessageError(`${where} header.messageId is not a non-empty string`, index);
  const payload = (value as { payload?: unknown }).payload;
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) {
    throw new MalformedMessageError(`${where} payload is not an object`, index);
  }
  return value as AisMessage;
}

/** Parses `{"<arrayName>": [msg, ...]}`; entries are checked one by one by the caller (checkMessage). */
export function parseMessageArray(bytes: Uint8Array, offset: number, length: number, arrayName: 'events' | 'directives'): unknown[] {
  const value = decodeJson(bytes, offset, length) as Record<string, unknown> | null;
  if (typeof value !== 'object' || value === null || !Array.isArray(value[arrayName])) {
    throw new MalformedMessageError(`body has no "${arrayName}" array`);
  }
  return value[arrayName] as unknown[];
}
