// The device's AIS connection (docs/protocol.md §2–4.3, 4.9): MQTT session, the four inbound subscriptions,
// Connect → Acknowledge, capabilities Publish → acknowledge (first connection after boot), SynchronizeState as
// the first event, then encrypted, sequenced traffic; Disconnect both ways; reconnect with backoff and fresh
// counters. One instance per device, given its ports.
//
// This is the connection manager; it composes the parts that each do one job (after the AIA SDK's AiaCore):
//   emitter.ts     outbound: sealing, numbering, event batching (one pacer.ts regulator per producer)
//   inbound.ts     inbound: sequencing, opening, the speaker resend after an OVERRUN
//   dispatcher.ts  directives to handlers; the answers for unknown directives and failed handlers
//   rotation.ts    the secret manager: which key for which number, RotateSecret
//
// Failures and what follows (each logged on one line):
//   MQTT loss, keep-alive failure, no Acknowledge in time, Disconnect GOING_OFFLINE/UNEXPECTED_SEQUENCE_NUMBER/
//   MESSAGE_TAMPERED from the service, Acknowledge UNKNOWN_FAILURE      → reconnect with backoff
//   inbound gap timeout or message beyond the window                   → Disconnect UNEXPECTED_SEQUENCE_NUMBER, reconnect
//   inbound tag failure / inner sequence mismatch                      → Disconnect ENCRYPTION_ERROR / MESSAGE_TAMPERED, reconnect
//   malformed JSON, unknown directive, truncated envelope              → ExceptionEncountered MALFORMED_MESSAGE, stay connected
//   a directive handler that throws (a bug of ours)                    → logged as a bug, ExceptionEncountered INTERNAL_ERROR
//   Acknowledge INVALID_ACCOUNT_ID/INVALID_CLIENT_ID/API_VERSION_DEPRECATED/ENCRYPTION_ERROR,
//   Disconnect API_VERSION_DEPRECATED/ENCRYPTION_ERROR, capabilities REJECTED → stop, onFatal (re-register or fix config)

import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Crypto } from '../ports/crypto.js';
import type { Logger } from '../ports/log.js';
import type { SocketFactory, TlsOptions } from '../ports/socket.js';
import { MqttClient, MqttNotConnectedError } from '../mqtt/client.js';
import { backoffDelayMs, STABLE_CONNECTION_MS, type BackoffOptions } from '../util/backoff.js';
import { Dispatcher, type ExceptionCode } from './dispatcher.js';
import { Emitter } from './emitter.js';
import { Envelope } from './envelope.js';
import { Inbound, type BrokenCode } from './inbound.js';
import { checkMessage, decodeJson, encodeJson, message, newMessageId, type AisMessage } from './message.js';
import { SecretManager, type InboundEncryptedTopic } from './rotation.js';
import { DEVICE_INBOUND, deviceTopicPrefix, TOPIC_LEAVES, TOPICS, type TopicLeaf } from './topics.js';
import { traceLine } from './trace.js';
import { nameError } from '../util/error-name.js';

/** Each Acknowledge code (§4.1) and what it means here: connected, try again later, or stop for good. */
const ACKNOWLEDGE = {
  CONNECTION_ESTABLISHED: 'connected', UNKNOWN_FAILURE: 'retry',
  INVALID_ACCOUNT_ID: 'fatal', INVALID_CLIENT_ID: 'fatal', API_VERSION_DEPRECATED: 'fatal', ENCRYPTION_ERROR: 'fatal',
} as const;
/** Each Disconnect code (§4.1) and what it means when the service sends it. */
const DISCONNECT = {
  UNEXPECTED_SEQUENCE_NUMBER: 'retry', MESSAGE_TAMPERED: 'retry', GOING_OFFLINE: 'retry',
  API_VERSION_DEPRECATED: 'fatal', ENCRYPTION_ERROR: 'fatal',
} as const;
export type DisconnectCode = keyof typeof DISCONNECT;

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
  /** username/password: a broker that checks them (the emulator's plain-MQTT port); AWS IoT proves the id by TLS. */
  mqtt: { socket: SocketFactory; host: string; port: number; tls?: TlsOptions; keepAliveSec?: number; username?: string; password?: Uint8Array };
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
    nameError(this, 'AisFatalError');
  }
}

