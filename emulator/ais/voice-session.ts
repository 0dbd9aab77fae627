// The spoken round trip in the emulator: glues each device's AIS session (emulator/ais/service.ts) to a
// VirtualDevice (emulator/voice/virtual-device.ts), which listens, understands and answers.
//
//   MicrophoneOpened {offset, initiator}   → vd.openMicrophone (format from the accepted Microphone capability)
//   microphone topic bodies                → parseBinaryBody → vd.feed (offsets checked contiguous; a gap is logged)
//   end of speech (VAD)                    → SetAttentionState THINKING, CloseMicrophone
//   MicrophoneClosed                       → vd.microphoneClosed() (the device ended the utterance itself)
//   false wake                             → CloseMicrophone, SetAttentionState IDLE, no answer
//   answer                                 → OpenSpeaker @o, SetAttentionState SPEAKING @o, Opus frames at the
//                                            declared bitrate as binary entries, as many a message as the declared
//                                            maxSizeInBytes allows, paced at real time between the declared buffer
//                                            thresholds (speaker-pacing.ts), a marker after the last frame,
//                                            CloseSpeaker @end, SetAttentionState IDLE @end
//   alert ring                             the same with ALERTING, and ALERTING again every 2 s of audio at its
//                                            offset: the official client disconnects if ALERTING stays unchanged
//                                            for one of its 4 s checks
//   expectSpeech                           → OpenMicrophone {timeoutInMilliseconds} once the answer has played
//                                            (SpeakerClosed), so the new turn is no barge-in
//   BufferStateChanged                     OVERRUN → wait, resendSpeakerFrom(seq) (§3.5); when the answer was
//                                            sent in full and the device still holds it, its tail from seq; when a
//                                            barge-in cut it, the next answer from seq on (gotcha 5);
//                                            the other states bound the pacer's model of the device's buffer
//   music (music-player.ts)                the same with IDLE, a track at a time; any other stream, a microphone
//                                            opening or the device leaving cuts it, and says how far it played
// The speaker stream offset is continuous within a connection (§3.4) and restarts at 0 with each one.
// The interaction sequencing is the emulator's choice (docs/protocol.md §9).
import type { Logger } from '../../src/ports/log.js';
import { speakerBody, streamEntries, realClock, type ServiceClock } from './wire.js';
import { framesPerMessage, SpeakerPacer, speakerTerms, type SpeakerTerms } from './speaker-pacing.js';
import { AssistantRecognizer, WakeWordVerifier } from '../voice/asr.js';
import { SpeechSynthesizer } from '../voice/tts.js';
import { VirtualDevice, type AnswerEvent, type InitiatorType, type TranscriptEvent } from '../voice/virtual-device.js';
import type { AssistantAction, AssistantContext } from '../voice/assistant.js';
import { encodeSpeakerFrames } from '../voice/opus.js';
import type { AisMessage, AisService, AisServiceOptions } from './service.js';

/** What a device without a usable Speaker declaration is streamed at (our device's defaults). */
const DEFAULT_TERMS: SpeakerTerms = { bufferBytes: 32000, overrunWarningBytes: 25600, underrunWarningBytes: 6400, bitsPerSecond: 64000, frameBytes: 160, maxMessageBytes: 8000 };
/** ALERTING is said again every this much audio of a ring (the official client checks every 4 s). */
const ALERTING_REFRESH_MS = 2000;
/**
 * Microphone audio kept by stream offset behind the newest byte heard: the turn is read from here at the offsets
 * MicrophoneOpened and MicrophoneClosed name, whenever each piece arrived (10 s of L16).
 */
const MIC_KEEP_BYTES = 320_000;
/** A hole in the microphone stream this far behind the newest byte is given up on (lost, not late). */
const MIC_HOLE_BYTES = 32_000;
/** After MicrophoneClosed, the audio still owed is checked this often; the turn ends when CLOSING_CHECKS in a row heard none. */
const CLOSING_CHECK_MS = 500;
const CLOSING_CHECKS = 4;

