// Account linking on the Node host. showCodePair() is how the host shows Code-Based Linking's user code (a line on
// stdout, where a device would use its display). The rest is companion-app provisioning: the AIS overview's other linking path (an app on the phone signs
// in with LWA and hands the device a refresh token and client id over the local network). The device listens for
// POST /provision `{"refreshToken", "clientId"}` and stores them (src/ais/linking.ts saveLinkCredentials) for
// registration, which deletes them once it succeeds.
//
// Any host on the LAN can reach this port, so a token is taken only with the one-time provisioning code shown
// on the device at startup (header `x-provisioning-code` or body field `provisioningCode`):
// - 10 characters from a 32-letter alphabet (50 bits), compared in constant time;
// - maxAttempts wrong codes (default 5) lock the endpoint until restart: no guessing at network speed;
// - one success consumes the code: later requests get 410 and cannot replace the stored token.
// Use `tls` when the network is not trusted: over plain HTTP the token crosses the LAN in clear.
//
// Answers (JSON `{"status"}` or `{"error", "description"}`):
//   200 provisioned | 400 bad_request (not JSON, fields missing or not strings) | 401 invalid_code |
//   404 not_found | 405 method_not_allowed | 410 already_provisioned | 413 too_large | 415 unsupported_media_type |
//   429 locked (too many wrong codes)
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomInt, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Storage } from '../../src/ports/storage.js';
import { Logger, redact } from '../../src/ports/log.js';
import { saveLinkCredentials, type CodePair, type LinkCredentials } from '../../src/ais/linking.js';

export const PROVISIONING_PATH = '/provision';
export const PROVISIONING_CODE_HEADER = 'x-provisioning-code';
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 10;
const MAX_BODY_BYTES = 8192;

export interface ProvisioningServerOptions {
  storage: Storage;
  log: Logger;
  /** Default 0.0.0.0: the phone is on the LAN. */
  host?: string;
  /** Default 0 (a free port, see `port` of the result). */
  port?: number;
  tls?: { cert: string; key: string };
  /** The one-time code; random by default (tests pass one). */
  code?: string;
  /** Wrong codes before the endpoint locks. Default 5. */
  maxAttempts?: number;
  /** Shows the code on the device; by default a line on stdout (not the log: the log may leave the device). */
  showCode?: (code: string, url: string) => void;
  /** After the credentials are stored. */
  onProvisioned?: (credentials: LinkCredentials) => void;
}

export interface ProvisioningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** CodeBasedLinking's onCode on the Node host: one line telling the user where to enter which code. */
export function showCodePair(codePair: CodePair, writeLine: (line: string) => void = (line) => { process.stdout.write(line); }): void {
  writeLine(`To link this device to your Amazon account, open ${codePair.verificationUri} and enter the code ${codePair.userCode} `
    + `(valid for ${Math.round(codePair.expiresInMs / 1000)} s)\n`);
}

export function newProvisioningCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

export async function startProvisioningServer(options: ProvisioningServerOptions): Promise<ProvisioningServer> {
  if (options === null || typeof options !== 'object') throw new TypeError(`provisioning options expected an object, got ${typeof options}`);
  if (options.storage === null || typeof options.storage !== 'object') throw new TypeError('options.storage expected a Storage');
  if (!(options.log instanceof Logger)) throw new TypeError('options.log expected a Logger');
  const code = options.code ?? newProvisioningCode();
  if (typeof code !== 'string' || code.length < 8) throw new RangeError(`options.code expected at least 8 characters, got ${typeof code === 'string' ? code.length : typeof code}`);
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`options.maxAttempts expected an integer >= 1, got ${maxAttempts}`);
  const log = options.log;
  const expected = Buffer.from(code, 'utf8');
  let wrongAttempts = 0;
  let provisioned = false;

  const answer = (response: ServerResponse, status: number, body: Record<string, string>): void => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
    response.end(text);
  };

  const handle = (request: IncomingMessage, response: ServerResponse, body: Buffer): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== PROVISIONING_PATH) return answer(response, 404, { error: 'not_found', description: `POST ${PROVISIONING_PATH} is the only route` });
    if (request.method !== 'POST') return answer(response, 405, { error: 'method_not_allowed', description: `POST expected, got ${request.method}` });
    if (provisioned) return answer(response, 410, { error: 'already_provisioned', description: 'the provisioning code was used; restart the device to provision again' });
    if (wrongAttempts >= maxAttempts) return answer(response, 429, { error: 'locked', description: `${maxAttempts} wrong provisioning codes; restart the device to try again` });
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return answer(response, 415, { error: 'unsupported_media_type', description: `content-type application/json expected, got ${JSON.stringify(type || 'none')}` });
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(response, 400, { error: 'bad_request', description: 'the body is not JSON' });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return answer(response, 400, { error: 'bad_request', description: 'a JSON object expected' });
    const header = request.headers[PROVISIONING_CODE_HEADER];
    const presented = typeof header === 'string' ? header : typeof value.provisioningCode === 'string' ? value.provisioningCode : undefined;
    // The code is checked before the fields, so an attacker learns nothing about the body without it.
    const given = Buffer.from(presented ?? '', 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      wrongAttempts++;
      log.warn(`provisioning from ${request.socket.remoteAddress ?? '?'} refused: ${presented === undefined ? 'no' : 'wrong'} code (${wrongAttempts} of ${maxAttempts})`);
      if (wrongAttempts >= maxAttempts) log.error(`provisioning locked after ${maxAttempts} wrong codes`);
      return answer(response, 401, { error: 'invalid_code', description: `the provisioning code shown on the device expected in header ${PROVISIONING_CODE_HEADER} or field provisioningCode` });
    }
    const { refreshToken, clientId } = value;
    if (typeof refreshToken !== 'string' || refreshToken === '' || refreshToken.length > 4096) {
      return answer(response, 400, { error: 'bad_request', description: 'refreshToken expected a string of 1-4096 characters' });
    }
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > 512) {
      return answer(response, 400, { error: 'bad_request', description: 'clientId expected a string of 1-512 characters' });
    }
    const credentials = { refreshToken, clientId };
    saveLinkCredentials(options.storage, credentials);
    provisioned = true;
    log.info(`provisioned by ${request.socket.remoteAddress ?? '?'}: LWA client ${clientId}, refresh token ${redact(refreshToken)} stored for registration`);
    answer(response, 200, { status: 'provisioned' });
    options.onProvisioned?.(credentials);
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        answer(response, 413, { error: 'too_large', description: `request body over ${MAX_BODY_BYTES} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      try {
        handle(request, response, Buffer.concat(chunks));
      } catch (error) {
        log.error(`provisioning failed: ${(error as Error).message}`);
        if (!response.headersSent) answer(response, 500, { error: 'internal', description: 'the credentials could not be stored' });
      }
    });
  };

  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createHttpServer(onRequest);
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}${PROVISIONING_PATH}`;
  (options.showCode ?? ((shown, at) => { process.stdout.write(`Provisioning code: ${shown} (companion app: POST ${at})\n`); }))(code, url);
  log.info(`provisioning endpoint listening on ${url}`);
  return {
    url,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
