// AIS registration, device side (docs/protocol.md §1): one HTTPS POST to <base>/v1/ais/registration with the LWA
// refresh token, our X25519 public key and the AWS IoT identity; the answer carries the service's public key and
// the topic root. Both sides derive the AES key of every encrypted topic (keys.ts). We persist the result as a
// Registration record under REGISTRATION_KEY and then delete the refresh token (linking.ts), which the device
// never needs again (§7 gotcha 16).
//
// The emulator also answers with the device's MQTT identity (`identity`: a client certificate for CN = the client
// id, its private key, and an MQTT password for its plain-MQTT development port; docs/emulator.md), the way AWS
// IoT's CreateKeysAndCertificate hands a key pair out once. It is optional (AIS itself leaves the certificate to
// the OEM's provisioning); when present it is kept in the same record, written in one storage.set(), so a crash
// leaves the old registration or the new one with its identity, never a mix. The key is never logged.
//
// Each attempt uses a fresh key pair; its private key is zeroed once the AES key is derived or the attempt fails.
// The doc asks devices to follow HTTP/1.1 redirects (§1): up to MAX_REDIRECTS, the POST repeated as is,
// never from https to http (the body holds the refresh token).
//
// Failures and what the Registrar does with them (`RegistrationError.action`):
//
// | code                               | cause                                                | action  |
// |------------------------------------|------------------------------------------------------|---------|
// | INTERNAL_SERVER_ERROR              | service failure (500)                                | retry   |
// | HTTP_STATUS                        | 5xx or 429 without a known code                      | retry   |
// | NETWORK                            | no answer: DNS, TCP, TLS, timeout, body too large    | retry   |
// | MALFORMED_RESPONSE                 | 2xx that is not JSON, lacks a field, bad key length  | retry   |
// | INVALID_AUTHENTICATION_CREDENTIALS | refresh token unknown, revoked or for another client | relink  |
// | NO_CREDENTIALS                     | no refresh token stored (or its record is damaged)   | relink  |
// | INVALID_AWS_ACCOUNT                | account not on the AVS product (§7 gotcha 8)         | stop    |
// | INVALID_IOT_ENDPOINT               | endpoint is not the account's AWS IoT endpoint       | stop    |
// | INVALID_ENCRYPTION_ALGORITHM       | algorithm not accepted                               | stop    |
// | INVALID_ENCRYPTION_DATA            | our public key refused                               | stop    |
// | MISSING_PARAM, INVALID_REQUEST     | the request body is wrong: a firmware bug            | stop    |
// | HTTP_STATUS                        | other 4xx, or 3xx that cannot be followed            | stop    |
// | STORAGE                            | the record could not be saved                        | stop    |
//
// retry: again after backoffDelayMs (util/backoff.ts: doubling from retryMinDelayMs to retryMaxDelayMs, equal
// jitter), a new key pair each time, until maxAttempts. relink: the stored refresh token is deleted; the app
// runs linking (or the companion app) again. stop: a configuration or firmware fault a retry cannot fix; the
// refresh token stays stored so that a corrected configuration can register without a new link.

import type { HttpClient, HttpResponse } from '../ports/http.js';
import type { TlsOptions } from '../ports/socket.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Crypto } from '../ports/crypto.js';
import type { Storage } from '../ports/storage.js';
import { Logger, redact } from '../ports/log.js';
import { backoffDelayMs } from '../util/backoff.js';
import { AES_KEY_BYTES, deriveAesKey, generateKeyPair, isEncryptionAlgorithm, type EncryptionAlgorithm } from './keys.js';
import { fromBase64, toBase64 } from '../encoding/base64.js';
import { decodeJson, encodeJson } from './message.js';
import { checkBaseUrl, checkCount, deleteLinkCredentials, describe, loadLinkCredentials, type LinkCredentials } from './linking.js';
import { nameError } from '../util/error-name.js';

export const AIS_REGISTRATION_BASE_URL = 'https://api.amazonalexa.com';
export const REGISTRATION_PATH = '/v1/ais/registration';
/**
 * Storage key of the Registration record: UTF-8 JSON
 * `{"version":1,"topicRoot","algorithm","aesKey":<base64>,"awsAccountId","iotClientId","iotEndpoint"[,"identity"]}`,
 * `identity` being `{"certificatePem","privateKey","mqttPassword"}` (PEM, PEM, text) when the service issued one.
 */
