// The spoken round trip in the emulator: glues each device's AIS session (emulator/ais/service.ts) to a
// VirtualDevice (emulator/voice/virtual-device.ts), which listens, understands and answers.
//
//   MicrophoneOpened {offset, initiator}   → vd.openMicrophone (format from the accepted Microphone capability)
//   microphone topic bodies                → parseBinaryBody → vd.feed (offsets checked contiguous; a gap is logged)
//   end of speech (VAD)                    → SetAttentionState THINKING, CloseMicrophone
//   MicrophoneClosed                       → vd.microphoneClosed() (the device ended the utterance itself)
//   false wake                             → CloseMicrophone, SetAttentionState IDLE, no answer
//   answer                                 → OpenSpeaker @o, SetAttentionState SPEAKING @o, Opus frames as binary
//                                            entries (5 frames = 100 ms a message) paced near real time a few
//                                            messages ahead (§7 gotcha 13), a marker after the last frame,
//                                            CloseSpeaker @end, SetAttentionState IDLE @end
//   expectSpeech                           → OpenMicrophone {timeoutInMilliseconds} once the answer has played
//                                            (SpeakerClosed), so the new turn is no barge-in
//   BufferStateChanged                     OVERRUN → wait, resendSpeakerFrom(seq) (§3.5); when the answer was
//                                            sent in full and the device still holds it, its tail from seq; when a
//                                            barge-in cut it, the next answer from seq on (gotcha 5);
//                                            OVERRUN_WARNING → slower; UNDERRUN_WARNING → faster
// The speaker stream offset is continuous within a connection (§3.4) and restarts at 0 with each one.
// The interaction sequencing is the emulator's choice (ais-protocol.md §9).
import type { Logger } from '../../src/ports/log.js';
import { speakerBody, streamEntries } from './wire.js';
import { AssistantRecognizer, WakeWordVerifier } from '../voice/asr.js';
import { SpeechSynthesizer } from '../voice/tts.js';
import { VirtualDevice, type AnswerEvent, type InitiatorType, type TranscriptEvent } from '../voice/virtual-device.js';
import type { AssistantAction, AssistantContext } from '../voice/assistant.js';
import { encodeSpeakerFrames } from '../voice/opus.js';
import type { AisMessage, AisService, AisServiceOptions } from './service.js';

export const SPEAKER_FRAME_BYTES = 160;
/** Microphone entries kept while not listening (a few publishes: the race of MicrophoneOpened and the audio). */
const EARLY_ENTRIES = 8;

export interface VoiceSessionOptions {
  log: Logger;
  /** Opus frames per speaker message. Default 5 (100 ms). */
  framesPerMessage?: number;
  /** Speaker messages sent at once before pacing (a few, gotcha 13). Default 3. */
  aheadMessages?: number;
  /** Wait after an OVERRUN before the resend. Default 300 ms. */
  overrunWaitMs?: number;
  /** Microphone timeout in OpenMicrophone for a follow-up question. Default 8000. */
  expectSpeechTimeoutMs?: number;
  now?: () => Date;
  timeZone?: string;
  /** Observers, e.g. for tests and the demo. */
  onTranscript?(clientId: string, transcript: TranscriptEvent): void;
  onAnswer?(clientId: string, answer: AnswerEvent): void;
  onFalseWake?(clientId: string): void;
  /** The device's alerts and volume for the assistant (emulator/ais/alerts.ts). */
  assistantContext?(clientId: string): Pick<AssistantContext, 'alerts' | 'volume'>;
  /** An answer's actions to carry out (set an alert, a volume…). */
  onActions?(clientId: string, actions: AssistantAction[]): void;
  /** The first speaker message of an answer was published (for latency figures). */
  onSpeakerStart?(clientId: string, info: { offset: number; endOfSpeechAtMs: number; atMs: number }): void;
}

