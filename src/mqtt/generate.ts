// Packet objects to bytes. Misuse by the caller (bad QoS, a wildcard in a PUBLISH topic, a string over
// 65,535 bytes, a packet over the 256 MB limit) throws TypeError/RangeError at once: these are program
// errors, not wire input.

import {
  CONNECT_CLEAN, CONNECT_PASSWORD, CONNECT_USERNAME, CONNECT_WILL, CONNECT_WILL_QOS_SHIFT, CONNECT_WILL_RETAIN,
  MAX_REMAINING_LENGTH, PACKET_TYPES, PROTOCOL_LEVEL, PUBLISH_DUP, PUBLISH_QOS_SHIFT, PUBLISH_RETAIN, REQUIRED_FLAGS,
} from './constants.js';
import type { Packet, QoS } from './packets.js';
import { topicFilterProblem, topicNameProblem } from './topic.js';
import { utf8Length, writeUtf8 } from '../encoding/utf8.js';

/** Bytes taken by the remaining-length field for `length`. */
export function varintSize(length: number): number {
  return length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : 4;
}

function writeVarint(out: Uint8Array, offset: number, value: number): number {
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out[offset++] = byte;
  } while (value > 0);
  return offset;
}

function stringSize(text: string, what: string): number {
  const length = utf8Length(text);
  if (length < 0) throw new RangeError(`${what} holds a lone UTF-16 surrogate`);
  if (length > 0xffff) throw new RangeError(`${what} is ${length} bytes of UTF-8; the limit is 65535`);
  return 2 + length;
}

function writeString(out: Uint8Array, offset: number, text: string): number {
  const end = writeUtf8(text, out, offset + 2);
  const length = end - offset - 2;
  out[offset] = length >> 8;
  out[offset + 1] = length & 0xff;
  return end;
}

function writeBytes(out: Uint8Array, offset: number, bytes: Uint8Array): number {
  out[offset] = bytes.length >> 8;
  out[offset + 1] = bytes.length & 0xff;
  out.set(bytes, offset + 2);
  return offset + 2 + bytes.length;
}

function checkQos(qos: number, what: string): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`${what} must be 0, 1 or 2, got ${qos}`);
}

function checkMessageId(id: number | undefined): void {
  if (typeof id !== 'number' || !(id >= 1 && id <= 0xffff) || id !== Math.floor(id)) {
    throw new RangeError(`messageId must be an integer 1-65535, got ${id} [MQTT-2.3.1-1]`);
  }
}

function checkTopicName(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem) throw new RangeError(problem);
}

/** Size of the variable header and payload of `packet`, validating it. */
function remainingLength(packet: Packet): number {
  switch (packet.cmd) {
    case 'connect': {
      let size = 6 + 1 + 1 + 2 + stringSize(packet.clientId, 'clientId');
      if (packet.clientId === '' && !packet.clean) throw new RangeError('an empty clientId needs a clean session [MQTT-3.1.3-7]');
      if (packet.keepalive < 0 || packet.keepalive > 0xffff) throw new RangeError(`keepalive must be 0-65535 s, got ${packet.keepalive}`);
      if (packet.will) {
        checkTopicName(packet.will.topic);
        checkQos(packet.will.qos, 'will qos');
        size += stringSize(packet.will.topic, 'will topic') + 2 + packet.will.payload.length;
        if (packet.will.payload.length > 0xffff) throw new RangeError('will payload over 65535 bytes');
      }
      if (packet.username !== undefined) size += stringSize(packet.username, 'username');
      if (packet.password !== undefined) {
        if (packet.username === undefined) throw new RangeError('a password needs a username [MQTT-3.1.2-22]');
        if (packet.password.length > 0xffff) throw new RangeError('password over 65535 bytes');
        size += 2 + packet.password.length;
      }
      return size;
    }
    case 'connack':
      return 2;
    case 'publish':
      checkTopicName(packet.topic);
      checkQos(packet.qos, 'qos');
      if (packet.qos > 0) checkMessageId(packet.messageId);
      return stringSize(packet.topic, 'topic') + (packet.qos > 0 ? 2 : 0) + packet.payload.length;
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'unsuback':
      checkMessageId(packet.messageId);
      return 2;
    case 'subscribe': {
      checkMessageId(packet.messageId);
      if (packet.subscriptions.length === 0) throw new RangeError('SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-3]');
      let size = 2;
      for (const s of packet.subscriptions) {
        const problem = topicFilterProblem(s.topic);
        if (problem) throw new RangeError(problem);
        checkQos(s.qos, 'requested qos');
        size += stringSize(s.topic, 'topic filter') + 1;
      }
      return size;
    }
    case 'suback':
      checkMessageId(packet.messageId);
      for (const code of packet.granted) {
        if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) throw new RangeError(`SUBACK return code must be 0, 1, 2 or 128, got ${code}`);
      }
      return 2 + packet.granted.length;
    case 'unsubscribe': {
      checkMessageId(packet.messageId);
      if (packet.unsubscriptions.length === 0) throw new RangeError('UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2]');
      let size = 2;
      for (const topic of packet.unsubscriptions) {
        const problem = topicFilterProblem(topic);
        if (problem) throw new RangeError(problem);
        size += stringSize(topic, 'topic filter');
      }
      return size;
    }
    case 'pingreq': case 'pingresp': case 'disconnect':
      return 0;
    default:
      throw new TypeError(`unknown packet cmd ${JSON.stringify((packet as { cmd: unknown }).cmd)}`);
  }
}

