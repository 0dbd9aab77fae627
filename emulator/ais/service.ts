// The emulator's AIS service: the cloud half of the control plane (docs/protocol.md §2–4.3, 4.9, §9 choices).
// It joins the broker as a privileged MQTT client and, per device, answers Connect with Acknowledge, checks
// and acknowledges capabilities, insists on SynchronizeState first, opens and seals envelopes with node:crypto
// (emulator/ais/crypto.ts), sequences what the device sends, rotates secrets, and disconnects the way the
// spec's clients expect. Device state outlives reconnects. A device that drops without an AIS Disconnect is
// marked lost from the broker's presence event (embedded broker only).
//
// An oracle independent of the device: nothing here runs the device's code. The MQTT client is the npm `mqtt`
// package over a stream from an injected factory (TCP by default, TLS when `broker.tls` is given, anything a
// test plugs in); sequencing, key schedules, message checks and the trace are emulator/ais/wire.ts; time comes
// from an injected clock. Shared with src/ is the topic table only (src/ais/topics.ts, wire constants).
//
// Choices where the public sources are silent (§9), each one place to change:
//   capabilities acknowledgement header name: "Acknowledge"
//   inbound gaps: the device's own rule, 4 slots / 10 s, then Disconnect UNEXPECTED_SEQUENCE_NUMBER
//   tag failure → Disconnect ENCRYPTION_ERROR; inner/outer mismatch → Disconnect MESSAGE_TAMPERED
//   malformed JSON or a first event other than SynchronizeState → Exception INVALID_REQUEST (ESP#129 wording)
//   capabilities after the first event of a connection → CAPABILITIES_REJECTED
//   RotateSecret: new key for directive from next+1 (the RotateSecret message itself uses the old key), speaker from next

import { randomBytes, randomUUID } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { MqttClient } from 'mqtt';
import type { Logger } from '../../src/ports/log.js';
import type { TlsOptions } from '../../src/ports/socket.js';
import { API_VERSION, parseDeviceTopic, type TopicLeaf } from '../../src/ais/topics.js';
import { PRESENCE_DISCONNECTED, type PresenceDisconnected } from '../broker.js';
import { openMessage, sealMessage } from './crypto.js';
import { speakerTerms } from './speaker-pacing.js';
import { DeviceStore } from './device-store.js';
import {
  eventEntries, InboundOrder, KeySchedule, messageProblem, OutboundNumbers, parseJson, realClock, serviceTrace,
  type ServiceClock, type WireMessage,
} from './wire.js';

/** A JSON message as the service reads and writes it. */
export type AisMessage = WireMessage;

/** What the service knows of a registered device (the registration registry). */
export interface DeviceDirectory {
  lookup(clientId: string): { awsAccountId: string; key: Uint8Array } | undefined;
  /** The device confirmed a rotated key (SecretRotated): it is the key from now on. */
  updateKey?(clientId: string, key: Uint8Array): void;
}

/** Device state the virtual device keeps across connections. */
export interface DeviceState {
  capabilities?: Record<string, unknown>[];
  /** The last SynchronizeState payload. */
  synchronizedState?: Record<string, unknown>;
  /** ExceptionEncountered payloads the device reported, newest last (bounded). */
  exceptions: Record<string, unknown>[];
  connections: number;
  /** The last SetAttentionState sent (the device applies it at its offset). */
  attention?: string;
}

/** EndpointForwarding: NXP's devices declare it (smart-home directives tunnelled; version 1.0, no configurations). */
export const KNOWN_INTERFACES = ['System', 'Speaker', 'Microphone', 'Alerts', 'Clock', 'EndpointForwarding'];

