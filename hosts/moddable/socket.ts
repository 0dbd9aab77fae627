// The socket port over Moddable's ECMA-419 sockets: `embedded:io/socket/tcp`, and `embedded:io/socket/tcp/tls`
// for TLS. What the adapter adds to them:
//   - write() that queues: the port's write takes any length at any time and copies it; ECMA-419's takes at
//     most the writable count it last reported, so the rest waits here for onWritable;
//   - read(buffer) of what there is: ECMA-419's read(buffer) must not ask beyond the readable count;
//   - PEM trust anchors, certificates and keys turned into the DER Moddable's TLS takes;
//   - onConnect at the first onWritable (the connection, and with TLS the handshake, is done).
// ECMA-419 TCP takes a dotted IPv4 address and does no DNS: a host name other than "localhost" is an error
// here (a real board resolves first with embedded:network/dns/resolver/udp). Moddable reports the peer's close
// as an error, so this adapter reports every end through onError; onClose is never called.
import TCP from 'embedded:io/socket/tcp';
import TLSSocket from 'embedded:io/socket/tcp/tls';
import type { SecureOptions, Transport, TransportOptions } from 'embedded:io/socket/tcp/tls';
import type { Socket, SocketFactory, SocketOptions, TlsOptions } from '../../src/ports/socket.js';
import { fromBase64 } from '../../src/encoding/base64.js';
import { decodeUtf8 } from '../../src/encoding/utf8.js';
import { ViewsByLength, viewsOver } from '../../src/util/views.js';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The dotted IPv4 address ECMA-419 TCP wants for `host`, or undefined. */
export function addressOf(host: string): string | undefined {
  if (host === 'localhost') return '127.0.0.1';
  const match = IPV4.exec(host);
  return match && match.slice(1).every((part) => Number(part) <= 255) ? host : undefined;
}

/** DER blocks of a PEM text (or the bytes as they are when they are DER already). */
export function derBlocks(material: string | Uint8Array, what: string): ArrayBuffer[] {
  const text = typeof material === 'string' ? material : material[0] === 0x2d /* '-' */ ? decodeUtf8(material, 0, material.length) ?? '' : undefined;
  if (text === undefined) return [copy(material as Uint8Array)];
  const blocks: ArrayBuffer[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const der = fromBase64(match[2].replace(/\s+/g, ''));
    if (!der) throw new TypeError(`${what}: the PEM block ${match[1]} is not base64`);
    blocks.push(copy(der));
  }
  if (blocks.length === 0) throw new TypeError(`${what}: neither PEM nor DER`);
  return blocks;
}

