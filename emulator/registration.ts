// AIS registration endpoint of the emulator (docs/protocol.md §1): POST /v1/ais/registration. Checks the request,
// makes its own X25519 key pair per registration and derives the AES key on node:crypto only
// (emulator/ais/crypto.ts: OpenSSL, independent of the device's tweetnacl/noble code), and records the device
// in a registry the AIS service reads (`registry.get(iotClientId)`), persisted as JSON (tmp + fsync + rename).
//
// HTTP status per failure code. The sources give only 403 for INVALID_AWS_ACCOUNT (ESP#174); the rest is our
// choice (§9):
//
// | code                               | status | when (checked in this order)                                           |
// |------------------------------------|--------|------------------------------------------------------------------------|
// | INVALID_REQUEST                    | 400    | content-type not application/json, body not a JSON object, a section   |
// |                                    |        | not an object, a field not a string, iot.clientId not 1-128 printable  |
// |                                    |        | ASCII without + # / (it becomes a topic level)                         |
// | INVALID_REQUEST                    | 405    | a method other than POST                                               |
// | MISSING_PARAM                      | 400    | a section or required field absent, null or empty                      |
// | INVALID_ENCRYPTION_ALGORITHM       | 400    | algorithm not one of the two of §1                                     |
// | INVALID_ENCRYPTION_DATA            | 400    | publicKey not canonical base64 of 32 bytes, or a low-order point       |
// | INVALID_AWS_ACCOUNT                | 403    | awsAccountId not 12 digits or not on the allow-list (ESP#174 text)     |
// | INVALID_IOT_ENDPOINT               | 400    | endpoint not the emulator's AWS IoT endpoint (case-insensitive)        |
// | INVALID_AUTHENTICATION_CREDENTIALS | 403    | refresh token unknown, revoked or issued to another LWA client, or     |
// |                                    |        | iot.clientId registered by another account (logged as a warning)       |
// | INTERNAL_SERVER_ERROR              | 500    | the registry could not be written, an unexpected exception, or a       |
// |                                    |        | failure injected with failNextRegistrations()                          |
//
// A body over the server's limit never reaches us: emulator/http.ts answers 413 INVALID_REQUEST and resets.
// 403 and not 401 for bad credentials: they travel in the body, not in an Authorization header, so there is no
// WWW-Authenticate challenge to answer; and it matches the one status the sources show. The low-order check is
// last among the key checks because OpenSSL finds it during the key agreement (§1, RFC 7748 §6.1).
//
// Re-registering an iot clientId replaces its entry (a new service key pair, a new AES key), for the account that
// registered it first only, as AWS IoT binds a thing to its owner: another account's token, whatever device it
// links, gets 403 (issue 24: a second account re-registered dev-b and read its traffic).
//
// Each successful registration of a thing not provisioned through AWS IoT (`provision`, thing-certificates.ts)
// also issues the device its MQTT identity, an emulator extension to the answer
// (AIS leaves the AWS IoT certificate to the OEM's provisioning): `identity.certificatePem` and
// `identity.privateKey`, a client certificate for CN = the client id from the emulator's device CA
// (device-ca.ts), as AWS IoT's CreateKeysAndCertificate hands a key pair and certificate out once; and
// `identity.mqttPassword`, the credential the plain-MQTT port (a development option) checks instead. The registry
// keeps only their SHA-256: the broker accepts the latest certificate and password of a client id, so a
// re-registration by the owner reissues both and the old ones stop working (docs/emulator.md).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger, redact, silentSink } from '../src/ports/log.js';
import { sendJson, type RouteHandler } from './http.js';
import { readJsonFile, writeJsonFileAtomic } from './json-file.js';
import { DEFAULT_ACCOUNT } from './lwa.js';
import { deriveServiceKey, generateServiceKeyPair, type ServiceAlgorithm } from './ais/crypto.js';
import type { DeviceDirectory } from './ais/service.js';
import type { DeviceCredentials } from './broker.js';
import { THINGS_FILE, ThingCertificates } from './thing-certificates.js';
import { DeviceCa, type IssuedCertificate } from './device-ca.js';

