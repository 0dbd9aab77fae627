// Secret rotation (docs/protocol.md §3.6): which AES key seals or opens a message, chosen per topic by its
// sequence number.
//
// RotateSecret {newSecret, directiveSequenceNumber, speakerSequenceNumber} names the first inbound numbers
// under the new key. The device answers SecretRotated {eventSequenceNumber, microphoneSequenceNumber}: its
// own switch points, next + 5 on every outbound encrypted topic (SDK AIA_SECRET_ROTATION_PADDING), so the
// SecretRotated event itself still goes out under the old key. The capabilities/* topics are in neither
// message (a gap in the spec); like the SDK (aia_secret_manager.c: their starting number stays 0) we switch
// capabilities/acknowledge at once and capabilities/publish at next + 5.
//
// Comparisons use u32 serial arithmetic (RFC 1982) so a switch point just past a wrap works; the SDK compares
// plain integers. After a reconnect every counter restarts at 0 under the newest key (the SDK rebuilds its
// secret manager from the stored, newest, secret): reset().

import { fromBase64 } from '../encoding/base64.js';
import { MalformedMessageError } from './message.js';
import { sequenceDistance } from './sequencer.js';
import { TOPICS, TOPIC_LEAVES } from './topics.js';

export type InboundEncryptedTopic = 'directive' | 'speaker' | 'capabilities/acknowledge';
export type OutboundEncryptedTopic = 'event' | 'microphone' | 'capabilities/publish';
export type EncryptedTopic = InboundEncryptedTopic | OutboundEncryptedTopic;
// From the one topic table (topics.ts), so a topic added there is not silently left on the old key.
export const INBOUND_ENCRYPTED_TOPICS = TOPIC_LEAVES.filter((leaf) => TOPICS[leaf].encrypted && TOPICS[leaf].from === 'service') as readonly InboundEncryptedTopic[];
export const OUTBOUND_ENCRYPTED_TOPICS = TOPIC_LEAVES.filter((leaf) => TOPICS[leaf].encrypted && TOPICS[leaf].from === 'device') as readonly OutboundEncryptedTopic[];

/** SDK AIA_SECRET_ROTATION_PADDING: outbound topics switch this many numbers after the next one. */
export const SECRET_ROTATION_PADDING = 5;

const ENCRYPTED_TOPICS: readonly EncryptedTopic[] = [...INBOUND_ENCRYPTED_TOPICS, ...OUTBOUND_ENCRYPTED_TOPICS];
const HALF_SPAN = 0x80000000;
/** Keys kept per topic: the one in use and up to two scheduled ones (a rotation rarely overlaps another). */
const MAX_KEYS_PER_TOPIC = 3;

/** The decoded RotateSecret directive payload (§3.6); the handler base64-decodes newSecret and checks its size. */
export interface RotateSecret {
  newSecret: Uint8Array;
  directiveSequenceNumber: number;
  speakerSequenceNumber: number;
}

/** The SecretRotated event payload (§3.6). */
export interface SecretRotated {
  eventSequenceNumber: number;
  microphoneSequenceNumber: number;
}

export interface SecretManagerOptions {
  /** The key of the registration (keys.ts deriveAesKey) or the last stored rotated key. */
  key: Uint8Array;
  /** The next number each outbound topic will send (SequenceCounter.peek()). */
  nextOutboundSequenceNumber(topic: OutboundEncryptedTopic): number;
  /** Outbound switch padding (default SECRET_ROTATION_PADDING = 5). */
  paddingCount?: number;
}

/** One topic's keys, oldest first; keys[0] applies to every number before keys[1]'s first number. */
export class TopicKeys {
  readonly keys: Uint8Array[] = [];
  readonly firstNumbers: number[] = [];

  constructor(key: Uint8Array) {
    this.keys.push(key);
    this.firstNumbers.push(0);
  }

  keyFor(sequenceNumber: number): Uint8Array {
    // Newest first: the latest key whose first number is at or before this one.
    for (let i = this.keys.length - 1; i > 0; i--) {
      if (sequenceDistance(this.firstNumbers[i], sequenceNumber) < HALF_SPAN) return this.keys[i];
    }
    return this.keys[0];
  }

  schedule(key: Uint8Array, firstNumber: number): void {
    if (this.keys.length === MAX_KEYS_PER_TOPIC) {
      this.keys.shift();
      this.firstNumbers.shift();
    }
    this.keys.push(key);
    this.firstNumbers.push(firstNumber);
  }

  collapse(key: Uint8Array): void {
    this.keys.length = 0;
    this.firstNumbers.length = 0;
    this.keys.push(key);
    this.firstNumbers.push(0);
  }
}