interface Stream {
  messages: { offset: number; body: Uint8Array; seq?: number }[];
  next: number;
  intervalMs: number;
  timer?: NodeJS.Timeout;
  resendFrom?: number;
  interrupted: boolean;
  done: () => void;
}

class DeviceVoice {
  vd: Promise<VirtualDevice> | undefined;
  /** vd once resolved. */
  instance: VirtualDevice | undefined;
  /** Uplink audio waiting for vd. */
  queue: Uint8Array[] | undefined;
  format: 'L16' | 'OPUS' | undefined;
  opusFrameBytes = 160;
  /** The next microphone byte offset expected while the service listens. */
  micOffset: number | undefined;
  listening = false;
  speakerOffset = 0;
  marker = 0;
  chain: Promise<void> = Promise.resolve();
  stream: Stream | undefined;
  expectSpeech: number | undefined;
  endOfSpeechAtMs = 0;
  generation = 0;
  /**
   * Microphone entries that came while not listening: the device streams right after MicrophoneOpened, on another
   * topic, so its first audio can be handled before the event. Replayed from the opening offset; bounded.
   */
  early: { offsetBytes: number; audio: Uint8Array }[] = [];
  /** An OVERRUN that came after its answer's stream ended (e.g. cut by a barge-in): the next stream resends from it. */
  resendFrom: number | undefined;
  /**
   * The last answer, sent in full and not cut, while the device may still hold it (until the speaker closes, the
   * microphone opens or another answer starts): an OVERRUN naming one of its messages resends its tail.
   */
  sent: Stream | undefined;
}

export class VoiceSessions {
  private service: AisService | undefined;
  private readonly devices = new Map<string, DeviceVoice>();
  private readonly log: Logger;
  private silenceFrames: Uint8Array[] | undefined;
  private engines: Promise<{ recognizer: AssistantRecognizer; verifier: WakeWordVerifier; synthesizer: SpeechSynthesizer }> | undefined;
  private closed = false;

  constructor(private readonly options: VoiceSessionOptions) {
    this.log = options.log;
  }

  /** The service options this module handles; chains to the given ones. */
  serviceHooks(chain: Pick<AisServiceOptions, 'onEvent' | 'onMicrophone' | 'onDeviceReady' | 'onDeviceLost'> = {}) {
    return {
      onEvent: (clientId: string, event: AisMessage) => {
        this.event(clientId, event);
        chain.onEvent?.(clientId, event);
      },
      onMicrophone: (clientId: string, seq: number, body: Buffer) => {
        this.microphone(clientId, seq, body);
        chain.onMicrophone?.(clientId, seq, body);
      },
      onDeviceReady: (clientId: string) => {
        this.ready(clientId);
        chain.onDeviceReady?.(clientId);
      },
      onDeviceLost: (clientId: string) => {
        this.lost(clientId);
        chain.onDeviceLost?.(clientId);
      },
    };
  }

  attach(service: AisService): void {
    this.service = service;
  }

  close(): void {
    this.closed = true;
    for (const d of this.devices.values()) {
      this.stopStream(d);
      void d.vd?.then((vd) => vd.close(), () => undefined);
    }
    void this.engines?.then((e) => {
      e.recognizer.close();
      e.verifier.close();
    }, () => undefined);
  }

  private device(clientId: string): DeviceVoice {
    let d = this.devices.get(clientId);
    if (!d) {
      d = new DeviceVoice();
      this.devices.set(clientId, d);
    }
    return d;
  }

  /** The device vanished: the stream stops now (an alert's ends as cut off) and queued answers are dropped. */
  private lost(clientId: string): void {
    const d = this.devices.get(clientId);
    if (!d) return;
    if (d.stream) this.log.info(`${clientId}: speaker stream stopped: the device is gone`);
    this.stopStream(d);
    d.generation++;
    d.listening = false;
  }