export const REGISTRATION_PATH = '/v1/ais/registration';
export const REGISTRY_FILE = 'ais-registrations.json';
export const DEFAULT_TOPIC_ROOT = '$aws/alexa';

export type RegistrationFailureCode = 'INVALID_REQUEST' | 'MISSING_PARAM' | 'INVALID_ENCRYPTION_ALGORITHM' | 'INVALID_ENCRYPTION_DATA'
  | 'INVALID_AUTHENTICATION_CREDENTIALS' | 'INVALID_AWS_ACCOUNT' | 'INVALID_IOT_ENDPOINT' | 'INTERNAL_SERVER_ERROR';

/** The status of each failure code (table above); INVALID_REQUEST is also sent with 405. */
export const FAILURE_STATUS: Readonly<Record<RegistrationFailureCode, number>> = {
  INVALID_REQUEST: 400,
  MISSING_PARAM: 400,
  INVALID_ENCRYPTION_ALGORITHM: 400,
  INVALID_ENCRYPTION_DATA: 400,
  INVALID_AUTHENTICATION_CREDENTIALS: 403,
  INVALID_AWS_ACCOUNT: 403,
  INVALID_IOT_ENDPOINT: 400,
  INTERNAL_SERVER_ERROR: 500,
};

/** One registered device, as the AIS service needs it. */
export interface DeviceRegistration {
  iotClientId: string;
  awsAccountId: string;
  iotEndpoint: string;
  algorithm: ServiceAlgorithm;
  /** The AES-GCM key of every encrypted topic: 32 or 16 bytes. */
  aesKey: Buffer;
  /** ISO 8601. */
  registeredAt: string;
  lwaClientId: string;
  /** Kept as the real service keeps it: the virtual device refreshes its AVS access tokens with it (§1). */
  lwaRefreshToken: string;
  /** The account the refresh token was issued for: the client id's owner. */
  account: string;
  /** Hex SHA-256 of the client certificate issued at the latest registration, and of its MQTT password. */
  certificateSha256?: string;
  passwordSha256?: string;
}

interface StoredRegistration extends Omit<DeviceRegistration, 'aesKey' | 'account'> {
  aesKey: string; // base64
  account?: string; // absent in files from before accounts
}

/** The MQTT identity issued with a registration (the answer's `identity` section). */
export interface IssuedIdentity {
  certificatePem: string;
  privateKey: string;
  mqttPassword: string;
}

const REGISTRY_VERSION = 1;

/**
 * The devices registered so far, by AWS IoT client id; persisted to `path` when given. It is the AIS service's
 * DeviceDirectory (emulator/ais/service.ts): lookup() for Connect, updateKey() after a secret rotation.
 */
export class DeviceRegistry implements DeviceDirectory, DeviceCredentials {
  private readonly devices = new Map<string, DeviceRegistration>();

  constructor(private readonly path: string | undefined) {
    if (path === undefined) return;
    const stored = readJsonFile(path) as { version?: unknown; devices?: Record<string, StoredRegistration> } | undefined;
    if (stored === undefined) return;
    if (typeof stored !== 'object' || stored === null || stored.version !== REGISTRY_VERSION || typeof stored.devices !== 'object' || stored.devices === null) {
      throw new Error(`${path}: device registry of version ${REGISTRY_VERSION} with a devices object expected`);
    }
    for (const [clientId, entry] of Object.entries(stored.devices)) {
      const aesKey = Buffer.from(entry.aesKey, 'base64');
      const expected = entry.algorithm === 'ECDH_CURVE_25519_32_BYTE' ? 32 : 16;
      if (aesKey.length !== expected) throw new Error(`${path}: device ${clientId}: ${expected}-byte AES key expected for ${entry.algorithm}, got ${aesKey.length}`);
      this.devices.set(clientId, { ...entry, iotClientId: clientId, aesKey, account: entry.account ?? DEFAULT_ACCOUNT });
    }
  }

