// A voice turn's audio path in its steady state, one 20 ms frame at a time, for bench/xs-workload.ts (on XS and
// on Node in the same run). Everything in it is the device's own code (src/): the Capture loop, the Microphone
// with its ring and encoder, the AisConnection (envelope, sequencer, MQTT client and parser), the Speaker with its
// jitter buffer. The stand-ins sit at the ports only: an audio in that always has the same frame ready, an audio
// out and a socket that only count, and a clock the driver moves. A scripted service answers the handshake once
// (CONNACK, SUBACK, Acknowledge, capabilities accepted) and seals the speaker messages ahead of each window, so
// the window holds the device's work alone.
//
// Per frame: capture → ring; the clock moves 20 ms, which fires the microphone's 50 ms tick when due (Opus encode
// of the waiting frames into one binary audio entry → envelope seal → MQTT PUBLISH → socket); every fifth frame
// one speaker message (five 160-byte Opus frames) arrives on the socket (MQTT parse → sequencer → envelope open →
// binary entries → jitter buffer); audio out takes one frame (Opus decode → volume → write).
import { AisConnection } from '../src/ais/connection.js';
import { writeAudioEntry } from '../src/ais/binary.js';
import { Envelope } from '../src/ais/envelope.js';
import { checkMessage, decodeJson, encodeJson, message } from '../src/ais/message.js';
import { Microphone, type MicrophoneConnection } from '../src/ais/microphone.js';
import { Speaker } from '../src/ais/speaker.js';
import { deviceTopicPrefix } from '../src/ais/topics.js';
import { Capture } from '../src/audio/capture.js';
import { FRAME_SAMPLES } from '../src/audio/encoder.js';
import { createPortableCrypto } from '../src/crypto/portable.js';
import { generate, writePublish } from '../src/mqtt/generate.js';
import type { Packet } from '../src/mqtt/packets.js';
import { MqttParser } from '../src/mqtt/parser.js';
import { encodeUtf8 } from '../src/encoding/utf8.js';
import type { AudioInOptions } from '../src/ports/audio.js';
import type { Clock, TimerHandle } from '../src/ports/clock.js';
import { Logger, silentSink } from '../src/ports/log.js';
import type { Opus } from '../src/ports/opus.js';
import type { SocketOptions } from '../src/ports/socket.js';
import { randomSource } from '../test/support/random.js';

/** The stages a frame is split into (exclusive: a stage's figures leave out the stages called inside it). */
export const STAGES = [
  'capture → ring',
  'microphone tick: Opus encode + binary entry',
  'microphone publish: envelope seal + MQTT PUBLISH',
  'speaker in: MQTT parse + sequencer + envelope open',
  'speaker receive: binary entries → jitter buffer',
  'playout: jitter → Opus decode → volume → audio out',
] as const;
const CAPTURE = 0, TICK = 1, PUBLISH = 2, SPEAKER_IN = 3, RECEIVE = 4, PLAYOUT = 5;

/** Brackets stages: time (and, given `memory`, heap slots and chunks) charged to the innermost stage open. */
export class StageMeter {
  readonly us = new Float64Array(STAGES.length);
  readonly slots = new Float64Array(STAGES.length);
  readonly chunks = new Float64Array(STAGES.length);
  private readonly stack = new Int32Array(8);
  private depth = 0;
  private lastMs = 0;
  private lastSlots = 0;
  private lastChunks = 0;
  /** What one boundary costs by itself (the reading of the clock and heap), taken off every interval. */
  private costMs = 0;
  private costSlots = 0;
  private costChunks = 0;

  constructor(private readonly now: () => number, private readonly memory?: () => { slots: { current: number }; chunks: { current: number } }) {
    this.stack[0] = -1;
    // Calibration: intervals with nothing in them.
    const rounds = 200;
    this.read();
    let ms = 0, slots = 0, chunks = 0;
    for (let i = 0; i < rounds; i++) {
      const t = this.lastMs, s = this.lastSlots, c = this.lastChunks;
      this.read();
      ms += this.lastMs - t; slots += this.lastSlots - s; chunks += this.lastChunks - c;
    }
    this.costMs = ms / rounds;
    this.costSlots = Math.round(slots / rounds);
    this.costChunks = Math.round(chunks / rounds);
  }

