// The device's AIS connection (ais-protocol.md §2–4.3, 4.9): MQTT session, the four inbound subscriptions,
// Connect → Acknowledge, capabilities Publish → acknowledge (first connection after boot), SynchronizeState as
// the first event, then encrypted, sequenced traffic; Disconnect both ways; reconnect with backoff and fresh
// counters. One instance per device, given its ports (the AiaConnectionManager + AiaEmitter pattern).
//
// Failures and what follows (each logged on one line):
//   MQTT loss, keep-alive failure, no Acknowledge in time, Disconnect GOING_OFFLINE/UNEXPECTED_SEQUENCE_NUMBER/
//   MESSAGE_TAMPERED from the service, Acknowledge UNKNOWN_FAILURE      → reconnect with backoff
//   inbound gap timeout or message beyond the window                   → Disconnect UNEXPECTED_SEQUENCE_NUMBER, reconnect
//   inbound tag failure / inner sequence mismatch                      → Disconnect ENCRYPTION_ERROR / MESSAGE_TAMPERED, reconnect
//   malformed JSON, unknown directive, truncated envelope              → ExceptionEncountered MALFORMED_MESSAGE, stay connected
//   Acknowledge INVALID_ACCOUNT_ID/INVALID_CLIENT_ID/API_VERSION_DEPRECATED/ENCRYPTION_ERROR,
//   Disconnect API_VERSION_DEPRECATED/ENCRYPTION_ERROR, capabilities REJECTED → stop, onFatal (re-register or fix config)

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Crypto } from '../ports/crypto.js';
import type { Logger } from '../ports/log.js';
import type { SocketFactory, TlsOptions } from '../ports/socket.js';
import { MqttClient, MqttNotConnectedError } from '../mqtt/client.js';
import { backoffDelayMs, STABLE_CONNECTION_MS, type BackoffOptions } from '../util/backoff.js';
import { Dispatcher } from './dispatcher.js';
import { Envelope, EnvelopeError, peekSequenceNumber } from './envelope.js';
import {
  checkMessage, decodeJson, encodeJson, fromBase64, MalformedMessageError, message, newMessageId, parseMessageArray, type AisMessage,
} from './message.js';
import { SecretManager, type OutboundEncryptedTopic } from './rotation.js';
import { SequenceCounter, sequenceDistance, Sequencer, type SequenceError } from './sequencer.js';
import { DEVICE_INBOUND, deviceTopicPrefix, type TopicLeaf } from './topics.js';
import { traceLine } from './trace.js';

export const ACKNOWLEDGE_CODES = ['CONNECTION_ESTABLISHED', 'INVALID_ACCOUNT_ID', 'INVALID_CLIENT_ID', 'API_VERSION_DEPRECATED', 'UNKNOWN_FAILURE', 'ENCRYPTION_ERROR'] as const;
export const DISCONNECT_CODES = ['UNEXPECTED_SEQUENCE_NUMBER', 'MESSAGE_TAMPERED', 'API_VERSION_DEPRECATED', 'ENCRYPTION_ERROR', 'GOING_OFFLINE'] as const;
export type DisconnectCode = (typeof DISCONNECT_CODES)[number];

/** The registration facts a connection needs (see registration.ts). */
export interface AisIdentity {
  topicRoot: string;          // "$aws/alexa"
  clientId: string;           // AWS IoT client id = thing name
  awsAccountId: string;
  /** AES key from the registration or the last rotation: 16 or 32 bytes. */
  key: Uint8Array;
}

export type ConnectionState = 'stopped' | 'connecting' | 'awaiting-acknowledge' | 'publishing-capabilities' | 'ready' | 'waiting';

