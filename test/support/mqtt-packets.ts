// Seeded random MQTT 3.1.1 packets and a parser harness, for the codec tests on Node (codec.test.ts, with
// the mqtt-packet oracle) and on Node and XS (codec.portable.test.ts, mutate.ts).
// Portable (XS loads it beside the *.portable.test.ts files): imports nothing but src/ and test/support/.
import { MqttParser } from '../../src/mqtt/parser.js';
import type { MqttProtocolError, Packet, QoS } from '../../src/mqtt/packets.js';
import { utf8Length } from '../../src/encoding/utf8.js';
import type { Random } from './random.js';

export const ALL_COMMANDS: Packet['cmd'][] = ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp',
  'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect'];

/** Remaining lengths where the varint changes width: the edges the codec must get right (§2.2.3). */
export const EDGE_REMAINING = [127, 128, 16383, 16384, 2097151, 2097152];

/** The default maxPacketBytes of parseAll: 4 MiB. */
export const MAX_PACKET_BYTES = 4 * 1024 * 1024;

const ALPHABET = ['a', 'b', 'z', '0', '9', '/', '-', '_', 'é', 'ß', '€', '中', '𝄞', '😀', '$', ' ', 'A'];

function randomText(r: Random, maxChars: number, minChars = 0): string {
  const n = minChars + r.int(maxChars - minChars + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(ALPHABET);
  return s;
}

function randomFilter(r: Random): string {
  const parts: string[] = [];
  for (let i = 1 + r.int(5); i > 0; i--) parts.push(r.int(6) === 0 ? '+' : randomText(r, 8, 1).replace(/\//g, 'x'));
  if (r.int(4) === 0) parts.push('#');
  return parts.join('/');
}

export interface RandomPacketOptions {
  /** Also draw 64 KiB PUBLISH payloads (the Node oracle tests; too much for an MCU-sized heap). */
  large?: boolean;
  /** Random bytes in a PUBLISH of an exact `remaining` instead of 0x5a filler (megabytes of it are slow on XS). */
  randomEdgePayload?: boolean;
}

/**
 * A random valid 3.1.1 packet of the given command; `remaining` asks a PUBLISH for that exact remaining
 * length. The same seed and options give the same packets on every host.
 */
export function randomPacket(r: Random, cmd: Packet['cmd'], remaining?: number, options: RandomPacketOptions = {}): Packet {
  const qos = r.int(3) as QoS;
  const id = 1 + r.int(0xffff);
  switch (cmd) {
    case 'connect': {
      const clientId = randomText(r, 23);
      const p: Packet & { cmd: 'connect' } = { cmd, clientId, keepalive: r.int(0x10000), clean: clientId === '' || r.int(2) === 0 };
      if (r.int(2)) p.will = { topic: randomText(r, 40, 1), payload: r.bytes(r.int(50)), qos: r.int(3) as QoS, retain: r.int(2) === 0 };
      if (r.int(2)) {
        p.username = randomText(r, 20);
        if (r.int(2)) p.password = r.bytes(r.int(40));
      }
      return p;
    }
    case 'connack': return { cmd, sessionPresent: r.int(2) === 0, returnCode: r.int(6) };
    case 'publish': {
      const topic = remaining === undefined ? randomText(r, 40, 1) : 'edge/topic';
      const header = 2 + utf8Length(topic) + (qos > 0 ? 2 : 0);
      let payload: Uint8Array;
      if (remaining === undefined) {
        const sizes = [0, 1, r.int(200), r.int(2000), 640];
        if (options.large) sizes.push(65536);
        payload = r.bytes(r.pick(sizes));
      } else payload = options.randomEdgePayload ? r.bytes(remaining - header) : new Uint8Array(remaining - header).fill(0x5a);
      return { cmd, topic, payload, qos, dup: qos > 0 && r.int(2) === 0, retain: r.int(2) === 0, messageId: qos > 0 ? id : undefined };
    }
    case 'subscribe': return { cmd, messageId: id, subscriptions: Array.from({ length: 1 + r.int(4) }, () => ({ topic: randomFilter(r), qos: r.int(3) as QoS })) };
    case 'suback': return { cmd, messageId: id, granted: Array.from({ length: 1 + r.int(5) }, () => r.pick([0, 1, 2, 128])) };
    case 'unsubscribe': return { cmd, messageId: id, unsubscriptions: Array.from({ length: 1 + r.int(4) }, () => randomFilter(r)) };
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'unsuback': return { cmd, messageId: id };
    default: return { cmd } as Packet;
  }
}

/** A deep copy of what the parser hands out: its PUBLISH object and payload views are reused. */
export function copyPacket<T>(value: T): T {
  if (value instanceof Uint8Array) return value.slice() as unknown as T;
  if (Array.isArray(value)) return value.map(copyPacket) as unknown as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = copyPacket((value as Record<string, unknown>)[key]);
    return out as T;
  }
  return value;
}

/**
 * Parses `bytes` with a fresh MqttParser, in one push or, with `splits`, in random reads (a quarter of them
 * 1-3 bytes, the rest up to 700); returns copies of the packets and the errors reported.
 */
export function parseAll(bytes: Uint8Array, splits?: Random, maxPacketBytes = MAX_PACKET_BYTES): { packets: Packet[]; errors: MqttProtocolError[] } {
  const packets: Packet[] = [];
  const errors: MqttProtocolError[] = [];
  const parser = new MqttParser({ maxPacketBytes, onPacket: (p) => packets.push(copyPacket(p)), onError: (e) => errors.push(e) });
  if (!splits) parser.push(bytes);
  else {
    for (let pos = 0; pos < bytes.length;) {
      const n = 1 + splits.int(splits.int(4) === 0 ? 3 : 700);
      parser.push(bytes.subarray(pos, pos + n));
      pos += n;
    }
  }
  return { packets, errors };
}
