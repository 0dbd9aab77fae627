// MQTT 3.1.1 client session over the socket port: CONNECT/CONNACK, SUBSCRIBE/UNSUBSCRIBE, PUBLISH at
// QoS 0 and 1 (AIS uses 0; AWS IoT supports 1), keep-alive with a dead-connection timeout, DISCONNECT,
// reconnect with exponential backoff and jitter, and a bounded outgoing queue whose overflow is reported.
//
// Back-pressure: when the socket says its outgoing buffer is full (write() ≤ 0, a stalled link), publishes
// wait in the same bounded queue, QoS 0 included, and go out in order when onWritable says it drained. Once the
// queue is full, publish() refuses (returns false, MqttQueueOverflowError): the AIS microphone keeps its chunk
// and retries it at its next slot while its ring absorbs capture, so audio is delayed, then lost oldest-first,
// never reordered. The stall and its end are logged once each, not once per refused frame.
//
// Memory: one receive and one transmit buffer, made at construction. A QoS 0 PUBLISH while connected is
// written straight into the transmit buffer (no allocation once its topic has been seen); only messages
// that must outlive the call (queued while offline, QoS 1 awaiting PUBACK) are copied.

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import { redact } from '../ports/log.js';
import type { Socket, SocketFactory, TlsOptions } from '../ports/socket.js';
import { CONNACK_REASONS, PUBLISH } from './constants.js';
import { writePacket, writePublish } from './generate.js';
import { MqttProtocolError, type Packet, type PublishPacket, type QoS } from './packets.js';
import { MqttParser } from './parser.js';
import { topicFilterProblem, topicNameProblem } from './topic.js';
import { encodeUtf8 } from '../encoding/utf8.js';
import { backoffDelayMs, STABLE_CONNECTION_MS } from '../util/backoff.js';
import { nameError } from '../util/error-name.js';

export interface MqttClientOptions {
  socket: SocketFactory;
  clock: Clock;
  log: Logger;
  host: string;
  port: number;
  tls?: TlsOptions;
  clientId: string;
  keepAliveSec?: number;          // default 60; 0 turns keep-alive off
  /** No PINGRESP (nor any packet) this long after a PINGREQ means the connection is dead. Default min(keep-alive, 10 s). */
  pingTimeoutMs?: number;
  cleanSession?: boolean;         // default true
  username?: string;
  password?: Uint8Array;
  /** Largest packet sent or accepted, fixed header included. Default 16384. */
  maxPacketBytes?: number;
  connectTimeoutMs?: number;      // socket connect + CONNACK, default 10000
  /** Reconnect backoff: the n-th retry waits between half and all of min(maxDelayMs, minDelayMs * 2^n). false: never reconnect. */
  reconnect?: { minDelayMs: number; maxDelayMs: number } | false;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** Keep publishes made while offline and send them after reconnecting. Default true. */
  queueWhileOffline?: boolean;
  /** Bounds of the outgoing queue (offline or stalled-link messages + QoS 1 awaiting PUBACK). Defaults 32 messages, 64 KiB. */
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  /** Connected, and every subscription made so far is active again. */
  onConnect?(sessionPresent: boolean): void;
  /** An application message. `payload` is only valid during the call. */
  onMessage(topic: string, payload: Uint8Array, packet: PublishPacket): void;
  /** The connection ended or a connection attempt failed; `reconnecting` says whether a retry is scheduled. */
  onDisconnect?(error: Error | undefined, reconnecting: boolean): void;
}

export type PublishCallback = (error?: Error) => void;

export class MqttConnectionRefusedError extends Error {
  constructor(readonly returnCode: number) {
    super(`broker refused the connection: ${CONNACK_REASONS[returnCode] ?? 'unknown'} (CONNACK code ${returnCode})`);
    nameError(this, 'MqttConnectionRefusedError');
  }
}

export class MqttQueueOverflowError extends Error {
  constructor(topic: string, queuedMessages: number, queuedBytes: number) {
    super(`outgoing queue full (${queuedMessages} messages, ${queuedBytes} bytes): dropped a publish to ${topic}`);
    nameError(this, 'MqttQueueOverflowError');
  }
}

export class MqttNotConnectedError extends Error {
  constructor(what: string) {
    super(`not connected: ${what} not sent`);
    nameError(this, 'MqttNotConnectedError');
  }
}

