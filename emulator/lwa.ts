// Login with Amazon emulator: the Code-Based Linking endpoints the device calls (docs/protocol.md §8 last
// bullet), the refresh grant the AIS service uses, and the page where a user enters the code.
//
//   POST /auth/o2/create/codepair  form: response_type=device_code, client_id, scope=alexa:all, scope_data
//   POST /auth/o2/token            form: grant_type=device_code, device_code, user_code
//                                  form: grant_type=refresh_token, refresh_token, client_id
//   GET  /code[?user_code=...]     HTML form: user code, Allow / Deny
//   POST /code                     form: user_code, decision=approve|deny
//
// Errors are LWA's: HTTP 400 `{"error", "error_description"}` (invalid_client too: we carry no client
// authentication, so RFC 6749's 401 does not apply). Error names:
//   codepair: invalid_request (a parameter missing, repeated or malformed, scope_data not JSON), invalid_client
//             (unknown client_id), unsupported_response_type, invalid_scope (scope not alexa:all, productID not
//             one of the client's products)
//   device_code grant: authorization_pending, slow_down (polled sooner than `interval` after the code pair or
//             the previous poll), access_denied (the user denied), invalid_code_pair (unknown device code, user
//             code not its pair, expired, or already exchanged)
//   refresh_token grant: invalid_client (unknown client_id), invalid_grant (unknown or revoked refresh token,
//             or one issued to another client)
//   any: unsupported_grant_type, invalid_request
//
// Limits (issue 24): a field longer than FIELD_LIMITS is invalid_request; code pairs are created at most
// `codePairsPerMinute` per remote address and `maxLiveCodePairs` at once (HTTP 429 `rate_limited` past either),
// and expire after their lifetime; the /code page takes `codeAttemptsPerMinute` posts per address (429 past it),
// so 6 characters of 32 cannot be guessed in bulk.
//
// Accounts: whoever approves a code on the /code page (or the console) names the Amazon account the device is
// linked to (DEFAULT_ACCOUNT when not given); the refresh token carries it, and AIS registration binds a client
// id to it (registration.ts).
//
// Time: expiry uses the wall clock (the state may be persisted and reloaded); poll spacing the monotonic clock,
// with POLL_TOLERANCE_MS for timer granularity. Lifetimes are options in ms; the answers carry seconds, which
// are fractional when a test asks for sub-second lifetimes (real LWA: integers, 600 s and 5 s).
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Logger, redact, silentSink } from '../src/ports/log.js';
import { sendJson, type RouteHandler } from './http.js';
import { readJsonFile, writeJsonFileAtomic } from './json-file.js';
import { KeyedRateLimiter } from './rate-limit.js';

export interface LwaClient {
  /** LWA client id of a security profile. */
  clientId: string;
  /** AVS product ids associated with it (scope_data productID). */
  productIds: string[];
}

export interface LwaEmulatorOptions {
  clients: LwaClient[];
  /** Folder for `lwa.json` (code pairs and tokens); in memory only when absent. */
  dataDir?: string;
  /** Lifetime of a code pair. Default 600 000 (LWA: 10 minutes). */
  codeLifetimeMs?: number;
  /** Polling interval asked of the device. Default 5000. */
  pollIntervalMs?: number;
  /** Lifetime of an access token. Default 3 600 000. */
  accessTokenLifetimeMs?: number;
  /** verification_uri of the code pair; default this server's `/code` page as the request reached it. */
  verificationUri?: string;
  /** Code pairs per minute per remote address (default 30), at most this many live at once (default 1000). */
  codePairsPerMinute?: number;
  maxLiveCodePairs?: number;
  /** Posts of the /code page per minute per remote address (default 20). */
  codeAttemptsPerMinute?: number;
  log?: Logger;
}

/** The account of approvals that name none (the operator console, tests). */
export const DEFAULT_ACCOUNT = 'default';
/** Longest accepted value of each request field, in characters. */
export const FIELD_LIMITS: Readonly<Record<string, number>> = {
  response_type: 32, client_id: 256, scope: 64, scope_data: 2048, productID: 128, deviceSerialNumber: 128,
  grant_type: 32, device_code: 64, user_code: 32, refresh_token: 512, decision: 16, account: 128,
};