function isU32(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export class SecretManager {
  readonly keyBytes: number;
  readonly paddingCount: number;
  private readonly topics = new Map<EncryptedTopic, TopicKeys>();
  private readonly nextOutbound: SecretManagerOptions['nextOutboundSequenceNumber'];
  private newest: Uint8Array;

  constructor(options: SecretManagerOptions) {
    if (!options || !(options.key instanceof Uint8Array)) throw new TypeError('SecretManager expected options.key, a Uint8Array');
    if (options.key.length !== 16 && options.key.length !== 32) {
      throw new RangeError(`key expected 16 or 32 bytes, got ${options.key.length}`);
    }
    if (typeof options.nextOutboundSequenceNumber !== 'function') {
      throw new TypeError('SecretManager expected options.nextOutboundSequenceNumber');
    }
    const padding = options.paddingCount ?? SECRET_ROTATION_PADDING;
    if (!Number.isInteger(padding) || padding < 1) throw new RangeError(`paddingCount expected a positive integer, got ${padding}`);
    this.keyBytes = options.key.length;
    this.paddingCount = padding;
    this.nextOutbound = options.nextOutboundSequenceNumber;
    this.newest = options.key.slice();
    for (const topic of ENCRYPTED_TOPICS) this.topics.set(topic, new TopicKeys(this.newest));
  }

  /** The newest key: what to persist after a rotation (the SDK's AiaStoreSecret). */
  get currentKey(): Uint8Array {
    return this.newest;
  }

  /** The key that seals or opens message `sequenceNumber` of `topic`. */
  keyFor(topic: EncryptedTopic, sequenceNumber: number): Uint8Array {
    const keys = this.topics.get(topic);
    if (!keys) throw new RangeError(`topic expected one of ${ENCRYPTED_TOPICS.join(', ')}, got ${topic}`);
    return keys.keyFor(sequenceNumber);
  }

  /**
   * Applies a RotateSecret directive and returns the SecretRotated payload to send (under the old key, which
   * its number selects by itself). A key of the wrong size is a RangeError: the directive handler checks
   * `keyBytes` first and answers a malformed directive with ExceptionEncountered.
   */
  rotate(rotation: RotateSecret): SecretRotated {
    const key = rotation.newSecret;
    if (!(key instanceof Uint8Array) || key.length !== this.keyBytes) {
      throw new RangeError(`newSecret expected ${this.keyBytes} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
    }
    for (const [name, value] of [['directiveSequenceNumber', rotation.directiveSequenceNumber],
      ['speakerSequenceNumber', rotation.speakerSequenceNumber]] as const) {
      if (!isU32(value)) throw new RangeError(`${name} expected a u32, got ${value}`);
    }
    const copy = key.slice();
    const outbound = {} as Record<OutboundEncryptedTopic, number>;
    for (const topic of OUTBOUND_ENCRYPTED_TOPICS) outbound[topic] = (this.nextOutbound(topic) + this.paddingCount) >>> 0;
    for (const topic of INBOUND_ENCRYPTED_TOPICS) {
      if (topic === 'directive') this.topic(topic).schedule(copy, rotation.directiveSequenceNumber);
      else if (topic === 'speaker') this.topic(topic).schedule(copy, rotation.speakerSequenceNumber);
      else this.topic(topic).collapse(copy); // capabilities/acknowledge, not named by RotateSecret (§3.6 gap): at once, like the SDK
    }
    for (const topic of OUTBOUND_ENCRYPTED_TOPICS) this.topic(topic).schedule(copy, outbound[topic]);
    this.newest = copy;
    return { eventSequenceNumber: outbound.event, microphoneSequenceNumber: outbound.microphone };
  }

  /**
   * The RotateSecret directive's payload (§3.6): checks it (MalformedMessageError for what the service got
   * wrong), applies it, zeroes the decoded secret and returns the SecretRotated payload to send.
   */
  rotateFromDirective(payload: Record<string, unknown> | undefined): SecretRotated {
    const p = payload ?? {};
    const newSecret = typeof p.newSecret === 'string' ? fromBase64(p.newSecret) : undefined;
    if (!newSecret || newSecret.length !== this.keyBytes) {
      throw new MalformedMessageError(`RotateSecret newSecret must be base64 of ${this.keyBytes} bytes`);
    }
    const { directiveSequenceNumber, speakerSequenceNumber } = p;
    for (const [name, value] of [['directiveSequenceNumber', directiveSequenceNumber], ['speakerSequenceNumber', speakerSequenceNumber]] as const) {
      if (!isU32(value)) throw new MalformedMessageError(`RotateSecret ${name} expected a u32, got ${JSON.stringify(value)}`);
    }
    try {
      return this.rotate({ newSecret, directiveSequenceNumber: directiveSequenceNumber as number, speakerSequenceNumber: speakerSequenceNumber as number });
    } finally {
      newSecret.fill(0);
    }
  }

  /** On (re)connect: every topic restarts at 0 under the newest key; older keys are zeroed. */
  reset(): void {
    const retired = new Set<Uint8Array>();
    for (const keys of this.topics.values()) for (const key of keys.keys) if (key !== this.newest) retired.add(key);
    for (const keys of this.topics.values()) keys.collapse(this.newest);
    for (const key of retired) key.fill(0);
  }

  /** Zeroes every key; the manager is unusable afterwards. Safe twice. */
  close(): void {
    for (const keys of this.topics.values()) for (const key of keys.keys) key.fill(0);
    this.newest.fill(0);
  }

  private topic(name: EncryptedTopic): TopicKeys {
    return this.topics.get(name) as TopicKeys;
  }
}
