// The network co-processor of the firmware image, on the host: the other end of the image's UART1 link
// (hosts/cortex-m/netlink.c). It does what a Wi-Fi module with TLS offload does for an MCU (an AT-command
// module, a socket-offload modem): opens TCP and TLS connections for the board, keeps the certificates and keys
// it was given by name, and passes bytes both ways under flow control. It is also the board's microphone and
// speaker here: 20 ms frames cross the same link, so a test plays a WAV in and records what the board played.
//
// The protocol (docs/firmware.md#the-network-co-processor-link): frames 0xA5 | type | channel | length u16 LE |
// payload | CRC-16/CCITT-FALSE u16 LE over type..payload. The bridge never sends more than the board's RX ring
// holds (link credit, returned by LINK_CREDIT) nor more socket bytes than the socket's window (CREDIT).
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export const LINK = {
  SYNC: 0xa5, VERSION: 1, HEADER: 5, MAX_PAYLOAD: 1024, AUDIO_FRAME_BYTES: 640, SPEAKER_FRAMES: 10,
  // board -> co-processor
  HELLO: 0x01, LINK_CREDIT: 0x02, OPEN: 0x10, DATA: 0x11, CLOSE: 0x12, CREDIT: 0x13, CERT: 0x14,
  RANDOM_REQUEST: 0x20, CONFIG_REQUEST: 0x21, AUDIO_OUT: 0x31, AUDIO_IN_START: 0x32, AUDIO_IN_STOP: 0x33,
  AUDIO_OUT_FLUSH: 0x34,
  // co-processor -> board
  OPENED: 0x90, PEER_DATA: 0x91, CLOSED: 0x92, SENT: 0x93, RANDOM: 0xa0, CONFIG: 0xa1, AUDIO_IN: 0xb0,
  AUDIO_PLAYED: 0xb1, AUDIO_FLUSHED: 0xb2, EVENT: 0xc0,
} as const;

/** Bytes the board may send on a socket before the bridge confirms them (its send window). */
const SEND_WINDOW = 16384;
const FRAME_MS = 20;
/** The speaker counts as playing this long after its last frame: gaps within a stream are underruns, not silence. */
const SPEAKER_HOLD_MS = 500;

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF (netlink.c's). */
export function crc16(data: Uint8Array, crc = 0xffff): number {
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function encodeFrame(type: number, channel: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`link frame payload of ${payload.length} bytes`);
  const frame = Buffer.alloc(LINK.HEADER + payload.length + 2);
  frame[0] = LINK.SYNC;
  frame[1] = type;
  frame[2] = channel;
  frame.writeUInt16LE(payload.length, 3);
  frame.set(payload, LINK.HEADER);
  frame.writeUInt16LE(crc16(frame.subarray(1, LINK.HEADER + payload.length)), LINK.HEADER + payload.length);
  return frame;
}

export interface Frame { type: number; channel: number; payload: Buffer }

/** Splits a byte stream into frames; a bad CRC or a lost sync byte is counted and skipped. */
export class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  crcErrors = 0;
  constructor(private readonly maxPayload = 8192) {}
  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (this.buffer.length - at >= LINK.HEADER) {
      if (this.buffer[at] !== LINK.SYNC) { at++; this.crcErrors++; continue; }
      const length = this.buffer.readUInt16LE(at + 3);
      if (length > this.maxPayload) { at++; this.crcErrors++; continue; }
      if (this.buffer.length - at < LINK.HEADER + length + 2) break;
      const crc = this.buffer.readUInt16LE(at + LINK.HEADER + length);
      if (crc16(this.buffer.subarray(at + 1, at + LINK.HEADER + length)) !== crc) { at++; this.crcErrors++; continue; }
      frames.push({ type: this.buffer[at + 1], channel: this.buffer[at + 2], payload: Buffer.from(this.buffer.subarray(at + LINK.HEADER, at + LINK.HEADER + length)) });
      at += LINK.HEADER + length + 2;
    }
    this.buffer = this.buffer.subarray(at);
    return frames;
  }
}

/** A named certificate or key in PEM, from the DER or PEM bytes the board sent. */
function toPem(bytes: Buffer): string {
  if (bytes[0] === 0x2d /* '-' */) return bytes.toString('utf8');
  try {
    return new X509Certificate(bytes).toString();
  } catch {
    return createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  }
}

