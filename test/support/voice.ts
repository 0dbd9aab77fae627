// A voice device on the AIS testbed: the connection with the Microphone and Speaker components, audio in from
// samples or WAV files (WavAudioIn, real time) and audio out recorded (WavAudioOut), plus a recorder of what
// the emulator's AIS service receives. The wiring is what src/app/device.ts will do.
import { performance } from 'node:perf_hooks';
import { NodeClock } from '../../hosts/node/clock.js';
import { wavAudioIn, wavAudioOut, type WavAudioIn, type WavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import type { AisConnectionOptions } from '../../src/ais/connection.js';
import type { AisMessage } from '../../src/ais/message.js';
import { Microphone, type MicrophoneInitiator, type MicrophoneOptions } from '../../src/ais/microphone.js';
import { Speaker, type SpeakerOptions } from '../../src/ais/speaker.js';
import { speakerOnPort } from '../../src/app/voice.js';
import { parseBinaryBody } from '../../src/ais/binary.js';
import { Capture } from '../../src/audio/capture.js';
import { AisTestbed, CAPABILITIES, type TestDevice } from './ais.js';
import { captureLogger } from './log.js';

export interface ServiceEvent { name: string; payload: Record<string, unknown>; atMs: number }
export interface MicEntry { seq: number; offset: number; frames: number; audio: Uint8Array; atMs: number }

/** What the service hears from each device: events (beyond the control plane) and microphone entries. */
export class ServiceRecorder {
  readonly events: ServiceEvent[] = [];
  readonly mic: MicEntry[] = [];
  readonly micErrors: string[] = [];
  private readonly listeners: ((e: ServiceEvent) => void)[] = [];

  readonly options = {
    onEvent: (_clientId: string, event: AisMessage) => {
      const e = { name: event.header.name, payload: event.payload ?? {}, atMs: performance.now() };
      this.events.push(e);
      for (const l of this.listeners) l(e);
    },
    onMicrophone: (_clientId: string, seq: number, body: Buffer) => {
      try {
        for (const entry of parseBinaryBody(new Uint8Array(body))) {
          if (entry.type === 'audio') this.mic.push({ seq, offset: entry.offsetBytes, frames: entry.frames, audio: entry.audio, atMs: performance.now() });
        }
      } catch (error) {
        this.micErrors.push((error as Error).message);
      }
    },
  };

  on(listener: (e: ServiceEvent) => void): void {
    this.listeners.push(listener);
  }

  named(name: string): ServiceEvent[] {
    return this.events.filter((e) => e.name === name);
  }

  /** Audio bytes received from `fromOffset` on, checked contiguous. */
  micBytes(fromOffset = 0): Uint8Array {
    const entries = this.mic.filter((m) => m.offset >= fromOffset);
    const out = new Uint8Array(entries.reduce((n, m) => n + m.audio.length, 0));
    let at = 0;
    let expected = fromOffset;
    for (const m of entries) {
      if (m.offset !== expected) throw new Error(`microphone entry at offset ${m.offset}, ${expected} expected (not contiguous)`);
      out.set(m.audio, at);
      at += m.audio.length;
      expected += m.audio.length;
    }
    return out;
  }
}

export interface VoiceDeviceOptions {
  initiator?: MicrophoneInitiator;
  /** Declare Opus for the microphone. */
  opus?: boolean;
  /** What the microphone hears from start (then silence). */
  speech?: Int16Array[];
  speechPaths?: string[];
  microphone?: Partial<MicrophoneOptions>;
  speaker?: Partial<SpeakerOptions>;
  /** Audio out paced in real time (default) or as fast as frames come. */
  realtimeOut?: boolean;
  connection?: Partial<AisConnectionOptions>;
}

export interface VoiceDevice extends TestDevice {
  microphone: Microphone;
  speaker: Speaker;
  audioIn: WavAudioIn;
  audioOut: WavAudioOut;
  capture: Capture;
  audioLines: string[];
  /** Monotonic times of microphone publishes as the microphone made them. */
  micPublishMs: number[];
  /** Make the next `n` microphone publishes fail inside the connection (its MQTT client refuses them). */
  failMicPublishes(n: number): void;
  stop(): void;
}

export function voiceDevice(bed: AisTestbed, clientId: string, o: VoiceDeviceOptions = {}): VoiceDevice {
  let microphone!: Microphone;
  let speaker!: Speaker;
  const device = bed.device(clientId, {
    capabilities: () => [...CAPABILITIES, microphone.capability(), speaker.capability()],
    onSpeaker: (seq, bytes, offset, length) => speaker.receive(seq, bytes, offset, length),
    onCapabilitiesRejected: (description) => microphone.capabilitiesRejected(description),
    onReady: () => { microphone.reset(); speaker.reset(); },
    ...o.connection,
  });
  const connection = device.connection;
  const { log, lines: audioLines } = captureLogger(`${clientId}-audio`);
  const micPublishMs: number[] = [];
  const inFactory = wavAudioIn({ samples: o.speech, paths: o.speechPaths, realtime: true });
  const outFactory = wavAudioOut({ realtime: o.realtimeOut ?? true });
  const out = speakerOnPort(outFactory, log.child('speaker'), (output) => new Speaker({ connection, opus: nodeOpus, output, log: log.child('speaker'), volume: 100, ...o.speaker }));
  speaker = out.speaker;
  microphone = new Microphone({
    connection: {
      dispatcher: connection.dispatcher,
      sendEvent: (name, payload) => connection.sendEvent(name, payload),
      publishMicrophone: (body, length) => {
        micPublishMs.push(performance.now());
        return connection.publishMicrophone(body, length);
      },
    },
    clock: new NodeClock(), log: log.child('microphone'), initiator: o.initiator ?? 'TAP', opus: o.opus ? nodeOpus : undefined, bargeIn: speaker,
    ...o.microphone,
  });
  const capture = new Capture({ audioIn: inFactory, log, onFrame: (frame, timeMs) => microphone.pushFrame(frame, timeMs) });
  capture.start();
  // Failure injection at the MQTT client, so the connection's own release-on-failure path runs.
  let failures = 0;
  const mqtt = (connection as unknown as { mqtt: { publish: (topic: string, ...rest: unknown[]) => boolean } }).mqtt;
  const publish = mqtt.publish.bind(mqtt);
  mqtt.publish = (topic: string, ...rest: unknown[]) => {
    if (failures > 0 && topic.endsWith('/microphone')) {
      failures--;
      return false;
    }
    return publish(topic, ...rest);
  };
  return Object.assign(device, {
    microphone, speaker, audioIn: inFactory.last!, audioOut: outFactory.last!, capture, audioLines, micPublishMs,
    failMicPublishes: (n: number) => { failures = n; },
    stop: () => {
      capture.close();
      microphone.close();
      speaker.close();
      out.port.close();
    },
  });
}
