// A scripted AIS cloud for portable tests of the device's AisConnection: the broker's end of the socket port
// and just enough of the service to bring a device to 'ready' (CONNACK, SUBACK, Acknowledge, capabilities
// accepted), to read what the device says back (Disconnect codes, events, their sequence numbers) and to inject
// any bytes on any topic. It runs on a ManualClock: its answers go out on the next millisecond, never from
// inside the device's own write().
// Portable (XS loads it beside the *.portable.test.ts files): imports nothing but src/ and test/support/.
import { Envelope } from '../../src/ais/envelope.js';
import { checkMessage, decodeJson, encodeJson, message, parseMessageArray } from '../../src/ais/message.js';
import { deviceTopicPrefix, type TopicLeaf } from '../../src/ais/topics.js';
import { generate } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import type { Packet } from '../../src/mqtt/packets.js';
import type { Crypto } from '../../src/ports/crypto.js';
import type { Socket, SocketOptions } from '../../src/ports/socket.js';
import type { ManualClock } from './manual-clock.js';

/** What write() says is left on a link that never fills. */
const LINK_ROOM_BYTES = 1 << 20;

export type ServiceLeaf = 'directive' | 'speaker' | 'capabilities/acknowledge';

/** The broker's end of one device connection. */
class CloudSocket implements Socket {
  closed = false;
  private inbox: Uint8Array[] = [];
  constructor(readonly options: SocketOptions, private readonly cloud: ScriptedCloud) {}
  read(buffer: Uint8Array): number {
    let n = 0;
    while (this.inbox.length > 0 && n < buffer.length) {
      const chunk = this.inbox[0];
      const take = Math.min(chunk.length, buffer.length - n);
      buffer.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.inbox.shift();
      else this.inbox[0] = chunk.subarray(take);
    }
    return n;
  }
  /** Never stalls: the room left is always the whole link's (the fuzzer is not about back-pressure). */
  write(data: Uint8Array, length = data.length): number {
    if (this.closed) throw new Error('the device wrote to a socket it closed');
    // Read on the next millisecond, not on the device's stack (XS runs the tests with a device-sized stack).
    const copy = data.slice(0, length);
    this.cloud.clock.setTimer(() => this.cloud.fromDevice(this, copy), 0);
    return LINK_ROOM_BYTES;
  }
  close(): void {
    this.closed = true;
  }
  /** Queues bytes for the device, each chunk its own read, and says so once. */
  send(chunks: Uint8Array[]): void {
    if (this.closed) return;
    let total = 0;
    for (const chunk of chunks) { this.inbox.push(chunk); total += chunk.length; }
    this.options.onReadable(total);
  }
}

export interface CloudOptions {
  clock: ManualClock;
  crypto: Crypto;
  clientId: string;
  topicRoot: string;
  key: Uint8Array;
  /** The device's maxMessageBytes: what the cloud may send it. */
  maxMessageBytes: number;
}

export class ScriptedCloud {
  readonly prefix: string;
  /** The device's sealed payloads are opened with this. */
  readonly envelope: Envelope;
  /** Disconnect codes the device sent, ExceptionEncountered descriptions and every event name, since clear(). */
  disconnects: string[] = [];
  exceptions: string[] = [];
  events: string[] = [];
  /** Problems in what the device sent (a skipped or repeated event number, an event that did not open). */
  readonly problems: string[] = [];
  connections = 0;
  /** The next number the device expects on each service topic of this connection. */
  readonly next: Record<ServiceLeaf, number> = { directive: 0, speaker: 0, 'capabilities/acknowledge': 0 };
  private socket: CloudSocket | null = null;
  private nextEvent = 0;
  private readonly parser: MqttParser;
  private readonly sealed: Uint8Array;
  private readonly topicBytes = new Map<string, number>();

  readonly clock: ManualClock;

  constructor(private readonly options: CloudOptions) {
    this.clock = options.clock;
    this.prefix = deviceTopicPrefix(options.topicRoot, options.clientId);
    this.envelope = new Envelope({ crypto: options.crypto, maxMessageBytes: options.maxMessageBytes });
    this.sealed = new Uint8Array(options.maxMessageBytes);
    this.parser = new MqttParser({
      maxPacketBytes: options.maxMessageBytes + 256,
      onPacket: (p) => this.packet(p),
      onError: (e) => this.problems.push(`the device wrote a malformed packet: ${e.message}`),
    });
  }

  /** The device's SocketFactory: one connection at a time, accepted on the next millisecond. */
  readonly factory = (options: SocketOptions): Socket => {
    const socket = new CloudSocket(options, this);
    this.socket = socket;
    this.parser.reset();
    this.options.clock.setTimer(() => { if (!socket.closed) socket.options.onConnect(); }, 1);
    return socket;
  };