export const REGISTRATION_KEY = 'ais.registration';
/** The success answer is about 120 bytes (ESP#96), about 1.1 KB with the emulator's identity; 4 KB leaves room for a verbose error. */
export const MAX_REGISTRATION_RESPONSE_BYTES = 4096;
export const MAX_REDIRECTS = 3;
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 30_000;
const X25519_KEY_BYTES = 32;
const MAX_TOPIC_ROOT_CHARS = 128;

/** The failure codes of the service (SDK aia_registration_failure_code.h). */
export const REGISTRATION_FAILURE_CODES = [
  'INVALID_REQUEST', 'MISSING_PARAM', 'INVALID_ENCRYPTION_ALGORITHM', 'INVALID_ENCRYPTION_DATA',
  'INVALID_AUTHENTICATION_CREDENTIALS', 'INVALID_AWS_ACCOUNT', 'INVALID_IOT_ENDPOINT', 'INTERNAL_SERVER_ERROR',
] as const;
export type RegistrationFailureCode = (typeof REGISTRATION_FAILURE_CODES)[number];
export type RegistrationErrorCode = RegistrationFailureCode
  | 'HTTP_STATUS' | 'NETWORK' | 'MALFORMED_RESPONSE' | 'NO_CREDENTIALS' | 'STORAGE';
export type RetryAction = 'retry' | 'relink' | 'stop';

/** The policy table of the module comment; HTTP_STATUS is 'retry' for 5xx and 429 only (see actionOf). */
export const RETRY_POLICY: Readonly<Record<RegistrationErrorCode, RetryAction>> = {
  INTERNAL_SERVER_ERROR: 'retry',
  NETWORK: 'retry',
  MALFORMED_RESPONSE: 'retry',
  HTTP_STATUS: 'stop',
  INVALID_AUTHENTICATION_CREDENTIALS: 'relink',
  NO_CREDENTIALS: 'relink',
  INVALID_AWS_ACCOUNT: 'stop',
  INVALID_IOT_ENDPOINT: 'stop',
  INVALID_ENCRYPTION_ALGORITHM: 'stop',
  INVALID_ENCRYPTION_DATA: 'stop',
  MISSING_PARAM: 'stop',
  INVALID_REQUEST: 'stop',
  STORAGE: 'stop',
};

const WHAT_TO_DO: Readonly<Record<RetryAction, string>> = {
  retry: 'will retry',
  relink: 'the refresh token is dropped; link the account again',
  stop: 'not retried; fix the configuration or firmware',
};

function actionOf(code: RegistrationErrorCode, status: number | undefined): RetryAction {
  if (code === 'HTTP_STATUS' && status !== undefined && (status >= 500 || status === 429)) return 'retry';
  return RETRY_POLICY[code];
}

export class RegistrationError extends Error {
  readonly action: RetryAction;
  constructor(readonly code: RegistrationErrorCode, detail: string, readonly status?: number) {
    const action = actionOf(code, status);
    super(`AIS registration failed: ${code}${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}; ${WHAT_TO_DO[action]}`);
    nameError(this, 'RegistrationError');
    this.action = action;
  }
}

/** What the connection layer needs after registration (docs/protocol.md §1 "The device persists..."). */
export interface Registration {
  /** MQTT topic root, "$aws/alexa" in practice. */
  topicRoot: string;
  algorithm: EncryptionAlgorithm;
  /** The derived AES-GCM key ("shared secret"): 32 or 16 bytes per algorithm. */
  aesKey: Uint8Array;
  awsAccountId: string;
  /** The AWS IoT MQTT client id (Thing name) registered; the connection must use the same. */
  iotClientId: string;
  iotEndpoint: string;
  /** The MQTT identity issued with the registration, when the service issued one (the emulator does). */
  identity?: MqttIdentity;
}

/** A client certificate and its private key (PEM), and the password of a plain-MQTT development broker. */
export interface MqttIdentity {
  certificatePem: string;
  privateKey: string;
  mqttPassword: string;
}