export interface AisConnectionOptions {
  identity: AisIdentity;
  mqtt: { socket: SocketFactory; host: string; port: number; tls?: TlsOptions; keepAliveSec?: number };
  clock: Clock;
  log: Logger;
  crypto: Crypto;
  /** The full capability set, asked for each time it is published (§4.2). */
  capabilities(): Record<string, unknown>[];
  /** The SynchronizeState payload: device state gathered while offline (§4.3). */
  synchronizeState(): Record<string, unknown>;
  /** Largest MQTT payload either side sends: the System capability's mqtt.message.maxSizeInBytes. Default 8000. */
  maxMessageBytes?: number;
  /** Wait for Acknowledge and for the capabilities acknowledgement. Default 10000 ms (SDK). */
  acknowledgeTimeoutMs?: number;
  reconnect?: BackoffOptions;     // default 1 s … 60 s
  random?: () => number;
  /** Inbound reorder window (default 4 slots, SDK) and gap timeout (default 10 s, SDK). */
  windowSlots?: number;
  gapTimeoutMs?: number;
  /** Per-topic spacing of outbound publishes (§4.9: 50 ms); events queued meanwhile go out in one batch. */
  publishSpacingMs?: number;
  /** Log every AIS message (topic, direction, sequence number, JSON with secrets redacted). */
  trace?: boolean;
  onStateChange?(state: ConnectionState, detail?: string): void;
  /**
   * Connected, capabilities accepted, SynchronizeState queued: reset per-connection state (stream offsets).
   * Called just before onStateChange('ready'), so sendEvent() still refuses here; the app acts on 'ready'.
   */
  onReady?(): void;
  /** A decrypted speaker message body; valid only during the call. */
  onSpeaker?(sequenceNumber: number, body: Uint8Array, offset: number, length: number): void;
  /** A rotated key to persist (it replaces the stored one), before SecretRotated is sent. */
  onSecretRotated?(key: Uint8Array): void;
  /** An `Exception` directive from the service. */
  onException?(code: string, description: string): void;
  /** The connection stopped for good; the app must re-register or fix its configuration. */
  onFatal?(error: Error): void;
  /**
   * The service rejected the capabilities. Return true when capabilities() now gives a fallback set worth
   * publishing (the microphone drops Opus for L16): the connection reconnects and publishes it, as the spec
   * requires for a change (§4.2). Otherwise (or without this option) the rejection is fatal.
   */
  onCapabilitiesRejected?(description: string): boolean;
}

/** A reason the connection stopped and will not retry by itself. */
export class AisFatalError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'AisFatalError';
  }
}

type InboundLeaf = 'directive' | 'speaker' | 'capabilities/acknowledge';
const INBOUND_ENCRYPTED: readonly InboundLeaf[] = ['directive', 'speaker', 'capabilities/acknowledge'];
const OUTBOUND_ENCRYPTED: readonly OutboundEncryptedTopic[] = ['event', 'microphone', 'capabilities/publish'];
// What the audio path compares against per message, as constants: XS copies a string literal into a new chunk each
// time bytecode in RAM evaluates it (docs/xs-host.md), a constant costs nothing.
const READY: ConnectionState = 'ready';
const MICROPHONE: OutboundEncryptedTopic = 'microphone';
const SPEAKER: InboundLeaf = 'speaker', DIRECTIVE: InboundLeaf = 'directive', CAPABILITIES_ACKNOWLEDGE: InboundLeaf = 'capabilities/acknowledge';
const CONNECTION_FROM_SERVICE: TopicLeaf = 'connection/fromservice';
const FATAL_ACKNOWLEDGE = new Set(['INVALID_ACCOUNT_ID', 'INVALID_CLIENT_ID', 'API_VERSION_DEPRECATED', 'ENCRYPTION_ERROR']);
const FATAL_DISCONNECT = new Set(['API_VERSION_DEPRECATED', 'ENCRYPTION_ERROR']);