  /** The registration of an AWS IoT client id, or undefined. */
  get(iotClientId: string): DeviceRegistration | undefined {
    return this.devices.get(iotClientId);
  }

  /** DeviceDirectory: the account and current AES key of a client id. */
  lookup(iotClientId: string): { awsAccountId: string; key: Uint8Array } | undefined {
    const entry = this.devices.get(iotClientId);
    return entry === undefined ? undefined : { awsAccountId: entry.awsAccountId, key: entry.aesKey };
  }

  /** DeviceDirectory: the device confirmed a rotated key (SecretRotated); it replaces the registered one, on disk too. */
  updateKey(iotClientId: string, key: Uint8Array): void {
    const entry = this.devices.get(iotClientId);
    if (entry === undefined) throw new RangeError(`updateKey: a registered client id expected, got ${JSON.stringify(iotClientId)}`);
    if (key.length !== entry.aesKey.length) throw new RangeError(`updateKey: a ${entry.aesKey.length}-byte key expected for ${entry.algorithm}, got ${key.length}`);
    this.put({ ...entry, aesKey: Buffer.from(key) });
  }

  /** DeviceCredentials (the broker): does the certificate or MQTT password prove this registered client id? */
  proves(iotClientId: string, proof: { certificateSha256: string } | { password: Uint8Array }): boolean | undefined {
    const entry = this.devices.get(iotClientId);
    if (entry === undefined) return undefined;
    const expected = 'certificateSha256' in proof ? entry.certificateSha256 : entry.passwordSha256;
    const given = 'certificateSha256' in proof ? proof.certificateSha256 : sha256Hex(proof.password);
    return expected !== undefined && expected.length === given.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
  }

  get size(): number {
    return this.devices.size;
  }

  clientIds(): string[] {
    return [...this.devices.keys()];
  }

  /** Adds or replaces an entry; the file is written first, so a failed write leaves the registry as it was. */
  put(entry: DeviceRegistration): void {
    const next = new Map(this.devices);
    next.set(entry.iotClientId, entry);
    this.persist(next);
    this.devices.set(entry.iotClientId, entry);
  }

  /** Forgets a device; true when it was registered. */
  delete(iotClientId: string): boolean {
    if (!this.devices.has(iotClientId)) return false;
    const next = new Map(this.devices);
    next.delete(iotClientId);
    this.persist(next);
    this.devices.delete(iotClientId);
    return true;
  }

  private persist(devices: Map<string, DeviceRegistration>): void {
    if (this.path === undefined) return;
    const stored: Record<string, StoredRegistration> = {};
    for (const [clientId, entry] of devices) stored[clientId] = { ...entry, aesKey: entry.aesKey.toString('base64') };
    writeJsonFileAtomic(this.path, { version: REGISTRY_VERSION, devices: stored });
  }
}

export interface RegistrationServiceOptions {
  /**
   * Validates the refresh token of the request: the LwaEmulator, or a stand-in. accountOf() names the account it
   * was issued for (undefined: not live); without it every token is of DEFAULT_ACCOUNT.
   */
  lwa: { validateRefreshToken(clientId: string, refreshToken: string): boolean; accountOf?(clientId: string, refreshToken: string): string | undefined };
  /** AWS accounts associated with the AVS product (§7 gotcha 8). */
  awsAccountIds: string[];
  /** The emulator's AWS IoT endpoint host, the one `iot.endpoint` must name. */
  iotEndpoint: string;
  /**
   * Other names of the same endpoint that `iot.endpoint` may give (an AWS account has two as well: its ATS and its
   * legacy endpoint): a device names the broker by the name its TLS checks, and mbedTLS 2 checks DNS names only.
   */
  iotEndpointAliases?: readonly string[];
  /** Folder of the registry file; in memory only when absent. */
  dataDir?: string;
  /** Topic root of the answer. Default "$aws/alexa". */
  topicRoot?: string;
  log?: Logger;
  /** After each successful registration (a re-registration too: the device's key changed). */
  onRegistered?(registration: DeviceRegistration): void;
  /** Signs the devices' client certificates. Default: the one kept in dataDir (device-ca.ts). */
  deviceCa?: DeviceCa;
}

