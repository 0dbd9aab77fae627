// A fault-injecting network for a device on the Node host: a socket port that sits between the device and the
// broker, reads the MQTT stream of each direction packet by packet (our parser) and, when a fault is armed,
// does it to the next AIS PUBLISH going that way: drop it, send it twice, swap it with the one after, flip a
// byte of its ciphertext, hold everything for a while (delay), or cut the connection for a while. Faults are
// one-shot and chosen by the caller (seeded); what was done is logged with its time.
import type { Socket, SocketFactory, SocketOptions } from '../../src/ports/socket.js';
import { generate } from '../../src/mqtt/generate.js';
import { MqttParser } from '../../src/mqtt/parser.js';
import type { Packet } from '../../src/mqtt/packets.js';
import { copyPacket } from './mqtt-packets.js';

export type FaultKind = 'drop' | 'duplicate' | 'reorder' | 'delay' | 'flip' | 'cut';
export type Direction = 'up' | 'down';
export interface Fault { kind: FaultKind; direction: Direction; ms?: number }

/** The encrypted AIS topics (their PUBLISHes are what a fault hits). */
const AIS_TOPIC = /\/(event|microphone|directive|speaker)$/;

export interface FaultNetwork {
  socket: SocketFactory;
  /** Arms `fault` for the next AIS PUBLISH in its direction (a cut and a delay act at once). */
  inject(fault: Fault): void;
  /** Faults done, in order, with when they took effect (performance.now()). */
  readonly done: { fault: Fault; atMs: number }[];
  readonly armed: Fault | undefined;
}

export function faultNetwork(inner: SocketFactory): FaultNetwork {
  let armed: Fault | undefined;
  let cutUntil = 0;
  /** Packets of a direction are held until then (a delay fault), in order. */
  const delayUntil: Record<Direction, number> = { up: 0, down: 0 };
  const live = new Set<{ fail(error: Error): void }>();
  const done: { fault: Fault; atMs: number }[] = [];
  const fired = (fault: Fault) => { done.push({ fault, atMs: performance.now() }); armed = undefined; };

  const factory: SocketFactory = (options: SocketOptions): Socket => {
    let closed = false;
    if (performance.now() < cutUntil) {
      setTimeout(() => { if (!closed) options.onError(new Error('network unreachable (fault: cut)')); }, 20);
      return { read: () => 0, write: () => 0, close() { closed = true; } };
    }
    const inbox: Uint8Array[] = [];
    /** Per direction: the release time of the last packet (order is kept through a delay) and a held packet. */
    const lane = { up: { lastMs: 0, held: undefined as Uint8Array | undefined }, down: { lastMs: 0, held: undefined as Uint8Array | undefined } };
    const deliver = (direction: Direction, bytes: Uint8Array) => {
      const state = lane[direction];
      const at = Math.max(performance.now(), state.lastMs, delayUntil[direction]);
      state.lastMs = at;
      const go = () => {
        if (closed) return;
        if (direction === 'up') socket.write(bytes);
        else {
          inbox.push(bytes);
          options.onReadable(bytes.length);
        }
      };
      if (at <= performance.now()) go();
      else setTimeout(go, at - performance.now());
    };
    const pass = (direction: Direction, packet: Packet) => {
      const bytes = generate(packet);
      const fault = armed;
      const state = lane[direction];
      if (packet.cmd !== 'publish' || !AIS_TOPIC.test(packet.topic) || !fault || fault.direction !== direction) {
        deliver(direction, bytes);
        if (state.held && packet.cmd === 'publish') { deliver(direction, state.held); state.held = undefined; }
        return;
      }
      switch (fault.kind) {
        case 'drop': fired(fault); return;
        case 'duplicate': fired(fault); deliver(direction, bytes); deliver(direction, bytes); return;
        case 'reorder': {
          fired(fault);
          state.held = bytes; // goes out after the next PUBLISH, or after a second if none follows
          setTimeout(() => { if (state.held === bytes) { state.held = undefined; deliver(direction, bytes); } }, 1000);
          return;
        }
        case 'flip': {
          fired(fault);
          const payload = (packet as { payload: Uint8Array }).payload;
          if (payload.length > 36) payload[36 + ((payload.length - 36) >> 1)] ^= 0x40;
          deliver(direction, generate(packet));
          return;
        }
        default: deliver(direction, bytes);
      }
    };
    const parser = (direction: Direction) => new MqttParser({
      maxPacketBytes: 1 << 20,
      onPacket: (p) => pass(direction, copyPacket(p)),
      onError: (e) => { throw new Error(`fault network: malformed ${direction} stream: ${e.message}`); },
    });
    const upParser = parser('up');
    const downParser = parser('down');
    const readBuffer = new Uint8Array(65536);
    const entry = {
      fail(error: Error) {
        if (closed) return;
        closed = true;
        socket.close();
        options.onError(error);
      },
    };
    const socket = inner({
      ...options,
      onConnect: () => options.onConnect(),
      onReadable: () => {
        for (let n = socket.read(readBuffer); n > 0; n = socket.read(readBuffer)) downParser.push(readBuffer, n);
      },
      onError: (error) => { live.delete(entry); if (!closed) { closed = true; options.onError(error); } },
      onClose: () => { live.delete(entry); if (!closed) { closed = true; options.onClose?.(); } },
    });
    live.add(entry);
    return {
      read(buffer) {
        let n = 0;
        while (inbox.length > 0 && n < buffer.length) {
          const chunk = inbox[0];
          const take = Math.min(chunk.length, buffer.length - n);
          buffer.set(chunk.subarray(0, take), n);
          n += take;
          if (take === chunk.length) inbox.shift();
          else inbox[0] = chunk.subarray(take);
        }
        return n;
      },
      // The proxy holds what it is given (a fault may delay it), so the room left is never the device's problem.
      write(data, length = data.length) {
        if (!closed) upParser.push(data.slice(0, length));
        return 1 << 20;
      },
      close() {
        closed = true;
        live.delete(entry);
        socket.close();
      },
    };
  };

  return {
    socket: factory,
    inject(fault) {
      if (fault.kind === 'cut') {
        cutUntil = performance.now() + (fault.ms ?? 2000);
        for (const entry of [...live]) entry.fail(new Error('network cut (fault)'));
        fired(fault);
        return;
      }
      armed = fault;
      if (fault.kind === 'delay') {
        // Everything in that direction waits `ms` from now: arm the lane of every live connection.
        delayUntil[fault.direction] = performance.now() + (fault.ms ?? 1000);
        fired(fault);
      }
    },
    done,
    get armed() { return armed; },
  };
}
