// Maps between our packet objects and mqtt-packet's, which is the oracle the codec is tested against.
// The random packets themselves are test/support/mqtt-packets.ts (shared with the portable codec tests).
import mqttPacket from 'mqtt-packet';
import type { Packet } from '../../src/mqtt/packets.js';

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