  /** A new connection: offsets from 0, any answer in flight abandoned. */
  private ready(clientId: string): void {
    const d = this.device(clientId);
    this.stopStream(d);
    d.generation++;
    d.speakerOffset = 0;
    d.listening = false;
    d.micOffset = undefined;
    d.expectSpeech = undefined;
    d.resendFrom = undefined;
    d.sent = undefined;
    d.early.length = 0;
    d.chain = Promise.resolve();
    const mic = this.service?.deviceState(clientId)?.capabilities?.find((c) => c.interface === 'Microphone') as
      { configurations?: { audioEncoder?: { format?: string; bitrate?: { bitsPerSecond?: number } } } } | undefined;
    const encoder = mic?.configurations?.audioEncoder;
    const format = encoder?.format === 'OPUS' ? 'OPUS' : 'L16';
    const opusFrameBytes = Math.round((encoder?.bitrate?.bitsPerSecond ?? 64000) / 8 / 50);
    if (d.vd && (d.format !== format || d.opusFrameBytes !== opusFrameBytes)) {
      void d.vd.then((vd) => vd.close(), () => undefined);
      d.vd = d.instance = undefined;
    }
    d.format = format;
    d.opusFrameBytes = opusFrameBytes;
    if (mic && !d.vd) {
      const vd = this.createVirtualDevice(clientId, d);
      d.vd = vd;
      vd.then((instance) => {
        if (this.closed) instance.close();
        else if (d.vd === vd) d.instance = instance;
      }, (error: Error) => this.log.error(`${clientId}: no virtual device: ${error.message}`));
    }
  }