/** Remaining length of `packet`, validated, within the MQTT limit. */
function checkedRemaining(packet: Packet): number {
  const remaining = remainingLength(packet);
  if (remaining > MAX_REMAINING_LENGTH) throw new RangeError(`packet of ${remaining} bytes exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`);
  return remaining;
}

/** Total encoded size of `packet` in bytes (validates it). */
export function packetSize(packet: Packet): number {
  const remaining = checkedRemaining(packet);
  return 1 + varintSize(remaining) + remaining;
}

/** Writes `packet` into `out` at `offset`; returns the offset after it. */
export function writePacket(packet: Packet, out: Uint8Array, offset = 0): number {
  const remaining = checkedRemaining(packet);
  if (offset + 1 + varintSize(remaining) + remaining > out.length) {
    throw new RangeError(`packet of ${1 + varintSize(remaining) + remaining} bytes does not fit in ${out.length - offset} bytes`);
  }
  return writeChecked(packet, remaining, out, offset);
}

/** Writes a packet already validated, whose remaining length is `remaining`. */
function writeChecked(packet: Packet, remaining: number, out: Uint8Array, offset: number): number {
  const type = PACKET_TYPES[packet.cmd];
  let flags = packet.cmd === 'publish'
    ? (packet.dup ? PUBLISH_DUP : 0) | (packet.qos << PUBLISH_QOS_SHIFT) | (packet.retain ? PUBLISH_RETAIN : 0)
    : REQUIRED_FLAGS[packet.cmd];
  out[offset++] = (type << 4) | flags;
  offset = writeVarint(out, offset, remaining);
  switch (packet.cmd) {
    case 'connect': {
      offset = writeString(out, offset, 'MQTT');
      out[offset++] = PROTOCOL_LEVEL;
      flags = packet.clean ? CONNECT_CLEAN : 0;
      if (packet.will) {
        flags |= CONNECT_WILL | (packet.will.qos << CONNECT_WILL_QOS_SHIFT) | (packet.will.retain ? CONNECT_WILL_RETAIN : 0);
      }
      if (packet.username !== undefined) flags |= CONNECT_USERNAME;
      if (packet.password !== undefined) flags |= CONNECT_PASSWORD;
      out[offset++] = flags;
      out[offset++] = packet.keepalive >> 8;
      out[offset++] = packet.keepalive & 0xff;
      offset = writeString(out, offset, packet.clientId);
      if (packet.will) {
        offset = writeString(out, offset, packet.will.topic);
        offset = writeBytes(out, offset, packet.will.payload);
      }
      if (packet.username !== undefined) offset = writeString(out, offset, packet.username);
      if (packet.password !== undefined) offset = writeBytes(out, offset, packet.password);
      return offset;
    }
    case 'connack':
      out[offset++] = packet.sessionPresent ? 1 : 0;
      out[offset++] = packet.returnCode;
      return offset;
    case 'publish':
      offset = writeString(out, offset, packet.topic);
      if (packet.qos > 0) {
        out[offset++] = packet.messageId! >> 8;
        out[offset++] = packet.messageId! & 0xff;
      }
      out.set(packet.payload, offset);
      return offset + packet.payload.length;
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'unsuback':
      out[offset++] = packet.messageId >> 8;
      out[offset++] = packet.messageId & 0xff;
      return offset;
    case 'subscribe':
      out[offset++] = packet.messageId >> 8;
      out[offset++] = packet.messageId & 0xff;
      for (const s of packet.subscriptions) {
        offset = writeString(out, offset, s.topic);
        out[offset++] = s.qos;
      }
      return offset;
    case 'suback':
      out[offset++] = packet.messageId >> 8;
      out[offset++] = packet.messageId & 0xff;
      for (const code of packet.granted) out[offset++] = code;
      return offset;
    case 'unsubscribe':
      out[offset++] = packet.messageId >> 8;
      out[offset++] = packet.messageId & 0xff;
      for (const topic of packet.unsubscriptions) offset = writeString(out, offset, topic);
      return offset;
    default:
      return offset;
  }
}

/** Encodes `packet` into a new buffer of exactly its size. */
export function generate(packet: Packet): Uint8Array {
  const remaining = checkedRemaining(packet);
  const out = new Uint8Array(1 + varintSize(remaining) + remaining);
  writeChecked(packet, remaining, out, 0);
  return out;
}

/**
 * The publish hot path: writes a PUBLISH whose topic is already UTF-8 (`topicBytes`, e.g. an AIS topic
 * encoded once) into `out` without allocating. Returns the packet length. The caller validated the topic.
 */
export function writePublish(
  out: Uint8Array, topicBytes: Uint8Array, payload: Uint8Array, payloadLength: number,
  qos: QoS, messageId: number, dup: boolean, retain: boolean,
): number {
  const remaining = 2 + topicBytes.length + (qos > 0 ? 2 : 0) + payloadLength;
  const total = 1 + varintSize(remaining) + remaining;
  if (total > out.length) throw new RangeError(`PUBLISH of ${total} bytes does not fit in the ${out.length}-byte buffer`);
  out[0] = (PACKET_TYPES.publish << 4) | (dup ? PUBLISH_DUP : 0) | (qos << PUBLISH_QOS_SHIFT) | (retain ? PUBLISH_RETAIN : 0);
  let offset = writeVarint(out, 1, remaining);
  offset = writeBytes(out, offset, topicBytes);
  if (qos > 0) {
    out[offset++] = messageId >> 8;
    out[offset++] = messageId & 0xff;
  }
  // set() is native and fast on XS; a view for a partial length would allocate, so copy those by hand.
  if (payloadLength === payload.length) out.set(payload, offset);
  else for (let i = 0; i < payloadLength; i++) out[offset + i] = payload[i];
  return total;
}