const RECORD_VERSION = 1;
/** A PEM certificate or key of P-256 is under 1 KB; a chain of a few fits in 8 KB. */
const MAX_IDENTITY_CHARS = 8192;

/** Persists `registration` under REGISTRATION_KEY (replacing any older one). */
export function saveRegistration(storage: Storage, registration: Registration): void {
  const fault = registrationFault(registration);
  if (fault !== undefined) throw new TypeError(`registration record invalid: ${fault}`);
  storage.set(REGISTRATION_KEY, encodeJson({
    version: RECORD_VERSION,
    topicRoot: registration.topicRoot,
    algorithm: registration.algorithm,
    aesKey: toBase64(registration.aesKey),
    awsAccountId: registration.awsAccountId,
    iotClientId: registration.iotClientId,
    iotEndpoint: registration.iotEndpoint,
    identity: registration.identity,
  }));
}

/** The stored registration, or undefined when the device is not registered. A damaged record throws an Error naming the fault. */
export function loadRegistration(storage: Storage): Registration | undefined {
  const bytes = storage.get(REGISTRATION_KEY);
  if (bytes === undefined) return undefined;
  let value: Record<string, unknown>;
  try {
    value = decodeJson(bytes) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`registration record "${REGISTRATION_KEY}" is damaged: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) throw new Error(`registration record "${REGISTRATION_KEY}" is damaged: an object expected`);
  if (value.version !== RECORD_VERSION) throw new Error(`registration record "${REGISTRATION_KEY}": version ${RECORD_VERSION} expected, got ${String(value.version)}`);
  const aesKey = typeof value.aesKey === 'string' ? fromBase64(value.aesKey) : undefined;
  const registration = {
    topicRoot: value.topicRoot, algorithm: value.algorithm, aesKey, awsAccountId: value.awsAccountId,
    iotClientId: value.iotClientId, iotEndpoint: value.iotEndpoint, ...(value.identity === undefined ? {} : { identity: value.identity }),
  } as Registration;
  const fault = registrationFault(registration);
  if (fault !== undefined) throw new Error(`registration record "${REGISTRATION_KEY}" is damaged: ${fault}`);
  return registration;
}

export function deleteRegistration(storage: Storage): void {
  storage.delete(REGISTRATION_KEY);
}

function registrationFault(r: Registration): string | undefined {
  if (r === null || typeof r !== 'object') return 'an object expected';
  for (const name of ['topicRoot', 'awsAccountId', 'iotClientId', 'iotEndpoint'] as const) {
    if (typeof r[name] !== 'string' || r[name] === '') return `${name} expected a non-empty string, got ${describe(r[name])}`;
  }
  if (typeof r.algorithm !== 'string' || !isEncryptionAlgorithm(r.algorithm)) return `algorithm expected a registration algorithm, got ${describe(r.algorithm)}`;
  if (!(r.aesKey instanceof Uint8Array) || r.aesKey.length !== AES_KEY_BYTES[r.algorithm]) {
    return `aesKey expected ${AES_KEY_BYTES[r.algorithm]} bytes for ${r.algorithm}, got ${r.aesKey instanceof Uint8Array ? `${r.aesKey.length} bytes` : describe(r.aesKey)}`;
  }
  return r.identity === undefined ? undefined : identityFault(r.identity);
}

/** Why `identity` is not an MqttIdentity (never quoting the key), or undefined. */
function identityFault(identity: unknown): string | undefined {
  if (identity === null || typeof identity !== 'object' || Array.isArray(identity)) return `identity expected an object, got ${describe(identity)}`;
  const fields = identity as Record<string, unknown>;
  const pem = { certificatePem: 'CERTIFICATE', privateKey: 'PRIVATE KEY' } as const;
  for (const name of ['certificatePem', 'privateKey'] as const) {
    const text = fields[name];
    if (typeof text !== 'string' || text.length > MAX_IDENTITY_CHARS || text.indexOf(`-----BEGIN ${pem[name]}-----`) < 0) {
      return `identity.${name} expected PEM (${pem[name]}) of at most ${MAX_IDENTITY_CHARS} characters, got ${typeof text === 'string' ? `${text.length} characters that are not` : describe(text)}`;
    }
  }
  const password = fields.mqttPassword;
  if (typeof password !== 'string' || password === '' || password.length > 256) return `identity.mqttPassword expected 1-256 characters, got ${typeof password === 'string' ? `${password.length}` : describe(password)}`;
  return undefined;
}

export interface RegisterOptions {
  http: HttpClient;
  crypto: Crypto;
  storage: Storage;
  log: Logger;
  /** Default AIS_REGISTRATION_BASE_URL; the request goes to `${baseUrl}/v1/ais/registration`. */
  baseUrl?: string;
  tls?: TlsOptions;
  timeoutMs?: number;
  /** Default ECDH_CURVE_25519_32_BYTE, as the SDK (§1). */
  algorithm?: EncryptionAlgorithm;
  /** The 12-digit AWS account associated with the AVS product. */
  awsAccountId: string;
  /** The MQTT client id (Thing name) the device will connect with. */
  iotClientId: string;
  /** The account's AWS IoT endpoint host (ATS). */
  iotEndpoint: string;
  /** Legacy: also send iot.topicRoot in the request (old NXP and ESP do, §1). */
  requestTopicRoot?: string;
  /** The credentials to register with; by default those stored by linking or provisioning. */
  credentials?: LinkCredentials;
}

interface CheckedOptions extends RegisterOptions {
  baseUrl: string;
  timeoutMs: number;
  algorithm: EncryptionAlgorithm;
}

function checkOptions(options: RegisterOptions): CheckedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`registration options expected an object, got ${typeof options}`);
  if (typeof options.http !== 'function') throw new TypeError(`options.http expected a function, got ${typeof options.http}`);
  for (const port of ['crypto', 'storage', 'log'] as const) {
    if (options[port] === null || typeof options[port] !== 'object') throw new TypeError(`options.${port} expected an object, got ${typeof options[port]}`);
  }
  const algorithm = options.algorithm ?? 'ECDH_CURVE_25519_32_BYTE';
  if (!isEncryptionAlgorithm(algorithm)) throw new RangeError(`options.algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got ${String(algorithm)}`);
  if (typeof options.awsAccountId !== 'string' || !/^[0-9]{12}$/.test(options.awsAccountId)) {
    throw new RangeError(`options.awsAccountId expected 12 digits, got ${JSON.stringify(options.awsAccountId)}`);
  }
  // The client id becomes a topic level ($aws/alexa/ais/v1/<clientId>/...): no wildcards, no separator.
  if (typeof options.iotClientId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(options.iotClientId) || /[+#/]/.test(options.iotClientId)) {
    throw new RangeError(`options.iotClientId expected 1-128 printable ASCII chars without + # /, got ${JSON.stringify(options.iotClientId)}`);
  }
  if (typeof options.iotEndpoint !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(options.iotEndpoint)) {
    throw new RangeError(`options.iotEndpoint expected a host name, got ${JSON.stringify(options.iotEndpoint)}`);
  }
  if (options.requestTopicRoot !== undefined && (typeof options.requestTopicRoot !== 'string' || options.requestTopicRoot === '')) {
    throw new TypeError(`options.requestTopicRoot expected a non-empty string when given, got ${describe(options.requestTopicRoot)}`);
  }
  if (options.credentials !== undefined && (typeof options.credentials?.refreshToken !== 'string' || typeof options.credentials?.clientId !== 'string')) {
    throw new TypeError('options.credentials expected {refreshToken, clientId} strings when given');
  }
  return {
    ...options,
    algorithm,
    baseUrl: checkBaseUrl(options.baseUrl ?? AIS_REGISTRATION_BASE_URL, 'options.baseUrl'),
    timeoutMs: checkCount(options.timeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS, 'options.timeoutMs', 1),
  };
}