  private createVirtualDevice(clientId: string, d: DeviceVoice): Promise<VirtualDevice> {
    this.engines ??= SpeechSynthesizer.create().then((synthesizer) => ({ synthesizer, recognizer: new AssistantRecognizer(), verifier: new WakeWordVerifier() }));
    const send = (directives: { name: string; payload?: Record<string, unknown> }[]) => this.service?.sendDirectives(clientId, directives);
    const log = this.log.child(clientId);
    return this.engines.then((engines) => VirtualDevice.create({
      ...engines, format: d.format, opusFrameBytes: d.opusFrameBytes, now: this.options.now, timeZone: this.options.timeZone,
      context: () => this.options.assistantContext?.(clientId) ?? {},
      onEndOfSpeech: (e) => {
        d.listening = false;
        d.endOfSpeechAtMs = performance.now();
        log.info(`end of speech at ${e.offsetBytes} (${e.reason})`);
        send(e.reason === 'device'
          ? [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }]
          : [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }, { name: 'CloseMicrophone', payload: {} }]);
      },
      onFalseWake: (v) => {
        log.info(`false wake (${JSON.stringify(v)}): closed without an answer`);
        send([{ name: 'SetAttentionState', payload: { state: 'IDLE' } }]);
        this.options.onFalseWake?.(clientId);
      },
      onTranscript: (t) => {
        log.info(`heard ${JSON.stringify(t.text)}${t.rejected ? ' (rejected)' : ''} in ${t.elapsedMs.toFixed(0)} ms`);
        this.options.onTranscript?.(clientId, t);
      },
      onAnswer: (a) => {
        log.info(`answers ${JSON.stringify(a.text)} (${a.intent}, ${a.opusFrames.length} frames, ready ${a.elapsedMs.toFixed(0)} ms after end of speech)`);
        this.options.onAnswer?.(clientId, a);
        this.answer(clientId, d, a);
        if (a.actions) this.options.onActions?.(clientId, a.actions);
      },
      onError: (error) => log.error(`virtual device: ${error.message}`),
    }));
  }

  // ---- events and uplink ----

  private event(clientId: string, event: AisMessage): void {
    const d = this.device(clientId);
    const p = event.payload ?? {};
    switch (event.header.name) {
      case 'MicrophoneOpened': {
        if (!d.vd) return this.log.warn(`${clientId}: MicrophoneOpened without an accepted Microphone capability; ignored`);
        const offset = Number(p.offset);
        const initiator = p.initiator as { type?: InitiatorType; payload?: { wakeWordIndices?: { beginOffset: number; endOffset: number } } } | undefined;
        d.micOffset = offset;
        d.listening = true;
        d.expectSpeech = undefined;
        d.sent = undefined;
        // A barge-in: the answer still streaming is finished quickly (the device drops it, gotcha 6).
        if (d.stream) d.stream.interrupted = true;
        const opening = {
          offsetBytes: offset,
          initiator: initiator?.type ? { type: initiator.type, ...(initiator.payload?.wakeWordIndices ? { wakeWordIndices: initiator.payload.wakeWordIndices } : {}) } : undefined,
        };
        const early = d.early.splice(0).filter((e) => e.offsetBytes >= offset);
        if (d.instance) {
          void d.instance.openMicrophone(opening);
          for (const e of early) this.feed(clientId, d, e.offsetBytes, e.audio, 'early');
        } else {
          // The engines are still loading: audio waits in a queue until the virtual device exists.
          const queue: Uint8Array[] = [];
          d.queue = queue;
          for (const e of early) this.feed(clientId, d, e.offsetBytes, e.audio, 'early');
          const generation = d.generation;
          void d.vd.then((vd) => {
            if (d.queue !== queue) return;
            d.queue = undefined;
            if (generation !== d.generation) return;
            void vd.openMicrophone(opening);
            for (const bytes of queue) vd.feed(bytes);
          });
        }
        return;
      }
      case 'MicrophoneClosed':
        d.listening = false;
        if (d.queue) void d.vd?.then((vd) => vd.microphoneClosed());
        else d.instance?.microphoneClosed();
        return;
      case 'OpenMicrophoneTimedOut':
        d.listening = false;
        return;
      case 'SpeakerClosed':
        d.sent = undefined;
        if (d.expectSpeech !== undefined && !d.stream) {
          const timeout = d.expectSpeech;
          d.expectSpeech = undefined;
          this.service?.sendDirectives(clientId, [{ name: 'OpenMicrophone', payload: { timeoutInMilliseconds: timeout } }]);
        }
        return;
      case 'BufferStateChanged': {
        const s = d.stream;
        const state = String(p.state);
        const seq = Number((p.message as { sequenceNumber?: number } | undefined)?.sequenceNumber);
        if (!s) {
          if (state !== 'OVERRUN') return;
          // The device discarded #seq and waits for it (it drops what comes after). The whole answer had been sent
          // (a burst, a slow network): its tail goes again. Otherwise a barge-in cut it: the next answer is sent
          // under that number on, different content under the same sequence numbers (§7 gotcha 5).
          const sent = d.sent;
          d.sent = undefined;
          if (sent?.messages.some((m) => m.seq === seq)) this.resendTail(clientId, d, sent, seq);
          else d.resendFrom = seq;
          return;
        }
        if (state === 'OVERRUN') s.resendFrom = seq;
        else if (state === 'OVERRUN_WARNING') s.intervalMs = Math.min(s.intervalMs * 1.25, 400);
        else if (state === 'UNDERRUN_WARNING' || state === 'UNDERRUN') s.intervalMs = Math.max(s.intervalMs * 0.8, 40);
        return;
      }
    }
  }

  private microphone(clientId: string, seq: number, body: Buffer): void {
    const d = this.devices.get(clientId);
    if (!d?.vd) return;
    let entries;
    try {
      entries = streamEntries(body);
    } catch (error) {
      return this.log.warn(`${clientId}: microphone #${seq}: ${(error as Error).message}`);
    }
    for (const entry of entries) {
      if (entry.type !== 'audio') continue;
      if (d.listening && d.micOffset !== undefined) this.feed(clientId, d, entry.offset, entry.audio, `#${seq}`);
      else if (d.early.push({ offsetBytes: entry.offset, audio: entry.audio.slice() }) > EARLY_ENTRIES) d.early.shift();
    }
  }

  /** Audio at `offsetBytes` to the virtual device (via its queue while it loads); offsets checked contiguous. */
  private feed(clientId: string, d: DeviceVoice, offsetBytes: number, audio: Uint8Array, what: string): void {
    if (offsetBytes !== d.micOffset) {
      this.log.warn(`${clientId}: microphone ${what}: gap: offset ${offsetBytes}, expected ${d.micOffset}`);
      if (offsetBytes < d.micOffset!) return;  // old audio
    }
    d.micOffset = offsetBytes + audio.length;
    if (d.queue) d.queue.push(audio);
    else d.instance?.feed(audio);
  }

  // ---- downlink ----

  /**
   * Rings an alert: `text` then a second of silence, repeated to `durationMs`, as one utterance with attention
   * ALERTING (emulator/ais/alerts.ts). `onEnd(interrupted)` once the stream ended; returns a stop function, or
   * undefined when the device has no voice (no Microphone capability, engines not loaded).
   */
  ring(clientId: string, text: string, durationMs: number, onEnd: (interrupted: boolean) => void): (() => void) | undefined {
    const d = this.devices.get(clientId);
    const vd = d?.instance;
    if (!d || !vd || this.closed) return undefined;
    const words = vd.speak(text).opusFrames;
    this.silenceFrames ??= encodeSpeakerFrames(new Int16Array(16000)).frames;
    const frames: Uint8Array[] = [];
    const total = Math.ceil(durationMs / 20);
    while (frames.length < total) frames.push(...words, ...this.silenceFrames);
    frames.length = total;
    let stream: Stream | undefined;
    let stopped = false;
    this.answer(clientId, d, { opusFrames: frames }, 'ALERTING', (s) => {
      stream = s;
      if (stopped) this.stopStream(d); // stopped while queued behind an answer: ends as it starts
    }, onEnd);
    return () => {
      stopped = true;
      if (stream && d.stream === stream) this.stopStream(d);
    };
  }

  private answer(clientId: string, d: DeviceVoice, answer: Pick<AnswerEvent, 'opusFrames' | 'expectSpeech'>, attention = 'SPEAKING',
    onStart?: (stream: Stream) => void, onEnd?: (interrupted: boolean) => void): void {
    const generation = d.generation;
    const frames = answer.opusFrames;
    if (frames.length === 0) {
      this.service?.sendDirectives(clientId, [{ name: 'SetAttentionState', payload: { state: 'IDLE' } }]);
      return;
    }
    const start = d.speakerOffset;
    const end = start + frames.length * SPEAKER_FRAME_BYTES;
    d.speakerOffset = end;
    const marker = ++d.marker;
    const perMessage = this.options.framesPerMessage ?? 5;
    const messages: Stream['messages'] = [];
    for (let first = 0; first < frames.length; first += perMessage) {
      const last = first + perMessage >= frames.length;
      const offset = start + first * SPEAKER_FRAME_BYTES;
      messages.push({ offset, body: speakerBody(offset, frames.slice(first, first + perMessage), last ? marker : undefined) });
    }
    const expect = answer.expectSpeech ? (this.options.expectSpeechTimeoutMs ?? 8000) : undefined;
    d.chain = d.chain.then(() => new Promise<void>((done) => {
      if (generation !== d.generation || this.closed) {
        onEnd?.(true);
        return done();
      }
      const service = this.service!;
      d.sent = undefined;
      if (d.resendFrom !== undefined) {
        this.log.info(`${clientId}: speaker resumes from #${d.resendFrom}, the message an OVERRUN after the last answer named`);
        service.resendSpeakerFrom(clientId, d.resendFrom);
        d.resendFrom = undefined;
      }
      service.sendDirectives(clientId, [{ name: 'OpenSpeaker', payload: { offset: start } }, { name: 'SetAttentionState', payload: { state: attention, offset: start } }]);
      const stream: Stream = { messages, next: 0, intervalMs: perMessage * 20, interrupted: false, done: () => {
        d.stream = undefined;
        if (generation === d.generation && !stream.interrupted) {
          d.sent = stream;
          d.expectSpeech = expect;
          service.sendDirectives(clientId, [{ name: 'CloseSpeaker', payload: { offset: end } }, { name: 'SetAttentionState', payload: { state: 'IDLE', offset: end } }]);
        }
        onEnd?.(stream.interrupted);
        done();
      } };
      d.stream = stream;
      onStart?.(stream);
      const firstAtMs = performance.now();
      this.options.onSpeakerStart?.(clientId, { offset: start, endOfSpeechAtMs: d.endOfSpeechAtMs, atMs: firstAtMs });
      this.pump(clientId, d, stream, this.options.aheadMessages ?? 3);
    }));
  }

  /**
   * An OVERRUN named a message of the answer `sent` in full, which the device still holds: from that message on it
   * goes again (§3.5), after whatever is queued now. Its CloseSpeaker at the end offset went out already.
   */
  private resendTail(clientId: string, d: DeviceVoice, sent: Stream, seq: number): void {
    const generation = d.generation;
    this.log.info(`${clientId}: OVERRUN names speaker #${seq} of an answer sent in full: its tail goes again`);
    d.chain = d.chain.then(() => new Promise<void>((done) => {
      if (generation !== d.generation || this.closed) return done();
      const stream: Stream = { messages: sent.messages, next: sent.messages.length, intervalMs: sent.intervalMs, interrupted: false, resendFrom: seq, done: () => {
        d.stream = undefined;
        if (generation === d.generation && !stream.interrupted) d.sent = stream;
        done();
      } };
      d.stream = stream;
      this.pump(clientId, d, stream, 0);
    }));
  }

  /** Sends `burst` messages, then schedules the next one an interval later. */
  private pump(clientId: string, d: DeviceVoice, s: Stream, burst: number): void {
    s.timer = undefined;
    const service = this.service;
    if (!service || this.closed || d.stream !== s) return;
    if (s.resendFrom !== undefined) {
      const seq = s.resendFrom;
      s.resendFrom = undefined;
      // An OVERRUN naming a message of an earlier answer came after this one began (its stream was cut by a
      // barge-in): the device waits for that number and drops what follows, so this answer goes again from its
      // start under it (gotcha 5).
      const first = s.messages[0].seq;
      const index = first !== undefined && seq < first ? 0 : s.messages.findIndex((m) => m.seq === seq);
      if (index < 0) this.log.warn(`${clientId}: OVERRUN names speaker #${seq}, not in the current answer; ignored`);
      else {
        if (seq < first!) this.log.info(`${clientId}: speaker resumes from #${seq}, an earlier answer's message, with this answer from its start`);
        s.timer = setTimeout(() => {
          service.resendSpeakerFrom(clientId, seq);
          s.next = index;
          this.pump(clientId, d, s, 2);
        }, this.options.overrunWaitMs ?? 300);
        return;
      }
    }
    for (let i = 0; i < burst && s.next < s.messages.length; i++) {
      const m = s.messages[s.next++];
      m.seq = service.peekSpeakerSequence(clientId);
      if (!service.sendSpeaker(clientId, m.body)) return s.done();
    }
    if (s.next >= s.messages.length) return s.done();
    s.timer = setTimeout(() => this.pump(clientId, d, s, 1), s.interrupted ? 20 : s.intervalMs);
  }

  private stopStream(d: DeviceVoice): void {
    const s = d.stream;
    if (!s) return;
    clearTimeout(s.timer);
    s.interrupted = true;
    d.stream = undefined;
    s.done();
  }
}