export interface VoiceSessionOptions {
  log: Logger;
  /** Most Opus frames in a speaker message (fewer when maxSizeInBytes or the thresholds say so). Default 25 (500 ms). */
  framesPerMessage?: number;
  /** Speaker messages sent at once at the start of each answer whatever the pacing (negative tests). Default 0. */
  aheadMessages?: number;
  /** Time for pacing. Default the real clock. */
  clock?: ServiceClock;
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
  /** What the service knows of the device for the assistant: alerts, volume (emulator/ais/alerts.ts), endpoints, notifications. */
  assistantContext?(clientId: string): Omit<AssistantContext, 'now' | 'timeZone'>;
  /** An answer's actions to carry out (set an alert, a volume…). */
  onActions?(clientId: string, actions: AssistantAction[]): void;
  /** The first speaker message of an answer was published (for latency figures). */
  onSpeakerStart?(clientId: string, info: { offset: number; endOfSpeechAtMs: number; atMs: number }): void;
  /** Nothing plays, nothing is queued and no turn is open: music may play (emulator/ais/music-player.ts). */
  onIdle?(clientId: string): void;
}

/** Why a music stream ended before its last frame. */
export type MusicCut = 'answer' | 'alert' | 'turn' | 'lost' | 'command';

interface Stream {
  messages: { offset: number; body: Uint8Array; ms: number; seq?: number; directives?: { name: string; payload: Record<string, unknown> }[] }[];
  next: number;
  timer?: unknown;
  resendFrom?: number;
  interrupted: boolean;
  done: () => void;
  /** A music stream: cut (not drained) by anything else. */
  music?: boolean;
  /** Frames sent and counted by the pacer. */
  sentFrames: number;
  /** Frames the device played before a cut, as the pacer's model has it; and what cut it. */
  played?: number;
  cutBy?: MusicCut;
  /** The speaker offsets the stream spans, and the CBR frame size. */
  start: number;
  end: number;
  frameBytes: number;
  /** Where the device closed its speaker in the middle of this music (SpeakerClosed): it stopped there. */
  closedAt?: number;
  /** The service asked the device to stop this music now (CloseSpeaker) and waits for its SpeakerClosed. */
  cutting?: MusicCut;
}

/** How long a music stream the device stopped, or was told to stop, waits for what ends it. */
const MUSIC_HOLD_MS = 2000;

class DeviceVoice {
  constructor(readonly clientId: string) {}
  vd: Promise<VirtualDevice> | undefined;
  /** vd once resolved. */
  instance: VirtualDevice | undefined;
  format: 'L16' | 'OPUS' | undefined;
  opusFrameBytes = 160;
  /** The speaker terms the device declared, and the pacer holding its buffer between them. */
  terms: SpeakerTerms = DEFAULT_TERMS;
  pacer: SpeakerPacer | undefined;
  /** The speaker bitrate vd speaks at. */
  vdBitsPerSecond = 0;
  /** Speech made ahead or said before, by text (VoiceSessions.words). */
  readonly words = new Map<string, Uint8Array[]>();
  /** The next microphone byte offset the turn reads while the service listens. */
  micOffset: number | undefined;
  /** Where the device said its microphone closed (MicrophoneClosed offset): the turn ends there. */
  micEnd: number | undefined;
  listening = false;
  /** Connected and ready (SynchronizeState seen, not lost since). */
  online = false;
  /** A turn is open: from MicrophoneOpened to its answer (or a false wake, or no speech). */
  turnOpen = false;
  /** Streams queued or playing. */
  queued = 0;
  /** The turn waits for vd (the engines are loading). */
  turnPending: { offsetBytes: number; initiator?: { type: InitiatorType; wakeWordIndices?: { beginOffset: number; endOffset: number } } } | undefined;
  speakerOffset = 0;
  marker = 0;
  chain: Promise<void> = Promise.resolve();
  stream: Stream | undefined;
  expectSpeech: number | undefined;
  endOfSpeechAtMs = 0;
  generation = 0;
  /**
   * Microphone audio by stream offset, in offset order: the device streams on another topic than its events, so
   * audio can come before MicrophoneOpened or after MicrophoneClosed, in any order; what the turn hears depends
   * only on the offsets (bounded by MIC_KEEP_BYTES).
   */
  heard: { offset: number; audio: Uint8Array }[] = [];
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
  private readonly silenceFrames = new Map<number, Uint8Array[]>();
  private engines: Promise<{ recognizer: AssistantRecognizer; verifier: WakeWordVerifier; synthesizer: SpeechSynthesizer }> | undefined;
  private closed = false;
  private readonly clock: ServiceClock;

