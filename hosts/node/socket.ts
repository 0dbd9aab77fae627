// Socket port on Node over node:net and node:tls, in the ECMA-419 shape of src/ports/socket.ts:
// received chunks wait in a queue until the core read()s them into its own buffer; write() copies and says how
// much room is left below Node's high-water mark, and 'drain' becomes onWritable (back-pressure).
import { connect as netConnect, isIP } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { pemCertificate, pemKey } from './pem.js';
import { explainConnectionError } from './tls-error.js';
import type { Socket, SocketFactory, SocketOptions, TlsOptions } from '../../src/ports/socket.js';

/** Bytes buffered before we stop reading from the kernel; reading below it resumes. Bounds memory if the core lags. */
export const READ_HIGH_WATER_BYTES = 256 * 1024;
/** How long close() lets queued writes drain (a final MQTT DISCONNECT) before the connection is destroyed. */
export const CLOSE_LINGER_MS = 2000;

/** A connection failure: says what failed and where; `code` is Node's (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID...). */
export class SocketError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly cause?: unknown) {
    super(message);
    this.name = 'SocketError';
  }
}

export class NodeSocket implements Socket {
  private readonly socket: NetSocket;
  private readonly chunks: Buffer[] = [];
  private headOffset = 0;      // bytes of chunks[0] already read
  private bufferedBytes = 0;
  private paused = false;
  private waitingForDrain = false; // a write() returned ≤ 0: onWritable at the next 'drain'
  private finished = false;    // onError or onClose has run, or close() was called: no callback after it
  private closed = false;      // close() was called
  private options: SocketOptions | undefined;
  private readonly where: string;

  constructor(options: SocketOptions) {
    checkOptions(options);
    this.options = options;
    this.where = `${options.tls ? 'TLS' : 'TCP'} ${options.host}:${options.port}`;
    if (options.tls) {
      this.socket = tlsConnect(tlsConnectionOptions(options.host, options.port, options.tls));
      this.socket.once('secureConnect', () => this.connected());
    } else {
      this.socket = netConnect({ host: options.host, port: options.port });
      this.socket.once('connect', () => this.connected());
    }
    this.socket.setNoDelay(true); // MQTT packets are small and latency matters (audio frames)
    this.socket.on('data', (chunk: Buffer) => this.received(chunk));
    this.socket.on('end', () => this.peerEnded());
    this.socket.on('drain', () => this.drained());
    // Kept after close(): an 'error' event without a listener would throw out of the event loop.
    this.socket.on('error', (error: Error & { code?: string }) => this.fail(error));
    this.socket.on('close', () => {
      if (!this.finished) this.fail(new SocketError(`${this.where}: connection closed without an end or an error`, undefined));
    });
  }

  read(buffer: Uint8Array): number {
    let count = 0;
    while (count < buffer.length && this.chunks.length > 0) {
      const head = this.chunks[0];
      const take = Math.min(buffer.length - count, head.length - this.headOffset);
      buffer.set(head.subarray(this.headOffset, this.headOffset + take), count);
      count += take;
      this.headOffset += take;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.bufferedBytes -= count;
    if (this.paused && this.bufferedBytes < READ_HIGH_WATER_BYTES && !this.closed) {
      this.paused = false;
      this.socket.resume();
    }
    return count;
  }

  write(data: Uint8Array, length: number = data.length): number {
    if (!(data instanceof Uint8Array)) throw new TypeError(`write() takes a Uint8Array, got ${describe(data)}`);
    // After close() or a failure the connection is gone and onError/onClose has said so: nothing to send to.
    if (this.finished) return 0;
    // Buffer.from(Uint8Array) copies: Node keeps what we pass until it is sent, and the core reuses its buffers.
    if (!(length >= 0 && length <= data.length)) throw new RangeError(`write() length must be 0-${data.length}, got ${length}`);
    // Node's write() is false from its high-water mark on, and then 'drain' comes once the buffer empties.
    if (!this.socket.write(Buffer.from(data.subarray(0, length)))) this.waitingForDrain = true;
    return this.room();
  }

  /** Bytes Node takes before its high-water mark (what the kernel has not taken yet counts against it). */
  private room(): number {
    return this.socket.writableHighWaterMark - this.socket.writableLength;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finished = true;
    this.options = undefined; // a late event finds no callbacks
    this.chunks.length = 0;
    this.bufferedBytes = 0;
    if (this.socket.connecting || this.socket.destroyed) {
      this.socket.destroy();
    } else {
      // end() sends what is queued, then FIN (close_notify with TLS); the timer bounds a peer that never closes.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
    }
  }

  private connected(): void {
    if (!this.finished) this.options!.onConnect();
  }

  private received(chunk: Buffer): void {
    if (this.finished) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes >= READ_HIGH_WATER_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.options!.onReadable(this.bufferedBytes);
  }

  private drained(): void {
    if (this.finished || !this.waitingForDrain) return;
    this.waitingForDrain = false;
    this.options!.onWritable?.(this.room());
  }

  private peerEnded(): void {
    if (this.finished) return;
    const options = this.options!;
    this.finished = true;
    // Bytes still queued stay readable: the peer's last packet may arrive together with its FIN.
    options.onClose?.();
  }

  private fail(error: Error & { code?: string }): void {
    if (this.finished) return;
    const options = this.options!;
    this.finished = true;
    this.socket.destroy();
    const wrapped = error instanceof SocketError
      ? error
      : new SocketError(`${this.where}: ${explainConnectionError(error)}`, error.code, error);
    options.onError(wrapped);
  }
}

/** The SocketFactory of the Node host. */
export const createSocket: SocketFactory = (options) => new NodeSocket(options);

function tlsConnectionOptions(host: string, port: number, tls: TlsOptions): ConnectionOptions {
  if ((tls.certificate === undefined) !== (tls.key === undefined)) {
    throw new TypeError('tls.certificate and tls.key go together for mutual TLS; got only one of them');
  }
  const identity = tls.serverName ?? host;
  return {
    host,
    port,
    ca: tls.ca === undefined ? undefined : pemCertificate(tls.ca),
    cert: tls.certificate === undefined ? undefined : pemCertificate(tls.certificate),
    key: tls.key === undefined ? undefined : pemKey(tls.key),
    // RFC 6066 forbids an IP address as SNI (Node warns); the certificate is still checked against it below.
    servername: isIP(identity) ? undefined : identity,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(identity, cert),
    ALPNProtocols: tls.protocols,
    rejectUnauthorized: true,
  };
}

function checkOptions(options: SocketOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`socket options must be an object, got ${describe(options)}`);
  if (typeof options.host !== 'string' || options.host === '') throw new TypeError(`socket host must be a non-empty string, got ${describe(options.host)}`);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new RangeError(`socket port must be an integer 1-65535, got ${String(options.port)}`);
  }
  for (const name of ['onConnect', 'onReadable', 'onError'] as const) {
    if (typeof options[name] !== 'function') throw new TypeError(`socket ${name} must be a function, got ${describe(options[name])}`);
  }
  if (options.onClose !== undefined && typeof options.onClose !== 'function') {
    throw new TypeError(`socket onClose must be a function when given, got ${describe(options.onClose)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