// Numbers, not strings: XS copies a string literal each time bytecode in RAM runs it, and publish() checks the
// state on every call (measured: 32 B per publish on XS with string states).
const IDLE = 0, CONNECTING = 1, AWAITING_CONNACK = 2, SUBSCRIBING = 3, CONNECTED = 4, WAITING = 5, CLOSED = 6;
type State = typeof IDLE | typeof CONNECTING | typeof AWAITING_CONNACK | typeof SUBSCRIBING | typeof CONNECTED | typeof WAITING | typeof CLOSED;

interface Outgoing {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  messageId: number;   // 0 until sent at QoS 1
  callback?: PublishCallback;
}

interface PendingAck {
  kind: 'subscribe' | 'unsubscribe';
  filters: string[];
  callback?: (error?: Error, granted?: number[]) => void;
  /** A resubscription after reconnect: counts toward onConnect. */
  restore: boolean;
}

const READ_CHUNK_BYTES = 2048;

export class MqttClient {
  private readonly options: MqttClientOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxPacketBytes: number;
  private readonly keepAliveMs: number;
  private readonly pingTimeoutMs: number;
  private readonly maxQueuedMessages: number;
  private readonly maxQueuedBytes: number;
  private readonly random: () => number;
  private readonly rx = new Uint8Array(READ_CHUNK_BYTES);
  private readonly tx: Uint8Array;
  private readonly parser: MqttParser;
  private readonly topicBytes = new Map<string, Uint8Array>();
  /** Subscriptions to restore after a reconnect: filter → QoS. */
  private readonly subscriptions = new Map<string, QoS>();
  private readonly pendingAcks = new Map<number, PendingAck>();
  /** QoS 1 publishes awaiting PUBACK, by message id; resent with DUP after a reconnect. */
  private readonly inflight = new Map<number, Outgoing>();
  /** Publishes waiting for the connection, or for a stalled link to drain. */
  private readonly offline: Outgoing[] = [];
  /** QoS 2 message ids received and not yet released (PUBREL). */
  private readonly qos2Received = new Set<number>();
  /** Subscriptions made while offline, answered once the reconnect has restored them. */
  private readonly pendingOffline: { filters: string[]; callback: (error?: Error, granted?: number[]) => void }[] = [];
  /** SUBACK code per filter from the latest restore. */
  private readonly restoredGrants = new Map<string, number>();
  private queuedBytes = 0;
  /** Room the socket reported at the last write (or onWritable): ≤ 0 while the link is stalled. */
  private writable = Infinity;
  private stalledSinceMs = -1;
  private refusedWhileStalled = 0;
  private state: State = IDLE;
  private socket: Socket | undefined;
  private timer: TimerHandle | undefined;
  private keepAliveTimer: TimerHandle | undefined;
  private attempt = 0;
  private nextId = 1;
  private lastSentMs = 0;
  private lastReceivedMs = 0;
  private pingSentMs = -1;
  private restoring = 0;
  private sessionPresent = false;
  private connectedSinceMs = -1;

  constructor(options: MqttClientOptions) {
    if (!options || typeof options.host !== 'string' || options.host === '') throw new TypeError('MqttClient needs options.host');
    if (!(options.port > 0 && options.port < 65536)) throw new RangeError(`MqttClient port must be 1-65535, got ${options.port}`);
    if (typeof options.clientId !== 'string') throw new TypeError('MqttClient needs options.clientId');
    if (typeof options.onMessage !== 'function') throw new TypeError('MqttClient needs options.onMessage');
    this.options = options;
    this.log = options.log;
    this.clock = options.clock;
    this.maxPacketBytes = options.maxPacketBytes ?? 16384;
    this.keepAliveMs = (options.keepAliveSec ?? 60) * 1000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? Math.min(this.keepAliveMs, 10_000);
    this.maxQueuedMessages = options.maxQueuedMessages ?? 32;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 65536;
    this.random = options.random ?? Math.random;
    this.tx = new Uint8Array(this.maxPacketBytes);
    this.parser = new MqttParser({
      maxPacketBytes: this.maxPacketBytes,
      onPacket: (packet) => this.receive(packet),
      onError: (error) => this.drop(error, 'malformed input from the broker'),
    });
  }

  get connected(): boolean {
    return this.state === CONNECTED || this.state === SUBSCRIBING;
  }

  /** Whether the socket's outgoing buffer is full: publishes queue until it drains. */
  get stalled(): boolean {
    return this.writable <= 0;
  }

