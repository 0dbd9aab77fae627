// Login with Amazon Code-Based Linking (docs/protocol.md §8 last bullet; LWA "retrieve code" and "retrieve token,
// other platforms"): the device asks LWA for a code pair, shows the user code and verification URI, and polls
// the token endpoint until the user has entered the code. What it keeps is the refresh token: AIS registration
// sends it with the LWA client id (§1, §7 gotcha 16) and the device never calls LWA again. The access token of
// the answer is dropped at once.
//
// The refresh token is held in Storage under LINK_CREDENTIALS_KEY only from linking until registration
// succeeds (registration.ts deletes it then), so a reboot in between does not cost the user a second code.
// The companion-app path (hosts/node/provisioning.ts) stores the same record.
//
// Poll outcomes (LWA answers HTTP 400 `{"error", "error_description"}` for all of them):
//
// | answer                                 | what the device does                                                   |
// |----------------------------------------|------------------------------------------------------------------------|
// | 200 with refresh_token                 | stores the credentials, onLinked                                       |
// | authorization_pending                  | polls again after `interval`                                           |
// | slow_down                              | adds slowDownIncrementMs (default 5 s, as LWA asks) to the interval   |
// | invalid_code_pair / expired_token      | new code pair if restarts are left, else onError                       |
// | access_denied (user said no)           | onError, no retry                                                      |
// | any other LWA error                    | onError naming it, no retry                                            |
// | network error, 5xx, a body not LWA's   | transient: polls again after `interval`, until the local deadline      |
// | 200 without a refresh token            | onError 'malformed_response'                                           |
//
// The local deadline is expires_in plus one interval: LWA's own invalid_code_pair at expiry normally comes
// first; the deadline ends the loop when LWA cannot be reached at all.

import type { HttpClient, HttpResponse } from '../ports/http.js';
import type { TlsOptions } from '../ports/socket.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Storage } from '../ports/storage.js';
import { Logger, redact } from '../ports/log.js';
import { encodeForm } from '../encoding/form.js';
import { decodeJson, encodeJson } from './message.js';
import { nameError } from '../util/error-name.js';

export const LWA_BASE_URL = 'https://api.amazon.com';
export const LWA_CODE_PAIR_PATH = '/auth/o2/create/codepair';
export const LWA_TOKEN_PATH = '/auth/o2/token';
/** Storage key of the `{refreshToken, clientId}` record (JSON, UTF-8) kept from linking until registration. */
export const LINK_CREDENTIALS_KEY = 'ais.lwa';
/** What LWA asks a client to add to its polling interval on slow_down. */
export const SLOW_DOWN_INCREMENT_MS = 5000;
/** LWA answers are a few hundred bytes; tokens are under 1 KB. */
export const MAX_LWA_RESPONSE_BYTES = 8192;
export const DEFAULT_LWA_TIMEOUT_MS = 15_000;

const FORM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/x-www-form-urlencoded',
  accept: 'application/json',
};

/** What registration needs from linking or from a companion app. */
export interface LinkCredentials {
  refreshToken: string;
  /** LWA client id of the security profile the token was issued to. */
  clientId: string;
}

/** What the device shows the user. */
export interface CodePair {
  userCode: string;
  verificationUri: string;
  expiresInMs: number;
}

/**
 * `code` is LWA's error name when LWA sent one (access_denied, invalid_code_pair, invalid_client, ...), else
 * 'expired' (local deadline), 'network', 'http_status' or 'malformed_response'.
 */
export class LinkingError extends Error {
  constructor(readonly code: string, message: string, readonly status?: number) {
    super(message);
    nameError(this, 'LinkingError');
  }
}

