// Bytes to packet objects, incrementally: `push()` accepts any split of the stream (a packet across
// several reads, several packets in one read). Wire input never throws out of `push()`: the first
// malformed packet is reported once through `onError`, after which the parser ignores input until
// `reset()` (the caller disconnects, [MQTT-4.8.0-1]). A packet announcing more than `maxPacketBytes` is
// refused from its header, before anything is buffered; the buffer grows with the bytes received, not with
// the length a header announces (5 bytes must not make a peer allocate 256 MB).

import {
  COMMAND_OF_TYPE, CONNACK_REASONS, MAX_REMAINING_LENGTH, CONNECT_CLEAN, CONNECT_PASSWORD, CONNECT_RESERVED, CONNECT_USERNAME,
  CONNECT_WILL, CONNECT_WILL_QOS_MASK, CONNECT_WILL_QOS_SHIFT, CONNECT_WILL_RETAIN, PROTOCOL_LEVEL, PROTOCOL_NAME,
  PUBLISH, PUBLISH_DUP, PUBLISH_QOS_MASK, PUBLISH_QOS_SHIFT, PUBLISH_RETAIN, REQUIRED_FLAGS, SUBACK_FAILURE,
} from './constants.js';
import { MqttProtocolError, type Packet, type PublishPacket, type QoS } from './packets.js';
import { topicFilterProblem, topicNameProblem } from './topic.js';
import { decodeUtf8 } from '../encoding/utf8.js';

export interface ParserOptions {
  /** Largest whole packet (fixed header included) accepted, in bytes. */
  maxPacketBytes: number;
  /**
   * One parsed packet. The object and a PUBLISH payload are only valid during the call: the parser
   * reuses them. Copy what you keep.
   */
  onPacket(packet: Packet): void;
  /** The stream is malformed; called once, then the parser stays silent until reset(). */
  onError(error: MqttProtocolError): void;
}

const NEED_MORE = -1;
/** A fixed header is at most 5 bytes; the largest packet MQTT 3.1.1 can frame is that plus the largest remaining length. */
const HEADER_MAX_BYTES = 5;
const MQTT_MAX_PACKET_BYTES = HEADER_MAX_BYTES + MAX_REMAINING_LENGTH;
/** Topics up to this many bytes are remembered, so a PUBLISH on the same topic as the previous one makes no string. */
const TOPIC_MEMORY_BYTES = 256;
// Field names as constants (error messages only): XS copies a string literal each time RAM bytecode evaluates it.
const TOPIC_NAME = 'topic name', TOPIC_NAME_LENGTH = 'topic name length';

export class MqttParser {
  private readonly maxPacketBytes: number;
  private readonly onPacket: (packet: Packet) => void;
  private readonly onError: (error: MqttProtocolError) => void;
  private pending: Uint8Array = new Uint8Array(0);
  private pendingLength = 0;
  private failed = false;
  private generation = 0;
  // Cursor of the packet being decoded.
  private buf: Uint8Array = this.pending;
  private pos = 0;
  private end = 0;
  private readonly publish: PublishPacket = { cmd: 'publish', topic: '', payload: this.pending, qos: 0, dup: false, retain: false };
  // The previous PUBLISH topic, bytes and string, for topicName().
  private readonly topicBytes = new Uint8Array(TOPIC_MEMORY_BYTES);
  private topicLength = -1;
  private topic = '';

  constructor(options: ParserOptions) {
    const max = options.maxPacketBytes;
    if (!Number.isInteger(max) || max < 2 || max > MQTT_MAX_PACKET_BYTES) {
      throw new RangeError(`maxPacketBytes expected an integer 2..${MQTT_MAX_PACKET_BYTES}, got ${max}`);
    }
    this.maxPacketBytes = options.maxPacketBytes;
    this.onPacket = options.onPacket;
    this.onError = options.onError;
  }

  /** Forgets any partial packet and a previous error: for a new connection. */
  reset(): void {
    this.pendingLength = 0;
    this.failed = false;
    this.generation++;
  }