/** Polls this much early still count as on time: Node timers may fire up to a millisecond or so early. */
export const POLL_TOLERANCE_MS = 25;
export const LWA_STATE_FILE = 'lwa.json';
const STATE_VERSION = 1;
// No 0/O, 1/I: the user types it from a display.
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const USER_CODE_LENGTH = 6;

type CodeState = 'pending' | 'approved' | 'denied' | 'exchanged';

interface CodePairRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  productId: string;
  deviceSerialNumber: string;
  expiresAtMs: number;
  intervalMs: number;
  state: CodeState;
  /** Who approved it. */
  account?: string;
}

interface RefreshRecord {
  token: string;
  clientId: string;
  productId: string;
  deviceSerialNumber: string;
  issuedAtMs: number;
  revoked: boolean;
  /** The account the user linked the device to (absent in state files from before accounts: DEFAULT_ACCOUNT). */
  account?: string;
}

interface AccessRecord {
  token: string;
  clientId: string;
  expiresAtMs: number;
}

interface LwaState {
  version: number;
  codePairs: CodePairRecord[];
  refreshTokens: RefreshRecord[];
  accessTokens: AccessRecord[];
}

const RATE_LIMITED = 'rate_limited';

class LwaFault extends Error {
  constructor(readonly error: string, description: string) {
    super(description);
  }
}

function checkCount(value: number | undefined, fallback: number, name: string): number {
  const count = value ?? fallback;
  if (!Number.isInteger(count) || count <= 0) throw new RangeError(`${name} expected an integer > 0, got ${String(value)}`);
  return count;
}

function checkLength(name: string, value: string): void {
  const limit = FIELD_LIMITS[name];
  if (value.length > limit) throw new LwaFault('invalid_request', `${name} expected at most ${limit} characters, got ${value.length}`);
}

function checkMs(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new RangeError(`${name} expected a number of ms > 0, got ${String(value)}`);
  return ms;
}

export class LwaEmulator {
  readonly handle: RouteHandler;
  private readonly clients = new Map<string, Set<string>>();
  private readonly codeLifetimeMs: number;
  private readonly pollIntervalMs: number;
  private readonly accessTokenLifetimeMs: number;
  private readonly verificationUri: string | undefined;
  private readonly statePath: string | undefined;
  private readonly log: Logger;
  private readonly codesByDevice = new Map<string, CodePairRecord>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly accessTokens = new Map<string, AccessRecord>();
  /** Monotonic time of the code pair's creation or last poll, by device code (not persisted). */
  private readonly lastPollMs = new Map<string, number>();
  private readonly codePairRate: KeyedRateLimiter;
  private readonly codePageRate: KeyedRateLimiter;
  private readonly maxLiveCodePairs: number;