export class AisConnection {
  readonly dispatcher = new Dispatcher();
  private readonly options: AisConnectionOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly crypto: Crypto;
  private readonly mqtt: MqttClient;
  private readonly envelope: Envelope;
  private readonly secrets: SecretManager;
  private readonly topic: Record<TopicLeaf, string>;
  private readonly counters: Record<OutboundEncryptedTopic, SequenceCounter>;
  private readonly sequencers: Record<InboundLeaf, Sequencer>;
  private readonly leafOf = new Map<string, TopicLeaf>();
  private readonly sealed: Uint8Array;
  private readonly maxMessageBytes: number;
  private readonly spacingMs: number;
  private readonly lastPublishMs: Record<OutboundEncryptedTopic, number> = { event: -1e9, microphone: -1e9, 'capabilities/publish': -1e9 };
  private readonly pendingEvents: AisMessage[] = [];
  /** The options of every encrypted publish, one object reused (a literal would be a new object per message). */
  private readonly publishOptions = { length: 0 };
  /** After a speaker OVERRUN, the number the service must resend; -1 when not waiting (§3.5). */
  private speakerResendFrom = -1;
  private flushTimer: TimerHandle | undefined;
  private stateValue: ConnectionState = 'stopped';
  private timer: TimerHandle | undefined;
  private connectMessageId = '';
  private capabilitiesMessageId = '';
  private capabilitiesAccepted = false;
  private attempt = 0;
  private readySinceMs = -1;