export interface AisServiceOptions {
  broker: { host: string; port: number; tls?: TlsOptions; username?: string; password?: Uint8Array };
  /**
   * Opens the byte stream to the broker (each connect and reconnect). Default: TCP to broker.host:port, or TLS
   * with broker.tls (mutual when it has a certificate). A test or another transport plugs in here.
   */
  connectBroker?: () => Duplex;
  /** Time and timers (the inbound gap timeout). Default: the real clock. */
  clock?: ServiceClock;
  /** Capabilities and state kept across restarts of the service (persisted with a path). Default: in memory. */
  store?: DeviceStore;
  directory: DeviceDirectory;
  log: Logger;
  topicRoot?: string;                 // "$aws/alexa"
  serviceClientId?: string;           // "ais-service"
  /**
   * false: send the legacy envelope without the inner sequence number (§3.2 variant, ESP#96), for
   * negative tests. What devices send is always read in the current layout.
   */
  innerSequence?: boolean;
  windowSlots?: number;
  gapTimeoutMs?: number;
  trace?: boolean;
  /**
   * Microphone audioEncoder formats the service accepts in capabilities (§6). The public service documents
   * only L16 (§5); the emulator also takes Opus by default, and a device declaring one it refuses is
   * rejected and falls back (negative tests: ['AUDIO_L16_RATE_16000_CHANNELS_1']).
   */
  microphoneFormats?: string[];
  /** An event the control plane does not handle itself (the virtual device's business). */
  onEvent?(clientId: string, event: AisMessage): void;
  onMicrophone?(clientId: string, sequenceNumber: number, body: Buffer): void;
  /** The device finished connecting: Acknowledge, capabilities, SynchronizeState. */
  onDeviceReady?(clientId: string): void;
  /** The broker reported the device's MQTT connection gone while its AIS connection was open. */
  onDeviceLost?(clientId: string): void;
  /** Each protocol trace line (as `trace` logs them, secrets redacted), whether or not `trace` logs them: the dashboard's. */
  onTrace?(clientId: string, line: string): void;
  /**
   * The state a device rests in instead of IDLE (NOTIFICATION_AVAILABLE while it has unread notifications:
   * emulator/ais/notifications.ts): every SetAttentionState IDLE sent becomes it.
   */
  restingAttention?(clientId: string): string | undefined;
}

type DeviceInbound = 'event' | 'microphone' | 'capabilities/publish';
type ServiceOutbound = 'directive' | 'speaker' | 'capabilities/acknowledge';
const INBOUND: readonly DeviceInbound[] = ['event', 'microphone', 'capabilities/publish'];
const OUTBOUND: readonly ServiceOutbound[] = ['directive', 'speaker', 'capabilities/acknowledge'];

class DeviceSession {
  connected = false;
  /** clock.now() at the last Connect: presence events from before it are about an older connection. */
  connectedAtMs = 0;
  sawEvent = false;
  key: Uint8Array;
  readonly keys = new Map<string, KeySchedule>();
  readonly counters = new Map<ServiceOutbound, OutboundNumbers>(OUTBOUND.map((t) => [t, new OutboundNumbers()]));
  readonly inbound = new Map<DeviceInbound, InboundOrder>();
  readonly state: DeviceState = { exceptions: [], connections: 0 };
  pendingKey: Uint8Array | undefined;

  constructor(key: Uint8Array) {
    this.key = key;
    for (const topic of [...INBOUND, ...OUTBOUND]) this.keys.set(topic, new KeySchedule(key));
  }

  /** A new AIS connection: counters from 0, every topic on the newest key (§3.5, §3.6). */
  reset(): void {
    for (const counter of this.counters.values()) counter.restartAt(0);
    for (const order of this.inbound.values()) order.reset();
    for (const keys of this.keys.values()) keys.only(this.key);
    this.sawEvent = false;
  }
}

/**
 * Faults to inject on the next service message, for OEMs' negative tests and ours. Each applies once.
 * skip: consume a sequence number without sending (a gap); corrupt: flip a ciphertext bit (tag failure);
 * hold: send the next message after the one that follows it (reordering); acknowledge: answer the next
 * Connect with this code.
 */
export interface ServiceFaults {
  skip: Set<ServiceOutbound>;
  corrupt: Set<ServiceOutbound>;
  hold: Set<ServiceOutbound>;
  acknowledge?: string;
}

export class AisService {
  readonly faults: ServiceFaults = { skip: new Set(), corrupt: new Set(), hold: new Set() };
  private readonly held = new Map<string, Buffer>();
  private readonly options: AisServiceOptions;
  private readonly log: Logger;
  private readonly root: string;
  private readonly clock: ServiceClock;
  private mqtt: MqttClient | undefined;
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly store: DeviceStore;

  constructor(options: AisServiceOptions) {
    this.options = options;
    this.log = options.log;
    this.root = options.topicRoot ?? '$aws/alexa';
    this.clock = options.clock ?? realClock;
    this.store = options.store ?? new DeviceStore();
  }