// Constants, not literals, where every message is compared (docs/xs-host.md, string literals).
const READY: ConnectionState = 'ready';
const SPEAKER: InboundEncryptedTopic = 'speaker', DIRECTIVE: InboundEncryptedTopic = 'directive';
const CONNECTION_FROM_SERVICE: TopicLeaf = 'connection/fromservice';
/** What a code from the service means per its table; undefined for a code the table does not have. */
const meaning = (table: Readonly<Record<string, string>>, code: string): string | undefined => (typeof table[code] === 'string' ? table[code] : undefined);

export class AisConnection {
  readonly dispatcher: Dispatcher;
  private readonly options: AisConnectionOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly crypto: Crypto;
  private readonly mqtt: MqttClient;
  private readonly secrets: SecretManager;
  private readonly emitter: Emitter;
  private readonly inbound: Inbound;
  private readonly topic = {} as Record<TopicLeaf, string>;
  private readonly leafOf = new Map<string, TopicLeaf>();
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
    const log = this.log = options.log;
    const clock = this.clock = options.clock;
    this.crypto = options.crypto;
    const maxMessageBytes = options.maxMessageBytes ?? 8000;
    const prefix = deviceTopicPrefix(identity.topicRoot, identity.clientId);
    for (const leaf of TOPIC_LEAVES) {
      this.topic[leaf] = prefix + leaf;
      this.leafOf.set(prefix + leaf, leaf);
    }
    const { socket, host, port, tls, keepAliveSec, username, password } = options.mqtt;
    this.mqtt = new MqttClient({
      socket, host, port, tls, keepAliveSec, username, password, clock, log: log.child('mqtt'), clientId: identity.clientId,
      // Envelope + topic + MQTT header: one message of the declared maximum must fit.
      maxPacketBytes: maxMessageBytes + 256, reconnect: false, queueWhileOffline: false, random: options.random,
      onConnect: () => this.startHandshake(),
      onMessage: (topic, payload) => this.route(topic, payload),
      onDisconnect: (error) => this.restart(`MQTT connection lost: ${error?.message ?? 'closed'}`),
    });
    const envelope = new Envelope({ crypto: this.crypto, maxMessageBytes });
    this.secrets = new SecretManager({ key: identity.key, nextOutboundSequenceNumber: (leaf) => this.emitter.nextSequenceNumber(leaf) });
    this.emitter = new Emitter({
      publisher: this.mqtt, envelope, topic: this.topic, clock, log, spacingMs: options.publishSpacingMs, trace: options.trace,
      keyFor: (leaf, seq) => this.secrets.keyFor(leaf, seq),
    });
    this.inbound = new Inbound({
      clock, log, envelope, windowSlots: options.windowSlots, gapTimeoutMs: options.gapTimeoutMs,
      keyFor: (leaf, seq) => this.secrets.keyFor(leaf, seq),
      onMessage: (leaf, seq, bytes, offset, length) => this.deliver(leaf, seq, bytes, offset, length),
      onBroken: (why, code) => this.restart(why, code),
      onMalformed: (description, leaf, seq) => this.reportException('MALFORMED_MESSAGE', description, leaf, seq),
    });
    this.dispatcher = new Dispatcher({
      log, trace: options.trace,
      report: (code, description, seq, index) => this.reportException(code, description, DIRECTIVE, seq, index),
      proceed: () => this.stateValue === READY,
    });
    // A broker that refuses our own topics is a policy fault no retry fixes; a lost connection is not (resubscribed on connect).
    this.mqtt.subscribe(DEVICE_INBOUND.map((leaf) => this.topic[leaf]), 0, (error) => {
      if (error && !(error instanceof MqttNotConnectedError)) {
        this.fatal(new AisFatalError('SUBSCRIBE_REFUSED', `could not subscribe to the AIS topics: ${error.message}`));
      }
    });
    this.dispatcher.register('RotateSecret', (d) => this.rotateSecret(d));
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
    if (this.stateValue === READY) this.emitter.flushAll();
    this.teardown(code, description);
    this.setState('stopped', description);
  }

  /** Closes everything for good and zeroes the keys. */
  close(): void {
    this.stop();
    this.mqtt.end();
    this.inbound.close();
    this.secrets.close();
  }

  /** Publishes a capability change: the spec requires a reconnect and a new Publish (§4.2). */
  republishCapabilities(): void {
    this.capabilitiesAccepted = false;
    if (this.stateValue === READY) this.restart('capabilities changed');
  }

  /**
   * Queues an event; events within the topic's spacing go out together in one `{"events": [...]}` message.
   * Returns false (and logs) when not ready: only SynchronizeState may be the first event (§4.9, §7.1).
   */
  sendEvent(name: string, payload?: Record<string, unknown>): boolean {
    if (this.stateValue !== READY) {
      this.log.warn(`event ${name} not sent: connection ${this.stateValue}`);
      return false;
    }
    this.emitter.queueEvent(message(name, newMessageId(this.crypto.randomBytes), payload));
    return true;
  }

  /** Publishes binary stream entries on the microphone topic; false when not ready or the publish failed. */
  publishMicrophone(body: Uint8Array, length: number = body.length): boolean {
    if (this.stateValue !== READY) return false;
    return this.emitter.publish('microphone', body, length, undefined);
  }

  /** Speaker OVERRUN recovery, called from onSpeaker: the service resends from `sequenceNumber` (inbound.ts). */
  rewindSpeaker(sequenceNumber: number): void {
    this.inbound.rewindSpeaker(sequenceNumber);
  }

  /** Sends ExceptionEncountered about an inbound message (§4.3). */
  reportException(code: ExceptionCode, description: string, topic?: string, sequenceNumber?: number, index?: number): void {
    const payload: Record<string, unknown> = { error: { code, description } };
    if (topic !== undefined) {
      const about: Record<string, unknown> = { topic };
      if (sequenceNumber !== undefined) about.sequenceNumber = sequenceNumber;
      if (index !== undefined) about.index = index;
      payload.message = about;
    }
    this.log.warn(`ExceptionEncountered ${code}: ${description}${topic ? ` (${topic}${sequenceNumber !== undefined ? ` #${sequenceNumber}` : ''})` : ''}`);
    if (this.stateValue === READY) this.emitter.queueEvent(message('ExceptionEncountered', newMessageId(this.crypto.randomBytes), payload));
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

  /** MQTT is up: fresh counters, windows and keys for the new AIS connection (§3.5, §3.6), then Connect. */
  private startHandshake(): void {
    this.emitter.reset();
    this.inbound.reset();
    this.secrets.reset();
    this.connectMessageId = newMessageId(this.crypto.randomBytes);
    const { awsAccountId, clientId } = this.options.identity;
    this.emitter.publishPlain(message('Connect', this.connectMessageId, { awsAccountId, clientId }));
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
    this.emitter.clear();
    if (code && this.mqtt.connected) this.emitter.publishPlain(message('Disconnect', newMessageId(this.crypto.randomBytes), { code, description }));
    if (this.stateValue === READY && this.clock.monotonicMs() - this.readySinceMs >= STABLE_CONNECTION_MS) this.attempt = 0;
    this.mqtt.disconnect();
  }

  /** Tears the connection down and reconnects after a backoff delay. */
  private restart(why: string, code?: DisconnectCode | BrokenCode): void {
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

  private fatal(error: AisFatalError): void {
    if (this.stateValue === 'stopped') return;
    this.log.error(`stopped: ${error.message}`);
    this.teardown(undefined, error.message);
    this.setState('stopped', error.message);
    this.options.onFatal?.(error);
  }

  // ---- inbound ----

  /** One MQTT message: connection/fromservice is the handshake's; the encrypted topics go through inbound.ts. */
  private route(topic: string, payload: Uint8Array): void {
    const leaf = this.leafOf.get(topic);
    if (leaf === undefined) return this.log.warn(`message on unexpected topic ${topic} ignored`);
    if (leaf === CONNECTION_FROM_SERVICE) return this.handleConnectionMessage(payload);
    if (TOPICS[leaf].from !== 'service') return this.log.warn(`message on our own outbound topic ${leaf} ignored`);
    this.inbound.receive(leaf as InboundEncryptedTopic, payload);
  }

  /** An opened inbound message, in order. */
  private deliver(leaf: InboundEncryptedTopic, seq: number, bytes: Uint8Array, offset: number, length: number): void {
    if (leaf === SPEAKER) {
      if (this.options.trace) this.log.info(traceLine('in', leaf, seq, undefined, length));
      this.options.onSpeaker?.(seq, bytes, offset, length);
    } else if (leaf === DIRECTIVE) {
      this.dispatcher.dispatch(seq, bytes, offset, length);
    } else {
      this.handleCapabilitiesAcknowledge(seq, bytes, offset, length);
    }
  }

  private handleConnectionMessage(payload: Uint8Array): void {
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
      if (meaning(ACKNOWLEDGE, code) === 'connected') return this.publishCapabilities();
      const text = `Acknowledge ${code}${description ? `: ${description}` : ''}`;
      if (meaning(ACKNOWLEDGE, code) === 'fatal') return this.fatal(new AisFatalError(code, text));
      return this.restart(text);
    }
    if (msg.header.name === 'Disconnect') {
      const text = `service sent Disconnect ${code}${description ? `: ${description}` : ''}`;
      if (meaning(DISCONNECT, code) === 'fatal') return this.fatal(new AisFatalError(code, text));
      return this.restart(text);
    }
    this.log.warn(`connection/fromservice: unknown message ${msg.header.name} ignored`);
  }

  /** Connected: capabilities first if the service has not accepted them since boot (§4.2), else straight to ready. */
  private publishCapabilities(): void {
    if (this.capabilitiesAccepted) return this.synchronize();
    this.setState('publishing-capabilities');
    this.capabilitiesMessageId = newMessageId(this.crypto.randomBytes);
    const msg = message('Publish', this.capabilitiesMessageId, { capabilities: this.options.capabilities() });
    const body = encodeJson(msg);
    this.emitter.publish('capabilities/publish', body, body.length, msg);
    this.armTimer(`no capabilities acknowledgement within ${this.ackTimeoutMs()} ms`);
  }

  private synchronize(): void {
    // SynchronizeState must be the first event of every connection (§4.9, §7 gotcha 1).
    // SynchronizeState is queued and the components reset for the new connection before 'ready' is announced:
    // what the state callback does (an event, a tap) must neither overtake the one nor be wiped by the other.
    this.readySinceMs = this.clock.monotonicMs();
    this.emitter.queueEvent(message('SynchronizeState', newMessageId(this.crypto.randomBytes), this.options.synchronizeState()));
    this.options.onReady?.();
    this.setState('ready');
  }

  private handleCapabilitiesAcknowledge(seq: number, bytes: Uint8Array, offset: number, length: number): void {
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

  /** RotateSecret (§3.6): the secret manager applies it; the new key is persisted before SecretRotated goes out. */
  private rotateSecret(directive: AisMessage): void {
    const rotated = this.secrets.rotateFromDirective(directive.payload);
    this.options.onSecretRotated?.(this.secrets.currentKey);
    const p = directive.payload!;
    this.log.info(`secret rotated: inbound from directive #${String(p.directiveSequenceNumber)} / speaker #${String(p.speakerSequenceNumber)}, outbound from event #${rotated.eventSequenceNumber} / microphone #${rotated.microphoneSequenceNumber}`);
    this.emitter.queueEvent(message('SecretRotated', newMessageId(this.crypto.randomBytes), { ...rotated }));
  }
}