  enter(stage: number): void {
    this.charge();
    this.stack[++this.depth] = stage;
  }

  leave(): void {
    this.charge();
    this.depth--;
  }

  reset(): void {
    this.us.fill(0);
    this.slots.fill(0);
    this.chunks.fill(0);
    this.read();
  }

  private read(): void {
    this.lastMs = this.now();
    if (this.memory) {
      const m = this.memory();
      this.lastSlots = m.slots.current;
      this.lastChunks = m.chunks.current;
    }
  }

  private charge(): void {
    const ms = this.lastMs, slots = this.lastSlots, chunks = this.lastChunks;
    this.read();
    const stage = this.stack[this.depth];
    if (stage < 0) return;
    this.us[stage] += (this.lastMs - ms - this.costMs) * 1000;
    this.slots[stage] += this.lastSlots - slots - this.costSlots;
    this.chunks[stage] += this.lastChunks - chunks - this.costChunks;
  }
}

/** A clock moved by the driver; timers in arrays, so firing one allocates nothing. */
class DriverClock implements Clock {
  now = 0;
  private readonly callbacks: (() => void)[] = [];
  private readonly at: number[] = [];
  private readonly repeat: number[] = [];
  private readonly live: boolean[] = [];

  monotonicMs(): number { return this.now; }
  setTimer(callback: () => void, delayMs: number, repeatMs = 0): TimerHandle {
    this.callbacks.push(callback);
    this.at.push(this.now + delayMs);
    this.repeat.push(repeatMs);
    this.live.push(true);
    return this.callbacks.length;
  }
  clearTimer(handle: TimerHandle): void { this.live[(handle as number) - 1] = false; }