  /** Connects to the broker and resolves once subscribed (again after each reconnect, by the client). */
  start(): Promise<void> {
    const { host, port, tls, username, password } = this.options.broker;
    const open = this.options.connectBroker ?? (() => (tls
      ? tlsConnect({ host, port, ca: tls.ca as string | undefined, cert: tls.certificate as string | undefined, key: tls.key as string | undefined, servername: tls.serverName ?? host, ALPNProtocols: tls.protocols })
      : tcpConnect({ host, port })));
    const mqttLog = this.log.child('service-mqtt');
    const mqtt = new MqttClient(() => open(), {
      clientId: this.options.serviceClientId ?? 'ais-service', protocolVersion: 4, clean: true, keepalive: 30, reconnectPeriod: 500,
      username, password: password && Buffer.from(password), resubscribe: true, queueQoSZero: false,
    });
    this.mqtt = mqtt;
    mqtt.on('message', (topic, payload) => this.received(topic, payload));
    mqtt.on('error', (error) => mqttLog.warn(`broker: ${error.message}`));
    mqtt.on('offline', () => mqttLog.warn('broker connection lost; reconnecting'));
    const any = `${this.root}/ais/${API_VERSION}/+/`;
    const topics = [...['connection/fromclient', 'capabilities/publish', 'event', 'microphone'].map((leaf) => any + leaf), `${PRESENCE_DISCONNECTED}+`];
    return new Promise((resolve, reject) => {
      mqtt.once('connect', () => mqtt.subscribe(topics, { qos: 0 }, (error) => (error ? reject(error) : resolve())));
    });
  }

  close(): void {
    for (const session of this.sessions.values()) for (const order of session.inbound.values()) order.reset();
    this.mqtt?.end(true);
  }

  /** A device's state as the virtual device keeps it (undefined before its first Connect). */
  deviceState(clientId: string): DeviceState | undefined {
    return this.sessions.get(clientId)?.state;
  }

  isConnected(clientId: string): boolean {
    return this.sessions.get(clientId)?.connected ?? false;
  }

  /** Sends directives in one message on the device's directive topic; false if the device is not connected. */
  sendDirectives(clientId: string, directives: { name: string; payload?: Record<string, unknown> }[]): boolean {
    const session = this.sessions.get(clientId);
    if (!session?.connected) return false;
    const resting = this.options.restingAttention?.(clientId);
    if (resting) {
      directives = directives.map((d) => (d.name === 'SetAttentionState' && d.payload?.state === 'IDLE' ? { ...d, payload: { ...d.payload, state: resting } } : d));
    }
    for (const d of directives) if (d.name === 'SetAttentionState') session.state.attention = String(d.payload?.state);
    const body = { directives: directives.map((d) => (d.payload === undefined
      ? { header: { name: d.name, messageId: randomUUID() } }
      : { header: { name: d.name, messageId: randomUUID() }, payload: d.payload })) };
    this.sendEncrypted(clientId, session, 'directive', Buffer.from(JSON.stringify(body)), body);
    return true;
  }

  /** Sends raw bytes as one directive-topic message body (for malformed-input tests). */
  sendRawDirectiveBody(clientId: string, body: Uint8Array): boolean {
    const session = this.sessions.get(clientId);
    if (!session?.connected) return false;
    this.sendEncrypted(clientId, session, 'directive', body, undefined);
    return true;
  }

  /** Sends binary stream entries on the speaker topic. */
  sendSpeaker(clientId: string, body: Uint8Array): boolean {
    const session = this.sessions.get(clientId);
    if (!session?.connected) return false;
    this.sendEncrypted(clientId, session, 'speaker', body, undefined);
    return true;
  }

  /** The sequence number the next sendSpeaker() will carry (to match BufferStateChanged reports). */
  peekSpeakerSequence(clientId: string): number {
    return this.sessions.get(clientId)?.counters.get('speaker')!.peek() ?? 0;
  }

  /**
   * Speaker OVERRUN recovery (§3.5): the next sendSpeaker() carries `sequenceNumber` again, and the ones after
   * it count on from there (the redrive; the device discarded that message and waits for it).
   */
  resendSpeakerFrom(clientId: string, sequenceNumber: number): boolean {
    const session = this.sessions.get(clientId);
    if (!session?.connected) return false;
    session.counters.get('speaker')!.restartAt(sequenceNumber);
    return true;
  }