interface Connection {
  socket: Socket;
  label: string;
  open: boolean;
  /** Peer bytes waiting for the board's socket window. */
  pending: Buffer[];
  window: number;
  ended: boolean;
}

export interface BridgeOptions {
  /** The provisioning record the board asks for (LINK_CONFIG_REQUEST). */
  config: unknown;
  /** Named certificates and keys known before the board sends any (PEM), as a module has them in flash. */
  certificates?: Record<string, string>;
  log?: (line: string) => void;
  /**
   * 'realtime' (default): the microphone makes a frame every 20 ms and loses it when the link has no room, as a
   * codec's clock does. 'link': a frame every 20 ms at most, none lost: the capture waits for the link (QEMU's
   * UART carries 2 to 9 KB/s toward the board, under the 32 KB/s of 16 kHz PCM; docs/firmware.md). It takes only
   * what the link has left: a frame goes when nothing sent is still in flight and the speaker is not playing, so
   * the speaker's AUDIO_PLAYED and the sockets' bytes never queue behind seconds of microphone audio.
   */
  microphone?: 'realtime' | 'link';
}

export interface BridgeStats {
  framesIn: number; framesOut: number; bytesIn: number; bytesOut: number; crcErrors: number;
  micFramesSent: number; micFramesDropped: number; speakerFrames: number;
  /** 20 ms ticks the speaker missed between two frames less than SPEAKER_HOLD_MS apart (within a stream). */
  speakerUnderruns: number;
  /** AUDIO_OUT_FLUSHes, and the frames they dropped unplayed. */
  speakerFlushes: number; speakerFlushedFrames: number;
  /** AUDIO_OUT frames beyond the speaker window, dropped: the board's window accounting is wrong if any. */
  speakerRefused: number;
}

/**
 * The co-processor: serve(stream) takes the board's UART (QEMU's chardev socket). The microphone plays what
 * say() queued (silence otherwise) at 20 ms a frame while the board has it started; the speaker plays a
 * frame every 20 ms from a 10-frame (200 ms) buffer and keeps everything it played.
 */