  /** Messages and bytes waiting in the outgoing queue (offline + unacknowledged QoS 1). */
  get queued(): { messages: number; bytes: number } {
    return { messages: this.offline.length + this.inflight.size, bytes: this.queuedBytes };
  }

  connect(): void {
    if (this.state === CLOSED) throw new Error('MqttClient was ended; make a new one');
    if (this.state !== IDLE) return;
    this.open();
  }

  /**
   * Publishes `payload` to `topic`. Returns false when the message was not accepted (queue full, or
   * offline with queueWhileOffline off); the callback then gets the error. QoS 0 calls back once
   * written, QoS 1 on PUBACK. The payload may be reused as soon as this returns.
   */
  publish(topic: string, payload: Uint8Array, options?: { qos?: QoS; retain?: boolean; length?: number }, callback?: PublishCallback): boolean {
    const qos = options?.qos ?? 0;
    const retain = options?.retain ?? false;
    const length = options?.length ?? payload.length;
    if (qos !== 0 && qos !== 1) throw new RangeError(`publish QoS must be 0 or 1, got ${qos}`);
    let topicBytes = this.topicBytes.get(topic);
    if (topicBytes === undefined) {
      const problem = topicNameProblem(topic);
      if (problem) throw new RangeError(problem);
      topicBytes = encodeUtf8(topic);
      if (topicBytes.length > 0xffff) throw new RangeError(`topic is ${topicBytes.length} bytes of UTF-8; the limit is 65535`);
      if (this.topicBytes.size < 64) this.topicBytes.set(topic, topicBytes);
    }
    const size = 5 + 2 + topicBytes.length + 2 + length;
    if (size > this.maxPacketBytes) {
      return this.refuse(new RangeError(`PUBLISH to ${topic} of about ${size} bytes exceeds maxPacketBytes ${this.maxPacketBytes}`), callback);
    }
    if (this.state === CONNECTED && qos === 0 && this.writable > 0 && this.offline.length === 0) {
      this.send(writePublish(this.tx, topicBytes, payload, length, 0, 0, false, retain));
      if (callback) callback();
      return true;
    }
    if (this.state !== CONNECTED && this.options.queueWhileOffline === false) {
      return this.refuse(new MqttNotConnectedError(`PUBLISH to ${topic}`), callback);
    }
    const queuedMessages = this.offline.length + this.inflight.size;
    if (queuedMessages >= this.maxQueuedMessages || this.queuedBytes + length > this.maxQueuedBytes) {
      const error = new MqttQueueOverflowError(topic, queuedMessages, this.queuedBytes);
      // A stalled link refuses a publish per audio frame: said once, counted, summed up when it drains.
      if (this.stalledSinceMs < 0 || this.refusedWhileStalled++ === 0) this.log.warn(error.message);
      return this.refuse(error, callback);
    }
    const message: Outgoing = { topic, payload: payload.slice(0, length), qos, retain, messageId: 0, callback };
    this.queuedBytes += length;
    if (this.state === CONNECTED && this.writable > 0 && this.offline.length === 0) this.sendQueued(message, false);
    else this.offline.push(message);
    return true;
  }

  /** Subscribes (and keeps the subscription across reconnects). The callback gets the granted QoS codes. */
  subscribe(filters: string | string[], qos: QoS = 0, callback?: (error?: Error, granted?: number[]) => void): void {
    const list = typeof filters === 'string' ? [filters] : filters;
    if (list.length === 0) throw new RangeError('subscribe needs at least one topic filter');
    for (const filter of list) {
      const problem = topicFilterProblem(filter);
      if (problem) throw new RangeError(problem);
    }
    if (qos !== 0 && qos !== 1) throw new RangeError(`subscribe QoS must be 0 or 1, got ${qos}`);
    for (const filter of list) this.subscriptions.set(filter, qos);
    // Offline, the subscription is sent with the others after the next CONNACK and the callback waits for it.
    if (this.connected) this.sendSubscribe(list, qos, callback, false);
    else if (callback) this.pendingOffline.push({ filters: list, callback });
  }

  unsubscribe(filters: string | string[], callback?: (error?: Error) => void): void {
    const list = typeof filters === 'string' ? [filters] : filters;
    for (const filter of list) this.subscriptions.delete(filter);
    if (!this.connected) {
      if (callback) callback();
      return;
    }
    const messageId = this.takeId();
    this.pendingAcks.set(messageId, { kind: 'unsubscribe', filters: list, callback, restore: false });
    this.sendPacket({ cmd: 'unsubscribe', messageId, unsubscriptions: list });
  }