  /** Starts a secret rotation (§3.6): sends RotateSecret and returns the new key. */
  rotateSecret(clientId: string): Uint8Array | undefined {
    const session = this.sessions.get(clientId);
    if (!session?.connected) return undefined;
    const key = new Uint8Array(randomBytes(session.key.length));
    const directiveSequenceNumber = (session.counters.get('directive')!.peek() + 1) >>> 0;
    const speakerSequenceNumber = session.counters.get('speaker')!.peek();
    this.sendDirectives(clientId, [{ name: 'RotateSecret', payload: { newSecret: Buffer.from(key).toString('base64'), directiveSequenceNumber, speakerSequenceNumber } }]);
    session.keys.get('directive')!.from(directiveSequenceNumber, key);
    session.keys.get('speaker')!.from(speakerSequenceNumber, key);
    session.pendingKey = key;
    return key;
  }

  /** Sends Disconnect to a device (§4.1). */
  disconnect(clientId: string, code: string, description: string): void {
    const session = this.sessions.get(clientId);
    if (session) {
      session.connected = false;
      session.state.attention = undefined;
    }
    this.publishPlain(clientId, { header: { name: 'Disconnect', messageId: randomUUID() }, payload: { code, description } });
    this.log.info(`${clientId}: Disconnect ${code}: ${description}`);
  }

  // ---- inbound ----

  private received(topic: string, payload: Uint8Array): void {
    if (topic.startsWith(PRESENCE_DISCONNECTED)) return this.presence(topic, payload);
    const parsed = parseDeviceTopic(this.root, topic);
    if (!parsed) return this.log.warn(`message on unexpected topic ${topic} ignored`);
    const { clientId, leaf } = parsed;
    if (leaf === 'connection/fromclient') return this.connectionMessage(clientId, payload);
    const session = this.sessions.get(clientId);
    if (!session?.connected) return this.log.warn(`${clientId}: ${leaf} message while not connected ignored`);
    if (payload.length < 4) return this.exception(clientId, 'INVALID_REQUEST', `${leaf} payload of ${payload.length} bytes has no sequence number`);
    session.inbound.get(leaf as DeviceInbound)!.push(Buffer.from(payload.buffer, payload.byteOffset, 4).readUInt32LE(0), payload);
  }

  /** A lifecycle event: a device whose AIS connection is open lost its MQTT connection without Disconnect. */
  private presence(topic: string, payload: Uint8Array): void {
    let event: Partial<PresenceDisconnected>;
    try {
      event = JSON.parse(Buffer.from(payload).toString('utf8')) as Partial<PresenceDisconnected>;
    } catch (error) {
      return this.log.warn(`${topic}: ${(error as Error).message}; ignored`);
    }
    const clientId = topic.slice(PRESENCE_DISCONNECTED.length);
    const session = this.sessions.get(clientId);
    // Lifecycle messages may come late (AWS IoT says so): one older than the current Connect is about the last connection.
    if (!session?.connected || (event.timestamp ?? Infinity) < session.connectedAtMs) return;
    session.connected = false;
    session.state.attention = undefined; // what the service last said no longer holds: the device shows its own
    for (const order of session.inbound.values()) order.reset();
    this.log.warn(`${clientId}: connection lost (${event.disconnectReason ?? 'no reason given'})`);
    this.options.onDeviceLost?.(clientId);
  }

