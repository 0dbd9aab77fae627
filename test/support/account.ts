// The account-linking test bench: the emulator's LWA and AIS registration endpoints on one real HTTP(S) server
// (port 0, test PKI), and the device's Node host ports aimed at it.
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createTestPki, type TestPki } from './pki.js';
import { startHttpServer, type RouteHandler } from '../../emulator/http.js';
import { LwaEmulator, type LwaEmulatorOptions } from '../../emulator/lwa.js';
import { RegistrationService, type RegistrationServiceOptions } from '../../emulator/registration.js';
import { nodeHttpClient } from '../../hosts/node/http.js';
import { FolderStorage } from '../../hosts/node/storage.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import type { HttpRequest, HttpResponse } from '../../src/ports/http.js';
import type { TlsOptions } from '../../src/ports/socket.js';

export const LWA_CLIENT_ID = 'amzn1.application-oa2-client.0123456789abcdef';
export const PRODUCT_ID = 'ais_test_speaker';
export const SERIAL = 'SN-0001';
export const AWS_ACCOUNT_ID = '123456789012';
export const IOT_ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com';
export const IOT_CLIENT_ID = 'ais-device-1';

export const deviceCrypto = createPortableCrypto((out) => randomFillSync(out));

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder, removed when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

let pki: TestPki | undefined;

/** One PKI per test file. */
export function testPki(): TestPki {
  pki ??= createTestPki({ dir: tempDir('ais-account-pki-') });
  return pki;
}

export interface Bench {
  url: string;
  /** What the device's HttpClient needs to trust the server; undefined over plain HTTP. */
  tls: TlsOptions | undefined;
  lwa: LwaEmulator;
  registration: RegistrationService;
  dataDir: string;
  close(): Promise<void>;
}

export interface BenchOptions {
  /** HTTPS with the test PKI (default) or plain HTTP. */
  https?: boolean;
  lwa?: Partial<LwaEmulatorOptions>;
  registration?: Partial<RegistrationServiceOptions>;
  /** Handlers tried before the emulator's: a test's tampering proxy or fault. */
  before?: RouteHandler[];
  /** Default: a new temporary folder. */
  dataDir?: string;
}

export async function startBench(options: BenchOptions = {}): Promise<Bench> {
  const dataDir = options.dataDir ?? tempDir('ais-account-data-');
  const lwa = new LwaEmulator({
    clients: [{ clientId: LWA_CLIENT_ID, productIds: [PRODUCT_ID] }],
    codeLifetimeMs: 1500,
    pollIntervalMs: 100,
    dataDir,
    ...options.lwa,
  });
  const registration = new RegistrationService({
    lwa,
    awsAccountIds: [AWS_ACCOUNT_ID],
    iotEndpoint: IOT_ENDPOINT,
    dataDir,
    ...options.registration,
  });
  const https = options.https ?? true;
  const server = await startHttpServer({
    tls: https ? { cert: testPki().server.certPem, key: testPki().server.keyPem } : undefined,
    handlers: [...(options.before ?? []), lwa.handle, registration.handle],
  });
  return {
    url: server.url,
    tls: https ? { ca: testPki().ca.certPem } : undefined,
    lwa,
    registration,
    dataDir,
    close: () => server.close(),
  };
}

/** A device storage folder. */
export function deviceStorage(): FolderStorage {
  return new FolderStorage({ directory: tempDir('ais-device-storage-') });
}

/** The Node host HttpClient as a promise. */
export function send(request: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    nodeHttpClient(request, (error, response) => (error ? reject(error) : resolve(response as HttpResponse)));
  });
}

/** POSTs a form with the host client; answers status, body text and parsed JSON (undefined when not JSON). */
export async function postForm(bench: Pick<Bench, 'url' | 'tls'>, path: string, fields: Record<string, string>): Promise<{ status: number; text: string; json: any; headers: Record<string, string> }> {
  const response = await send({
    method: 'POST',
    url: bench.url + path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new Uint8Array(Buffer.from(new URLSearchParams(fields).toString())),
    tls: bench.tls,
  });
  return parsed(response);
}

/** POSTs raw bytes or text with the given content type. */
export async function postRaw(bench: Pick<Bench, 'url' | 'tls'>, path: string, body: string | Uint8Array, contentType = 'application/json', method: 'GET' | 'POST' = 'POST'): Promise<{ status: number; text: string; json: any; headers: Record<string, string> }> {
  const response = await send({
    method,
    url: bench.url + path,
    headers: { 'content-type': contentType },
    body: method === 'GET' ? undefined : typeof body === 'string' ? new Uint8Array(Buffer.from(body)) : body,
    tls: bench.tls,
  });
  return parsed(response);
}

function parsed(response: HttpResponse): { status: number; text: string; json: any; headers: Record<string, string> } {
  const text = Buffer.from(response.body).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The code-pair form of the device's scope_data. */
export function codePairForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'device_code',
    client_id: LWA_CLIENT_ID,
    scope: 'alexa:all',
    scope_data: JSON.stringify({ 'alexa:all': { productID: PRODUCT_ID, productInstanceAttributes: { deviceSerialNumber: SERIAL } } }),
    ...overrides,
  };
}