  /** Moves time forward by `ms`, firing each timer due on the way, earliest first. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let due = -1;
      for (let i = 0; i < this.at.length; i++) if (this.live[i] && this.at[i] <= until && (due < 0 || this.at[i] < this.at[due])) due = i;
      if (due < 0) break;
      this.now = this.at[due];
      if (this.repeat[due] > 0) this.at[due] += this.repeat[due];
      else this.live[due] = false;
      this.callbacks[due]();
    }
    this.now = until;
  }
}

const CLIENT_ID = 'device-0123456789';
const ROOT = '$aws/alexa';
/** Speaker messages sealed ahead of a window: 40 cover 200 frames. */
const POOL = 40;
const FRAMES_PER_MESSAGE = 5;
const OPUS_FRAME_BYTES = 160;

export interface AudioTurn {
  /** One 20 ms frame of the device's audio path. */
  frame(): void;
  /** Seals the speaker messages the next `frames` frames take (at most 200), outside any window. */
  prepare(frames: number): void;
  /** Bytes the socket and audio out took so far: proof the path did its work. */
  readonly sentBytes: number;
  readonly playedFrames: number;
  readonly capturedFrames: number;
}

/**
 * Builds a device's audio path over `opus`, connected and in the middle of a turn: the microphone streaming and
 * the speaker playing. `meter` brackets the stages when given.
 */
export function audioTurn(opus: Opus, meter?: StageMeter): AudioTurn {
  const log = new Logger(silentSink, 'bench');
  const clock = new DriverClock();
  const crypto = createPortableCrypto(randomSource(11));
  const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 5) & 0xff);
  const prefix = deviceTopicPrefix(ROOT, CLIENT_ID);

  // ---- the socket stand-in: counts what the device writes; the scripted service answers only until ready ----
  let socketOptions: SocketOptions | undefined;
  let scripted = true;
  let sentBytes = 0;
  const replies: Uint8Array[] = [];
  const written: Uint8Array[] = [];
  let incoming: Uint8Array | undefined;
  let incomingLength = 0;
  const service = new Envelope({ crypto, maxMessageBytes: 8000 });
  const serviceSealed = new Uint8Array(8000);
  const replySealed = (leaf: string, sequence: number, body: Uint8Array) => {
    const n = service.seal(key, sequence, body, serviceSealed);
    replies.push(generate({ cmd: 'publish', topic: prefix + leaf, payload: serviceSealed.slice(0, n), qos: 0, dup: false, retain: false }));
  };
  const serviceParser = new MqttParser({
    maxPacketBytes: 16384,
    onError: (error) => { throw error; },
    onPacket: (packet: Packet) => {
      if (packet.cmd === 'connect') replies.push(generate({ cmd: 'connack', sessionPresent: false, returnCode: 0 }));
      else if (packet.cmd === 'subscribe') {
        replies.push(generate({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 0) }));
      } else if (packet.cmd === 'publish' && packet.topic === `${prefix}connection/fromclient`) {
        const connect = checkMessage(decodeJson(packet.payload));
        if (connect.header.name !== 'Connect') return;
        const ack = message('Acknowledge', 'ack-1', { connectMessageId: connect.header.messageId, code: 'CONNECTION_ESTABLISHED' });
        replies.push(generate({ cmd: 'publish', topic: `${prefix}connection/fromservice`, payload: encodeJson(ack), qos: 0, dup: false, retain: false }));
      } else if (packet.cmd === 'publish' && packet.topic === `${prefix}capabilities/publish`) {
        const opened = service.open(key, packet.payload);
        if (!opened.ok) throw new Error(`capabilities: ${opened.error!.message}`);
        const publish = checkMessage(decodeJson(opened.bytes, opened.bodyOffset, opened.bodyBytes));
        replySealed('capabilities/acknowledge', 0, encodeJson(message('Acknowledge', 'ack-2', { publishMessageId: publish.header.messageId, code: 'CAPABILITIES_ACCEPTED' })));
      }
    },
  });
  const socket = (options: SocketOptions) => {
    socketOptions = options;
    replies.length = 0;
    return {
      read(buffer: Uint8Array): number {
        if (incoming === undefined) return 0;
        buffer.set(incoming); // whole: the pool's buffers are smaller than the client's read buffer
        incoming = undefined;
        return incomingLength;
      },
      write(data: Uint8Array, length = data.length): number {
        sentBytes += length;
        if (scripted) written.push(data.slice(0, length)); // parsed by answer(), not down here in the device's stack
        return Infinity; // a link that always keeps up
      },
      close(): void {},
    };
  };
  const deliver = (bytes: Uint8Array, length: number) => {
    incoming = bytes;
    incomingLength = length;
    socketOptions!.onReadable(length);
  };
  const answer = () => {
    while (written.length > 0 || replies.length > 0) {
      while (written.length > 0) serviceParser.push(written.shift()!);
      const reply = replies.shift();
      if (reply) deliver(reply, reply.length);
    }
  };

  // ---- the device ----
  let speaker: Speaker | undefined;
  const connection = new AisConnection({
    identity: { topicRoot: ROOT, clientId: CLIENT_ID, awsAccountId: '123456789012', key },
    mqtt: { socket, host: 'broker', port: 8883, keepAliveSec: 0 },
    clock, log, crypto,
    capabilities: () => [microphone.capability(), speaker!.capability()],
    synchronizeState: () => ({}),
    onSpeaker: meter
      ? (sequence, bytes, start, length) => { meter.enter(RECEIVE); speaker!.receive(sequence, bytes, start, length); meter.leave(); }
      : (sequence, bytes, start, length) => speaker!.receive(sequence, bytes, start, length),
  });
  const micConnection: MicrophoneConnection = meter
    ? {
      dispatcher: connection.dispatcher,
      sendEvent: (name, payload) => connection.sendEvent(name, payload),
      publishMicrophone: (body, length) => { meter.enter(PUBLISH); const ok = connection.publishMicrophone(body, length); meter.leave(); return ok; },
    }
    : connection;
  const microphone = new Microphone({ connection: micConnection, clock, log, initiator: 'TAP', opus });
  let capturedFrames = 0;
  const captureFrame = new Int16Array(FRAME_SAMPLES).map((_, i) => Math.round(6000 * Math.sin(i / 5) + 2000 * Math.sin(i / 1.7)));
  let audioIn: AudioInOptions | undefined;
  let ready = 0;
  const capture = new Capture({
    log,
    audioIn: (options) => {
      audioIn = options;
      return {
        read(frame: Int16Array): number {
          if (ready === 0) return -1;
          ready--;
          frame.set(captureFrame);
          return clock.now;
        },
        start() {}, stop() {}, close() {},
      };
    },
    onFrame: (frame, timeMs) => { capturedFrames++; microphone.pushFrame(frame, timeMs); },
  });
  let playedFrames = 0;
  speaker = new Speaker({ connection, opus, log, volume: 80, output: { play: () => { playedFrames++; }, silence() {} } });

  connection.start();
  socketOptions!.onConnect();
  answer();
  if (connection.state !== 'ready') throw new Error(`the audio turn's connection is ${connection.state}, not ready`);
  scripted = false;

  // ---- the service's speaker stream: five Opus frames a message, sealed into MQTT PUBLISH packets ahead ----
  const packets: Uint8Array[] = [];
  const packetLengths = new Int32Array(POOL);
  for (let i = 0; i < POOL; i++) packets.push(new Uint8Array(1024));
  const audio = new Uint8Array(FRAMES_PER_MESSAGE * OPUS_FRAME_BYTES);
  const encoder = opus.createEncoder({ sampleRate: 16000, channels: 1, bitsPerSecond: 64000, application: 'audio' });
  const scratch = new Uint8Array(1275);
  for (let f = 0; f < FRAMES_PER_MESSAGE; f++) {
    const n = encoder.encode(captureFrame, scratch);
    if (n !== OPUS_FRAME_BYTES) throw new Error(`the opus port made a ${n}-byte frame, ${OPUS_FRAME_BYTES} expected`);
    audio.set(scratch.subarray(0, n), f * OPUS_FRAME_BYTES);
  }
  encoder.close();
  const body = new Uint8Array(16 + audio.length);
  const speakerTopic = encodeUtf8(`${prefix}speaker`);
  let speakerSequence = 0;
  let speakerOffset = 0;
  let head = 0;    // the pool is a ring: the next packet to deliver
  let waiting = 0; // packets sealed and not yet delivered
  const prepare = (frames: number) => {
    const need = Math.ceil(frames / FRAMES_PER_MESSAGE) + 1;
    if (need > POOL) throw new Error(`at most ${(POOL - 1) * FRAMES_PER_MESSAGE} frames per window`);
    for (; waiting < need; waiting++) {
      const slot = (head + waiting) % POOL;
      writeAudioEntry(body, 0, speakerOffset, audio, FRAMES_PER_MESSAGE - 1);
      const n = service.seal(key, speakerSequence, body, serviceSealed);
      packetLengths[slot] = writePublish(packets[slot], speakerTopic, serviceSealed, n, 0, 0, false, false);
      speakerSequence++;
      speakerOffset += audio.length;
    }
  };
  const nextMessage = () => {
    if (waiting === 0) throw new Error('the audio turn ran past the speaker messages prepared');
    deliver(packets[head], packetLengths[head]);
    head = (head + 1) % POOL;
    waiting--;
  };

  // ---- into the turn: the microphone open, the speaker open and three messages ahead ----
  connection.dispatcher.handlerFor('OpenSpeaker')!({ header: { name: 'OpenSpeaker', messageId: 'open' }, payload: { offset: 0 } }, { sequenceNumber: 0, index: 0 });
  microphone.tap();
  prepare(15);
  for (let i = 0; i < 3; i++) nextMessage();
  let n = 0;
  const frame = () => {
    n++;
    if (meter) meter.enter(CAPTURE);
    ready = 1;
    audioIn!.onReadable(1);
    if (meter) { meter.leave(); meter.enter(TICK); }
    clock.advance(20);
    if (meter) meter.leave();
    if (n % FRAMES_PER_MESSAGE === 0) {
      if (meter) meter.enter(SPEAKER_IN);
      nextMessage();
      if (meter) meter.leave();
    }
    if (meter) meter.enter(PLAYOUT);
    speaker!.writable(1);
    if (meter) meter.leave();
  };
  // Settle: the speaker starts, the events of the turn's start go out.
  for (let i = 0; i < 50; i++) {
    prepare(FRAMES_PER_MESSAGE);
    frame();
  }
  if (microphone.state !== 'open' || !speaker.isOpen) throw new Error(`the audio turn is not streaming (microphone ${microphone.state}, speaker open ${speaker.isOpen})`);
  return {
    frame, prepare,
    get sentBytes() { return sentBytes; },
    get playedFrames() { return playedFrames; },
    get capturedFrames() { return capturedFrames; },
  };
}