  private connectionMessage(clientId: string, payload: Uint8Array): void {
    let value: unknown;
    try {
      value = parseJson(payload);
    } catch (error) {
      return this.log.warn(`${clientId}: connection/fromclient: ${(error as Error).message}; ignored`);
    }
    const problem = messageProblem(value);
    if (problem) return this.log.warn(`${clientId}: connection/fromclient: message ${problem}; ignored`);
    const msg = value as AisMessage;
    this.trace(clientId, () => serviceTrace('in', 'connection/fromclient', undefined, msg, payload.length));
    if (msg.header.name === 'Disconnect') {
      const session = this.sessions.get(clientId);
      if (session) {
        session.connected = false;
        session.state.attention = undefined;
      }
      return this.log.info(`${clientId}: device disconnected: ${String(msg.payload?.code)} ${String(msg.payload?.description ?? '')}`);
    }
    if (msg.header.name !== 'Connect') return this.log.warn(`${clientId}: unknown connection message ${msg.header.name} ignored`);
    const acknowledge = (code: string, description?: string) => this.publishPlain(clientId, {
      header: { name: 'Acknowledge', messageId: randomUUID() },
      payload: description === undefined ? { connectMessageId: msg.header.messageId, code } : { connectMessageId: msg.header.messageId, code, description },
    });
    const entry = this.options.directory.lookup(clientId);
    if (!entry || msg.payload?.clientId !== clientId) {
      this.log.warn(`${clientId}: Connect refused: client id ${JSON.stringify(msg.payload?.clientId)} is not registered for this topic`);
      return acknowledge('INVALID_CLIENT_ID', 'The client id is not registered');
    }
    if (msg.payload?.awsAccountId !== entry.awsAccountId) {
      this.log.warn(`${clientId}: Connect refused: AWS account ${JSON.stringify(msg.payload?.awsAccountId)} does not match the registration`);
      return acknowledge('INVALID_ACCOUNT_ID', 'The AWS account id does not match the registration');
    }
    const forced = this.faults.acknowledge;
    if (forced) {
      this.faults.acknowledge = undefined;
      this.log.warn(`${clientId}: Connect answered with injected code ${forced}`);
      return acknowledge(forced, 'injected by the emulator');
    }
    const session = this.session(clientId, entry.key);
    session.reset();
    session.connected = true;
    session.connectedAtMs = this.clock.now();
    session.state.connections++;
    session.state.attention = undefined;
    acknowledge('CONNECTION_ESTABLISHED');
    this.log.info(`${clientId}: connected (connection ${session.state.connections})`);
  }

  private session(clientId: string, key: Uint8Array): DeviceSession {
    let session = this.sessions.get(clientId);
    if (!session) {
      session = new DeviceSession(key);
      const stored = this.store.get(clientId);
      session.state.capabilities = stored?.capabilities;
      session.state.synchronizedState = stored?.synchronizedState;
      for (const leaf of INBOUND) {
        session.inbound.set(leaf, new InboundOrder({
          clock: this.clock, windowSlots: this.options.windowSlots ?? 4, gapTimeoutMs: this.options.gapTimeoutMs ?? 10_000,
          deliver: (seq, payload) => this.openInbound(clientId, session!, leaf, seq, payload),
          fail: (reason) => this.disconnect(clientId, 'UNEXPECTED_SEQUENCE_NUMBER', `${leaf}: ${reason}`),
          duplicate: (seq) => this.log.warn(`${clientId}: ${leaf}: dropped a duplicate: #${seq} was delivered already`),
        }));
      }
      this.sessions.set(clientId, session);
    } else if (!session.pendingKey) {
      // The registry may hold a newer key (a re-registration).
      session.key = key;
    }
    return session;
  }

  private openInbound(clientId: string, session: DeviceSession, leaf: DeviceInbound, seq: number, payload: Uint8Array): void {
    if (!session.connected) return;
    let opened = openMessage(session.keys.get(leaf)!.keyFor(seq), payload);
    if (!opened.ok && opened.error === 'ENCRYPTION_ERROR' && session.pendingKey) {
      // The device stored a rotated key but its SecretRotated never arrived (a reboot or a cut in between):
      // if the pending key opens the message, the device has it, so it is the key from now on (§3.6).
      const retry = openMessage(session.pendingKey, payload);
      if (retry.ok) {
        this.log.warn(`${clientId}: ${leaf} #${seq} opened with the rotated key whose SecretRotated never came; adopting it`);
        this.adoptKey(clientId, session, session.pendingKey);
        for (const keys of session.keys.values()) keys.only(session.key);
        opened = retry;
      }
    }
    if (!opened.ok) {
      if (opened.error === 'TRUNCATED') return this.exception(clientId, 'INVALID_REQUEST', `${leaf} #${seq}: ${opened.message}`);
      return this.disconnect(clientId, opened.error, `${leaf} #${seq}: ${opened.message}`);
    }
    if (leaf === 'microphone') {
      this.trace(clientId, () => serviceTrace('in', leaf, seq, undefined, opened.body.length));
      return this.options.onMicrophone?.(clientId, seq, opened.body);
    }
    let entries: unknown[];
    try {
      entries = leaf === 'capabilities/publish' ? [parseJson(opened.body)] : eventEntries(opened.body);
    } catch (error) {
      return this.exception(clientId, 'INVALID_REQUEST', `${leaf} #${seq}: ${(error as Error).message}`);
    }
    this.trace(clientId, () => serviceTrace('in', leaf, seq, leaf === 'event' ? { events: entries } : entries[0], opened.body.length));
    if (leaf === 'capabilities/publish') return this.capabilities(clientId, session, entries[0]);
    for (const [index, entry] of entries.entries()) {
      const problem = messageProblem(entry);
      if (problem) {
        this.exception(clientId, 'INVALID_REQUEST', `event #${seq}: entry ${index} ${problem}`);
        continue;
      }
      this.event(clientId, session, entry as AisMessage);
      if (!session.connected) return;
    }
  }