  /**
   * Sends DISCONNECT when connected and closes the socket, without reconnecting; connect() may be called
   * again and restores the subscriptions (a subscribe still waiting for its SUBACK is answered then).
   * Queued publishes fail. Safe to call twice.
   */
  disconnect(): void {
    if (this.state === CLOSED) return;
    if (this.connected) this.sendPacket({ cmd: 'disconnect' });
    this.closeSocket();
    this.state = IDLE;
    const error = new MqttNotConnectedError('client disconnected;');
    this.failPending(error);
    for (const message of this.offline.splice(0)) message.callback?.(error);
    this.queuedBytes = 0;
  }

  /** disconnect(), for good: the client cannot connect again; waiting subscribe callbacks fail. Safe to call twice. */
  end(): void {
    this.disconnect();
    this.state = CLOSED;
    const error = new MqttNotConnectedError('client ended;');
    for (const { callback } of this.pendingOffline.splice(0)) callback(error);
  }

  private refuse(error: Error, callback?: PublishCallback): boolean {
    if (callback) callback(error);
    return false;
  }

  private open(): void {
    this.state = CONNECTING;
    this.parser.reset();
    const { host, port, tls } = this.options;
    this.log.info(`connecting to ${host}:${port}${tls ? ' over TLS' : ''} as ${this.options.clientId}`);
    this.timer = this.clock.setTimer(() => this.drop(new Error(`no CONNACK within ${this.connectTimeoutMs()} ms`), 'connect timeout'), this.connectTimeoutMs());
    const socket = this.options.socket({
      host, port, tls,
      onConnect: () => {
        if (socket !== this.socket) return;
        this.state = AWAITING_CONNACK;
        this.lastReceivedMs = this.clock.monotonicMs();
        this.sendPacket({
          cmd: 'connect', clientId: this.options.clientId, keepalive: this.keepAliveMs / 1000,
          clean: this.options.cleanSession ?? true, username: this.options.username, password: this.options.password,
        });
        if (this.log.enabled('debug')) this.log.debug(`CONNECT sent (user ${this.options.username ?? '<none>'}, password ${redact(this.options.password)})`);
      },
      onReadable: () => {
        if (socket !== this.socket) return;
        this.lastReceivedMs = this.clock.monotonicMs();
        for (let n = socket.read(this.rx); n > 0 && socket === this.socket; n = socket.read(this.rx)) this.parser.push(this.rx, n);
      },
      onError: (error) => {
        if (socket === this.socket) this.drop(error, 'socket error');
      },
      onClose: () => {
        if (socket === this.socket) this.drop(new Error('broker closed the connection'), 'connection closed');
      },
      onWritable: (count) => {
        if (socket === this.socket) this.drained(count);
      },
    });
    this.socket = socket;
    this.writable = Infinity;
    this.stalledSinceMs = -1;
  }