  constructor(options: AisConnectionOptions) {
    if (!options?.identity) throw new TypeError('AisConnection needs options.identity');
    const { identity } = options;
    if (typeof identity.awsAccountId !== 'string' || identity.awsAccountId === '') throw new TypeError('identity.awsAccountId must be a non-empty string');
    if (typeof options.capabilities !== 'function' || typeof options.synchronizeState !== 'function') {
      throw new TypeError('AisConnection needs options.capabilities() and options.synchronizeState()');
    }
    this.options = options;
    this.log = options.log;
    this.clock = options.clock;
    this.crypto = options.crypto;
    this.maxMessageBytes = options.maxMessageBytes ?? 8000;
    this.spacingMs = options.publishSpacingMs ?? 50;
    const prefix = deviceTopicPrefix(identity.topicRoot, identity.clientId);
    this.topic = {} as Record<TopicLeaf, string>;
    for (const leaf of ['connection/fromclient', 'connection/fromservice', 'capabilities/publish', 'capabilities/acknowledge',
      'directive', 'event', 'microphone', 'speaker'] as TopicLeaf[]) {
      this.topic[leaf] = prefix + leaf;
      this.leafOf.set(prefix + leaf, leaf);
    }
    this.counters = { event: new SequenceCounter(), microphone: new SequenceCounter(), 'capabilities/publish': new SequenceCounter() };
    this.secrets = new SecretManager({ key: identity.key, nextOutboundSequenceNumber: (t) => this.counters[t].peek() });
    this.envelope = new Envelope({ crypto: this.crypto, maxMessageBytes: this.maxMessageBytes });
    this.sealed = new Uint8Array(this.maxMessageBytes);
    this.sequencers = {} as Record<InboundLeaf, Sequencer>;
    for (const leaf of INBOUND_ENCRYPTED) {
      this.sequencers[leaf] = new Sequencer({
        clock: this.clock, slotBytes: this.maxMessageBytes, windowSlots: options.windowSlots, gapTimeoutMs: options.gapTimeoutMs,
        logger: this.log,
        onMessage: (seq, payload) => this.openInbound(leaf, seq, payload),
        onError: (error) => this.sequenceFailed(leaf, error),
        onDropped: (error) => error.kind === 'TOO_LARGE'
          ? this.reportException('MALFORMED_MESSAGE', error.message, leaf, error.received)
          : this.log.warn(`${leaf}: dropped a duplicate: ${error.message}`),
      });
    }
    const { socket, host, port, tls, keepAliveSec } = options.mqtt;
    this.mqtt = new MqttClient({
      socket, host, port, tls, keepAliveSec, clock: this.clock, log: this.log.child('mqtt'), clientId: identity.clientId,
      // Envelope + topic + MQTT header: one message of the declared maximum must fit.
      maxPacketBytes: this.maxMessageBytes + 256, reconnect: false, queueWhileOffline: false, random: options.random,
      onConnect: () => this.mqttConnected(),
      onMessage: (topic, payload) => this.received(topic, payload),
      onDisconnect: (error) => this.lost(`MQTT connection lost: ${error?.message ?? 'closed'}`),
    });
    // A broker that refuses our own topics is a policy fault no retry fixes; a lost connection is not (resubscribed on connect).
    this.mqtt.subscribe(DEVICE_INBOUND.map((leaf) => this.topic[leaf]), 0, (error) => {
      if (error && !(error instanceof MqttNotConnectedError)) {
        this.fatal(new AisFatalError('SUBSCRIBE_REFUSED', `could not subscribe to the AIS topics: ${error.message}`));
      }
    });
    this.dispatcher.register('RotateSecret', (d, ctx) => this.rotateSecret(d, ctx.sequenceNumber));
    this.dispatcher.register('Exception', (d) => {
      const code = String(d.payload?.code ?? '');
      const description = String(d.payload?.description ?? '');
      this.log.warn(`service Exception ${code}: ${description}`);
      this.options.onException?.(code, description);
    });
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The AES key in use for new messages (persist it after a rotation). */
  get currentKey(): Uint8Array {
    return this.secrets.currentKey;
  }

  start(): void {
    if (this.stateValue !== 'stopped') return;
    this.connect();
  }

  /**
   * Sends the events still queued (a SecretRotated among them must reach the service), then Disconnect
   * (GOING_OFFLINE by default), then closes; no reconnect. Safe twice.
   */
  stop(code: DisconnectCode = 'GOING_OFFLINE', description = 'device going offline'): void {
    if (this.stateValue === 'stopped') return;
    while (this.pendingEvents.length > 0 && this.stateValue === 'ready' && this.mqtt.connected) this.flushEvents();
    this.teardown(code, description);
    this.setState('stopped', description);
  }

  /** Closes everything for good and zeroes the keys. */
  close(): void {
    this.stop();
    this.mqtt.end();
    for (const leaf of INBOUND_ENCRYPTED) this.sequencers[leaf].close();
    this.secrets.close();
  }

  /** Publishes a capability change: the spec requires a reconnect and a new Publish (§4.2). */
  republishCapabilities(): void {
    this.capabilitiesAccepted = false;
    if (this.stateValue === 'ready') this.restart('capabilities changed');
  }

  /**
   * Queues an event; events within the topic's spacing go out together in one `{"events": [...]}` message.
   * Returns false (and logs) when not ready: only SynchronizeState may be the first event (§4.9, §7.1).
   */
  sendEvent(name: string, payload?: Record<string, unknown>): boolean {
    if (this.stateValue !== 'ready') {
      this.log.warn(`event ${name} not sent: connection ${this.stateValue}`);
      return false;
    }
    this.queueEvent(message(name, newMessageId(this.crypto.randomBytes), payload));
    return true;
  }

  /** Publishes binary stream entries on the microphone topic; false when not ready or the publish failed. */
  publishMicrophone(body: Uint8Array, length: number = body.length): boolean {
    if (this.stateValue !== READY) return false;
    return this.publishEncrypted(MICROPHONE, body, length, undefined);
  }

  /**
   * Speaker OVERRUN recovery (§3.5, §7 gotcha 5), called from onSpeaker: the message numbered `sequenceNumber`
   * did not fit and was discarded; the service resends from it. The speaker sequencer expects it again; until
   * it comes, later messages inside the reorder window are held (a resent copy replaces a held one) and those
   * beyond it are dropped instead of ending the connection, since the service keeps sending until it notices.
   * While messages are held the sequencer's gap timeout runs: a resend that never comes ends the connection
   * with UNEXPECTED_SEQUENCE_NUMBER like any other gap (§3.5).
   */
  rewindSpeaker(sequenceNumber: number): void {
    this.sequencers.speaker.rewind(sequenceNumber);
    this.speakerResendFrom = sequenceNumber;
    this.log.info(`speaker: waiting for the service to resend from #${sequenceNumber}`);
  }

  /** Sends ExceptionEncountered about an inbound message (§4.3). */
  reportException(code: 'MALFORMED_MESSAGE' | 'INTERNAL_ERROR', description: string, topic?: string, sequenceNumber?: number, index?: number): void {
    const payload: Record<string, unknown> = { error: { code, description } };
    if (topic !== undefined) {
      const about: Record<string, unknown> = { topic };
      if (sequenceNumber !== undefined) about.sequenceNumber = sequenceNumber;
      if (index !== undefined) about.index = index;
      payload.message = about;
    }
    this.log.warn(`ExceptionEncountered ${code}: ${description}${topic ? ` (${topic}${sequenceNumber !== undefined ? ` #${sequenceNumber}` : ''})` : ''}`);
    if (this.stateValue === 'ready') this.queueEvent(message('ExceptionEncountered', newMessageId(this.crypto.randomBytes), payload));
  }

  // ---- lifecycle ----

  private setState(state: ConnectionState, detail?: string): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.log.info(`state ${state}${detail ? `: ${detail}` : ''}`);
    this.options.onStateChange?.(state, detail);
  }