export class Bridge {
  readonly played: Int16Array[] = [];
  readonly playedAtMs: number[] = [];
  readonly stats: BridgeStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, crcErrors: 0, micFramesSent: 0, micFramesDropped: 0, speakerFrames: 0, speakerUnderruns: 0, speakerFlushes: 0, speakerFlushedFrames: 0, speakerRefused: 0 };
  /** Samples captured by the microphone so far (the board's capture position, as on a real board). */
  micSamples = 0;
  private stream: Socket | undefined;
  private parser = new FrameParser();
  private credit = 0;
  /** The board's RX ring (HELLO): credit back to it means nothing sent is in flight. */
  private ring = 0;
  private socketWindow = 0;
  private readonly outbox: Buffer[] = [];
  private readonly connections = new Map<number, Connection>();
  private readonly certificates = new Map<string, string>();
  private micOn = false;
  private micQueue: Int16Array[] = [];
  private micQueued = 0;
  private readonly speaker: Int16Array[] = [];
  private clock: NodeJS.Timeout | undefined;
  private nextTickMs = 0;
  private helloResolve: (() => void) | undefined;
  /** Why the network is down (cutNetwork), or undefined while it is up. */
  private networkDown: string | undefined;
  readonly hello: Promise<void>;

  constructor(private readonly options: BridgeOptions) {
    for (const [name, pem] of Object.entries(options.certificates ?? {})) this.certificates.set(name, pem);
    this.hello = new Promise((resolve) => { this.helloResolve = resolve; });
  }

  private log(line: string): void {
    this.options.log?.(`bridge: ${line}`);
  }

  serve(stream: Socket): void {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      for (const frame of this.parser.push(chunk)) this.receive(frame);
      this.stats.crcErrors = this.parser.crcErrors;
    });
    stream.on('error', (error) => this.log(`UART: ${error.message}`));
    stream.on('close', () => this.stop());
    this.nextTickMs = performance.now() + FRAME_MS;
    this.clock = setInterval(() => this.tick(), 5);
  }

  /** Queues speech for the microphone; returns the capture sample at which it starts. */
  say(samples: Int16Array): number {
    const at = this.micSamples + this.micQueued;
    for (let i = 0; i < samples.length; i += 320) {
      const frame = new Int16Array(320);
      frame.set(samples.subarray(i, Math.min(samples.length, i + 320)));
      this.micQueue.push(frame);
    }
    this.micQueued += Math.ceil(samples.length / 320) * 320;
    return at;
  }

  /** The person stops talking (their turn failed): the speech still queued is dropped; returns its samples. */
  abandon(): number {
    const dropped = this.micQueued;
    this.micQueue.length = 0;
    this.micQueued = 0;
    return dropped;
  }

  /** A board event, e.g. "button tap". */
  event(text: string): void {
    this.send(LINK.EVENT, 0, Buffer.from(text, 'utf8'));
  }

  /** Everything the speaker played, one array. */
  samples(): Int16Array {
    const out = new Int16Array(this.played.length * 320);
    this.played.forEach((frame, i) => out.set(frame, i * 320));
    return out;
  }

  /**
   * The network goes (the access point gone): every open socket fails with `reason` and every new one is refused,
   * as a Wi-Fi module reports it to its MCU. The UART link, the microphone and the speaker stay up.
   */
  cutNetwork(reason = 'network unreachable'): void {
    this.networkDown = reason;
    for (const [channel, connection] of [...this.connections]) {
      this.connections.delete(channel);
      connection.socket.destroy();
      this.send(LINK.CLOSED, channel, Buffer.from(`${connection.label}: ${reason}`, 'utf8'));
    }
    this.log(`network cut: ${reason}`);
  }

  stop(): void {
    if (this.clock) clearInterval(this.clock);
    this.clock = undefined;
    for (const connection of this.connections.values()) connection.socket.destroy();
    this.connections.clear();
  }

  private send(type: number, channel: number, payload?: Uint8Array): void {
    this.outbox.push(encodeFrame(type, channel, payload));
    this.flush();
  }

  /** Sends what the board's ring has room for, in order. */
  private flush(): void {
    while (this.stream && this.outbox.length && this.outbox[0].length <= this.credit) {
      const frame = this.outbox.shift()!;
      this.credit -= frame.length;
      this.stats.framesOut++;
      this.stats.bytesOut += frame.length;
      this.stream.write(frame);
    }
  }

  private receive(frame: Frame): void {
    this.stats.framesIn++;
    this.stats.bytesIn += frame.payload.length + LINK.HEADER + 2;
    const { type, channel, payload } = frame;
    switch (type) {
      case LINK.HELLO: {
        if (payload[0] !== LINK.VERSION) { this.log(`board speaks link version ${payload[0]}, expected ${LINK.VERSION}`); return; }
        for (const connection of this.connections.values()) connection.socket.destroy();
        this.connections.clear();
        this.outbox.length = 0;
        this.speaker.length = 0; // the board starts with the whole speaker window
        this.credit = this.ring = payload.readUInt32LE(1);
        this.socketWindow = payload.readUInt32LE(5);
        this.log(`HELLO: ring ${this.credit} B, socket window ${this.socketWindow} B`);
        this.helloResolve?.();
        return;
      }
      case LINK.LINK_CREDIT:
        this.credit += payload.readUInt32LE(0);
        this.flush();
        return;
      case LINK.CONFIG_REQUEST: {
        const text = Buffer.from(JSON.stringify(this.options.config), 'utf8');
        for (let i = 0; i < text.length; i += LINK.MAX_PAYLOAD) this.send(LINK.CONFIG, 0, text.subarray(i, i + LINK.MAX_PAYLOAD));
        this.send(LINK.CONFIG, 0);
        return;
      }
      case LINK.RANDOM_REQUEST:
        this.send(LINK.RANDOM, 0, randomBytes(Math.min(payload.readUInt16LE(0), LINK.MAX_PAYLOAD)));
        return;
      case LINK.CERT: {
        const end = payload.indexOf(0);
        if (end <= 0) { this.log('CERT without a name'); return; }
        const name = payload.subarray(0, end).toString('utf8');
        try {
          this.certificates.set(name, toPem(payload.subarray(end + 1)));
        } catch (error) {
          this.log(`CERT ${name}: neither a certificate nor a PKCS#8 key (${(error as Error).message})`);
        }
        return;
      }
      case LINK.OPEN: return this.open(channel, payload.toString('utf8'));
      case LINK.DATA: {
        const connection = this.connections.get(channel);
        if (!connection) return;
        connection.socket.write(payload, () => this.send(LINK.SENT, channel, u32(payload.length)));
        return;
      }
      case LINK.CLOSE: {
        const connection = this.connections.get(channel);
        this.connections.delete(channel);
        connection?.socket.destroy();
        return;
      }
      case LINK.CREDIT: {
        const connection = this.connections.get(channel);
        if (!connection) return;
        connection.window += payload.readUInt32LE(0);
        this.pump(channel, connection);
        return;
      }
      case LINK.AUDIO_IN_START: this.micOn = true; return;
      case LINK.AUDIO_IN_STOP: this.micOn = false; return;
      case LINK.AUDIO_OUT: {
        if (payload.length !== LINK.AUDIO_FRAME_BYTES) { this.log(`AUDIO_OUT of ${payload.length} bytes`); return; }
        if (this.speaker.length >= LINK.SPEAKER_FRAMES) {
          this.stats.speakerRefused++;
          this.log('AUDIO_OUT beyond the speaker window');
          return;
        }
        const frame = new Int16Array(320);
        for (let i = 0; i < 320; i++) frame[i] = payload.readInt16LE(i * 2);
        this.speaker.push(frame);
        return;
      }
      case LINK.AUDIO_OUT_FLUSH: {
        // Every frame the board sent before the flush is here (the link keeps order): each is answered once, by
        // AUDIO_PLAYED if it played, by this count if it did not, so the board's window comes back whole.
        const dropped = this.speaker.length;
        this.speaker.length = 0;
        this.stats.speakerFlushes++;
        this.stats.speakerFlushedFrames += dropped;
        this.send(LINK.AUDIO_FLUSHED, 0, Buffer.from([dropped & 0xff, dropped >> 8]));
        return;
      }
      default:
        this.log(`unknown frame type 0x${type.toString(16)}`);
    }
  }

  private open(channel: number, text: string): void {
    const options = new Map<string, string[]>();
    for (const line of text.split('\n').filter(Boolean)) {
      const eq = line.indexOf('=');
      const key = line.slice(0, eq);
      options.set(key, [...(options.get(key) ?? []), line.slice(eq + 1)]);
    }
    const one = (key: string) => options.get(key)?.[0];
    const host = one('host') ?? '';
    const port = Number(one('port'));
    const label = `${host}:${port}`;
    const fail = (reason: string) => {
      this.connections.delete(channel);
      this.send(LINK.CLOSED, channel, Buffer.from(reason.slice(0, 150), 'utf8'));
    };
    const material = (key: string): string[] | undefined => {
      const names = options.get(key);
      if (!names) return undefined;
      const missing = names.filter((n) => !this.certificates.has(n));
      if (missing.length) throw new Error(`${label}: no ${key} named ${missing.join(', ')} in the co-processor`);
      return names.map((n) => this.certificates.get(n)!);
    };
    if (this.networkDown) return fail(`connect to ${label} failed: ${this.networkDown}`);
    let socket: Socket;
    try {
      if (one('tls') === '1') {
        const key = material('key');
        socket = tlsConnect({
          host, port, servername: /^\d+\.\d+\.\d+\.\d+$/.test(one('sni') ?? host) ? undefined : one('sni'),
          ca: material('ca'), cert: material('cert')?.join('\n'), key: key?.[0], ALPNProtocols: options.get('alpn'),
          rejectUnauthorized: one('verify') !== '0',
          checkServerIdentity: (name, cert) => checkIdentity(one('sni') ?? host, cert),
        });
      } else socket = tcpConnect({ host, port, noDelay: true });
    } catch (error) {
      return fail((error as Error).message);
    }
    const connection: Connection = { socket, label, open: false, pending: [], window: this.socketWindow, ended: false };
    this.connections.set(channel, connection);
    socket.on(one('tls') === '1' ? 'secureConnect' : 'connect', () => {
      connection.open = true;
      this.log(`${label} open on channel ${channel}${one('tls') === '1' ? ' (TLS in the co-processor)' : ''}`);
      this.send(LINK.OPENED, channel, u32(SEND_WINDOW));
    });
    socket.on('data', (data: Buffer) => {
      connection.pending.push(data);
      this.pump(channel, connection);
    });
    socket.on('end', () => { connection.ended = true; this.pump(channel, connection); });
    socket.on('error', (error) => {
      if (this.connections.get(channel) !== connection) return;
      fail(`${connection.open ? '' : `connect to ${label} failed: `}${error.message}`);
    });
    socket.on('close', () => {
      if (this.connections.get(channel) === connection && !connection.ended) fail(`${label}: connection closed`);
    });
  }

  /** Peer bytes to the board, within its socket window; the peer's end once all went. */
  private pump(channel: number, connection: Connection): void {
    while (connection.pending.length && connection.window > 0) {
      const head = connection.pending[0];
      const n = Math.min(head.length, connection.window, LINK.MAX_PAYLOAD);
      this.send(LINK.PEER_DATA, channel, head.subarray(0, n));
      connection.window -= n;
      if (n === head.length) connection.pending.shift(); else connection.pending[0] = head.subarray(n);
    }
    if (connection.pending.length) connection.socket.pause(); else connection.socket.resume();
    if (connection.ended && connection.pending.length === 0 && this.connections.get(channel) === connection) {
      this.connections.delete(channel);
      this.send(LINK.CLOSED, channel);
    }
  }

  /** The 20 ms clock of the microphone and the speaker, catching up when the host was late. */
  private tick(): void {
    const now = performance.now();
    while (now >= this.nextTickMs) {
      this.nextTickMs += FRAME_MS;
      const room = this.outbox.length === 0 && this.credit >= LINK.AUDIO_FRAME_BYTES + LINK.HEADER + 2;
      // A link microphone frame in flight delays what follows it by 70 to 300 ms (one frame at the link's rate), more
      // than a speaker frame's 20 ms: it waits for an idle link and for the speaker to stop. Not for an underrun: a frame
      // sent into one delays the next AUDIO_PLAYED, and the speaker would starve further.
      const speaking = now - (this.playedAtMs.at(-1) ?? -Infinity) < SPEAKER_HOLD_MS;
      const linkIdle = this.outbox.length === 0 && this.credit === this.ring && this.speaker.length === 0 && !speaking;
      if (this.micOn && (this.options.microphone !== 'link' || linkIdle)) {
        const queued = this.micQueue.shift();
        const frame = queued ?? new Int16Array(320);
        if (queued) this.micQueued -= 320;
        this.micSamples += 320;
        // A realtime microphone cannot wait: when the board's ring has no room, the frame is lost (counted).
        if (room) {
          this.send(LINK.AUDIO_IN, 0, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
          this.stats.micFramesSent++;
        } else this.stats.micFramesDropped++;
      }
      const played = this.speaker.shift();
      if (played) {
        const gap = now - (this.playedAtMs.at(-1) ?? -Infinity);
        if (gap < SPEAKER_HOLD_MS) this.stats.speakerUnderruns += Math.max(0, Math.round(gap / FRAME_MS) - 1);
        this.played.push(played);
        this.playedAtMs.push(now);
        this.stats.speakerFrames++;
        this.send(LINK.AUDIO_PLAYED, 0, Buffer.from([1, 0]));
      }
    }
  }
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
}

/** The server name against the certificate: a DNS name or an IPv4 address (the emulator's is 127.0.0.1). */
function checkIdentity(name: string, cert: { subjectaltname?: string }): Error | undefined {
  const names = (cert.subjectaltname ?? '').split(', ');
  const ok = /^\d+\.\d+\.\d+\.\d+$/.test(name) ? names.includes(`IP Address:${name}`) : names.includes(`DNS:${name}`);
  return ok ? undefined : new Error(`the server's certificate does not name ${name} (${cert.subjectaltname ?? 'no subjectAltName'})`);
}

/** A Unix socket server for QEMU's chardev (`-serial unix:<path>`): resolves with the first connection. */
export function listenForBoard(path: string): { server: Server; board: Promise<Socket> } {
  const server = createServer();
  const board = new Promise<Socket>((resolve) => server.once('connection', resolve));
  server.listen(path);
  return { server, board };
}