  get online(): boolean {
    return this.socket !== null && !this.socket.closed;
  }

  clear(): void {
    this.disconnects = [];
    this.exceptions = [];
    this.events = [];
  }

  /** Sends `payload` on `topic` as one PUBLISH, split into the given reads (cut points inside the packet). */
  publish(topic: string, payload: Uint8Array, cuts: number[] = []): void {
    const bytes = generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const cut of cuts) {
      if (cut <= from || cut >= bytes.length) continue;
      chunks.push(bytes.subarray(from, cut));
      from = cut;
    }
    chunks.push(bytes.subarray(from));
    this.socket?.send(chunks);
  }

  /** The PUBLISH packet length of a payload on `topic`, for sizes at the MQTT limit. */
  packetBytes(topic: string, payloadBytes: number): number {
    let topicLength = this.topicBytes.get(topic);
    if (topicLength === undefined) this.topicBytes.set(topic, topicLength = generate({ cmd: 'publish', topic, payload: new Uint8Array(0), qos: 0, dup: false, retain: false }).length);
    const remaining = topicLength - 2 + payloadBytes;
    return 1 + (remaining < 128 ? 1 : remaining < 16384 ? 2 : 3) + remaining;
  }

  /** Seals `body` with the next number of `leaf` (taking it) and publishes it. */
  sendSealed(leaf: ServiceLeaf, body: Uint8Array): void {
    const seq = this.next[leaf];
    this.next[leaf] = (seq + 1) >>> 0;
    const length = this.envelope.seal(this.options.key, seq, body, this.sealed);
    this.publish(this.prefix + leaf, this.sealed.subarray(0, length));
  }

  private send(packet: Packet): void {
    const socket = this.socket!;
    this.options.clock.setTimer(() => socket.send([generate(packet)]), 1);
  }

  private sendPlain(leaf: TopicLeaf, value: unknown): void {
    const socket = this.socket!;
    const bytes = generate({ cmd: 'publish', topic: this.prefix + leaf, payload: encodeJson(value), qos: 0, dup: false, retain: false });
    this.options.clock.setTimer(() => socket.send([bytes]), 1);
  }

  fromDevice(socket: CloudSocket, bytes: Uint8Array): void {
    if (socket !== this.socket) return;
    this.parser.push(bytes);
  }

  private packet(p: Packet): void {
    switch (p.cmd) {
      case 'connect': return this.send({ cmd: 'connack', sessionPresent: false, returnCode: 0 });
      case 'subscribe': return this.send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos) });
      case 'pingreq': return this.send({ cmd: 'pingresp' });
      case 'publish': return this.published(p.topic.slice(this.prefix.length), p.payload);
      default: return undefined;
    }
  }

  private published(leaf: string, payload: Uint8Array): void {
    if (leaf === 'connection/fromclient') {
      const msg = checkMessage(decodeJson(payload));
      if (msg.header.name === 'Disconnect') this.disconnects.push(String(msg.payload?.code));
      if (msg.header.name !== 'Connect') return;
      this.connections++;
      this.next.directive = this.next.speaker = this.next['capabilities/acknowledge'] = 0;
      this.nextEvent = 0;
      return this.sendPlain('connection/fromservice', message('Acknowledge', 'ack', { connectMessageId: msg.header.messageId, code: 'CONNECTION_ESTABLISHED' }));
    }
    if (leaf !== 'event' && leaf !== 'capabilities/publish') return;
    const opened = this.envelope.open(this.options.key, payload);
    if (opened.error) return void this.problems.push(`${leaf}: ${opened.error.message}`);
    if (leaf === 'capabilities/publish') {
      const msg = checkMessage(decodeJson(opened.bytes, opened.bodyOffset, opened.bodyBytes));
      const body = encodeJson(message('Acknowledge', 'cap-ack', { publishMessageId: msg.header.messageId, code: 'CAPABILITIES_ACCEPTED' }));
      const socket = this.socket!;
      this.options.clock.setTimer(() => { if (socket === this.socket) this.sendSealed('capabilities/acknowledge', body); }, 1);
      return;
    }
    if (opened.sequenceNumber !== this.nextEvent) this.problems.push(`event #${opened.sequenceNumber} where #${this.nextEvent} was next`);
    this.nextEvent = (opened.sequenceNumber + 1) >>> 0;
    for (const entry of parseMessageArray(opened.bytes, opened.bodyOffset, opened.bodyBytes, 'events')) {
      const event = checkMessage(entry);
      this.events.push(event.header.name);
      if (event.header.name === 'ExceptionEncountered') {
        const error = event.payload?.error as { code?: string; description?: string } | undefined;
        this.exceptions.push(`${String(error?.code)}: ${String(error?.description)}`);
      }
    }
  }
}