  /** Feeds `length` bytes of `chunk` (default: all of it). */
  push(chunk: Uint8Array, length: number = chunk.length): void {
    const generation = this.generation;
    let pos = 0;
    while (pos < length && !this.failed && generation === this.generation) {
      if (this.pendingLength === 0) {
        const total = this.frameLength(chunk, pos, length);
        if (total === 0) return;
        if (total !== NEED_MORE && pos + total <= length) {
          this.decode(chunk, pos, total);
          pos += total;
          continue;
        }
        this.ensure(total === NEED_MORE ? HEADER_MAX_BYTES : length - pos);
        this.pending.set(chunk.subarray(pos, length), 0);
        this.pendingLength = length - pos;
        return;
      }
      let total = this.frameLength(this.pending, 0, this.pendingLength);
      if (total === NEED_MORE) {
        // Complete the fixed header one byte at a time (it is at most 5 bytes); a packet with no body
        // (PINGRESP) is whole as soon as its header is, even on the last byte of this read.
        this.pending[this.pendingLength++] = chunk[pos++];
        total = this.frameLength(this.pending, 0, this.pendingLength);
        if (total === NEED_MORE) continue;
      }
      if (total === 0) return;
      const take = Math.min(total - this.pendingLength, length - pos);
      this.ensure(this.pendingLength + take);
      for (let i = 0; i < take; i++) this.pending[this.pendingLength + i] = chunk[pos + i];
      this.pendingLength += take;
      pos += take;
      if (this.pendingLength === total) {
        this.pendingLength = 0;
        this.decode(this.pending, 0, total);
      }
    }
  }

  private fail(error: MqttProtocolError): void {
    if (this.failed) return;
    this.failed = true;
    this.pendingLength = 0;
    this.onError(error);
  }

  /** Room for `size` bytes, doubling (up to the limit) so a packet arriving in many reads is copied a few times. */
  private ensure(size: number): void {
    if (this.pending.length >= size) return;
    const grown = new Uint8Array(Math.max(size, Math.min(this.maxPacketBytes, Math.max(this.pending.length * 2, 64))));
    grown.set(this.pending.subarray(0, this.pendingLength));
    this.pending = grown;
  }

