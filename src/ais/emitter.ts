// The outbound side of an AIS connection: seals a body under the key for its number and publishes it on its
// topic (AIS §3.2, §3.5), and batches events, one pacer for them (§4.9). A failed publish gives its number back
// (§7 gotcha 11) and an event batch that was refused stays queued. The microphone stream has its own pacer
// (microphone.ts) and comes through publish().
//
// Memory: one sealed-message buffer and one publish-options object, made once; nothing per audio message.

import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import type { Envelope } from './envelope.js';
import { encodeJson, type AisMessage } from './message.js';
import { Pacer } from './pacer.js';
import { OUTBOUND_ENCRYPTED_TOPICS, type OutboundEncryptedTopic } from './rotation.js';
import { SequenceCounter } from './sequencer.js';
import type { TopicLeaf } from './topics.js';
import { traceLine } from './trace.js';

/** What the emitter needs of the MQTT session (MqttClient has it). */
export interface Publisher {
  readonly connected: boolean;
  publish(topic: string, payload: Uint8Array, options?: { length?: number }): boolean;
}

export interface EmitterOptions {
  publisher: Publisher;
  envelope: Envelope;
  /** Full topic name of each leaf. */
  topic: Readonly<Record<TopicLeaf, string>>;
  /** The key that seals message `sequenceNumber` of `leaf` (SecretManager.keyFor). */
  keyFor(leaf: OutboundEncryptedTopic, sequenceNumber: number): Uint8Array;
  clock: Clock;
  log: Logger;
  /** Event spacing (§4.9: 50 ms); events queued meanwhile go out in one batch. */
  spacingMs?: number;
  trace?: boolean;
}

export class Emitter {
  private readonly options: EmitterOptions;
  private readonly counters = {} as Record<OutboundEncryptedTopic, SequenceCounter>;
  private readonly sealed: Uint8Array;
  /** The options of every encrypted publish, one object reused (a literal would be a new object per message). */
  private readonly publishOptions = { length: 0 };
  private readonly pendingEvents: AisMessage[] = [];
  private readonly events: Pacer;

  constructor(options: EmitterOptions) {
    this.options = options;
    for (const leaf of OUTBOUND_ENCRYPTED_TOPICS) this.counters[leaf] = new SequenceCounter();
    this.sealed = new Uint8Array(options.envelope.maxMessageBytes);
    this.events = new Pacer({ clock: options.clock, spacingMs: options.spacingMs, onSlot: () => this.flushEvents() });
  }

  /** The number the next message on `leaf` will carry (SecretRotated computes its switch points from it, §3.6). */
  nextSequenceNumber(leaf: OutboundEncryptedTopic): number {
    return this.counters[leaf].peek();
  }

  /** A new connection: numbers from 0 (§3.5), spacing afresh, nothing pending. */
  reset(): void {
    for (const leaf of OUTBOUND_ENCRYPTED_TOPICS) this.counters[leaf].reset();
    this.clear();
  }

  /** Drops the events not yet sent and stops the event slots (the connection is ending). */
  clear(): void {
    this.events.reset();
    this.pendingEvents.length = 0;
  }

  /** Publishes a plaintext message on connection/fromclient (§4.1). */
  publishPlain(msg: AisMessage): void {
    const body = encodeJson(msg);
    if (this.options.trace) this.options.log.info(traceLine('out', 'connection/fromclient', undefined, msg, body.length));
    this.options.publisher.publish(this.options.topic['connection/fromclient'], body);
  }

  /** Seals the first `length` bytes of `body` and publishes them on `leaf`; false (number kept) when the publish failed. */
  publish(leaf: OutboundEncryptedTopic, body: Uint8Array, length: number, json: unknown): boolean {
    const counter = this.counters[leaf];
    const seq = counter.next();
    const sealedBytes = this.options.envelope.seal(this.options.keyFor(leaf, seq), seq, body, this.sealed, length);
    if (this.options.trace) this.options.log.info(traceLine('out', leaf, seq, json, length));
    this.publishOptions.length = sealedBytes;
    if (!this.options.publisher.publish(this.options.topic[leaf], this.sealed, this.publishOptions)) {
      counter.release(seq);
      return false;
    }
    return true;
  }

  /** Queues an event; it goes out at once when the topic's slot is free, else with the others in the next slot. */
  queueEvent(msg: AisMessage): void {
    const envelope = this.options.envelope;
    const size = encodeJson({ events: [msg] }).length;
    if (size > envelope.maxBodyBytes) {
      this.options.log.error(`event ${msg.header.name} of ${size} bytes exceeds the ${envelope.maxBodyBytes}-byte message limit; dropped`);
      return;
    }
    this.pendingEvents.push(msg);
    if (this.events.running) return;
    if (this.events.waitMs > 0 || this.flushEvents()) this.events.request();
  }

  /** Sends every queued event now, as many batches as the session takes (the connection stops). */
  flushAll(): void {
    for (let left = this.pendingEvents.length; left > 0 && this.options.publisher.connected; left = this.pendingEvents.length) {
      this.flushEvents();
      if (this.pendingEvents.length >= left) return; // refused (a stalled link): nothing more goes out now
    }
  }

  /** Publishes as many queued events as fit in one message; true when some remain for the next slot. */
  private flushEvents(): boolean {
    if (this.pendingEvents.length === 0 || !this.options.publisher.connected) return false;
    const maxBody = this.options.envelope.maxBodyBytes;
    let count = this.pendingEvents.length;
    let body = encodeJson({ events: this.pendingEvents });
    while (body.length > maxBody && count > 1) {
      count = Math.max(1, count >> 1);
      body = encodeJson({ events: this.pendingEvents.slice(0, count) });
    }
    if (this.publish('event', body, body.length, { events: this.pendingEvents.slice(0, count) })) this.pendingEvents.splice(0, count);
    // Refused (the MQTT queue is full on a stalled link): the batch stays first and is tried a spacing later,
    // as a sent one would be followed.
    this.events.sent();
    return this.pendingEvents.length > 0;
  }
}
