// MQTT 3.1.1 packet objects. Field names follow mqtt-packet's so the two codecs compare directly.

import { nameError } from '../util/error-name.js';

export type QoS = 0 | 1 | 2;

export interface ConnectPacket {
  cmd: 'connect';
  clientId: string;
  keepalive: number;       // seconds, 0 = off
  clean: boolean;
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: QoS; retain: boolean };
}
export interface ConnackPacket { cmd: 'connack'; sessionPresent: boolean; returnCode: number }
export interface PublishPacket {
  cmd: 'publish';
  topic: string;
  /** On parse: a view into the parser's buffer, valid only during the callback. Copy to keep it. */
  payload: Uint8Array;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  messageId?: number;      // present when qos > 0
}
export interface AckPacket { cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' | 'unsuback'; messageId: number }
export interface SubscribePacket { cmd: 'subscribe'; messageId: number; subscriptions: { topic: string; qos: QoS }[] }
export interface SubackPacket { cmd: 'suback'; messageId: number; granted: number[] }
export interface UnsubscribePacket { cmd: 'unsubscribe'; messageId: number; unsubscriptions: string[] }
export interface EmptyPacket { cmd: 'pingreq' | 'pingresp' | 'disconnect' }

export type Packet =
  | ConnectPacket | ConnackPacket | PublishPacket | AckPacket
  | SubscribePacket | SubackPacket | UnsubscribePacket | EmptyPacket;

/** Malformed or forbidden wire input. `clause` names the spec rule when there is one. */
export class MqttProtocolError extends Error {
  constructor(message: string, readonly clause?: string) {
    super(clause ? `${message} [${clause}]` : message);
    nameError(this, 'MqttProtocolError');
  }
}