function copy(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

type SecureMaterial = Pick<SecureOptions, 'certificate' | 'clientCertificates' | 'clientKey'>;
/**
 * The DER of each TlsOptions' PEM, made at its first connection: a device reconnects with the same options, and
 * decoding the trust anchor, certificate and key again at every attempt cost the M7 image, its heap near full,
 * some 30 collections per attempt while its network was cut (the SDK and xsrun only read these buffers).
 * Made at the first connection, not at load: the Moddable build preloads this module and the M7 image prepares it in
 * flash, and a WeakMap made then is read-only (set() throws "read-only WeakMap instance"); a module variable stays
 * writable.
 */
let materials: WeakMap<TlsOptions, SecureMaterial> | undefined;

function secureOptions(tls: TlsOptions, host: string): SecureOptions {
  materials ??= new WeakMap();
  let material = materials.get(tls);
  if (material === undefined) {
    if ((tls.certificate === undefined) !== (tls.key === undefined)) {
      throw new TypeError('tls.certificate and tls.key go together for mutual TLS; got only one of them');
    }
    material = {};
    // ECMA-419 TLS takes one trust anchor: the first certificate of a PEM bundle.
    if (tls.ca !== undefined) material.certificate = derBlocks(tls.ca, 'tls.ca')[0];
    if (tls.certificate !== undefined) material.clientCertificates = derBlocks(tls.certificate, 'tls.certificate');
    if (tls.key !== undefined) material.clientKey = derBlocks(tls.key, 'tls.key')[0];
    materials.set(tls, material);
  }
  // A new object each time: the SDK's TLS session rewrites the options it is given (serverName).
  const secure: SecureOptions = { ...material, serverName: tls.serverName ?? host };
  if (tls.protocols !== undefined) secure.applicationLayerProtocolNegotiation = tls.protocols;
  return secure;
}

/**
 * TCP whose callbacks hand what they throw to `fail`. An exception out of an ECMA-419 callback aborts the whole
 * XS machine on Moddable (the TLS handshake throws from ssl/*.js inside the transport's callbacks, and so may the
 * core inside ours), so every callback runs under this guard and a failure ends only its socket, through onError.
 */
function guarded(callback: () => void, fail: (error: unknown) => void): () => void;
function guarded(callback: (count: number) => void, fail: (error: unknown) => void): (count: number) => void;
function guarded(callback: (count: number) => void, fail: (error: unknown) => void): (count: number) => void {
  // One argument, not rest parameters: this runs for every read and write, and a rest array is an allocation.
  return (count) => {
    try {
      callback(count);
    } catch (error) {
      fail(error);
    }
  };
}

function guardedTcp(fail: (error: unknown) => void): new (options: TransportOptions) => Transport {
  return class extends TCP {
    constructor(options: TransportOptions) {
      super({ ...options, nodelay: true, onReadable: guarded(options.onReadable, fail), onWritable: guarded(options.onWritable, fail), onError: guarded(options.onError, fail) });
    }
  };
}

/** What the adapter calls of a socket: embedded:io/socket/tcp, or the TLS socket over it. */
type Stream = Pick<Transport, 'read' | 'write' | 'close'>;

class ModdableSocket implements Socket {
  private io: Stream | undefined;
  private connected = false;
  private readable = 0;
  private writable = 0;
  private full = false;      // a write() returned ≤ 0: onWritable once room comes back
  /** What waits for room, in order from byte 0: a copy, grown when a write does not fit (not per write). */
  private queue = new Uint8Array(1024);
  private queueViews = new ViewsByLength(this.queue);
  private queued = 0;
  /** Views of the caller's buffers by length: the core reads into and writes from one buffer each. */
  private readViews: ViewsByLength | undefined;
  private writeViews: ViewsByLength | undefined;

  constructor(private readonly options: SocketOptions) {
    const { host, port, tls } = options;
    const address = addressOf(host);
    const fail = (error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error)));
    const callbacks = {
      onReadable: guarded((count: number) => this.onReadable(count), fail),
      onWritable: guarded((count: number) => this.onWritable(count), fail),
      // Moddable calls it without an argument; xsrun passes an Error saying what failed (a certificate refused...).
      onError: (error?: Error) => {
        try {
          this.onError(error);
        } catch (thrown) {
          fail(thrown);
        }
      },
    };
    // Failures are reported like any connection failure: asynchronously, through onError.
    const failLater = (error: Error) => { Promise.resolve().then(() => this.onError(error)); };
    if (address === undefined) {
      failLater(new Error(`cannot connect to ${host}:${port}: ECMA-419 TCP needs an IPv4 address (no DNS resolver here)`));
      return;
    }
    try {
      // The SDK's TLSSocket (examples/io/tcp/tlssocket) opens its transport with `TCP.io`; it has no default.
      this.io = tls
        ? new TLSSocket({ address, port, host, secure: secureOptions(tls, host), TCP: { io: guardedTcp(fail) }, ...callbacks })
        : new TCP({ address, port, nodelay: true, ...callbacks });
    } catch (error) {
      failLater(new Error(`cannot connect to ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  read(buffer: Uint8Array): number {
    const count = Math.min(this.readable, buffer.length);
    if (count === 0 || !this.io) return 0;
    this.io.read(count === buffer.length ? buffer : (this.readViews = viewsOver(this.readViews, buffer)).of(count));
    this.readable -= count;
    return count;
  }

  write(data: Uint8Array, length = data.length): number {
    if (!this.io) return 0;
    // Always a copy: the caller reuses its buffer at once. ECMA-419's write takes its bytes before it returns
    // (Moddable's sockets and xsrun's copy them), so the queue's bytes are free again once written.
    if (this.queued + length > this.queue.length) this.grow(this.queued + length);
    this.queue.set(length === data.length ? data : (this.writeViews = viewsOver(this.writeViews, data)).of(length), this.queued);
    this.queued += length;
    if (this.connected) this.flush();
    // Room left: what ECMA-419 last said it takes, less what waits here. ≤ 0: the caller waits for onWritable.
    const room = this.writable - this.queued;
    if (room <= 0) this.full = true;
    return room;
  }

  close(): void {
    const io = this.io;
    this.io = undefined;
    this.queued = 0;
    io?.close();
  }

  private flush(): void {
    while (this.io && this.queued > 0 && this.writable > 0) {
      const count = Math.min(this.writable, this.queued);
      this.io.write(this.queueViews.of(count));
      this.writable -= count;
      // What did not fit moves to the front (only when the socket's room runs out).
      if (count < this.queued) this.queue.copyWithin(0, count, this.queued);
      this.queued -= count;
    }
  }

  private grow(bytes: number): void {
    const queue = new Uint8Array(Math.max(bytes, this.queue.length * 2));
    queue.set(this.queueViews.of(this.queued));
    this.queue = queue;
    this.queueViews = new ViewsByLength(queue);
  }

  private onReadable(count: number): void {
    if (!this.io) return;
    this.readable = count;
    this.options.onReadable(count);
  }

  private onWritable(count: number): void {
    if (!this.io) return;
    this.writable = count;
    if (!this.connected) {
      this.connected = true;
      this.options.onConnect();
    }
    this.flush();
    if (this.full && this.writable > this.queued) {
      this.full = false;
      this.options.onWritable?.(this.writable - this.queued);
    }
  }

  private onError(error?: Error): void {
    if (this.io === undefined && this.connected) return;
    this.close();
    this.connected = true; // nothing after the one error
    const { host, port } = this.options;
    this.options.onError(error ?? new Error(`socket to ${host}:${port} failed or closed`));
  }
}

export const moddableSocket: SocketFactory = (options) => new ModdableSocket(options);