  constructor(options: LwaEmulatorOptions) {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.clients)) {
      throw new TypeError('LwaEmulator options expected {clients: [{clientId, productIds}], ...}');
    }
    for (const client of options.clients) {
      if (typeof client?.clientId !== 'string' || client.clientId === '' || !Array.isArray(client.productIds)
        || client.productIds.some((id) => typeof id !== 'string' || id === '')) {
        throw new TypeError(`LWA client expected {clientId: string, productIds: string[]}, got ${JSON.stringify(client)}`);
      }
      this.clients.set(client.clientId, new Set(client.productIds));
    }
    this.codeLifetimeMs = checkMs(options.codeLifetimeMs, 600_000, 'codeLifetimeMs');
    this.pollIntervalMs = checkMs(options.pollIntervalMs, 5000, 'pollIntervalMs');
    this.accessTokenLifetimeMs = checkMs(options.accessTokenLifetimeMs, 3_600_000, 'accessTokenLifetimeMs');
    this.verificationUri = options.verificationUri;
    this.codePairRate = new KeyedRateLimiter(checkCount(options.codePairsPerMinute, 30, 'codePairsPerMinute'));
    this.codePageRate = new KeyedRateLimiter(checkCount(options.codeAttemptsPerMinute, 20, 'codeAttemptsPerMinute'));
    this.maxLiveCodePairs = checkCount(options.maxLiveCodePairs, 1000, 'maxLiveCodePairs');
    this.log = options.log ?? new Logger(silentSink, 'lwa');
    this.statePath = options.dataDir === undefined ? undefined : join(options.dataDir, LWA_STATE_FILE);
    if (this.statePath !== undefined) this.load(this.statePath);
    this.handle = (request, response, body) => this.route(request, response, body);
  }

  /**
   * The user allows the device, linking it to `account`: true when `userCode` was a live pending code, false
   * otherwise.
   */
  approve(userCode: string, account: string = DEFAULT_ACCOUNT): boolean {
    if (typeof account !== 'string' || account === '' || account.length > FIELD_LIMITS.account) {
      throw new RangeError(`account expected 1-${FIELD_LIMITS.account} characters, got ${JSON.stringify(String(account).slice(0, 20))}`);
    }
    return this.decide(userCode, 'approved', account);
  }

  /** The user refuses: the device's next poll gets access_denied. */
  deny(userCode: string): boolean {
    return this.decide(userCode, 'denied');
  }

  /** User codes waiting for a decision (for a CLI). */
  pendingUserCodes(): string[] {
    const now = Date.now();
    return [...this.codesByDevice.values()].filter((c) => c.state === 'pending' && c.expiresAtMs > now).map((c) => c.userCode);
  }

  /** Whether `refreshToken` is live and was issued to `clientId` (the AIS registration check, §1). */
  validateRefreshToken(clientId: string, refreshToken: string): boolean {
    return this.accountOf(clientId, refreshToken) !== undefined;
  }

  /** The account of a live refresh token issued to `clientId`, or undefined (registration binds client ids to it). */
  accountOf(clientId: string, refreshToken: string): string | undefined {
    const record = typeof refreshToken === 'string' ? this.refreshTokens.get(refreshToken) : undefined;
    if (record === undefined || record.revoked || record.clientId !== clientId) return undefined;
    return record.account ?? DEFAULT_ACCOUNT;
  }

  /**
   * Whether `accessToken` was issued here and has not expired. Like OAuth bearer tokens, an access token lives
   * out its lifetime after its refresh token is revoked.
   */
  validateAccessToken(accessToken: string): boolean {
    const record = typeof accessToken === 'string' ? this.accessTokens.get(accessToken) : undefined;
    return record !== undefined && record.expiresAtMs > Date.now();
  }

  /** Revokes a refresh token (the user unlinks the device); true when it was live. */
  revoke(refreshToken: string): boolean {
    const record = this.refreshTokens.get(refreshToken);
    if (record === undefined || record.revoked) return false;
    record.revoked = true;
    this.save();
    this.log.info(`refresh token ${redact(refreshToken)} of client ${record.clientId} revoked`);
    return true;
  }

  private decide(userCode: string, state: 'approved' | 'denied', account?: string): boolean {
    if (typeof userCode !== 'string') throw new TypeError(`userCode expected a string, got ${typeof userCode}`);
    const wanted = normalizeUserCode(userCode);
    const now = Date.now();
    for (const record of this.codesByDevice.values()) {
      if (record.userCode === wanted && record.state === 'pending' && record.expiresAtMs > now) {
        record.state = state;
        record.account = account;
        this.save();
        this.log.info(`user code ${wanted} ${state}${account ? ` for account ${account}` : ''} (client ${record.clientId}, serial ${record.deviceSerialNumber})`);
        return true;
      }
    }
    this.log.warn(`user code ${JSON.stringify(userCode.slice(0, 20))} is not a live pending code; nothing ${state}`);
    return false;
  }

  private route(request: IncomingMessage, response: ServerResponse, body: Buffer): boolean {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path === '/auth/o2/create/codepair' || path === '/auth/o2/token') {
      if (request.method !== 'POST') {
        sendJson(response, 405, { error: 'invalid_request', error_description: `POST expected, got ${request.method}` });
        return true;
      }
      try {
        const form = parseForm(request, body);
        if (path === '/auth/o2/create/codepair') this.createCodePair(request, response, form);
        else this.token(response, form);
      } catch (error) {
        if (!(error instanceof LwaFault)) throw error;
        this.log.info(`${path}: ${error.error}: ${error.message}`);
        sendJson(response, error.error === RATE_LIMITED ? 429 : 400, { error: error.error, error_description: error.message });
      }
      return true;
    }
    if (path === '/code') {
      if (request.method === 'GET') {
        const prefill = new URLSearchParams(query < 0 ? '' : url.slice(query + 1)).get('user_code') ?? '';
        sendHtml(response, 200, codePage(prefill));
      } else if (request.method === 'POST') {
        if (this.codePageRate.take(request.socket.remoteAddress ?? '')) this.codeForm(request, response, body);
        else {
          this.log.warn(`/code: too many attempts from ${request.socket.remoteAddress}; refused`);
          sendHtml(response, 429, page('Too many attempts', '<p>Too many codes were tried from here. Wait a minute and try again.</p>'));
        }
      } else {
        sendHtml(response, 405, page('Method not allowed', `<p>GET or POST expected, got ${escapeHtml(request.method ?? '')}.</p>`));
      }
      return true;
    }
    return false;
  }

  private createCodePair(request: IncomingMessage, response: ServerResponse, form: Map<string, string>): void {
    const responseType = required(form, 'response_type');
    const clientId = required(form, 'client_id');
    const scope = required(form, 'scope');
    const scopeDataText = required(form, 'scope_data');
    if (responseType !== 'device_code') throw new LwaFault('unsupported_response_type', `response_type device_code expected, got ${JSON.stringify(responseType)}`);
    const products = this.clients.get(clientId);
    if (products === undefined) throw new LwaFault('invalid_client', `client_id ${JSON.stringify(clientId)} is not a registered LWA client`);
    if (scope !== 'alexa:all') throw new LwaFault('invalid_scope', `scope alexa:all expected, got ${JSON.stringify(scope)}`);
    let scopeData: { 'alexa:all'?: { productID?: unknown; productInstanceAttributes?: { deviceSerialNumber?: unknown } } };
    try {
      scopeData = JSON.parse(scopeDataText);
    } catch {
      throw new LwaFault('invalid_request', 'scope_data expected JSON, got text that does not parse');
    }
    const all = typeof scopeData === 'object' && scopeData !== null ? scopeData['alexa:all'] : undefined;
    const productId = all?.productID;
    const serial = all?.productInstanceAttributes?.deviceSerialNumber;
    if (typeof productId !== 'string' || productId === '') throw new LwaFault('invalid_request', 'scope_data["alexa:all"].productID expected a non-empty string');
    if (typeof serial !== 'string' || serial === '') {
      throw new LwaFault('invalid_request', 'scope_data["alexa:all"].productInstanceAttributes.deviceSerialNumber expected a non-empty string');
    }
    if (!products.has(productId)) throw new LwaFault('invalid_scope', `productID ${JSON.stringify(productId)} is not a product of client ${clientId}`);
    checkLength('productID', productId);
    checkLength('deviceSerialNumber', serial);

    this.pruneExpired();
    if (!this.codePairRate.take(request.socket.remoteAddress ?? '')) {
      throw new LwaFault(RATE_LIMITED, `more than the code pairs allowed per minute from ${request.socket.remoteAddress}`);
    }
    if (this.codesByDevice.size >= this.maxLiveCodePairs) throw new LwaFault(RATE_LIMITED, `${this.maxLiveCodePairs} code pairs are live; try again later`);
    const record: CodePairRecord = {
      deviceCode: randomUUID(),
      userCode: this.newUserCode(),
      clientId,
      productId,
      deviceSerialNumber: serial,
      expiresAtMs: Date.now() + this.codeLifetimeMs,
      intervalMs: this.pollIntervalMs,
      state: 'pending',
    };
    this.codesByDevice.set(record.deviceCode, record);
    this.lastPollMs.set(record.deviceCode, performance.now());
    this.save();
    this.log.info(`code pair for client ${clientId}, product ${productId}, serial ${serial}: user code ${record.userCode}`);
    sendJson(response, 200, {
      device_code: record.deviceCode,
      user_code: record.userCode,
      verification_uri: this.verificationUri ?? `${(request.socket as TLSSocket).encrypted ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}/code`,
      expires_in: this.codeLifetimeMs / 1000,
      interval: this.pollIntervalMs / 1000,
    });
  }

  private token(response: ServerResponse, form: Map<string, string>): void {
    const grantType = required(form, 'grant_type');
    if (grantType === 'device_code') return this.deviceCodeGrant(response, form);
    if (grantType === 'refresh_token') return this.refreshGrant(response, form);
    throw new LwaFault('unsupported_grant_type', `grant_type device_code or refresh_token expected, got ${JSON.stringify(grantType)}`);
  }

  private deviceCodeGrant(response: ServerResponse, form: Map<string, string>): void {
    const deviceCode = required(form, 'device_code');
    const userCode = required(form, 'user_code');
    const record = this.codesByDevice.get(deviceCode);
    if (record === undefined) throw new LwaFault('invalid_code_pair', 'unknown device_code');
    if (record.userCode !== userCode) throw new LwaFault('invalid_code_pair', 'user_code is not the pair of this device_code');
    if (record.expiresAtMs <= Date.now()) throw new LwaFault('invalid_code_pair', 'the code pair has expired; request a new one');
    if (record.state === 'exchanged') throw new LwaFault('invalid_code_pair', 'the code pair was already exchanged for tokens');
    const now = performance.now();
    const last = this.lastPollMs.get(deviceCode);
    this.lastPollMs.set(deviceCode, now);
    if (last !== undefined && now - last < record.intervalMs - POLL_TOLERANCE_MS) {
      throw new LwaFault('slow_down', `polled ${Math.round(now - last)} ms after the last request; interval is ${record.intervalMs} ms`);
    }
    if (record.state === 'pending') throw new LwaFault('authorization_pending', 'the user has not entered the code yet');
    if (record.state === 'denied') throw new LwaFault('access_denied', 'the user denied the request');
    record.state = 'exchanged';
    const refreshToken = `Atzr|${randomBytes(48).toString('base64url')}`;
    this.refreshTokens.set(refreshToken, {
      token: refreshToken, clientId: record.clientId, productId: record.productId,
      deviceSerialNumber: record.deviceSerialNumber, issuedAtMs: Date.now(), revoked: false, account: record.account ?? DEFAULT_ACCOUNT,
    });
    const accessToken = this.issueAccessToken(record.clientId);
    this.log.info(`code pair ${record.userCode} exchanged: refresh token ${redact(refreshToken)}, access token ${redact(accessToken)}`);
    sendJson(response, 200, this.tokenAnswer(accessToken, refreshToken));
  }

  private refreshGrant(response: ServerResponse, form: Map<string, string>): void {
    const refreshToken = required(form, 'refresh_token');
    const clientId = required(form, 'client_id');
    if (!this.clients.has(clientId)) throw new LwaFault('invalid_client', `client_id ${JSON.stringify(clientId)} is not a registered LWA client`);
    const record = this.refreshTokens.get(refreshToken);
    if (record === undefined) throw new LwaFault('invalid_grant', 'unknown refresh_token');
    if (record.revoked) throw new LwaFault('invalid_grant', 'the refresh_token was revoked');
    if (record.clientId !== clientId) throw new LwaFault('invalid_grant', 'the refresh_token was issued to another client');
    const accessToken = this.issueAccessToken(clientId);
    this.log.info(`refresh token ${redact(refreshToken)} exchanged for access token ${redact(accessToken)}`);
    sendJson(response, 200, this.tokenAnswer(accessToken, refreshToken));
  }

  private tokenAnswer(accessToken: string, refreshToken: string): Record<string, unknown> {
    return { access_token: accessToken, refresh_token: refreshToken, token_type: 'bearer', expires_in: Math.round(this.accessTokenLifetimeMs / 1000) };
  }

  private issueAccessToken(clientId: string): string {
    this.pruneExpired();
    const token = `Atza|${randomBytes(48).toString('base64url')}`;
    this.accessTokens.set(token, { token, clientId, expiresAtMs: Date.now() + this.accessTokenLifetimeMs });
    this.save();
    return token;
  }

  private codeForm(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    let form: Map<string, string>;
    try {
      form = parseForm(request, body);
    } catch (error) {
      if (!(error instanceof LwaFault)) throw error;
      sendHtml(response, 400, page('Bad request', `<p>${escapeHtml(error.message)}</p>`));
      return;
    }
    const userCode = form.get('user_code') ?? '';
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') {
      sendHtml(response, 400, page('Bad request', `<p>decision approve or deny expected, got ${escapeHtml(JSON.stringify(decision ?? null))}.</p>`));
      return;
    }
    const account = form.get('account') || DEFAULT_ACCOUNT;
    const done = decision === 'approve' ? this.approve(userCode, account) : this.deny(userCode);
    if (!done) {
      sendHtml(response, 400, page('Unknown code', `<p>The code ${escapeHtml(userCode)} is unknown, expired or already used.</p>${codeForm('')}`));
      return;
    }
    const shown = escapeHtml(normalizeUserCode(userCode));
    sendHtml(response, 200, decision === 'approve'
      ? page('Device linked', `<p>Code ${shown} approved: the device is linked to your account${form.get('account') ? ` ${escapeHtml(account)}` : ''}.</p>`)
      : page('Link denied', `<p>Code ${shown} denied: the device is not linked.</p>`));
  }

  private newUserCode(): string {
    const live = new Set([...this.codesByDevice.values()].map((c) => c.userCode));
    for (;;) {
      const bytes = randomBytes(USER_CODE_LENGTH);
      let code = '';
      for (const b of bytes) code += USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]; // 256 % 32 = 0: no bias
      if (!live.has(code)) return code;
    }
  }

  private pruneExpired(): void {
    const now = Date.now();
    for (const [deviceCode, record] of this.codesByDevice) {
      if (record.expiresAtMs <= now) {
        this.codesByDevice.delete(deviceCode);
        this.lastPollMs.delete(deviceCode);
      }
    }
    for (const [token, record] of this.accessTokens) if (record.expiresAtMs <= now) this.accessTokens.delete(token);
  }

  private load(path: string): void {
    const state = readJsonFile(path) as LwaState | undefined;
    if (state === undefined) return;
    if (typeof state !== 'object' || state === null || state.version !== STATE_VERSION
      || !Array.isArray(state.codePairs) || !Array.isArray(state.refreshTokens) || !Array.isArray(state.accessTokens)) {
      throw new Error(`${path}: LWA state of version ${STATE_VERSION} with codePairs, refreshTokens and accessTokens arrays expected`);
    }
    for (const record of state.codePairs) this.codesByDevice.set(record.deviceCode, record);
    for (const record of state.refreshTokens) this.refreshTokens.set(record.token, record);
    for (const record of state.accessTokens) this.accessTokens.set(record.token, record);
  }

  private save(): void {
    if (this.statePath === undefined) return;
    const state: LwaState = {
      version: STATE_VERSION,
      codePairs: [...this.codesByDevice.values()],
      refreshTokens: [...this.refreshTokens.values()],
      accessTokens: [...this.accessTokens.values()],
    };
    writeJsonFileAtomic(this.statePath, state);
  }
}

