// MQTT 3.1.1 protocol constants (OASIS mqtt-v3.1.1-os). Reverse maps are derived, never typed twice.

export const PROTOCOL_NAME = 'MQTT';
export const PROTOCOL_LEVEL = 4; // 3.1.1 [MQTT-3.1.2-2]

/** Control packet types, fixed header bits 7-4 (§2.2.1). */
export const PACKET_TYPES = {
  connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7,
  subscribe: 8, suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14,
} as const;

export type PacketCommand = keyof typeof PACKET_TYPES;

/** The command the hot paths compare against, as a constant: XS copies a string literal each time RAM bytecode evaluates it. */
export const PUBLISH = 'publish' as const;

export const COMMAND_OF_TYPE: (PacketCommand | undefined)[] = [];
for (const name of Object.keys(PACKET_TYPES) as PacketCommand[]) COMMAND_OF_TYPE[PACKET_TYPES[name]] = name;

/** Fixed header flags that §2.2.2 requires for every type but PUBLISH. */
export const REQUIRED_FLAGS: Record<Exclude<PacketCommand, 'publish'>, number> = {
  connect: 0, connack: 0, puback: 0, pubrec: 0, pubrel: 2, pubcomp: 0,
  subscribe: 2, suback: 0, unsubscribe: 2, unsuback: 0, pingreq: 0, pingresp: 0, disconnect: 0,
};

// PUBLISH fixed header flags (§3.3.1).
export const PUBLISH_DUP = 0x08;
export const PUBLISH_QOS_MASK = 0x06;
export const PUBLISH_QOS_SHIFT = 1;
export const PUBLISH_RETAIN = 0x01;

// CONNECT flags (§3.1.2.3).
export const CONNECT_USERNAME = 0x80;
export const CONNECT_PASSWORD = 0x40;
export const CONNECT_WILL_RETAIN = 0x20;
export const CONNECT_WILL_QOS_MASK = 0x18;
export const CONNECT_WILL_QOS_SHIFT = 3;
export const CONNECT_WILL = 0x04;
export const CONNECT_CLEAN = 0x02;
export const CONNECT_RESERVED = 0x01;

/** CONNACK return codes (§3.2.2.3). */
export const CONNACK_REASONS = [
  'connection accepted',
  'unacceptable protocol version',
  'identifier rejected',
  'server unavailable',
  'bad user name or password',
  'not authorized',
] as const;

export const SUBACK_FAILURE = 0x80;

/** The largest value the 4-byte remaining length can carry (§2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;
