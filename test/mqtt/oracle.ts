// Maps between our packet objects and mqtt-packet's, which is the oracle the codec is tested against.
import mqttPacket from 'mqtt-packet';
import type { Packet, QoS } from '../../src/mqtt/packets.js';
import { Random } from '../support/random.js';

export function toOracle(p: Packet): mqttPacket.Packet {
  switch (p.cmd) {
    case 'connect':
      return {
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: p.clientId, keepalive: p.keepalive, clean: p.clean,
        ...(p.username !== undefined ? { username: p.username } : {}),
        ...(p.password !== undefined ? { password: Buffer.from(p.password) } : {}),
        ...(p.will ? { will: { topic: p.will.topic, payload: Buffer.from(p.will.payload), qos: p.will.qos, retain: p.will.retain } } : {}),
      } as mqttPacket.IConnectPacket;
    case 'publish':
      return { cmd: 'publish', topic: p.topic, payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.length), qos: p.qos, dup: p.dup, retain: p.retain,
        ...(p.qos > 0 ? { messageId: p.messageId } : {}) } as mqttPacket.IPublishPacket;
    default:
      return { ...p } as unknown as mqttPacket.Packet;
  }
}

/** Our packet object for a packet parsed by mqtt-packet (only the fields 3.1.1 defines). */
export function fromOracle(o: any): Packet {
  switch (o.cmd) {
    case 'connect': {
      const p: any = { cmd: 'connect', clientId: o.clientId, keepalive: o.keepalive, clean: o.clean };
      if (o.will) p.will = { topic: o.will.topic, payload: new Uint8Array(o.will.payload), qos: o.will.qos, retain: o.will.retain };
      if (o.username !== undefined) p.username = o.username;
      if (o.password !== undefined) p.password = new Uint8Array(o.password);
      return p;
    }
    case 'connack': return { cmd: 'connack', sessionPresent: o.sessionPresent, returnCode: o.returnCode };
    case 'publish': {
      const p: any = { cmd: 'publish', topic: o.topic, payload: new Uint8Array(o.payload), qos: o.qos, dup: o.dup, retain: o.retain };
      p.messageId = o.qos > 0 ? o.messageId : undefined;
      return p;
    }
    case 'subscribe': return { cmd: 'subscribe', messageId: o.messageId, subscriptions: o.subscriptions.map((s: any) => ({ topic: s.topic, qos: s.qos })) };
    case 'suback': return { cmd: 'suback', messageId: o.messageId, granted: [...o.granted] };
    case 'unsubscribe': return { cmd: 'unsubscribe', messageId: o.messageId, unsubscriptions: [...o.unsubscriptions] };
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'unsuback': return { cmd: o.cmd, messageId: o.messageId };
    default: return { cmd: o.cmd };
  }
}

/** A deep copy of a packet our parser handed out (its objects are only valid during the callback). */
export function copyPacket(p: Packet): Packet {
  if (p.cmd === 'publish') return { ...p, payload: p.payload.slice() };
  return structuredClone(p);
}

/** Parses `bytes` with mqtt-packet and returns the packets in our shape. */
export function oracleParse(bytes: Uint8Array): Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (o: any) => out.push(fromOracle(o)));
  parser.on('error', (e: Error) => errors.push(e));
  parser.parse(Buffer.from(bytes));
  if (errors.length) throw errors[0];
  return out;
}

const ALPHABET = ['a', 'b', 'z', '0', '9', '/', '-', '_', 'é', 'ß', '€', '中', '𝄞', '😀', '$', ' ', 'A'];

export function randomText(r: Random, maxChars: number, minChars = 0): string {
  const n = minChars + r.int(maxChars - minChars + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(ALPHABET);
  return s;
}

function randomTopic(r: Random): string {
  return randomText(r, 40, 1);
}

function randomFilter(r: Random): string {
  const levels = 1 + r.int(5);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) {
    const roll = r.int(6);
    parts.push(roll === 0 ? '+' : randomText(r, 8, 1).replace(/\//g, 'x'));
  }
  if (r.int(4) === 0) parts.push('#');
  return parts.join('/');
}

/** Remaining lengths where the varint changes width: the edges the codec must get right (§2.2.3). */
export const EDGE_REMAINING = [127, 128, 16383, 16384, 2097151, 2097152];

/** A random valid 3.1.1 packet of the given command; `remaining` asks a PUBLISH for that exact remaining length. */
export function randomPacket(r: Random, cmd: Packet['cmd'], remaining?: number): Packet {
  const qos = r.int(3) as QoS;
  const id = 1 + r.int(0xffff);
  switch (cmd) {
    case 'connect': {
      const clientId = randomText(r, 23);
      const p: any = { cmd, clientId, keepalive: r.int(0x10000), clean: clientId === '' || r.int(2) === 0 };
      if (r.int(2)) p.will = { topic: randomTopic(r), payload: r.bytes(r.int(50)), qos: r.int(3), retain: r.int(2) === 0 };
      if (r.int(2)) {
        p.username = randomText(r, 20);
        if (r.int(2)) p.password = r.bytes(r.int(40));
      }
      return p;
    }
    case 'connack': return { cmd, sessionPresent: r.int(2) === 0, returnCode: r.int(6) };
    case 'publish': {
      const topic = remaining === undefined ? randomTopic(r) : 'edge/topic';
      const header = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0);
      const size = remaining === undefined ? r.pick([0, 1, r.int(200), r.int(2000), 640, 65536]) : remaining - header;
      return { cmd, topic, payload: r.bytes(size), qos, dup: qos > 0 && r.int(2) === 0, retain: r.int(2) === 0,
        messageId: qos > 0 ? id : undefined } as Packet;
    }
    case 'subscribe': {
      const subscriptions = Array.from({ length: 1 + r.int(4) }, () => ({ topic: randomFilter(r), qos: r.int(3) as QoS }));
      return { cmd, messageId: id, subscriptions };
    }
    case 'suback': return { cmd, messageId: id, granted: Array.from({ length: 1 + r.int(5) }, () => r.pick([0, 1, 2, 128])) };
    case 'unsubscribe': return { cmd, messageId: id, unsubscriptions: Array.from({ length: 1 + r.int(4) }, () => randomFilter(r)) };
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'unsuback': return { cmd, messageId: id };
    default: return { cmd } as Packet;
  }
}

export const ALL_COMMANDS: Packet['cmd'][] = ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp',
  'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect'];