/** Upper case without spaces or dashes: users type codes as they like. */
function normalizeUserCode(userCode: string): string {
  return userCode.replace(/[\s-]+/g, '').toUpperCase();
}

function required(form: Map<string, string>, name: string): string {
  const value = form.get(name);
  if (value === undefined || value === '') throw new LwaFault('invalid_request', `${name} parameter missing`);
  return value;
}

/** A form body as a map; a parameter given twice is invalid_request (RFC 6749 §3.1). */
function parseForm(request: IncomingMessage, body: Buffer): Map<string, string> {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new LwaFault('invalid_request', `content-type application/x-www-form-urlencoded expected, got ${JSON.stringify(type || 'none')}`);
  }
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (form.has(name)) throw new LwaFault('invalid_request', `parameter ${name} given more than once`);
    // Unknown names are ignored (RFC 6749 §3.1) but still bounded, like the known ones.
    const limit = FIELD_LIMITS[name] ?? 256;
    if (value.length > limit) throw new LwaFault('invalid_request', `${name.slice(0, 32)} expected at most ${limit} characters, got ${value.length}`);
    form.set(name, value);
  }
  return form;
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  response.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, content: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} - LWA emulator</title></head>\n`
    + `<body><h1>${escapeHtml(title)}</h1>\n${content}\n</body></html>\n`;
}

function codeForm(prefill: string): string {
  return '<form method="post" action="/code">\n'
    + `<label>Code <input name="user_code" value="${escapeHtml(prefill)}" autocomplete="off" required></label>\n`
    + `<label>Amazon account <input name="account" placeholder="${DEFAULT_ACCOUNT}" maxlength="${FIELD_LIMITS.account}"></label>\n`
    + '<button type="submit" name="decision" value="approve">Allow</button>\n'
    + '<button type="submit" name="decision" value="deny">Deny</button>\n'
    + '</form>';
}

function codePage(prefill: string): string {
  return page('Link a device', `<p>Enter the code your device shows.</p>\n${codeForm(prefill)}`);
}