  private capabilities(clientId: string, session: DeviceSession, value: unknown): void {
    const problem = messageProblem(value);
    if (problem) return this.exception(clientId, 'INVALID_REQUEST', `capabilities: message ${problem}`);
    const publish = value as AisMessage;
    const reply = (code: string, description?: string) => {
      const body = { header: { name: 'Acknowledge', messageId: randomUUID() }, payload: { publishMessageId: publish.header.messageId, code, ...(description ? { description } : {}) } };
      this.sendEncrypted(clientId, session, 'capabilities/acknowledge', Buffer.from(JSON.stringify(body)), body);
      this.log.info(`${clientId}: capabilities ${code}${description ? `: ${description}` : ''}`);
    };
    if (session.sawEvent) return reply('CAPABILITIES_REJECTED', 'capabilities may only be published right after Acknowledge');
    const rejected = capabilitiesProblem(publish, this.options.microphoneFormats);
    if (rejected) return reply('CAPABILITIES_REJECTED', rejected);
    session.state.capabilities = publish.payload!.capabilities as Record<string, unknown>[];
    this.store.update(clientId, { capabilities: session.state.capabilities });
    reply('CAPABILITIES_ACCEPTED');
  }

  private event(clientId: string, session: DeviceSession, event: AisMessage): void {
    const name = event.header.name;
    if (!session.sawEvent) {
      session.sawEvent = true;
      if (name !== 'SynchronizeState') {
        return this.exception(clientId, 'INVALID_REQUEST', `Invalid first event, event: ${name}, desired: SynchronizeState`);
      }
      if (!session.state.capabilities) return this.exception(clientId, 'INVALID_REQUEST', 'capabilities were never published');
    }
    switch (name) {
      case 'SynchronizeState':
        session.state.synchronizedState = event.payload ?? {};
        this.store.update(clientId, { synchronizedState: session.state.synchronizedState });
        this.log.info(`${clientId}: state synchronized ${JSON.stringify(event.payload ?? {})}`);
        return this.options.onDeviceReady?.(clientId);
      case 'ExceptionEncountered':
        session.state.exceptions.push(event.payload ?? {});
        if (session.state.exceptions.length > 50) session.state.exceptions.shift();
        return this.log.warn(`${clientId}: device reports ${JSON.stringify(event.payload ?? {})}`);
      case 'SecretRotated': {
        const key = session.pendingKey;
        const p = event.payload ?? {};
        if (!key || typeof p.eventSequenceNumber !== 'number' || typeof p.microphoneSequenceNumber !== 'number') {
          return this.exception(clientId, 'INVALID_REQUEST', 'SecretRotated without a pending rotation or its sequence numbers');
        }
        session.keys.get('event')!.from(p.eventSequenceNumber, key);
        session.keys.get('microphone')!.from(p.microphoneSequenceNumber, key);
        this.adoptKey(clientId, session, key);
        return this.log.info(`${clientId}: secret rotated; device switches at event #${p.eventSequenceNumber}, microphone #${p.microphoneSequenceNumber}`);
      }
      default:
        this.options.onEvent?.(clientId, event);
    }
  }

  private adoptKey(clientId: string, session: DeviceSession, key: Uint8Array): void {
    session.key = key;
    session.pendingKey = undefined;
    this.options.directory.updateKey?.(clientId, key);
  }