  constructor(private readonly options: VoiceSessionOptions) {
    this.log = options.log;
    this.clock = options.clock ?? realClock;
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

  /** Whether the device's virtual device is loaded (its answers and rings can be spoken). */
  hasVoice(clientId: string): boolean {
    return this.devices.get(clientId)?.instance !== undefined;
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
      d = new DeviceVoice(clientId);
      this.devices.set(clientId, d);
    }
    return d;
  }

  /** The device vanished: the stream stops now (an alert's ends as cut off) and queued answers are dropped. */
  private lost(clientId: string): void {
    const d = this.devices.get(clientId);
    if (!d) return;
    if (d.stream) this.log.info(`${clientId}: speaker stream stopped: the device is gone`);
    d.online = false;
    d.turnOpen = false;
    this.stopStream(d, 'lost');
    d.generation++;
    d.listening = false;
  }

  /** A new connection: offsets from 0, any answer in flight abandoned. */
  private ready(clientId: string): void {
    const d = this.device(clientId);
    this.stopStream(d, 'lost');
    d.generation++;
    d.online = true;
    d.turnOpen = false;
    d.speakerOffset = 0;
    d.listening = false;
    d.micOffset = undefined;
    d.micEnd = undefined;
    d.turnPending = undefined;
    d.expectSpeech = undefined;
    d.resendFrom = undefined;
    d.sent = undefined;
    d.heard.length = 0;
    d.chain = Promise.resolve();
    const capabilities = this.service?.deviceState(clientId)?.capabilities ?? [];
    const terms = speakerTerms(capabilities);
    d.terms = typeof terms === 'object' ? terms : DEFAULT_TERMS;
    d.pacer = new SpeakerPacer(d.terms, () => this.clock.now());
    const mic = capabilities.find((c) => c.interface === 'Microphone') as
      { configurations?: { audioEncoder?: { format?: string; bitrate?: { bitsPerSecond?: number } } } } | undefined;
    const encoder = mic?.configurations?.audioEncoder;
    const format = encoder?.format === 'OPUS' ? 'OPUS' : 'L16';
    const opusFrameBytes = Math.round((encoder?.bitrate?.bitsPerSecond ?? 64000) / 8 / 50);
    if (d.vd && (d.format !== format || d.opusFrameBytes !== opusFrameBytes || d.vdBitsPerSecond !== d.terms.bitsPerSecond)) {
      void d.vd.then((vd) => vd.close(), () => undefined);
      d.vd = d.instance = undefined;
      d.words.clear();
    }
    d.format = format;
    d.opusFrameBytes = opusFrameBytes;
    d.vdBitsPerSecond = d.terms.bitsPerSecond;
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
      ...engines, format: d.format, opusFrameBytes: d.opusFrameBytes, speakerBitsPerSecond: d.terms.bitsPerSecond, now: this.options.now, timeZone: this.options.timeZone,
      context: () => this.options.assistantContext?.(clientId) ?? {},
      onEndOfSpeech: (e) => {
        d.listening = false;
        d.endOfSpeechAtMs = performance.now();
        log.info(`end of speech at ${e.offsetBytes} (${e.reason})`);
        send(e.reason === 'device'
          ? [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }]
          : [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }, { name: 'CloseMicrophone', payload: {} }]);
      },
      onWakeWordVerified: (v) => log.info(`wake word verified (confidence ${v.confidence.toFixed(1)}, heard ${JSON.stringify(v.heard)})`),
      onFalseWake: (v) => {
        log.info(`false wake (confidence ${v.confidence.toFixed(1)}, heard ${JSON.stringify(v.heard)}): microphone closed without an answer`);
        send([{ name: 'SetAttentionState', payload: { state: 'IDLE' } }]);
        this.options.onFalseWake?.(clientId);
        d.turnOpen = false;
        this.idleSoon(clientId, d);
      },
      onTranscript: (t) => {
        log.info(`heard ${JSON.stringify(t.text)}${t.rejected ? ' (rejected)' : ''} in ${t.elapsedMs.toFixed(0)} ms`);
        this.options.onTranscript?.(clientId, t);
      },
      onAnswer: (a) => {
        log.info(`answers ${JSON.stringify(a.text)} (${a.intent}, ${a.opusFrames.length} frames, ready ${a.elapsedMs.toFixed(0)} ms after end of speech)`);
        this.options.onAnswer?.(clientId, a);
        d.turnOpen = false;
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
        if (!Number.isSafeInteger(offset) || offset < 0) return this.log.warn(`${clientId}: MicrophoneOpened offset ${JSON.stringify(p.offset)} is not a byte offset; ignored`);
        const initiator = p.initiator as { type?: InitiatorType; payload?: { wakeWordIndices?: { beginOffset: number; endOffset: number } } } | undefined;
        d.micOffset = offset;
        d.micEnd = undefined;
        d.listening = true;
        d.turnOpen = true;
        d.expectSpeech = undefined;
        d.sent = undefined;
        // A barge-in: the answer still streaming is finished quickly (the device drops it, gotcha 6), and
        // nothing of it stays in the device's buffer.
        if (d.stream?.music) this.stopStream(d, 'turn'); // the device stopped its speaker first (gotcha 6)
        else if (d.stream) d.stream.interrupted = true;
        d.pacer?.flush();
        d.turnPending = {
          offsetBytes: offset,
          initiator: initiator?.type ? { type: initiator.type, ...(initiator.payload?.wakeWordIndices ? { wakeWordIndices: initiator.payload.wakeWordIndices } : {}) } : undefined,
        };
        if (d.instance) return this.startTurn(clientId, d);
        // The engines are still loading: the audio waits by offset until the virtual device exists.
        const generation = d.generation;
        void d.vd.then(() => {
          if (generation === d.generation && d.turnPending?.offsetBytes === offset && d.instance) this.startTurn(clientId, d);
        });
        return;
      }
      case 'MicrophoneClosed': {
        const end = Number(p.offset);
        d.micEnd = Number.isSafeInteger(end) && end >= 0 ? end : d.micOffset;
        if (!d.turnPending) this.drain(clientId, d);
        this.awaitClosingAudio(clientId, d);
        return;
      }
      case 'OpenMicrophoneTimedOut':
        d.listening = false;
        d.turnOpen = false;
        this.idleSoon(clientId, d);
        return;
      case 'SpeakerClosed': {
        d.sent = undefined;
        const music = d.stream?.music ? d.stream : undefined;
        const at = Number(p.offset);
        // (At its start offset it is the end of what played before: an answer's SpeakerClosed may come after.)
        if (music && at > music.start && at < music.end && music.closedAt === undefined) {
          // The device stopped the music: as asked (cutMusic), or itself (PAUSE, STOP, a barge-in), when the stream
          // holds where it stopped until the button's event or the microphone opening cuts it, or, failing both, this.
          music.closedAt = at;
          if (music.cutting) this.stopStream(d, music.cutting);
          else this.holdMusic(d, music, 'command');
        }
        if (d.expectSpeech !== undefined && !d.stream) {
          const timeout = d.expectSpeech;
          d.expectSpeech = undefined;
          this.service?.sendDirectives(clientId, [{ name: 'OpenMicrophone', payload: { timeoutInMilliseconds: timeout } }]);
        }
        return;
      }
      case 'BufferStateChanged': {
        const s = d.stream;
        const state = String(p.state);
        const seq = Number((p.message as { sequenceNumber?: number } | undefined)?.sequenceNumber);
        d.pacer?.report(state, seq);
        if (!s) {
          if (state !== 'OVERRUN') return;
          // The device discarded #seq and waits for it (it drops what comes after). The whole answer had been sent
          // (a burst, a slow network): its tail goes again. Otherwise a barge-in cut it: the next answer is sent
          // under that number on, different content under the same sequence numbers (§7 gotcha 5).
          // Paced answers are often sent whole while they still play, so the named message may be one before the
          // answer just sent: the device dropped all of that answer too, and it goes again under that number.
          const sent = d.sent;
          d.sent = undefined;
          if (sent && (sent.messages.some((m) => m.seq === seq) || seq < sent.messages[0].seq!)) this.resendTail(clientId, d, sent, seq);
          else d.resendFrom = seq;
          return;
        }
        if (state === 'OVERRUN') {
          s.resendFrom = seq;
          if (s.timer !== undefined && s.closedAt === undefined && !s.cutting) {
            // Act on it now, not after the pacing wait.
            this.clock.clearTimeout(s.timer);
            this.pump(clientId, d, s);
          }
        }
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
    for (const entry of entries) if (entry.type === 'audio' && entry.audio.length > 0) this.hear(d, entry.offset, entry.audio.slice());
    if (d.listening && !d.turnPending) this.drain(clientId, d);
  }

  /** Keeps audio at its stream offset, in offset order, within MIC_KEEP_BYTES of the newest. */
  private hear(d: DeviceVoice, offset: number, audio: Uint8Array): void {
    const heard = d.heard;
    let at = heard.length;
    while (at > 0 && heard[at - 1].offset > offset) at--;
    heard.splice(at, 0, { offset, audio });
    const newest = heard[heard.length - 1];
    const floor = newest.offset + newest.audio.length - MIC_KEEP_BYTES;
    while (heard.length > 0 && heard[0].offset + heard[0].audio.length <= floor) heard.shift();
  }

  /** The device's microphone opened and the virtual device exists: the turn starts, from the audio at its offset. */
  private startTurn(clientId: string, d: DeviceVoice): void {
    const opening = d.turnPending!;
    d.turnPending = undefined;
    void d.instance!.openMicrophone(opening);
    this.drain(clientId, d);
  }

  /**
   * Audio up to the closing offset that never comes (lost) must not hold the turn open for ever: the turn ends once
   * CLOSING_CHECKS checks in a row saw none arrive. Counted in checks, not in wall time: a loaded process runs one
   * check seconds late, before it has read the audio waiting in its sockets, and that must not cut the turn.
   */
  private awaitClosingAudio(clientId: string, d: DeviceVoice): void {
    const turn = d.micEnd;
    let heardTo = d.micOffset;
    let quiet = 0;
    const check = () => {
      if (this.closed || !d.listening || d.micEnd !== turn || d.turnPending) return;
      if (d.micOffset !== heardTo) {
        heardTo = d.micOffset;
        quiet = 0;
      } else if (++quiet === CLOSING_CHECKS) {
        this.log.warn(`${clientId}: microphone: audio up to ${turn} never came; the turn ends at ${d.micOffset}`);
        d.listening = false;
        d.instance?.microphoneClosed();
        return;
      }
      this.clock.setTimeout(check, CLOSING_CHECK_MS);
    };
    this.clock.setTimeout(check, CLOSING_CHECK_MS);
  }

  /**
   * Feeds the turn the audio from micOffset on, as far as it is contiguous and before the closing offset; a
   * hole far behind the newest audio is skipped (lost). At the closing offset the turn ends as the device said.
   */
  private drain(clientId: string, d: DeviceVoice): void {
    const vd = d.instance;
    if (!vd || d.micOffset === undefined) return;
    const end = d.micEnd ?? Infinity;
    for (const chunk of d.heard) {
      if (!d.listening || d.micOffset >= end) break;
      const chunkEnd = chunk.offset + chunk.audio.length;
      if (chunkEnd <= d.micOffset) continue;
      if (chunk.offset > d.micOffset) {
        const newest = d.heard[d.heard.length - 1];
        if (newest.offset + newest.audio.length - d.micOffset < MIC_HOLE_BYTES) break; // late audio may still fill it
        this.log.warn(`${clientId}: microphone: bytes ${d.micOffset}..${chunk.offset} never came; skipped`);
        d.micOffset = chunk.offset;
      }
      const piece = chunk.audio.subarray(d.micOffset - chunk.offset, Math.min(chunk.audio.length, end - chunk.offset));
      d.micOffset += piece.length;
      vd.feed(piece);
    }
    if (d.listening && d.micOffset >= end) {
      d.listening = false;
      vd.microphoneClosed();
    }
  }

  // ---- downlink ----

  /**
   * Rings an alert: `text` then a second of silence, repeated to `durationMs`, as one utterance with attention
   * ALERTING (emulator/ais/alerts.ts). `onEnd(interrupted)` once the stream ended; returns a stop function, or
   * undefined when the device has no voice (no Microphone capability, engines not loaded).
   */
  ring(clientId: string, text: string, durationMs: number, onEnd: (interrupted: boolean) => void, leadMs = 0): (() => void) | undefined {
    return this.play(clientId, text, durationMs, 'ALERTING', onEnd, leadMs);
  }

  /** Makes `text`'s speech for this device now, so that a ring due soon starts on time. */
  prepare(clientId: string, text: string): void {
    const d = this.devices.get(clientId);
    if (d?.instance) this.words(d, text);
  }

  /** `text` spoken at the device's bitrate; the last few kept (rings are prepared ahead and said again). */
  private words(d: DeviceVoice, text: string): Uint8Array[] {
    let frames = d.words.get(text);
    if (!frames) {
      frames = d.instance!.speak(text).opusFrames;
      if (d.words.size >= 8) d.words.delete(d.words.keys().next().value!);
      d.words.set(text, frames);
    }
    return frames;
  }

  /**
   * Says `text` (then a second of silence, repeated to `durationMs` when given) on the device's speaker with
   * `attention`; as ring().
   */
  play(clientId: string, text: string, durationMs: number | undefined, attention: 'ALERTING' | 'SPEAKING', onEnd: (interrupted: boolean) => void, leadMs = 0): (() => void) | undefined {
    const d = this.devices.get(clientId);
    if (!d?.instance || this.closed) return undefined;
    const words = this.words(d, text);
    const frames: Uint8Array[] = [...words];
    const silence = this.silence(d);
    if (durationMs !== undefined) {
      const total = Math.ceil(durationMs / 20);
      while (frames.length < total) frames.push(...words, ...silence);
      frames.length = total;
    }
    // The lead: silence before the words, so the speaker streams and the attention shows before the due time.
    for (let n = Math.round(leadMs / 20); n > 0; n -= silence.length) frames.unshift(...silence.slice(0, Math.min(n, silence.length)));
    let stream: Stream | undefined;
    let stopped = false;
    this.answer(clientId, d, { opusFrames: frames }, attention, (s) => {
      stream = s;
      if (stopped) this.stopStream(d); // stopped while queued behind an answer: ends as it starts
    }, onEnd);
    return () => {
      stopped = true;
      if (stream && d.stream === stream) this.stopStream(d);
    };
  }

  /** A second of silence at the device's speaker bitrate. */
  private silence(d: DeviceVoice): Uint8Array[] {
    const key = d.terms.bitsPerSecond;
    let frames = this.silenceFrames.get(key);
    if (!frames) {
      frames = encodeSpeakerFrames(new Int16Array(16000), { bitrate: key }).frames;
      this.silenceFrames.set(key, frames);
    }
    return frames;
  }

  /**
   * Streams music `frames` (a track from where it is to its end) with attention IDLE when the speaker is free;
   * anything else to say, a microphone opening or the device leaving cuts it. `onEnd(played, cutBy)`: the frames the
   * device played (all of them when not cut). False when the device cannot play now (offline, no voice yet).
   */
  playMusic(clientId: string, frames: Uint8Array[], onEnd: (played: number, cutBy: MusicCut | undefined) => void): boolean {
    const d = this.devices.get(clientId);
    if (!d?.instance || !d.online || this.closed || frames.length === 0) return false;
    this.answer(clientId, d, { opusFrames: frames }, 'IDLE', undefined, (_, played, cutBy) => onEnd(played, cutBy), true);
    return true;
  }

  /** Cuts the device's music stream, if one plays (a PAUSE or STOP button); its onEnd says how far it got. */
  stopMusic(clientId: string): void {
    const d = this.devices.get(clientId);
    if (d?.stream?.music) this.cutMusic(clientId, d, 'command');
  }

  /**
   * The service ends the music: the device is told to stop now (CloseSpeaker without an offset drops what it holds)
   * and the stream ends at its SpeakerClosed, which says how far it played; what is queued next waits for that.
   * Without it the new stream's first messages would find the buffer full of music (OVERRUN).
   */
  private cutMusic(clientId: string, d: DeviceVoice, cutBy: MusicCut): void {
    const s = d.stream!;
    if (s.closedAt !== undefined) return this.stopStream(d, cutBy);
    if (s.cutting) return;
    s.cutting = cutBy;
    this.service?.sendDirectives(clientId, [{ name: 'CloseSpeaker', payload: {} }]);
    this.holdMusic(d, s, cutBy);
  }

  /** Sends nothing more of `s`; it ends after MUSIC_HOLD_MS unless something ends it sooner. */
  private holdMusic(d: DeviceVoice, s: Stream, cutBy: MusicCut): void {
    if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    s.timer = this.clock.setTimeout(() => { if (d.stream === s) this.stopStream(d, cutBy); }, MUSIC_HOLD_MS);
  }

  speakerBitsPerSecond(clientId: string): number {
    return (this.devices.get(clientId)?.terms ?? DEFAULT_TERMS).bitsPerSecond;
  }

  /** Whether music may start now: online, nothing playing or queued, no turn open or due. */
  isIdle(clientId: string): boolean {
    const d = this.devices.get(clientId);
    return !!d?.instance && d.online && !this.closed && d.queued === 0 && !d.listening && !d.turnOpen && !d.turnPending && d.expectSpeech === undefined;
  }

  private idleSoon(clientId: string, d: DeviceVoice): void {
    // After the caller's own work (an answer's actions are applied after its stream is queued).
    const generation = d.generation;
    this.clock.setTimeout(() => {
      if (generation === d.generation && this.isIdle(clientId)) this.options.onIdle?.(clientId);
    }, 0);
  }

  private answer(clientId: string, d: DeviceVoice, answer: Pick<AnswerEvent, 'opusFrames' | 'expectSpeech'>, attention = 'SPEAKING',
    onStart?: (stream: Stream) => void, onEnd?: (interrupted: boolean, played: number, cutBy?: MusicCut) => void, music = false): void {
    const generation = d.generation;
    const frames = answer.opusFrames;
    if (frames.length === 0) {
      this.service?.sendDirectives(clientId, [{ name: 'SetAttentionState', payload: { state: 'IDLE' } }]);
      this.idleSoon(clientId, d);
      return;
    }
    if (!music && d.stream?.music) this.cutMusic(clientId, d, attention === 'ALERTING' ? 'alert' : 'answer');
    const frameBytes = frames[0].length;
    const start = d.speakerOffset;
    const end = start + frames.length * frameBytes;
    d.speakerOffset = end;
    const marker = ++d.marker;
    const perMessage = Math.min(this.options.framesPerMessage ?? 25, framesPerMessage(d.terms, this.options.framesPerMessage ?? 25));
    const refreshFrames = attention === 'ALERTING' ? ALERTING_REFRESH_MS / 20 : Infinity;
    const messages: Stream['messages'] = [];
    for (let first = 0; first < frames.length; first += perMessage) {
      const last = first + perMessage >= frames.length;
      const offset = start + first * frameBytes;
      const count = Math.min(perMessage, frames.length - first);
      const m: Stream['messages'][number] = { offset, ms: count * 20, body: speakerBody(offset, frames.slice(first, first + count), last ? marker : undefined) };
      // ALERTING again at each refresh point inside this message, said as the message goes (applied at its offset).
      for (let f = Math.ceil(Math.max(first, 1) / refreshFrames) * refreshFrames; f < first + count; f += refreshFrames) {
        (m.directives ??= []).push({ name: 'SetAttentionState', payload: { state: 'ALERTING', offset: start + f * frameBytes } });
      }
      messages.push(m);
    }
    const expect = answer.expectSpeech ? (this.options.expectSpeechTimeoutMs ?? 8000) : undefined;
    d.queued++;
    d.chain = d.chain.then(() => new Promise<void>((settled) => {
      const done = () => {
        d.queued--;
        settled();
        if (generation === d.generation && d.queued === 0) this.idleSoon(clientId, d);
      };
      // Music queued behind something that is now itself followed by more to say waits its turn again.
      if (generation !== d.generation || this.closed || (music && d.queued > 1)) {
        onEnd?.(true, 0, music && d.queued > 1 ? 'answer' : 'lost');
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
      const stream: Stream = { messages, next: 0, interrupted: false, music, sentFrames: 0, start, end, frameBytes, done: () => {
        d.stream = undefined;
        if (generation === d.generation && !stream.interrupted) {
          d.sent = stream;
          d.expectSpeech = expect;
          service.sendDirectives(clientId, [{ name: 'CloseSpeaker', payload: { offset: end } }, { name: 'SetAttentionState', payload: { state: 'IDLE', offset: end } }]);
        }
        onEnd?.(stream.interrupted, stream.played ?? (stream.interrupted ? stream.sentFrames : frames.length), stream.cutBy);
        done();
      } };
      d.stream = stream;
      onStart?.(stream);
      this.options.onSpeakerStart?.(clientId, { offset: start, endOfSpeechAtMs: d.endOfSpeechAtMs, atMs: performance.now() });
      this.pump(clientId, d, stream, this.options.aheadMessages ?? 0);
    }));
  }

  /**
   * An OVERRUN named a message of the answer `sent` in full, which the device still holds: from that message on it
   * goes again (§3.5), after whatever is queued now. Its CloseSpeaker at the end offset went out already.
   */
  private resendTail(clientId: string, d: DeviceVoice, sent: Stream, seq: number): void {
    const generation = d.generation;
    this.log.info(`${clientId}: OVERRUN names speaker #${seq}${seq < sent.messages[0].seq! ? ', before' : ' of'} an answer sent in full: ${seq < sent.messages[0].seq! ? 'all of it' : 'its tail'} goes again`);
    d.chain = d.chain.then(() => new Promise<void>((done) => {
      if (generation !== d.generation || this.closed) return done();
      const stream: Stream = { messages: sent.messages, start: sent.start, end: sent.end, frameBytes: sent.frameBytes, next: sent.messages.length, interrupted: false, resendFrom: seq, sentFrames: 0, done: () => {
        d.stream = undefined;
        if (generation === d.generation && !stream.interrupted) d.sent = stream;
        done();
      } };
      d.stream = stream;
      this.pump(clientId, d, stream);
    }));
  }

  /**
   * Sends what the pacer allows (and `burst` messages whatever it says), then comes back when it will allow
   * the next. An interrupted stream's rest goes quickly: the device drops it.
   */
  private pump(clientId: string, d: DeviceVoice, s: Stream, burst = 0): void {
    if (s.closedAt !== undefined || s.cutting) return; // held: the device stopped it, or is told to
    s.timer = undefined;
    const service = this.service;
    if (!service || this.closed || d.stream !== s) return;
    if (s.resendFrom !== undefined) {
      const seq = s.resendFrom;
      s.resendFrom = undefined;
      // An OVERRUN naming a message of an earlier answer came after this one began (its stream was cut by a
      // barge-in): the device waits for that number and drops what follows, so this answer goes again from its
      // start under it (gotcha 5).
      // Before this stream sent anything (it waited behind a music stream that was being cut), any number is an
      // earlier stream's.
      const first = s.next > 0 ? s.messages[0].seq : undefined;
      const index = first === undefined || seq < first ? 0 : s.messages.findIndex((m) => m.seq === seq);
      if (index < 0) this.log.warn(`${clientId}: OVERRUN names speaker #${seq}, not in the current answer; ignored`);
      else {
        if (first === undefined || seq < first) this.log.info(`${clientId}: speaker resumes from #${seq}, an earlier answer's message, with this answer from its start`);
        s.timer = this.clock.setTimeout(() => {
          s.timer = undefined;
          service.resendSpeakerFrom(clientId, seq);
          s.next = index;
          this.pump(clientId, d, s);
        }, this.options.overrunWaitMs ?? 300);
        return;
      }
    }
    const pacer = d.pacer!;
    while (s.next < s.messages.length && (burst > 0 || s.interrupted || pacer.ready())) {
      burst--;
      const m = s.messages[s.next++];
      m.seq = service.peekSpeakerSequence(clientId);
      if (m.directives && !s.interrupted) service.sendDirectives(clientId, m.directives);
      if (!service.sendSpeaker(clientId, m.body)) return s.done();
      if (!s.interrupted) {
        pacer.record(m.seq, m.ms);
        s.sentFrames += m.ms / 20;
      }
      if (s.interrupted) break;
    }
    if (s.next >= s.messages.length) return s.done();
    s.timer = this.clock.setTimeout(() => this.pump(clientId, d, s), s.interrupted ? 20 : Math.min(Math.max(pacer.waitMs(), 10), 200));
  }

  private stopStream(d: DeviceVoice, cutBy?: MusicCut): void {
    const s = d.stream;
    if (!s) return;
    // What the device had played: where it said it stopped, else all sent less what the pacer's model says it held.
    s.played = s.closedAt !== undefined ? (s.closedAt - s.start) / s.frameBytes : Math.max(0, s.sentFrames - Math.round((d.pacer?.levelMs() ?? 0) / 20));
    if (s.closedAt !== undefined) d.pacer?.flush(); // the device dropped what it held
    // An OVERRUN of held music: the device waits for that number. The same messages go again at once (the device
    // drops them: they are before its next open offset), so copies still in flight are no different from them;
    // the next stream follows under new numbers. (New content under the old numbers, as after a barge-in, met stale
    // copies in the device's reorder window: measured, MALFORMED_MESSAGE.)
    if (s.music && s.resendFrom !== undefined && this.service) {
      const from = s.messages.findIndex((m) => m.seq === s.resendFrom);
      if (from >= 0) {
        this.service.resendSpeakerFrom(d.clientId, s.resendFrom);
        for (const m of s.messages.slice(from, s.next)) this.service.sendSpeaker(d.clientId, m.body);
      }
      s.resendFrom = undefined;
    }
    s.cutBy = cutBy;
    if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    s.timer = undefined;
    s.interrupted = true;
    d.stream = undefined;
    s.done();
  }
}