  private connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? 10_000;
  }

  /** Ends the current connection after a failure and schedules a reconnect if allowed. */
  private drop(error: Error, why: string): void {
    if (this.state === CLOSED || this.state === IDLE || this.state === WAITING) return;
    const wasConnected = this.connected;
    if (wasConnected && this.clock.monotonicMs() - this.connectedSinceMs >= STABLE_CONNECTION_MS) this.attempt = 0;
    this.closeSocket();
    this.failPending(new MqttNotConnectedError('connection lost;'));
    const reconnect = this.options.reconnect ?? { minDelayMs: 1000, maxDelayMs: 60_000 };
    this.log.warn(`${why}: ${error.message}${wasConnected ? ' (connection lost)' : ''}`);
    if (reconnect === false) {
      this.state = IDLE;
      this.options.onDisconnect?.(error, false);
      return;
    }
    const delayMs = backoffDelayMs(this.attempt, reconnect, this.random);
    this.attempt++;
    this.state = WAITING;
    this.log.info(`reconnecting in ${delayMs} ms (attempt ${this.attempt})`);
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      if (this.state === WAITING) this.open();
    }, delayMs);
    this.options.onDisconnect?.(error, true);
  }

  private closeSocket(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.keepAliveTimer !== undefined) this.clock.clearTimer(this.keepAliveTimer);
    this.timer = this.keepAliveTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
    this.pingSentMs = -1;
    this.qos2Received.clear();
    // Unacknowledged QoS 1 messages go back to the front of the queue, to be resent with DUP.
    if (this.inflight.size > 0) {
      this.offline.unshift(...this.inflight.values());
      this.inflight.clear();
    }
  }

  private failPending(error: Error): void {
    for (const pending of this.pendingAcks.values()) {
      if (!pending.restore) pending.callback?.(error);
    }
    this.pendingAcks.clear();
  }

  private send(length: number): void {
    this.writable = this.socket!.write(this.tx, length);
    this.lastSentMs = this.clock.monotonicMs();
    if (this.writable <= 0 && this.stalledSinceMs < 0) {
      this.stalledSinceMs = this.lastSentMs;
      this.refusedWhileStalled = 0;
      this.log.warn(`link stalled (the socket's outgoing buffer is full): publishes wait in the queue of ${this.maxQueuedMessages} messages / ${this.maxQueuedBytes} bytes, then are refused`);
    }
  }

  /** The socket drained: send what waited, in order, while it has room. */
  private drained(count: number): void {
    this.writable = count;
    if (this.stalledSinceMs >= 0) {
      const waited = this.offline.length;
      this.log.info(`link drained after ${Math.round(this.clock.monotonicMs() - this.stalledSinceMs)} ms: ${waited} queued publishes go out, ${this.refusedWhileStalled} were refused`);
      this.stalledSinceMs = -1;
    }
    if (this.state === CONNECTED) this.sendWaiting();
  }

  private sendWaiting(): void {
    while (this.offline.length > 0 && this.state === CONNECTED && this.writable > 0) {
      const message = this.offline.shift()!;
      this.sendQueued(message, message.messageId !== 0);
    }
  }

  private sendPacket(packet: Packet): void {
    this.send(writePacket(packet, this.tx, 0));
  }

  private sendQueued(message: Outgoing, dup: boolean): void {
    if (message.qos === 0) {
      this.send(writePublish(this.tx, this.topicBytesOf(message.topic), message.payload, message.payload.length, 0, 0, false, message.retain));
      this.queuedBytes -= message.payload.length;
      message.callback?.();
      return;
    }
    if (message.messageId === 0) message.messageId = this.takeId();
    this.inflight.set(message.messageId, message);
    this.send(writePublish(this.tx, this.topicBytesOf(message.topic), message.payload, message.payload.length, 1, message.messageId, dup, message.retain));
  }

  private topicBytesOf(topic: string): Uint8Array {
    return this.topicBytes.get(topic) ?? encodeUtf8(topic);
  }

  private sendSubscribe(filters: string[], qos: QoS, callback: PendingAck['callback'], restore: boolean): void {
    const messageId = this.takeId();
    this.pendingAcks.set(messageId, { kind: 'subscribe', filters, callback, restore });
    this.sendPacket({ cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos })) });
  }

  private takeId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 0xffff ? 1 : id + 1;
      if (!this.pendingAcks.has(id) && !this.inflight.has(id)) return id;
    }
  }

  private receive(packet: Packet): void {
    if (packet.cmd === PUBLISH) return this.onPublish(packet); // first, and by a constant: the per-message case
    switch (packet.cmd) {
      case 'connack': return this.onConnack(packet.returnCode, packet.sessionPresent);
      case 'puback': {
        const message = this.inflight.get(packet.messageId);
        if (!message) return this.log.warn(`PUBACK for unknown packet identifier ${packet.messageId} ignored`);
        this.inflight.delete(packet.messageId);
        this.queuedBytes -= message.payload.length;
        message.callback?.();
        return;
      }
      case 'pubrel':
        this.qos2Received.delete(packet.messageId);
        return this.sendPacket({ cmd: 'pubcomp', messageId: packet.messageId });
      case 'suback': case 'unsuback': return this.onAck(packet.messageId, packet.cmd === 'suback' ? packet.granted : undefined);
      case 'pingresp':
        this.pingSentMs = -1;
        return;
      default:
        // CONNECT, SUBSCRIBE, PINGREQ... are client-to-server only.
        this.drop(new MqttProtocolError(`unexpected ${packet.cmd.toUpperCase()} from the broker`), 'protocol violation');
    }
  }

  private onConnack(returnCode: number, sessionPresent: boolean): void {
    if (this.state !== AWAITING_CONNACK) {
      return this.drop(new MqttProtocolError('a second CONNACK', 'MQTT-3.2.0-1'), 'protocol violation');
    }
    if (returnCode !== 0) return this.drop(new MqttConnectionRefusedError(returnCode), 'connection refused');
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.connectedSinceMs = this.clock.monotonicMs();
    this.sessionPresent = sessionPresent;
    this.log.info(`connected to ${this.options.host}:${this.options.port}${sessionPresent ? ' (session present)' : ''}`);
    if (this.keepAliveMs > 0) {
      const tickMs = Math.max(100, Math.min(this.keepAliveMs, this.pingTimeoutMs) / 4);
      this.keepAliveTimer = this.clock.setTimer(() => this.keepAlive(), tickMs, tickMs);
    }
    // Restore every subscription (one SUBSCRIBE per QoS), then flush the queue.
    this.state = SUBSCRIBING;
    this.restoring = 0;
    const byQos: [string[], string[]] = [[], []];
    for (const [filter, qos] of this.subscriptions) byQos[qos as 0 | 1].push(filter);
    this.restoredGrants.clear();
    byQos.forEach((filters, qos) => {
      if (filters.length === 0) return;
      this.restoring++;
      this.sendSubscribe(filters, qos as QoS, undefined, true);
    });
    if (this.restoring === 0) this.becomeConnected();
  }

  private becomeConnected(): void {
    this.state = CONNECTED;
    // Subscriptions made while offline learn their fate now.
    for (const { filters, callback } of this.pendingOffline.splice(0)) {
      const granted = filters.map((f) => this.restoredGrants.get(f) ?? 0x80);
      const refused = filters.filter((_, i) => granted[i] === 0x80);
      callback(refused.length ? new Error(`broker refused the subscription to ${refused.join(', ')}`) : undefined, granted);
    }
    this.sendWaiting();
    this.options.onConnect?.(this.sessionPresent);
  }

  private onAck(messageId: number, granted: number[] | undefined): void {
    const pending = this.pendingAcks.get(messageId);
    if (!pending) return this.log.warn(`${granted ? 'SUBACK' : 'UNSUBACK'} for unknown packet identifier ${messageId} ignored`);
    this.pendingAcks.delete(messageId);
    let error: Error | undefined;
    if (granted) {
      const refused = pending.filters.filter((_, i) => granted[i] === 0x80);
      if (granted.length !== pending.filters.length) error = new MqttProtocolError(`SUBACK has ${granted.length} codes for ${pending.filters.length} filters`, 'MQTT-3.8.4-5');
      else if (refused.length > 0) {
        error = new Error(`broker refused the subscription to ${refused.join(', ')}`);
        for (const filter of refused) this.subscriptions.delete(filter);
        this.log.warn(error.message);
      }
    }
    if (pending.restore && granted) pending.filters.forEach((f, i) => this.restoredGrants.set(f, granted[i]));
    pending.callback?.(error, granted);
    if (pending.restore && --this.restoring === 0 && this.state === SUBSCRIBING) this.becomeConnected();
  }

  private onPublish(packet: PublishPacket): void {
    if (packet.qos === 2) {
      // Exactly once: deliver on first receipt, drop resends until PUBREL releases the id.
      const fresh = !this.qos2Received.has(packet.messageId!);
      this.qos2Received.add(packet.messageId!);
      if (fresh) this.options.onMessage(packet.topic, packet.payload, packet);
      if (this.socket) this.sendPacket({ cmd: 'pubrec', messageId: packet.messageId! });
      return;
    }
    this.options.onMessage(packet.topic, packet.payload, packet);
    if (packet.qos === 1 && this.socket) this.sendPacket({ cmd: 'puback', messageId: packet.messageId! });
  }

  private keepAlive(): void {
    if (!this.socket) return;
    const now = this.clock.monotonicMs();
    if (this.pingSentMs >= 0) {
      if (now - this.pingSentMs >= this.pingTimeoutMs && this.lastReceivedMs <= this.pingSentMs) {
        this.drop(new Error(`no PINGRESP within ${this.pingTimeoutMs} ms`), 'keep-alive failed');
      }
      return;
    }
    // Ping before the broker's 1.5 × keep-alive deadline, and whenever the broker has been silent that long.
    if (now - this.lastSentMs >= this.keepAliveMs * 0.75 || now - this.lastReceivedMs >= this.keepAliveMs) {
      this.pingSentMs = now;
      this.sendPacket({ cmd: 'pingreq' });
    }
  }
}