/**
 * One registration attempt. On success the record is saved, the stored refresh token deleted, and `callback`
 * gets the Registration; on failure a RegistrationError whose `action` says what to do next. Options are checked
 * at once (TypeError/RangeError); `callback` runs exactly once, from the HttpClient's callback or, when no
 * credentials are stored, synchronously.
 */
export function registerOnce(options: RegisterOptions, callback: (error: RegistrationError | undefined, registration?: Registration) => void): void {
  const o = checkOptions(options);
  if (typeof callback !== 'function') throw new TypeError(`callback expected a function, got ${typeof callback}`);
  attempt(o, callback);
}

function attempt(o: CheckedOptions, callback: (error: RegistrationError | undefined, registration?: Registration) => void): void {
  const log = o.log;
  let credentials = o.credentials;
  if (credentials === undefined) {
    try {
      credentials = loadLinkCredentials(o.storage);
    } catch (error) {
      deleteLinkCredentials(o.storage);
      callback(new RegistrationError('NO_CREDENTIALS', `${(error as Error).message}; deleted it`));
      return;
    }
    if (credentials === undefined) {
      callback(new RegistrationError('NO_CREDENTIALS', 'no LWA refresh token stored; link the account (code-based linking or companion app) first'));
      return;
    }
  }

  const keyPair = generateKeyPair(o.crypto);
  const iot: Record<string, string> = { awsAccountId: o.awsAccountId, clientId: o.iotClientId, endpoint: o.iotEndpoint };
  if (o.requestTopicRoot !== undefined) iot.topicRoot = o.requestTopicRoot;
  const body = encodeJson({
    authentication: { token: credentials.refreshToken, clientId: credentials.clientId },
    encryption: { algorithm: o.algorithm, publicKey: toBase64(keyPair.publicKey) },
    iot,
  });
  const finish = (error: RegistrationError | undefined, registration?: Registration): void => {
    keyPair.privateKey.fill(0);
    body.fill(0); // it holds the refresh token
    if (error && error.action === 'retry') log.warn(error.message);
    else if (error) log.error(error.message);
    callback(error, registration);
  };

  log.info(`registering ${o.iotClientId} (account ${o.awsAccountId}, endpoint ${o.iotEndpoint}, ${o.algorithm}) `
    + `with LWA client ${credentials.clientId}, refresh token ${redact(credentials.refreshToken)}`);
  post(o, o.baseUrl + REGISTRATION_PATH, body, 0, (error, response, url) => {
    if (error instanceof RedirectError) return finish(new RegistrationError('HTTP_STATUS', `POST ${url}: ${error.message}`, error.status));
    if (error) return finish(new RegistrationError('NETWORK', `POST ${url}: ${error.message}`));
    const r = response as HttpResponse;
    if (r.status < 200 || r.status > 299) return finish(failure(r));
    let answer: { servicePublicKey: Uint8Array; topicRoot: string; identity: MqttIdentity | undefined };
    try {
      answer = parseSuccess(r.body);
    } catch (e) {
      return finish(new RegistrationError('MALFORMED_RESPONSE', (e as Error).message, r.status));
    } finally {
      r.body.fill(0); // it may hold the private key of the identity
    }
    let aesKey: Uint8Array;
    try {
      aesKey = deriveAesKey(o.crypto, o.algorithm, keyPair.privateKey, answer.servicePublicKey);
    } catch (e) {
      return finish(new RegistrationError('MALFORMED_RESPONSE', `encryption.publicKey unusable: ${(e as Error).message}`, r.status));
    }
    const registration: Registration = {
      topicRoot: answer.topicRoot, algorithm: o.algorithm, aesKey,
      awsAccountId: o.awsAccountId, iotClientId: o.iotClientId, iotEndpoint: o.iotEndpoint, identity: answer.identity,
    };
    try {
      saveRegistration(o.storage, registration);
    } catch (e) {
      aesKey.fill(0);
      return finish(new RegistrationError('STORAGE', `saving "${REGISTRATION_KEY}" failed: ${(e as Error).message}`));
    }
    // Only now: a failure before this point must leave the token for the next attempt.
    if (o.credentials === undefined) deleteLinkCredentials(o.storage);
    log.info(`registered ${o.iotClientId}: topic root ${answer.topicRoot}, AES key ${redact(aesKey)}`
      + `${answer.identity ? `, a client certificate and its key ${redact(answer.identity.privateKey)}` : ''} stored under ${REGISTRATION_KEY}; refresh token deleted`);
    finish(undefined, registration);
  });

  function failure(r: HttpResponse): RegistrationError {
    let value: { code?: unknown; description?: unknown } | undefined;
    try {
      value = decodeJson(r.body) as typeof value;
    } catch {
      value = undefined;
    }
    const code = typeof value === 'object' && value !== null ? value.code : undefined;
    const description = typeof value === 'object' && value !== null && typeof value.description === 'string'
      ? value.description.slice(0, 200) : '';
    if (typeof code === 'string' && (REGISTRATION_FAILURE_CODES as readonly string[]).indexOf(code) >= 0) {
      if (code === 'INVALID_AUTHENTICATION_CREDENTIALS' && o.credentials === undefined) deleteLinkCredentials(o.storage);
      return new RegistrationError(code as RegistrationFailureCode, description === '' ? 'no description' : description, r.status);
    }
    const what = typeof code === 'string' ? `unknown failure code ${JSON.stringify(code.slice(0, 64))}` : 'no failure code in the body';
    return new RegistrationError('HTTP_STATUS', `${what}${description === '' ? '' : `: ${description}`}`, r.status);
  }
}

