// HttpClient port on Node over node:http and node:https: one request, one connection, the whole body.
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import { isIP } from 'node:net';
import { pemCertificate, pemKey } from './pem.js';
import { explainConnectionError } from './tls-error.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/ports/http.js';

/** Deadline of a whole request (connect, send, receive) when the caller gives none. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest body accepted when the caller gives no maxResponseBytes: registration and LWA answers are a few KB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export class HttpError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly cause?: unknown) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The HttpClient of the Node host. Misuse (a bad method or URL) throws at once; everything that happens on the
 * network reaches `callback`, exactly once and never synchronously.
 */
export const nodeHttpClient: HttpClient = (request, callback) => {
  const url = checkRequest(request);
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxResponseBytes = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // Name the request without its query string: LWA and registration may carry tokens there.
  const what = `HTTP ${request.method} ${url.origin}${url.pathname}`;
  let done = false;
  let req: ClientRequest | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const finish = (error: Error | undefined, response?: HttpResponse): void => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    if (error) req?.destroy();
    callback(error, response);
  };

  const headers: OutgoingHttpHeaders = { ...request.headers };
  const body = request.body;
  if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(body.length);
  }
  const options: HttpsRequestOptions = {
    method: request.method,
    headers,
    agent: false, // one connection per request, closed after it: no keep-alive pool to hold the process open
  };
  if (url.protocol === 'https:' && request.tls) {
    const tls = request.tls;
    if ((tls.certificate === undefined) !== (tls.key === undefined)) {
      throw new TypeError('tls.certificate and tls.key go together for mutual TLS; got only one of them');
    }
    if (tls.ca !== undefined) options.ca = pemCertificate(tls.ca);
    if (tls.certificate !== undefined) options.cert = pemCertificate(tls.certificate);
    if (tls.key !== undefined) options.key = pemKey(tls.key);
    if (tls.serverName !== undefined) {
      const identity = tls.serverName;
      if (!isIP(identity)) options.servername = identity;
      options.checkServerIdentity = (_host, cert) => checkServerIdentity(identity, cert);
    }
    // tls.protocols (ALPN) is not used: this client speaks HTTP/1.1 only, which needs no ALPN.
  }

  req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => receive(res));
  req.on('error', (error: Error & { code?: string }) => {
    finish(new HttpError(`${what}: ${explainConnectionError(error)}`, error.code, error));
  });
  req.end(body === undefined ? undefined : Buffer.from(body));
  // Armed last: whatever threw above was misuse and reached the caller as an exception, not through callback.
  deadline = setTimeout(() => finish(new HttpError(`${what} timed out after ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);

  function receive(res: IncomingMessage): void {
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxResponseBytes) {
      finish(new HttpError(`${what}: response body of ${declared} bytes exceeds maxResponseBytes ${maxResponseBytes}`, 'ERR_RESPONSE_TOO_LARGE'));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      received += chunk.length;
      if (received > maxResponseBytes) {
        finish(new HttpError(`${what}: response body exceeds maxResponseBytes ${maxResponseBytes} (${received} bytes received so far)`, 'ERR_RESPONSE_TOO_LARGE'));
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', (error: Error & { code?: string }) => {
      finish(new HttpError(`${what}: response failed: ${error.message}`, error.code, error));
    });
    res.on('end', () => {
      if (done) return;
      // A fresh Uint8Array, not a Buffer: small Buffers share Node's pool, and the core expects a plain array.
      const bodyBytes = new Uint8Array(received);
      let offset = 0;
      for (const chunk of chunks) {
        bodyBytes.set(chunk, offset);
        offset += chunk.length;
      }
      finish(undefined, { status: res.statusCode ?? 0, headers: lowerCaseHeaders(res.rawHeaders), body: bodyBytes });
    });
  }
};

/** Header names lower-cased; repeated headers joined with ", " (RFC 9110 §5.3). */
function lowerCaseHeaders(raw: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${raw[i + 1]}` : raw[i + 1];
  }
  return headers;
}

function checkRequest(request: HttpRequest): URL {
  if (request === null || typeof request !== 'object') throw new TypeError(`HTTP request must be an object, got ${typeof request}`);
  if (request.method !== 'GET' && request.method !== 'POST') throw new TypeError(`HTTP method must be GET or POST, got ${JSON.stringify(request.method)}`);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new TypeError(`HTTP url must be an absolute http:// or https:// URL, got ${JSON.stringify(request.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`HTTP url must be an absolute http:// or https:// URL, got ${JSON.stringify(request.url)}`);
  }
  if (request.body !== undefined && !(request.body instanceof Uint8Array)) throw new TypeError('HTTP body must be a Uint8Array when given');
  for (const [name, value] of [['timeoutMs', request.timeoutMs], ['maxResponseBytes', request.maxResponseBytes]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new RangeError(`HTTP ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return url;
}