class Refusal extends Error {
  constructor(readonly code: RegistrationFailureCode, description: string, readonly status = FAILURE_STATUS[code]) {
    super(description);
  }
}

const ALGORITHMS: readonly string[] = ['ECDH_CURVE_25519_32_BYTE', 'ECDH_CURVE_25519_16_BYTE_SHA256'];
// Canonical base64 of exactly 32 bytes: 43 characters, the last holding 2 data bits, one '='.
const PUBLIC_KEY_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export class RegistrationService {
  readonly handle: RouteHandler;
  readonly registry: DeviceRegistry;
  /** Certificates attached to things by provisioning (`provision`), valid whatever AIS registration does. */
  readonly things: ThingCertificates;
  /** What the broker asks: the thing's provisioned certificates prove it, else the latest registration's identity. */
  readonly credentials: DeviceCredentials;
  /** The CA the broker trusts for client certificates. */
  readonly deviceCa: DeviceCa;
  private readonly options: RegistrationServiceOptions;
  private readonly accounts: Set<string>;
  private readonly topicRoot: string;
  private readonly log: Logger;
  private injectedFailures = 0;

  constructor(options: RegistrationServiceOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError(`RegistrationService options expected an object, got ${typeof options}`);
    if (typeof options.lwa?.validateRefreshToken !== 'function') throw new TypeError('options.lwa expected an object with validateRefreshToken(clientId, refreshToken)');
    if (!Array.isArray(options.awsAccountIds) || options.awsAccountIds.some((id) => typeof id !== 'string' || !/^[0-9]{12}$/.test(id))) {
      throw new RangeError(`options.awsAccountIds expected an array of 12-digit strings, got ${JSON.stringify(options.awsAccountIds)}`);
    }
    if (typeof options.iotEndpoint !== 'string' || options.iotEndpoint === '') throw new TypeError(`options.iotEndpoint expected a host name, got ${JSON.stringify(options.iotEndpoint)}`);
    this.options = options;
    this.accounts = new Set(options.awsAccountIds);
    this.topicRoot = options.topicRoot ?? DEFAULT_TOPIC_ROOT;
    this.log = options.log ?? new Logger(silentSink, 'registration');
    this.registry = new DeviceRegistry(options.dataDir === undefined ? undefined : join(options.dataDir, REGISTRY_FILE));
    this.deviceCa = options.deviceCa ?? new DeviceCa(options.dataDir);
    this.things = new ThingCertificates(options.dataDir === undefined ? undefined : join(options.dataDir, THINGS_FILE));
    this.credentials = {
      proves: (clientId, proof) => ('certificateSha256' in proof && this.things.has(clientId, proof.certificateSha256)) || this.registry.proves(clientId, proof),
    };
    this.handle = (request, response, body) => this.route(request, response, body);
  }

  /**
   * AWS IoT's CreateKeysAndCertificate for a thing, attached to it: a key pair and a certificate from the device CA
   * (CN the client id, O the account), which the broker takes for that client id before and after AIS registration.
   */
  provision(clientId: string, account: string): IssuedCertificate {
    if (!isClientId(clientId)) throw new RangeError(`a client id of 1-128 printable ASCII characters without + # / expected, got ${JSON.stringify(clientId.slice(0, 130))}`);
    const issued = this.deviceCa.issue(clientId, account);
    this.things.attach(clientId, issued.sha256);
    this.log.info(`provisioned thing ${clientId} (user account ${account}): certificate SHA-256 ${issued.sha256.slice(0, 16)}… attached`);
    return issued;
  }

  /** Test hook: the next `count` otherwise valid registrations answer INTERNAL_SERVER_ERROR. */
  failNextRegistrations(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count expected an integer >= 0, got ${count}`);
    this.injectedFailures = count;
  }

  private route(request: IncomingMessage, response: ServerResponse, body: Buffer): boolean {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    if ((query < 0 ? url : url.slice(0, query)) !== REGISTRATION_PATH) return false;
    try {
      if (request.method !== 'POST') throw new Refusal('INVALID_REQUEST', `POST expected, got ${request.method}`, 405);
      const registration = this.register(request, body);
      sendJson(response, 200, {
        encryption: { publicKey: registration.servicePublicKey.toString('base64') }, iot: { topicRoot: this.topicRoot }, identity: registration.identity,
      });
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal('INTERNAL_SERVER_ERROR', 'the registration could not be completed');
      if (refusal !== error) this.log.error(`registration failed internally: ${(error as Error).stack ?? String(error)}`);
      else this.log.info(`registration refused: ${refusal.code} (HTTP ${refusal.status}): ${refusal.message}`);
      sendJson(response, refusal.status, { code: refusal.code, description: refusal.message });
    }
    return true;
  }

  private register(request: IncomingMessage, body: Buffer): { servicePublicKey: Buffer; identity: IssuedIdentity | undefined } {
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new Refusal('INVALID_REQUEST', `content-type application/json expected, got ${JSON.stringify(type || 'none')}`);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Refusal('INVALID_REQUEST', 'the body is not JSON');
    }
    if (!isObject(value)) throw new Refusal('INVALID_REQUEST', `the body expected a JSON object, got ${describe(value)}`);
    const token = leaf(value, 'authentication', 'token');
    const lwaClientId = leaf(value, 'authentication', 'clientId');
    const algorithm = leaf(value, 'encryption', 'algorithm');
    const publicKeyText = leaf(value, 'encryption', 'publicKey');
    const awsAccountId = leaf(value, 'iot', 'awsAccountId');
    const iotClientId = leaf(value, 'iot', 'clientId');
    const endpoint = leaf(value, 'iot', 'endpoint');
    const topicRoot = (value.iot as Record<string, unknown>).topicRoot;
    if (topicRoot !== undefined && typeof topicRoot !== 'string') throw new Refusal('INVALID_REQUEST', `iot.topicRoot expected a string when given, got ${describe(topicRoot)}`);
    if (!isClientId(iotClientId)) {
      throw new Refusal('INVALID_REQUEST', 'iot.clientId expected 1-128 printable ASCII characters without + # /');
    }
    if (!ALGORITHMS.includes(algorithm)) {
      throw new Refusal('INVALID_ENCRYPTION_ALGORITHM', `encryption.algorithm expected ${ALGORITHMS.join(' or ')}, got ${JSON.stringify(algorithm.slice(0, 64))}`);
    }
    if (!PUBLIC_KEY_BASE64.test(publicKeyText)) {
      throw new Refusal('INVALID_ENCRYPTION_DATA', `encryption.publicKey expected base64 of a 32-byte X25519 key (44 characters), got ${publicKeyText.length} characters that are not`);
    }
    if (!/^[0-9]{12}$/.test(awsAccountId) || !this.accounts.has(awsAccountId)) {
      this.log.info(`AWS account ${JSON.stringify(awsAccountId.slice(0, 20))} is not associated with the product`);
      throw new Refusal('INVALID_AWS_ACCOUNT', 'The AWS IoT account provided does not support AIS');
    }
    if (![this.options.iotEndpoint, ...this.options.iotEndpointAliases ?? []].some((name) => name.toLowerCase() === endpoint.toLowerCase())) {
      throw new Refusal('INVALID_IOT_ENDPOINT', `iot.endpoint expected the AWS IoT endpoint of the account, got ${JSON.stringify(endpoint.slice(0, 253))}`);
    }
    if (!this.options.lwa.validateRefreshToken(lwaClientId, token)) {
      throw new Refusal('INVALID_AUTHENTICATION_CREDENTIALS', `authentication.token is not a live LWA refresh token of client ${JSON.stringify(lwaClientId.slice(0, 128))}`);
    }
    const account = this.options.lwa.accountOf?.(lwaClientId, token) ?? DEFAULT_ACCOUNT;
    const owner = this.registry.get(iotClientId)?.account;
    if (owner !== undefined && owner !== account) {
      this.log.warn(`registration of ${iotClientId} by account ${account} refused: the client id belongs to account ${owner}`);
      throw new Refusal('INVALID_AUTHENTICATION_CREDENTIALS', `iot.clientId ${iotClientId} is registered to another account`);
    }

    const serviceKeys = generateServiceKeyPair();
    let aesKey: Buffer;
    try {
      aesKey = deriveServiceKey(algorithm, serviceKeys.privateKey, Buffer.from(publicKeyText, 'base64'));
    } catch (error) {
      throw new Refusal('INVALID_ENCRYPTION_DATA', `encryption.publicKey is unusable for X25519: ${(error as Error).message}`);
    } finally {
      serviceKeys.privateKey.fill(0);
    }
    if (this.injectedFailures > 0) {
      this.injectedFailures--;
      throw new Refusal('INTERNAL_SERVER_ERROR', 'injected failure (failNextRegistrations)');
    }
    // A thing provisioned through AWS IoT (`provision`) has its certificate: it gets AIS's own answer, without the
    // identity (Amazon's C client reads at most 250 bytes of it).
    const certificate = this.things.provisioned(iotClientId) ? undefined : this.deviceCa.issue(iotClientId, account);
    const mqttPassword = certificate && randomBytes(24).toString('base64');
    const entry: DeviceRegistration = {
      iotClientId, awsAccountId, iotEndpoint: endpoint, algorithm: algorithm as ServiceAlgorithm,
      aesKey: Buffer.from(aesKey), registeredAt: new Date().toISOString(), lwaClientId, lwaRefreshToken: token, account,
      ...(certificate && mqttPassword ? { certificateSha256: certificate.sha256, passwordSha256: sha256Hex(Buffer.from(mqttPassword)) } : {}),
    };
    aesKey.fill(0);
    const replaced = this.registry.get(iotClientId) !== undefined;
    this.registry.put(entry);
    this.log.info(`${replaced ? 're-registered' : 'registered'} ${iotClientId} (user account ${account}, AWS account ${awsAccountId}, ${algorithm}, LWA client ${lwaClientId}, `
      + `refresh token ${redact(token)}); AES key ${redact(entry.aesKey)}; `
      + (certificate ? `client certificate SHA-256 ${certificate.sha256.slice(0, 16)}…, ${replaced ? 'the previous certificate and MQTT password revoked' : 'an MQTT password'}` : 'its provisioned certificate, no identity issued'));
    this.options.onRegistered?.(entry);
    return { servicePublicKey: serviceKeys.publicKey, identity: certificate && mqttPassword ? { certificatePem: certificate.certificatePem, privateKey: certificate.privateKeyPem, mqttPassword } : undefined };
  }
}

/** An AWS IoT client id as AIS takes it: 1-128 printable ASCII characters, no MQTT wildcard or topic separator. */
function isClientId(id: string): boolean {
  return /^[\x21-\x7e]{1,128}$/.test(id) && !/[+#/]/.test(id);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** body[section][name] as a non-empty string: MISSING_PARAM when absent, INVALID_REQUEST when of another type. */
function leaf(body: Record<string, unknown>, section: string, name: string): string {
  const parent = body[section];
  if (parent === undefined || parent === null) throw new Refusal('MISSING_PARAM', `${section} missing`);
  if (!isObject(parent)) throw new Refusal('INVALID_REQUEST', `${section} expected an object, got ${describe(parent)}`);
  const value = parent[name];
  if (value === undefined || value === null || value === '') throw new Refusal('MISSING_PARAM', `${section}.${name} missing`);
  if (typeof value !== 'string') throw new Refusal('INVALID_REQUEST', `${section}.${name} expected a string, got ${describe(value)}`);
  return value;
}