  /**
   * Whole length of the packet starting at `start`, NEED_MORE if its fixed header is incomplete, or 0
   * after reporting a bad header (reserved type, wrong flags, 5-byte length, too large).
   */
  private frameLength(bytes: Uint8Array, start: number, end: number): number {
    const first = bytes[start];
    const cmd = COMMAND_OF_TYPE[first >> 4];
    if (cmd === undefined) {
      this.fail(new MqttProtocolError(`reserved packet type ${first >> 4}`, 'MQTT-2.2.1'));
      return 0;
    }
    if (cmd !== PUBLISH && (first & 0x0f) !== REQUIRED_FLAGS[cmd]) {
      this.fail(new MqttProtocolError(`${cmd.toUpperCase()} flags must be ${REQUIRED_FLAGS[cmd]}, got ${first & 0x0f}`, 'MQTT-2.2.2-2'));
      return 0;
    }
    let remaining = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      if (start + i >= end) return NEED_MORE;
      const byte = bytes[start + i];
      remaining += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        const total = 1 + i + remaining;
        if (total > this.maxPacketBytes) {
          this.fail(new MqttProtocolError(`${cmd.toUpperCase()} of ${total} bytes exceeds the maximum of ${this.maxPacketBytes}`));
          return 0;
        }
        return total;
      }
      multiplier *= 128;
    }
    this.fail(new MqttProtocolError('remaining length runs past 4 bytes', 'MQTT-2.2.3'));
    return 0;
  }

  private decode(bytes: Uint8Array, start: number, total: number): void {
    const first = bytes[start];
    const cmd = COMMAND_OF_TYPE[first >> 4]!;
    let p = start + 1;
    while (bytes[p++] & 0x80);
    this.buf = bytes;
    this.pos = p;
    this.end = start + total;
    let packet: Packet;
    try {
      packet = this.decodeBody(cmd, first & 0x0f);
      if (this.pos !== this.end) {
        throw new MqttProtocolError(`${cmd.toUpperCase()} has ${this.end - this.pos} bytes beyond its fields`);
      }
    } catch (error) {
      if (!(error instanceof MqttProtocolError)) throw error;
      this.fail(error);
      return;
    }
    this.onPacket(packet);
  }

  private decodeBody(cmd: string, flags: number): Packet {
    switch (cmd) {
      case PUBLISH: {
        const qos = (flags & PUBLISH_QOS_MASK) >> PUBLISH_QOS_SHIFT;
        if (qos === 3) throw new MqttProtocolError('PUBLISH QoS 3 is reserved', 'MQTT-3.3.1-4');
        const dup = (flags & PUBLISH_DUP) !== 0;
        if (dup && qos === 0) throw new MqttProtocolError('PUBLISH QoS 0 with DUP set', 'MQTT-3.3.1-2');
        const p = this.publish;
        p.topic = this.topicName();
        p.qos = qos as QoS;
        p.dup = dup;
        p.retain = (flags & PUBLISH_RETAIN) !== 0;
        p.messageId = qos > 0 ? this.messageId('PUBLISH') : undefined;
        p.payload = this.buf.subarray(this.pos, this.end);
        this.pos = this.end;
        return p;
      }
      case 'connect': return this.connect();
      case 'connack': {
        const ackFlags = this.u8('CONNACK flags');
        if (ackFlags & 0xfe) throw new MqttProtocolError(`CONNACK reserved flags set: ${ackFlags}`, 'MQTT-3.2.2.1');
        const returnCode = this.u8('CONNACK return code');
        if (returnCode >= CONNACK_REASONS.length) throw new MqttProtocolError(`CONNACK return code ${returnCode} is reserved`, 'MQTT-3.2.2.3');
        return { cmd: 'connack', sessionPresent: ackFlags === 1, returnCode };
      }
      case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'unsuback':
        return { cmd, messageId: this.messageId(cmd.toUpperCase()) };
      case 'subscribe': {
        const messageId = this.messageId('SUBSCRIBE');
        const subscriptions: { topic: string; qos: QoS }[] = [];
        while (this.pos < this.end) {
          const topic = this.filter('SUBSCRIBE');
          const qos = this.u8('requested QoS');
          if (qos > 2) throw new MqttProtocolError(`SUBSCRIBE requested QoS byte ${qos} is invalid`, 'MQTT-3.8.3-4');
          subscriptions.push({ topic, qos: qos as QoS });
        }
        if (subscriptions.length === 0) throw new MqttProtocolError('SUBSCRIBE without a topic filter', 'MQTT-3.8.3-3');
        return { cmd: 'subscribe', messageId, subscriptions };
      }
      case 'suback': {
        const messageId = this.messageId('SUBACK');
        const granted: number[] = [];
        while (this.pos < this.end) {
          const code = this.u8('SUBACK return code');
          if (code > 2 && code !== SUBACK_FAILURE) throw new MqttProtocolError(`SUBACK return code ${code} is reserved`, 'MQTT-3.9.3-2');
          granted.push(code);
        }
        return { cmd: 'suback', messageId, granted };
      }
      case 'unsubscribe': {
        const messageId = this.messageId('UNSUBSCRIBE');
        const unsubscriptions: string[] = [];
        while (this.pos < this.end) unsubscriptions.push(this.filter('UNSUBSCRIBE'));
        if (unsubscriptions.length === 0) throw new MqttProtocolError('UNSUBSCRIBE without a topic filter', 'MQTT-3.10.3-2');
        return { cmd: 'unsubscribe', messageId, unsubscriptions };
      }
      default: // pingreq, pingresp, disconnect: no variable header
        return { cmd } as Packet;
    }
  }

  private connect(): Packet {
    const name = this.string('protocol name');
    if (name !== PROTOCOL_NAME) throw new MqttProtocolError(`CONNECT protocol name ${JSON.stringify(name)}, expected "MQTT"`, 'MQTT-3.1.2-1');
    const level = this.u8('protocol level');
    if (level !== PROTOCOL_LEVEL) throw new MqttProtocolError(`CONNECT protocol level ${level}, expected 4`, 'MQTT-3.1.2-2');
    const flags = this.u8('connect flags');
    if (flags & CONNECT_RESERVED) throw new MqttProtocolError('CONNECT reserved flag set', 'MQTT-3.1.2-3');
    const willQos = (flags & CONNECT_WILL_QOS_MASK) >> CONNECT_WILL_QOS_SHIFT;
    const hasWill = (flags & CONNECT_WILL) !== 0;
    if (!hasWill && (willQos !== 0 || (flags & CONNECT_WILL_RETAIN))) {
      throw new MqttProtocolError('CONNECT will QoS or retain set without a will', 'MQTT-3.1.2-11');
    }
    if (willQos === 3) throw new MqttProtocolError('CONNECT will QoS 3 is invalid', 'MQTT-3.1.2-14');
    if ((flags & CONNECT_PASSWORD) && !(flags & CONNECT_USERNAME)) {
      throw new MqttProtocolError('CONNECT password without user name', 'MQTT-3.1.2-22');
    }
    const keepalive = this.u16('keep alive');
    const packet: Packet = { cmd: 'connect', clientId: this.string('client identifier'), keepalive, clean: (flags & CONNECT_CLEAN) !== 0 };
    if (hasWill) {
      const topic = this.string('will topic');
      const problem = topicNameProblem(topic);
      if (problem) throw new MqttProtocolError(`CONNECT will ${problem}`);
      packet.will = { topic, payload: this.bytes('will message'), qos: willQos as QoS, retain: (flags & CONNECT_WILL_RETAIN) !== 0 };
    }
    if (flags & CONNECT_USERNAME) packet.username = this.string('user name');
    if (flags & CONNECT_PASSWORD) packet.password = this.bytes('password');
    return packet;
  }

  private need(count: number, what: string): void {
    if (this.pos + count > this.end) {
      throw new MqttProtocolError(`packet ends inside its ${what}: ${count} bytes needed, ${this.end - this.pos} left`);
    }
  }

  private u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  private u16(what: string): number {
    this.need(2, what);
    const value = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return value;
  }

  private messageId(cmd: string): number {
    const id = this.u16('packet identifier');
    if (id === 0) throw new MqttProtocolError(`${cmd} packet identifier 0`, 'MQTT-2.3.1-1');
    return id;
  }

  /** A UTF-8 string field; `length` when its length field was already read. */
  private string(what: string, length = this.u16(`${what} length`)): string {
    this.need(length, what);
    const text = decodeUtf8(this.buf, this.pos, this.pos + length);
    if (text === undefined) throw new MqttProtocolError(`${what} is not well-formed UTF-8 or holds U+0000`, 'MQTT-1.5.3-1');
    this.pos += length;
    return text;
  }

  /** A PUBLISH topic, checked; the previous one's string when the bytes repeat (a device hears a few topics). */
  private topicName(): string {
    const length = this.u16(TOPIC_NAME_LENGTH);
    this.need(length, TOPIC_NAME);
    const buf = this.buf, at = this.pos, known = this.topicBytes;
    let same = length === this.topicLength;
    for (let i = 0; same && i < length; i++) same = buf[at + i] === known[i];
    if (!same) {
      const topic = this.string(TOPIC_NAME, length);
      const problem = topicNameProblem(topic);
      if (problem) throw new MqttProtocolError(`PUBLISH ${problem}`);
      this.topic = topic;
      this.topicLength = length <= known.length ? length : -1;
      for (let i = 0; i < length && i < known.length; i++) known[i] = buf[at + i];
      return topic;
    }
    this.pos += length;
    return this.topic;
  }

  private filter(cmd: string): string {
    const topic = this.string('topic filter');
    const problem = topicFilterProblem(topic);
    if (problem) throw new MqttProtocolError(`${cmd} ${problem}`);
    return topic;
  }

  private bytes(what: string): Uint8Array {
    const length = this.u16(`${what} length`);
    this.need(length, what);
    const copy = this.buf.slice(this.pos, this.pos + length);
    this.pos += length;
    return copy;
  }
}