function checkText(value: unknown, name: string, maxLength: number): string {
  if (typeof value !== 'string') throw new TypeError(`${name} expected a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length === 0 || value.length > maxLength) throw new RangeError(`${name} expected 1-${maxLength} characters, got ${value.length}`);
  return value;
}

/** Stores the credentials until registration succeeds. */
export function saveLinkCredentials(storage: Storage, credentials: LinkCredentials): void {
  const refreshToken = checkText(credentials?.refreshToken, 'refreshToken', 4096);
  const clientId = checkText(credentials?.clientId, 'clientId', 512);
  storage.set(LINK_CREDENTIALS_KEY, encodeJson({ refreshToken, clientId }));
}

/** The stored credentials, undefined when none; a record that is not ours throws an Error naming the fault. */
export function loadLinkCredentials(storage: Storage): LinkCredentials | undefined {
  const bytes = storage.get(LINK_CREDENTIALS_KEY);
  if (bytes === undefined) return undefined;
  let value: { refreshToken?: unknown; clientId?: unknown };
  try {
    value = decodeJson(bytes) as typeof value;
  } catch {
    // Not the parser's message: V8 quotes the input, which holds the token.
    throw new Error(`stored link credentials "${LINK_CREDENTIALS_KEY}" are malformed: not UTF-8 JSON (${bytes.length} bytes)`);
  }
  if (typeof value !== 'object' || value === null || typeof value.refreshToken !== 'string' || value.refreshToken === ''
    || typeof value.clientId !== 'string' || value.clientId === '') {
    throw new Error(`stored link credentials "${LINK_CREDENTIALS_KEY}" are malformed: {refreshToken, clientId} strings expected`);
  }
  return { refreshToken: value.refreshToken, clientId: value.clientId };
}

export function deleteLinkCredentials(storage: Storage): void {
  storage.delete(LINK_CREDENTIALS_KEY);
}

export interface CodeBasedLinkingOptions {
  http: HttpClient;
  clock: Clock;
  storage: Storage;
  log: Logger;
  /** LWA client id of the product's security profile. */
  clientId: string;
  /** AVS product id (scope_data productID). */
  productId: string;
  /** scope_data productInstanceAttributes.deviceSerialNumber. */
  deviceSerialNumber: string;
  /** Default LWA_BASE_URL; the emulator's URL in tests. */
  lwaBaseUrl?: string;
  tls?: TlsOptions;
  requestTimeoutMs?: number;
  /** Added to the polling interval on each slow_down. Default SLOW_DOWN_INCREMENT_MS. */
  slowDownIncrementMs?: number;
  /** How many times a new code pair is asked for when LWA says invalid_code_pair (the code expired). Default 0. */
  restartsOnInvalidCodePair?: number;
  /** The user code to show; called again with a new one after each restart. Must not block. */
  onCode(codePair: CodePair): void;
  /** Linked: the credentials are stored under LINK_CREDENTIALS_KEY. */
  onLinked(credentials: LinkCredentials): void;
  /** Linking ended without credentials; nothing runs after it. */
  onError(error: LinkingError): void;
}

interface LwaError {
  error: string;
  description: string;
}

/** One Code-Based Linking run: start() once; close() cancels it, after which no callback runs. */
export class CodeBasedLinking {
  private readonly options: CodeBasedLinkingOptions;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly slowDownIncrementMs: number;
  private readonly log: Logger;
  private restartsLeft: number;
  private started = false;
  private closed = false;
  /** Bumped by close() and by each new code pair: an HTTP answer of an older generation is dropped. */
  private generation = 0;
  private timer: TimerHandle | undefined;
  private deviceCode = '';
  private userCode = '';
  private intervalMs = 0;
  private deadlineMs = 0;
  private polls = 0;

  constructor(options: CodeBasedLinkingOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError(`linking options expected an object, got ${typeof options}`);
    for (const port of ['http', 'onCode', 'onLinked', 'onError'] as const) {
      if (typeof options[port] !== 'function') throw new TypeError(`options.${port} expected a function, got ${typeof options[port]}`);
    }
    for (const port of ['clock', 'storage', 'log'] as const) {
      if (options[port] === null || typeof options[port] !== 'object') throw new TypeError(`options.${port} expected an object, got ${typeof options[port]}`);
    }
    checkText(options.clientId, 'options.clientId', 512);
    checkText(options.productId, 'options.productId', 256);
    checkText(options.deviceSerialNumber, 'options.deviceSerialNumber', 256);
    this.baseUrl = checkBaseUrl(options.lwaBaseUrl ?? LWA_BASE_URL, 'options.lwaBaseUrl');
    this.timeoutMs = checkCount(options.requestTimeoutMs ?? DEFAULT_LWA_TIMEOUT_MS, 'options.requestTimeoutMs', 1);
    this.slowDownIncrementMs = checkCount(options.slowDownIncrementMs ?? SLOW_DOWN_INCREMENT_MS, 'options.slowDownIncrementMs', 0);
    this.restartsLeft = checkCount(options.restartsOnInvalidCodePair ?? 0, 'options.restartsOnInvalidCodePair', 0);
    this.options = options;
    this.log = options.log;
  }

  start(): void {
    if (this.started) throw new Error('CodeBasedLinking.start() called twice; make a new instance to link again');
    this.started = true;
    this.requestCodePair();
  }

  close(): void {
    this.closed = true;
    this.generation++;
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private requestCodePair(): void {
    const generation = ++this.generation;
    const o = this.options;
    const scopeData = JSON.stringify({ 'alexa:all': { productID: o.productId, productInstanceAttributes: { deviceSerialNumber: o.deviceSerialNumber } } });
    this.log.info(`requesting a code pair for product ${o.productId}, serial ${o.deviceSerialNumber}`);
    this.post(LWA_CODE_PAIR_PATH, [
      ['response_type', 'device_code'],
      ['client_id', o.clientId],
      ['scope', 'alexa:all'],
      ['scope_data', scopeData],
    ], generation, (error, response) => {
      if (error) return this.fail(new LinkingError('network', `LWA code pair request failed: ${error.message}`));
      const r = response as HttpResponse;
      if (r.status !== 200) {
        const lwa = lwaError(r.body);
        if (lwa) return this.fail(new LinkingError(lwa.error, `LWA refused the code pair request: ${lwa.error}${lwa.description} (HTTP ${r.status})`, r.status));
        return this.fail(new LinkingError('http_status', `LWA code pair request: HTTP 200 expected, got ${r.status} without an LWA error body`, r.status));
      }
      let pair: { device_code: string; user_code: string; verification_uri: string; expires_in: number; interval: number };
      try {
        pair = parseCodePair(r.body);
      } catch (e) {
        return this.fail(new LinkingError('malformed_response', `LWA code pair response: ${(e as Error).message}`, r.status));
      }
      this.deviceCode = pair.device_code;
      this.userCode = pair.user_code;
      this.intervalMs = Math.ceil(pair.interval * 1000);
      const expiresInMs = Math.ceil(pair.expires_in * 1000);
      this.deadlineMs = o.clock.monotonicMs() + expiresInMs + this.intervalMs;
      this.polls = 0;
      this.log.info(`code pair received (device code ${redact(pair.device_code)}); expires in ${expiresInMs} ms, polling every ${this.intervalMs} ms`);
      o.onCode({ userCode: pair.user_code, verificationUri: pair.verification_uri, expiresInMs });
      if (generation === this.generation) this.schedulePoll();
    });
  }

  private schedulePoll(): void {
    this.timer = this.options.clock.setTimer(() => {
      this.timer = undefined;
      this.poll();
    }, this.intervalMs);
  }

  private poll(): void {
    if (this.options.clock.monotonicMs() >= this.deadlineMs) {
      return this.codePairEnded(new LinkingError('expired',
        `code pair expired: no token from LWA within expires_in plus one interval (${this.polls} polls)`));
    }
    const generation = this.generation;
    this.polls++;
    this.post(LWA_TOKEN_PATH, [
      ['grant_type', 'device_code'],
      ['device_code', this.deviceCode],
      ['user_code', this.userCode],
    ], generation, (error, response) => {
      if (error) {
        this.log.warn(`token poll ${this.polls} failed, polling on: ${error.message}`);
        return this.schedulePoll();
      }
      const r = response as HttpResponse;
      if (r.status === 200) return this.linked(r);
      const lwa = lwaError(r.body);
      if (!lwa) {
        this.log.warn(`token poll ${this.polls}: HTTP ${r.status} without an LWA error body, polling on`);
        return this.schedulePoll();
      }
      switch (lwa.error) {
        case 'authorization_pending':
          this.log.debug(`token poll ${this.polls}: authorization pending`);
          return this.schedulePoll();
        case 'slow_down':
          this.intervalMs += this.slowDownIncrementMs;
          this.log.warn(`LWA asks to slow down: polling every ${this.intervalMs} ms`);
          return this.schedulePoll();
        case 'invalid_code_pair':
        case 'expired_token':
          return this.codePairEnded(new LinkingError(lwa.error,
            `LWA ended the code pair: ${lwa.error}${lwa.description} (HTTP ${r.status}); the code expired or is unknown, link again`, r.status));
        case 'access_denied':
          return this.fail(new LinkingError(lwa.error, `the user denied the link: ${lwa.error}${lwa.description} (HTTP ${r.status})`, r.status));
        default:
          return this.fail(new LinkingError(lwa.error, `LWA refused the token request: ${lwa.error}${lwa.description} (HTTP ${r.status})`, r.status));
      }
    });
  }

  private linked(response: HttpResponse): void {
    let value: { refresh_token?: unknown } | undefined;
    try {
      value = decodeJson(response.body) as typeof value;
    } catch {
      // Not the parser's message: V8 quotes the input, which may hold a token.
      return this.fail(new LinkingError('malformed_response', `LWA token response: JSON expected, got ${response.body.length} bytes that are not`, response.status));
    }
    const refreshToken = typeof value === 'object' && value !== null ? value.refresh_token : undefined;
    if (typeof refreshToken !== 'string' || refreshToken === '' || refreshToken.length > 4096) {
      return this.fail(new LinkingError('malformed_response',
        `LWA token response: refresh_token (a string of 1-4096 chars) expected, got ${describe(refreshToken)}`, response.status));
    }
    const credentials = { refreshToken, clientId: this.options.clientId };
    try {
      saveLinkCredentials(this.options.storage, credentials);
    } catch (e) {
      return this.fail(new LinkingError('storage', `linked, but storing the refresh token failed: ${(e as Error).message}`));
    }
    this.close();
    this.log.info(`linked after ${this.polls} polls: refresh token ${redact(refreshToken)} stored under ${LINK_CREDENTIALS_KEY}`);
    this.options.onLinked(credentials);
  }

  private codePairEnded(error: LinkingError): void {
    if (this.restartsLeft > 0) {
      this.restartsLeft--;
      this.log.warn(`${error.message}; asking for a new code pair (${this.restartsLeft} restarts left after this one)`);
      this.requestCodePair();
      return;
    }
    this.fail(error);
  }

  private fail(error: LinkingError): void {
    this.close();
    this.log.error(error.message);
    this.options.onError(error);
  }

  private post(path: string, fields: ReadonlyArray<readonly [string, string]>, generation: number,
    done: (error: Error | undefined, response?: HttpResponse) => void): void {
    this.options.http({
      method: 'POST',
      url: this.baseUrl + path,
      headers: FORM_HEADERS as Record<string, string>,
      body: encodeForm(fields),
      tls: this.options.tls,
      timeoutMs: this.timeoutMs,
      maxResponseBytes: MAX_LWA_RESPONSE_BYTES,
    }, (error, response) => {
      // A late answer after close() or after a restart belongs to a run that is over.
      if (this.closed || generation !== this.generation) return;
      done(error, response);
    });
  }
}

function parseCodePair(body: Uint8Array): { device_code: string; user_code: string; verification_uri: string; expires_in: number; interval: number } {
  const value = decodeJson(body) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`a JSON object expected, got ${describe(value)}`);
  for (const name of ['device_code', 'user_code', 'verification_uri']) {
    const field = value[name];
    if (typeof field !== 'string' || field === '' || field.length > 2048) throw new Error(`${name} (a string of 1-2048 chars) expected, got ${describe(field)}`);
  }
  for (const name of ['expires_in', 'interval']) {
    const field = value[name];
    if (typeof field !== 'number' || !(field > 0) || field > 86400) throw new Error(`${name} (seconds, > 0 and <= 86400) expected, got ${describe(field)}`);
  }
  return value as unknown as ReturnType<typeof parseCodePair>;
}

/** `{"error": "...", "error_description": "..."}`, or undefined when the body is something else. */
function lwaError(body: Uint8Array): LwaError | undefined {
  let value: { error?: unknown; error_description?: unknown };
  try {
    value = decodeJson(body) as typeof value;
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof value.error !== 'string' || !/^[a-z_]{1,64}$/.test(value.error)) return undefined;
  const description = typeof value.error_description === 'string' ? value.error_description.slice(0, 200) : '';
  return { error: value.error, description: description === '' ? '' : ` (${description})` };
}

/** What arrived, for a message: type and, for short scalars, the value; never a long string (it may be a token). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string of ${value.length} chars`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

export function checkBaseUrl(url: unknown, name: string): string {
  if (typeof url !== 'string' || !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(url)) {
    throw new TypeError(`${name} expected an http:// or https:// URL without query, got ${JSON.stringify(url)}`);
  }
  return url.replace(/\/+$/, '');
}

export function checkCount(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !(value >= min) || !(value <= Number.MAX_SAFE_INTEGER) || !Number.isInteger(value)) {
    throw new RangeError(`${name} expected an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