class RedirectError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    nameError(this, 'RedirectError');
  }
}

/** POSTs `body` to `url`, following up to MAX_REDIRECTS 301/302/307/308 answers with the same POST. */
function post(o: CheckedOptions, url: string, body: Uint8Array, redirects: number,
  done: (error: Error | undefined, response: HttpResponse | undefined, url: string) => void): void {
  o.http({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    tls: o.tls,
    timeoutMs: o.timeoutMs,
    maxResponseBytes: MAX_REGISTRATION_RESPONSE_BYTES,
  }, (error, response) => {
    if (error || !response) return done(error ?? new Error('HttpClient gave neither error nor response'), undefined, url);
    if (response.body.length > MAX_REGISTRATION_RESPONSE_BYTES) {
      return done(new Error(`response body of ${response.body.length} bytes exceeds ${MAX_REGISTRATION_RESPONSE_BYTES}`), undefined, url);
    }
    const status = response.status;
    if (status !== 301 && status !== 302 && status !== 307 && status !== 308) return done(undefined, response, url);
    const location = response.headers.location;
    const next = location === undefined ? undefined : resolveLocation(url, location);
    if (next === undefined) {
      return done(new RedirectError(`redirect without a usable Location (got ${location === undefined ? 'none' : JSON.stringify(location.slice(0, 100))})`, status), undefined, url);
    }
    if (url.startsWith('https:') && !next.startsWith('https:')) {
      return done(new RedirectError(`redirect from https to ${next.slice(0, next.indexOf(':'))} refused: the body holds the refresh token`, status), undefined, url);
    }
    if (redirects >= MAX_REDIRECTS) return done(new RedirectError(`more than ${MAX_REDIRECTS} redirects`, status), undefined, url);
    o.log.info(`registration redirected (${status}) to ${next}`);
    post(o, next, body, redirects + 1, done);
  });
}