  /** A trace line, made only when someone reads it (the log with `trace`, or onTrace). */
  private trace(clientId: string, line: () => string): void {
    if (!this.options.trace && !this.options.onTrace) return;
    const text = line();
    if (this.options.trace) this.log.info(`${clientId} ${text}`);
    this.options.onTrace?.(clientId, text);
  }

  // ---- outbound ----

  private exception(clientId: string, code: string, description: string): void {
    this.log.warn(`${clientId}: Exception ${code}: ${description}`);
    this.sendDirectives(clientId, [{ name: 'Exception', payload: { code, description } }]);
  }

  private publishPlain(clientId: string, msg: AisMessage): void {
    this.trace(clientId, () => serviceTrace('out', 'connection/fromservice', undefined, msg, 0));
    this.publish(this.topic(clientId, 'connection/fromservice'), Buffer.from(JSON.stringify(msg)));
  }

  private sendEncrypted(clientId: string, session: DeviceSession, leaf: ServiceOutbound, body: Uint8Array, json: unknown): void {
    const seq = session.counters.get(leaf)!.take();
    if (this.faults.skip.delete(leaf)) {
      this.log.warn(`${clientId}: injected gap: ${leaf} #${seq} never sent`);
      return this.sendEncrypted(clientId, session, leaf, body, json);
    }
    const sealed = sealMessage(session.keys.get(leaf)!.keyFor(seq), seq, body, { innerSequence: this.options.innerSequence });
    if (this.faults.corrupt.delete(leaf)) {
      sealed[sealed.length - 1] ^= 0x01;
      this.log.warn(`${clientId}: injected corruption in ${leaf} #${seq}`);
    }
    this.trace(clientId, () => serviceTrace('out', leaf, seq, json, body.length));
    const topic = this.topic(clientId, leaf);
    if (this.faults.hold.delete(leaf)) {
      this.held.set(topic, sealed);
      this.log.warn(`${clientId}: injected reorder: ${leaf} #${seq} held back`);
      return;
    }
    this.publish(topic, sealed);
    const held = this.held.get(topic);
    if (held) {
      this.held.delete(topic);
      this.publish(topic, held);
    }
  }

  /** QoS 0 (§2); dropped while the broker is away, as a lost packet would be. */
  private publish(topic: string, payload: Buffer): void {
    if (this.mqtt?.connected) this.mqtt.publish(topic, payload, { qos: 0 });
  }

  private topic(clientId: string, leaf: TopicLeaf): string {
    return `${this.root}/ais/${API_VERSION}/${clientId}/${leaf}`;
  }
}

/** Why a capabilities Publish is not acceptable (§4.2, §6), or undefined. */
export function capabilitiesProblem(publish: AisMessage, microphoneFormats = ['AUDIO_L16_RATE_16000_CHANNELS_1', 'OPUS']): string | undefined {
  if (publish.header.name !== 'Publish') return `expected a Publish message, got ${publish.header.name}`;
  const list = publish.payload?.capabilities;
  if (!Array.isArray(list) || list.length === 0) return 'payload.capabilities must be a non-empty array';
  const seen = new Set<string>();
  for (const [i, c] of list.entries()) {
    const cap = c as { type?: unknown; interface?: unknown; version?: unknown };
    if (cap?.type !== 'AisInterface') return `capability ${i}: type must be "AisInterface", got ${JSON.stringify(cap?.type)}`;
    if (typeof cap.interface !== 'string' || !KNOWN_INTERFACES.includes(cap.interface)) return `capability ${i}: unknown interface ${JSON.stringify(cap.interface)}`;
    if (typeof cap.version !== 'string') return `capability ${i} (${cap.interface}): version must be a string`;
    if (seen.has(cap.interface)) return `capability ${cap.interface} is declared twice`;
    if (cap.interface === 'Microphone') {
      const format = (cap as { configurations?: { audioEncoder?: { format?: unknown } } }).configurations?.audioEncoder?.format;
      if (format !== undefined && !microphoneFormats.includes(String(format))) return `Microphone audioEncoder format ${JSON.stringify(format)} is not supported (${microphoneFormats.join(', ')})`;
    }
    seen.add(cap.interface);
  }
  if (!seen.has('System')) return 'the System capability is mandatory';
  const speaker = speakerTerms(list);
  return typeof speaker === 'string' ? speaker : undefined;
}
