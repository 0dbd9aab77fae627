// The HttpClient port over the socket port: one HTTP/1.1 request per connection ("Connection: close"), the
// whole body gathered up to a cap. For hosts without an HTTP stack of their own (XS, Moddable, an OEM's MCU):
// registration and Login with Amazon are a few small requests, so this favours size over features: no
// keep-alive, no redirects, no compression. The body ends at Content-Length, at the last chunk of a chunked
// body, or when the server closes a response that gives neither.

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../ports/http.js';
import type { Socket, SocketFactory } from '../ports/socket.js';
import { encodeUtf8 } from '../encoding/utf8.js';
import { nameError } from '../util/error-name.js';

/** Deadline of a whole request (connect, send, receive) when the caller gives none. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest body accepted when the caller gives no maxResponseBytes: registration and LWA answers are a few KB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** Largest status line plus headers accepted. */
const MAX_HEAD_BYTES = 16 * 1024;

export class HttpError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    nameError(this, 'HttpError');
  }
}

export interface ParsedUrl {
  secure: boolean;
  host: string;
  port: number;
  /** Path and query, at least "/". */
  target: string;
}

/** Splits an absolute http:// or https:// URL (no URL global on bare XS); undefined when it is not one. */
export function parseHttpUrl(url: string): ParsedUrl | undefined {
  const match = /^(https?):\/\/([^/?#@\s]+)([^#\s]*)/i.exec(url);
  if (!match) return undefined;
  const secure = match[1].toLowerCase() === 'https';
  const authority = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(match[2]);
  if (!authority) return undefined;
  const port = authority[2] === undefined ? (secure ? 443 : 80) : Number(authority[2]);
  if (port < 1 || port > 65535) return undefined;
  const rest = match[3];
  return { secure, host: authority[1].replace(/^\[|\]$/g, ''), port, target: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}` };
}

/** An HttpClient that opens one socket per request through `socket`, with timers from `clock`. */
export function createSocketHttpClient(socket: SocketFactory, clock: Clock): HttpClient {
  return (request, callback) => {
    const url = checkRequest(request);
    new Exchange(socket, clock, request, url, callback);
  };
}

const CR = 13;
const LF = 10;

class Exchange {
  private socket: Socket | undefined;
  private deadline: TimerHandle | undefined;
  private done = false;
  private readonly what: string;
  private readonly maxResponseBytes: number;
  private head = new Uint8Array(1024);
  private headLength = 0;
  private status = 0;
  private headers: Record<string, string> = {};
  /** Body bytes so far; `bodyLength` of them are used. */
  private body = new Uint8Array(0);
  private bodyLength = 0;
  private contentLength: number | undefined;
  private chunked = false;
  private inBody = false;
  /** Chunked decoding: bytes left in the current chunk, or -1 while reading a size line (`line` holds it). */
  private chunkLeft = -1;
  private line = '';
  private afterChunk = false;
  private readonly scratch = new Uint8Array(2048);

  constructor(
    factory: SocketFactory, private readonly clock: Clock, request: HttpRequest, url: ParsedUrl,
    private readonly callback: (error: Error | undefined, response?: HttpResponse) => void,
  ) {
    // Named without the query string: LWA and registration may carry tokens there.
    this.what = `HTTP ${request.method} ${url.secure ? 'https' : 'http'}://${url.host}:${url.port}${url.target.replace(/\?.*$/, '')}`;
    this.maxResponseBytes = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const message = requestBytes(request, url);
    this.socket = factory({
      host: url.host,
      port: url.port,
      tls: url.secure ? { ...request.tls } : undefined,
      onConnect: () => this.socket?.write(message),
      onReadable: (count) => this.receive(count),
      onError: (error) => this.ended(error),
      onClose: () => this.ended(undefined),
    });
    this.deadline = clock.setTimer(() => this.settle(new HttpError(`${this.what} timed out after ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
  }

  private settle(error: Error | undefined, response?: HttpResponse): void {
    if (this.done) return;
    this.done = true;
    this.clock.clearTimer(this.deadline);
    this.socket?.close();
    this.socket = undefined;
    this.callback(error, response);
  }

  private fail(message: string, code: string): void {
    this.settle(new HttpError(`${this.what}: ${message}`, code));
  }

  /** The connection ended: a response delimited by the close is complete; anything else failed. */
  private ended(error: Error | undefined): void {
    if (this.done) return;
    if (this.inBody && this.contentLength === undefined && !this.chunked) return this.respond();
    const reason = error ? error.message : 'the server closed the connection';
    this.fail(this.inBody ? `response cut short: ${reason}` : reason, 'ECONNRESET');
  }

  private receive(count: number): void {
    while (count > 0 && !this.done && this.socket) {
      const n = this.socket.read(this.scratch);
      if (n === 0) return;
      count -= n;
      this.consume(this.scratch, n);
    }
  }

  private consume(data: Uint8Array, length: number): void {
    let offset = 0;
    if (!this.inBody) {
      offset = this.takeHead(data, length);
      if (offset < 0 || this.done) return;
    }
    if (this.chunked) this.takeChunked(data, offset, length);
    else this.append(data, offset, length - offset);
    if (!this.done && this.contentLength !== undefined && this.bodyLength >= this.contentLength) this.respond();
  }

  /** Gathers the status line and headers; returns where the body starts in `data`, or -1 while incomplete. */
  private takeHead(data: Uint8Array, length: number): number {
    for (let i = 0; i < length; i++) {
      if (this.headLength === this.head.length) {
        if (this.head.length >= MAX_HEAD_BYTES) {
          this.fail(`response head longer than ${MAX_HEAD_BYTES} bytes`, 'ERR_HEAD_TOO_LARGE');
          return -1;
        }
        const grown = new Uint8Array(this.head.length * 2);
        grown.set(this.head);
        this.head = grown;
      }
      this.head[this.headLength++] = data[i];
      const h = this.head;
      const n = this.headLength;
      if (n >= 4 && h[n - 1] === LF && h[n - 2] === CR && h[n - 3] === LF && h[n - 4] === CR) {
        if (!this.parseHead(latin1(h, n - 4))) return -1;
        this.inBody = true;
        return i + 1;
      }
    }
    return -1;
  }

  private parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
    if (!status) {
      this.fail(`not an HTTP/1.x status line: ${JSON.stringify(lines[0].slice(0, 60))}`, 'ERR_BAD_RESPONSE');
      return false;
    }
    this.status = Number(status[1]);
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon <= 0) continue;
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim();
      this.headers[name] = name in this.headers ? `${this.headers[name]}, ${value}` : value;
    }
    this.chunked = /\bchunked\b/i.test(this.headers['transfer-encoding'] ?? '');
    const declared = this.headers['content-length'];
    if (!this.chunked && declared !== undefined) {
      if (!/^\d+$/.test(declared)) {
        this.fail(`bad Content-Length ${JSON.stringify(declared)}`, 'ERR_BAD_RESPONSE');
        return false;
      }
      this.contentLength = Number(declared);
      if (this.contentLength > this.maxResponseBytes) {
        this.fail(`response body of ${this.contentLength} bytes exceeds maxResponseBytes ${this.maxResponseBytes}`, 'ERR_RESPONSE_TOO_LARGE');
        return false;
      }
    }
    return true;
  }

  private takeChunked(data: Uint8Array, offset: number, length: number): void {
    while (offset < length && !this.done) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, length - offset);
        this.append(data, offset, take);
        offset += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.afterChunk = true;
        continue;
      }
      // A size line, or the CRLF after a chunk's data: gather up to LF.
      const byte = data[offset++];
      if (byte !== LF) {
        if (byte !== CR) this.line += String.fromCharCode(byte);
        if (this.line.length > 64) return this.fail('chunk size line too long', 'ERR_BAD_RESPONSE');
        continue;
      }
      if (this.afterChunk) {
        this.afterChunk = false;
        this.line = '';
        this.chunkLeft = -1;
        continue;
      }
      const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(this.line.trim());
      this.line = '';
      if (!size) return this.fail('bad chunk size line', 'ERR_BAD_RESPONSE');
      this.chunkLeft = parseInt(size[1], 16);
      if (this.chunkLeft === 0) return this.respond(); // trailers, if any, are not read
    }
  }

  private append(data: Uint8Array, offset: number, length: number): void {
    if (length <= 0) return;
    const needed = this.bodyLength + length;
    if (needed > this.maxResponseBytes) {
      this.fail(`response body exceeds maxResponseBytes ${this.maxResponseBytes} (${needed} bytes received so far)`, 'ERR_RESPONSE_TOO_LARGE');
      return;
    }
    if (needed > this.body.length) {
      const grown = new Uint8Array(Math.max(needed, this.contentLength ?? 0, this.body.length * 2, 256));
      grown.set(this.body.subarray(0, this.bodyLength));
      this.body = grown;
    }
    this.body.set(data.subarray(offset, offset + length), this.bodyLength);
    this.bodyLength = needed;
  }

  private respond(): void {
    this.settle(undefined, { status: this.status, headers: this.headers, body: this.body.slice(0, this.bodyLength) });
  }
}

function latin1(bytes: Uint8Array, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

function requestBytes(request: HttpRequest, url: ParsedUrl): Uint8Array {
  const defaultPort = url.port === (url.secure ? 443 : 80);
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  let head = `${request.method} ${url.target} HTTP/1.1\r\nHost: ${host}${defaultPort ? '' : `:${url.port}`}\r\nConnection: close\r\n`;
  const headers = request.headers ?? {};
  let hasLength = false;
  for (const name of Object.keys(headers)) {
    const value = String(headers[name]);
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`HTTP header ${JSON.stringify(name)} holds a line break`);
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'connection') continue;
    if (lower === 'content-length') hasLength = true;
    head += `${name}: ${value}\r\n`;
  }
  if (request.body !== undefined && !hasLength) head += `Content-Length: ${request.body.length}\r\n`;
  const headBytes = encodeUtf8(`${head}\r\n`);
  if (request.body === undefined || request.body.length === 0) return headBytes;
  const message = new Uint8Array(headBytes.length + request.body.length);
  message.set(headBytes);
  message.set(request.body, headBytes.length);
  return message;
}

function checkRequest(request: HttpRequest): ParsedUrl {
  if (request === null || typeof request !== 'object') throw new TypeError(`HTTP request must be an object, got ${typeof request}`);
  if (request.method !== 'GET' && request.method !== 'POST') throw new TypeError(`HTTP method must be GET or POST, got ${JSON.stringify(request.method)}`);
  const url = typeof request.url === 'string' ? parseHttpUrl(request.url) : undefined;
  if (!url) throw new TypeError(`HTTP url must be an absolute http:// or https:// URL, got ${JSON.stringify(request.url)}`);
  if (request.body !== undefined && !(request.body instanceof Uint8Array)) throw new TypeError('HTTP body must be a Uint8Array when given');
  for (const [name, value] of [['timeoutMs', request.timeoutMs], ['maxResponseBytes', request.maxResponseBytes]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new RangeError(`HTTP ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return url;
}