/** Absolute http(s) URLs and absolute paths; anything else is undefined. */
function resolveLocation(from: string, location: string): string | undefined {
  if (/^https?:\/\/[^/?#\s]+(\/\S*)?$/.test(location)) return location;
  if (/^\/[^/\s]\S*$/.test(location) || location === '/') {
    const origin = /^https?:\/\/[^/?#]+/.exec(from);
    return origin ? origin[0] + location : undefined;
  }
  return undefined;
}

function parseSuccess(body: Uint8Array): { servicePublicKey: Uint8Array; topicRoot: string; identity: MqttIdentity | undefined } {
  const value = decodeJson(body) as { encryption?: { publicKey?: unknown }; iot?: { topicRoot?: unknown }; identity?: unknown };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`a JSON object expected, got ${describe(value)}`);
  const publicKey = typeof value.encryption === 'object' && value.encryption !== null ? value.encryption.publicKey : undefined;
  if (typeof publicKey !== 'string') throw new Error(`encryption.publicKey (base64) expected, got ${describe(publicKey)}`);
  const key = fromBase64(publicKey);
  if (key === undefined) throw new Error(`encryption.publicKey expected base64, got ${describe(publicKey)} that is not`);
  if (key.length !== X25519_KEY_BYTES) throw new Error(`encryption.publicKey expected ${X25519_KEY_BYTES} bytes, got ${key.length}`);
  const topicRoot = typeof value.iot === 'object' && value.iot !== null ? value.iot.topicRoot : undefined;
  if (typeof topicRoot !== 'string' || topicRoot === '' || topicRoot.length > MAX_TOPIC_ROOT_CHARS || /[+#\u0000]/.test(topicRoot) || topicRoot.endsWith('/')) {
    throw new Error(`iot.topicRoot expected a topic of 1-${MAX_TOPIC_ROOT_CHARS} chars without wildcards or a trailing /, got ${typeof topicRoot === 'string' ? JSON.stringify(topicRoot.slice(0, 140)) : describe(topicRoot)}`);
  }
  const fault = value.identity === undefined ? undefined : identityFault(value.identity);
  if (fault !== undefined) throw new Error(fault);
  const identity = value.identity as MqttIdentity | undefined;
  return {
    servicePublicKey: key, topicRoot,
    identity: identity && { certificatePem: identity.certificatePem, privateKey: identity.privateKey, mqttPassword: identity.mqttPassword },
  };
}

export interface RegistrarOptions extends RegisterOptions {
  clock: Clock;
  /** Attempts in all, the first included. Default 10. */
  maxAttempts?: number;
  /** Backoff of 'retry' failures (util/backoff.ts). Defaults 2 s and 5 min. */
  retryMinDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Uniform [0, 1) for the jitter; default Math.random (jitter needs no cryptographic quality). */
  random?: () => number;
  onRegistered(registration: Registration): void;
  /** A 'relink' or 'stop' failure, or the last 'retry' one once maxAttempts are spent; nothing runs after it. */
  onError(error: RegistrationError): void;
}

/** Registration with the retry policy of the module comment: start() once; close() cancels, and no callback runs after it. */
export class Registrar {
  private readonly options: RegistrarOptions;
  private readonly checked: CheckedOptions;
  private readonly maxAttempts: number;
  private readonly backoff: { minDelayMs: number; maxDelayMs: number };
  private readonly random: () => number;
  private attempts = 0;
  private started = false;
  private closed = false;
  private timer: TimerHandle | undefined;

  constructor(options: RegistrarOptions) {
    this.checked = checkOptions(options);
    if (options.clock === null || typeof options.clock !== 'object') throw new TypeError(`options.clock expected an object, got ${typeof options.clock}`);
    for (const callback of ['onRegistered', 'onError'] as const) {
      if (typeof options[callback] !== 'function') throw new TypeError(`options.${callback} expected a function, got ${typeof options[callback]}`);
    }
    this.maxAttempts = checkCount(options.maxAttempts ?? 10, 'options.maxAttempts', 1);
    const minDelayMs = checkCount(options.retryMinDelayMs ?? 2000, 'options.retryMinDelayMs', 0);
    const maxDelayMs = checkCount(options.retryMaxDelayMs ?? 300_000, 'options.retryMaxDelayMs', minDelayMs);
    this.backoff = { minDelayMs, maxDelayMs };
    this.random = options.random ?? Math.random;
    this.options = options;
  }

  /** Attempts made so far. */
  get attemptCount(): number {
    return this.attempts;
  }

  start(): void {
    if (this.started) throw new Error('Registrar.start() called twice; make a new instance to register again');
    this.started = true;
    this.next();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private next(): void {
    this.attempts++;
    attempt(this.checked, (error, registration) => {
      if (this.closed) return;
      if (!error) {
        this.closed = true;
        this.options.onRegistered(registration as Registration);
        return;
      }
      if (error.action === 'retry' && this.attempts < this.maxAttempts) {
        const delayMs = backoffDelayMs(this.attempts - 1, this.backoff, this.random);
        this.options.log.warn(`registration attempt ${this.attempts} of ${this.maxAttempts} failed (${error.code}); next in ${delayMs} ms`);
        this.timer = this.options.clock.setTimer(() => {
          this.timer = undefined;
          this.next();
        }, delayMs);
        return;
      }
      this.closed = true;
      this.options.onError(error);
    });
  }
}