  private connect(): void {
    this.setState('connecting');
    this.mqtt.connect();
  }

  private mqttConnected(): void {
    // Fresh counters and windows for every AIS connection (§3.5); the newest key for every topic (§3.6).
    for (const leaf of OUTBOUND_ENCRYPTED) {
      this.counters[leaf].reset();
      this.lastPublishMs[leaf] = -1e9; // spacing is per connection
    }
    for (const leaf of INBOUND_ENCRYPTED) this.sequencers[leaf].reset();
    this.speakerResendFrom = -1;
    this.secrets.reset();
    this.connectMessageId = newMessageId(this.crypto.randomBytes);
    const { awsAccountId, clientId } = this.options.identity;
    this.publishPlain(message('Connect', this.connectMessageId, { awsAccountId, clientId }));
    this.setState('awaiting-acknowledge');
    this.armTimer(`no Acknowledge within ${this.ackTimeoutMs()} ms`);
  }

  private ackTimeoutMs(): number {
    return this.options.acknowledgeTimeoutMs ?? 10_000;
  }

  private armTimer(why: string): void {
    this.clearTimer();
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.restart(why);
    }, this.ackTimeoutMs());
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Ends the MQTT session (sending Disconnect with `code` if given and connected). */
  private teardown(code: DisconnectCode | undefined, description: string): void {
    this.clearTimer();
    if (this.flushTimer !== undefined) this.clock.clearTimer(this.flushTimer);
    this.flushTimer = undefined;
    this.pendingEvents.length = 0;
    if (code && this.mqtt.connected) this.publishPlain(message('Disconnect', newMessageId(this.crypto.randomBytes), { code, description }));
    if (this.stateValue === 'ready' && this.clock.monotonicMs() - this.readySinceMs >= STABLE_CONNECTION_MS) this.attempt = 0;
    this.mqtt.disconnect();
  }

  /** Tears the connection down and reconnects after a backoff delay. */
  private restart(why: string, code?: DisconnectCode): void {
    if (this.stateValue === 'stopped' || this.stateValue === 'waiting') return;
    this.log.warn(`connection ended: ${why}`);
    this.teardown(code, why);
    if ((this.stateValue as ConnectionState) === 'stopped') return; // a callback during teardown stopped us
    const delayMs = backoffDelayMs(this.attempt++, this.options.reconnect ?? { minDelayMs: 1000, maxDelayMs: 60_000 }, this.options.random ?? Math.random);
    this.setState('waiting', `${why}; reconnecting in ${delayMs} ms`);
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      if (this.stateValue === 'waiting') this.connect();
    }, delayMs);
  }

  private lost(why: string): void {
    this.restart(why);
  }

  private fatal(error: AisFatalError): void {
    if (this.stateValue === 'stopped') return;
    this.log.error(`stopped: ${error.message}`);
    this.teardown(undefined, error.message);
    this.setState('stopped', error.message);
    this.options.onFatal?.(error);
  }

  // ---- outbound ----

  private publishPlain(msg: AisMessage): void {
    const body = encodeJson(msg);
    if (this.options.trace) this.log.info(traceLine('out', 'connection/fromclient', undefined, msg, body.length));
    this.mqtt.publish(this.topic['connection/fromclient'], body);
  }

  private publishEncrypted(leaf: OutboundEncryptedTopic, body: Uint8Array, length: number, json: unknown): boolean {
    const counter = this.counters[leaf];
    const seq = counter.next();
    const sealedBytes = this.envelope.seal(this.secrets.keyFor(leaf, seq), seq, body, this.sealed, length);
    if (this.options.trace) this.log.info(traceLine('out', leaf, seq, json, length));
    this.publishOptions.length = sealedBytes;
    if (!this.mqtt.publish(this.topic[leaf], this.sealed, this.publishOptions)) {
      counter.release(seq); // §7 gotcha 11: a failed publish must not consume a number
      return false;
    }
    this.lastPublishMs[leaf] = this.clock.monotonicMs();
    return true;
  }

  private queueEvent(msg: AisMessage): void {
    const size = encodeJson({ events: [msg] }).length;
    if (size > this.envelope.maxBodyBytes) {
      this.log.error(`event ${msg.header.name} of ${size} bytes exceeds the ${this.envelope.maxBodyBytes}-byte message limit; dropped`);
      return;
    }
    this.pendingEvents.push(msg);
    if (this.flushTimer !== undefined) return;
    const waitMs = Math.max(0, this.lastPublishMs.event + this.spacingMs - this.clock.monotonicMs());
    if (waitMs === 0) this.flushEvents();
    else this.flushTimer = this.clock.setTimer(() => { this.flushTimer = undefined; this.flushEvents(); }, waitMs);
  }

  /** Publishes as many queued events as fit in one message; the rest wait one more spacing. */
  private flushEvents(): void {
    if (this.pendingEvents.length === 0 || !this.mqtt.connected) return;
    let count = this.pendingEvents.length;
    let body = encodeJson({ events: this.pendingEvents });
    while (body.length > this.envelope.maxBodyBytes && count > 1) {
      count = Math.max(1, count >> 1);
      body = encodeJson({ events: this.pendingEvents.slice(0, count) });
    }
    const batch = this.pendingEvents.splice(0, count);
    this.publishEncrypted('event', body, body.length, { events: batch });
    if (this.pendingEvents.length > 0) {
      this.flushTimer = this.clock.setTimer(() => { this.flushTimer = undefined; this.flushEvents(); }, this.spacingMs);
    }
  }

  // ---- inbound ----

  private received(topic: string, payload: Uint8Array): void {
    const leaf = this.leafOf.get(topic);
    if (leaf === undefined) return this.log.warn(`message on unexpected topic ${topic} ignored`);
    if (leaf === CONNECTION_FROM_SERVICE) return this.connectionMessage(payload);
    if (leaf !== DIRECTIVE && leaf !== SPEAKER && leaf !== CAPABILITIES_ACKNOWLEDGE) {
      return this.log.warn(`message on our own outbound topic ${leaf} ignored`);
    }
    const seq = peekSequenceNumber(payload);
    if (seq < 0) return this.reportException('MALFORMED_MESSAGE', `${payload.length}-byte payload has no sequence number`, leaf);
    if (leaf === SPEAKER && this.speakerResendFrom >= 0) {
      const ahead = sequenceDistance(this.speakerResendFrom, seq);
      if (ahead === 0) this.speakerResendFrom = -1;
      else if (ahead <= this.sequencers.speaker.windowSlots) { /* held by the sequencer until the resend */ }
      else {
        if (this.log.enabled('debug')) this.log.debug(`speaker #${seq} dropped: waiting for the resend of #${this.speakerResendFrom}`);
        return;
      }
    }
    this.sequencers[leaf].push(seq, payload);
  }

  private connectionMessage(payload: Uint8Array): void {
    let msg: AisMessage;
    try {
      msg = checkMessage(decodeJson(payload));
    } catch (error) {
      return this.log.warn(`connection/fromservice: ${(error as Error).message}; ignored`);
    }
    if (this.options.trace) this.log.info(traceLine('in', 'connection/fromservice', undefined, msg, payload.length));
    const code = String(msg.payload?.code ?? '');
    const description = String(msg.payload?.description ?? '');
    if (msg.header.name === 'Acknowledge') {
      if (this.stateValue !== 'awaiting-acknowledge' || msg.payload?.connectMessageId !== this.connectMessageId) {
        return this.log.warn(`Acknowledge for ${String(msg.payload?.connectMessageId)} does not answer our Connect ${this.connectMessageId}; ignored`);
      }
      this.clearTimer();
      if (code === 'CONNECTION_ESTABLISHED') return this.established();
      const text = `Acknowledge ${code}${description ? `: ${description}` : ''}`;
      if (FATAL_ACKNOWLEDGE.has(code)) return this.fatal(new AisFatalError(code, text));
      return this.restart(text);
    }
    if (msg.header.name === 'Disconnect') {
      const text = `service sent Disconnect ${code}${description ? `: ${description}` : ''}`;
      if (FATAL_DISCONNECT.has(code)) return this.fatal(new AisFatalError(code, text));
      return this.restart(text);
    }
    this.log.warn(`connection/fromservice: unknown message ${msg.header.name} ignored`);
  }

  private established(): void {
    if (this.capabilitiesAccepted) return this.synchronize();
    this.setState('publishing-capabilities');
    this.capabilitiesMessageId = newMessageId(this.crypto.randomBytes);
    const msg = message('Publish', this.capabilitiesMessageId, { capabilities: this.options.capabilities() });
    const body = encodeJson(msg);
    this.publishEncrypted('capabilities/publish', body, body.length, msg);
    this.armTimer(`no capabilities acknowledgement within ${this.ackTimeoutMs()} ms`);
  }

  private synchronize(): void {
    // SynchronizeState must be the first event of every connection (§4.9, §7 gotcha 1).
    // SynchronizeState is queued and the components reset for the new connection before 'ready' is announced:
    // what the state callback does (an event, a tap) must neither overtake the one nor be wiped by the other.
    this.readySinceMs = this.clock.monotonicMs();
    this.queueEvent(message('SynchronizeState', newMessageId(this.crypto.randomBytes), this.options.synchronizeState()));
    this.options.onReady?.();
    this.setState('ready');
  }

  private sequenceFailed(leaf: InboundLeaf, error: SequenceError): void {
    this.restart(`${leaf}: ${error.message}`, 'UNEXPECTED_SEQUENCE_NUMBER');
  }

  private openInbound(leaf: InboundLeaf, seq: number, payload: Uint8Array): void {
    const result = this.envelope.open(this.secrets.keyFor(leaf, seq), payload);
    if (!result.ok) return this.envelopeFailed(leaf, seq, result.error!);
    if (leaf === SPEAKER) {
      if (this.options.trace) this.log.info(traceLine('in', leaf, seq, undefined, result.bodyBytes));
      this.options.onSpeaker?.(seq, result.bytes, result.bodyOffset, result.bodyBytes);
      return;
    }
    if (leaf === CAPABILITIES_ACKNOWLEDGE) return this.capabilitiesAcknowledged(seq, result.bytes, result.bodyOffset, result.bodyBytes);
    this.directives(seq, result.bytes, result.bodyOffset, result.bodyBytes);
  }

  private envelopeFailed(leaf: InboundLeaf, seq: number, error: EnvelopeError): void {
    // Never a byte of a message whose tag failed is used: the envelope zeroes it (envelope.ts).
    if (error.kind === 'ENCRYPTION_ERROR' || error.kind === 'MESSAGE_TAMPERED') return this.restart(`${leaf} #${seq}: ${error.message}`, error.kind);
    this.reportException('MALFORMED_MESSAGE', error.message, leaf, seq);
  }

  private capabilitiesAcknowledged(seq: number, bytes: Uint8Array, offset: number, length: number): void {
    let msg: AisMessage;
    try {
      msg = checkMessage(decodeJson(bytes, offset, length));
    } catch (error) {
      return this.reportException('MALFORMED_MESSAGE', (error as Error).message, 'capabilities/acknowledge', seq);
    }
    if (this.options.trace) this.log.info(traceLine('in', 'capabilities/acknowledge', seq, msg, length));
    if (this.stateValue !== 'publishing-capabilities' || msg.payload?.publishMessageId !== this.capabilitiesMessageId) {
      return this.log.warn(`capabilities acknowledgement for ${String(msg.payload?.publishMessageId)} does not answer our Publish; ignored`);
    }
    this.clearTimer();
    const code = String(msg.payload?.code ?? '');
    if (code === 'CAPABILITIES_ACCEPTED') {
      this.capabilitiesAccepted = true;
      return this.synchronize();
    }
    const description = String(msg.payload?.description ?? '');
    if (this.options.onCapabilitiesRejected?.(description)) {
      return this.restart(`capabilities ${code || 'not accepted'}${description ? `: ${description}` : ''}; republishing a fallback set`);
    }
    this.fatal(new AisFatalError(code || 'CAPABILITIES_REJECTED', `capabilities ${code || 'not accepted'}${description ? `: ${description}` : ''}`));
  }

  private directives(seq: number, bytes: Uint8Array, offset: number, length: number): void {
    let entries: unknown[];
    try {
      entries = parseMessageArray(bytes, offset, length, 'directives');
    } catch (error) {
      return this.reportException('MALFORMED_MESSAGE', (error as Error).message, 'directive', seq);
    }
    if (this.options.trace) this.log.info(traceLine('in', 'directive', seq, { directives: entries }, length));
    // In order; one that fails is reported with its index and the rest still run (§3.1).
    for (let index = 0; index < entries.length; index++) {
      try {
        const directive = checkMessage(entries[index], index);
        const handler = this.dispatcher.handlerFor(directive.header.name);
        if (!handler) {
          this.reportException('MALFORMED_MESSAGE', `unknown directive ${directive.header.name}`, 'directive', seq, index);
          continue;
        }
        handler(directive, { sequenceNumber: seq, index });
      } catch (error) {
        if (!(error instanceof MalformedMessageError || error instanceof RangeError || error instanceof TypeError)) throw error;
        this.reportException('MALFORMED_MESSAGE', error.message, 'directive', seq, index);
      }
      if (this.stateValue !== 'ready') return;
    }
  }

  private rotateSecret(directive: AisMessage, _seq: number): void {
    const p = directive.payload ?? {};
    const newSecret = typeof p.newSecret === 'string' ? fromBase64(p.newSecret) : undefined;
    if (!newSecret || newSecret.length !== this.secrets.keyBytes) {
      throw new MalformedMessageError(`RotateSecret newSecret must be base64 of ${this.secrets.keyBytes} bytes`);
    }
    const rotated = this.secrets.rotate({
      newSecret, directiveSequenceNumber: p.directiveSequenceNumber as number, speakerSequenceNumber: p.speakerSequenceNumber as number,
    });
    newSecret.fill(0);
    this.options.onSecretRotated?.(this.secrets.currentKey);
    this.log.info(`secret rotated: inbound from directive #${String(p.directiveSequenceNumber)} / speaker #${String(p.speakerSequenceNumber)}, outbound from event #${rotated.eventSequenceNumber} / microphone #${rotated.microphoneSequenceNumber}`);
    this.queueEvent(message('SecretRotated', newMessageId(this.crypto.randomBytes), { ...rotated }));
  }
}
