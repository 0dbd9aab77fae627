// Per-connection limits in front of the embedded broker, as AWS IoT has them per client: a largest packet and a
// publish rate (messages and bytes per second). The guard reads the MQTT framing of what a client sends before
// aedes sees it, and drops the connection of the one client that breaks a limit, with one log line; every
// other client, the AIS service's included, carries on. A packet over the limit is refused from its fixed header:
// its body is never buffered (a 1.2 MB publish used to reach, and drop, the service's 1 MiB client).
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TokenBucket } from './rate-limit.js';
import { certificateSha256 } from './device-ca.js';

export interface ClientLimits {
  /** Largest MQTT packet a client may send, fixed header included. Default 131,072 (AWS IoT's message limit). */
  maxPacketBytes?: number;
  /** PUBLISH packets per second, averaged over `burstSeconds`. Default 100 (AWS IoT's per-connection rate). */
  publishesPerSecond?: number;
  /** Bytes per second of all packets, averaged over `burstSeconds`. Default 524,288 (AWS IoT: 512 KiB/s). */
  bytesPerSecond?: number;
  /** How many seconds' worth a client may send at once. Default 2. */
  burstSeconds?: number;
}

export const DEFAULT_LIMITS: Required<ClientLimits> = { maxPacketBytes: 131_072, publishesPerSecond: 100, bytesPerSecond: 524_288, burstSeconds: 2 };
const PUBLISH_TYPE = 3;

/**
 * The incremental MQTT framing of one byte stream: the type and whole length of each packet as its fixed header
 * completes. Returns null, or why the stream breaks a limit.
 */
export class FrameMeter {
  private headerBytes = 0;
  private type = 0;
  private remaining = 0;
  private multiplier = 1;
  /** Body bytes still to skip of the current packet. */
  private body = 0;
  private readonly publishes: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(private readonly limits: Required<ClientLimits>) {
    this.publishes = new TokenBucket(limits.publishesPerSecond, limits.publishesPerSecond * limits.burstSeconds);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.bytesPerSecond * limits.burstSeconds);
  }

  check(chunk: Uint8Array): string | null {
    if (!this.bytes.take(chunk.length)) return `over ${this.limits.bytesPerSecond} bytes/s`;
    let i = 0;
    while (i < chunk.length) {
      if (this.body > 0) {
        const skip = Math.min(this.body, chunk.length - i);
        this.body -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++];
      if (this.headerBytes === 0) {
        this.type = byte >> 4;
        this.remaining = 0;
        this.multiplier = 1;
        this.headerBytes = 1;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes++;
      if (byte & 0x80) {
        if (this.headerBytes === 5) return 'a remaining length of more than 4 bytes';
        continue;
      }
      const total = this.headerBytes + this.remaining;
      this.headerBytes = 0;
      this.body = this.remaining;
      if (total > this.limits.maxPacketBytes) return `a packet of ${total} bytes, over the ${this.limits.maxPacketBytes}-byte limit`;
      if (this.type === PUBLISH_TYPE && !this.publishes.take(1)) return `over ${this.limits.publishesPerSecond} publishes/s`;
    }
    return null;
  }
}

/** A byte stream that is not a TCP socket (MQTT over WebSocket): what the guard uses of one. */
export type GuardedStream = Duplex & { remoteAddress?: string };

/**
 * A client's socket as aedes sees it: what the client sends passes through a FrameMeter first. `exempt()` lifts
 * the limits (the service's connection, once authenticated); `onOffence` names the client for the log line.
 */
export class GuardedConnection extends Duplex {
  private meter: FrameMeter | null;

  constructor(private readonly socket: Socket | GuardedStream, limits: Required<ClientLimits>, private readonly onOffence: (why: string) => void) {
    super({ allowHalfOpen: false });
    this.meter = new FrameMeter(limits);
    socket.on('data', (chunk: Buffer) => {
      const why = this.meter?.check(chunk) ?? null;
      if (why !== null) {
        this.onOffence(why);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /**
   * The client certificate of a TLS connection: its CN, the SHA-256 of its DER, and why the CA does not vouch for
   * it (OpenSSL's reason: CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE...) or undefined when it does.
   * Undefined without TLS or without a certificate.
   */
  /** Whether the client's bytes came over TLS (a WebSocket or plain TCP client has no certificate to show). */
  get overTls(): boolean {
    return (this.socket as TLSSocket).encrypted === true;
  }

  peerCertificate(): { commonName: string | undefined; sha256: string; refused: string | undefined } | undefined {
    const tls = this.socket as TLSSocket;
    if (typeof tls.getPeerCertificate !== 'function') return undefined;
    const peer = tls.getPeerCertificate();
    if (peer === null || peer.raw === undefined) return undefined;
    const cn = peer.subject?.CN;
    return {
      commonName: typeof cn === 'string' ? cn : undefined,
      sha256: certificateSha256(peer.raw),
      refused: tls.authorized ? undefined : String(tls.authorizationError ?? 'not authorized'),
    };
  }

  exempt(): void {
    this.meter = null;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.socket.destroyed) return done();
    if (this.socket.write(chunk)) return done();
    this.socket.once('drain', () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.socket.end(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }
}

export function checkLimits(limits: ClientLimits = {}): Required<ClientLimits> {
  const merged = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`client limit ${name} expected a number > 0, got ${String(value)}`);
  }
  return merged;
}
