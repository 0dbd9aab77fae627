// The emulator's virtual device: the part of the AIS cloud that listens and talks (docs/voice.md).
// The AIS service feeds it the microphone stream of one device and gets back, by callbacks in the
// options: end of speech (→ CloseMicrophone), a false wake (→ CloseMicrophone, no answer), the transcript,
// the answer as text, 16 kHz PCM and 160-byte Opus frames for the speaker stream, and whether to open the
// microphone again (→ OpenMicrophone, multi-turn). No MQTT, no AIS messages, no timers: the caller owns
// the protocol and the pacing (docs/protocol.md §9).
import { respond, type AssistantAction, type AssistantContext, type DialogState, type Intent } from './assistant.js';
import { AssistantRecognizer, WakeWordVerifier, type WakeWordVerification } from './asr.js';
import { encodeSpeakerFrames, OpusStreamDecoder } from './opus.js';
import { BYTES_PER_SAMPLE, FRAME_SAMPLES, SAMPLE_RATE, samplesFromBytes } from './pcm.js';
import { ASSISTANT_VOICE, SpeechSynthesizer, type Voice } from './tts.js';
import { VoiceActivityDetector, type VadOptions } from './vad.js';

export type InitiatorType = 'WAKEWORD' | 'TAP' | 'PRESS_AND_HOLD';

export interface MicrophoneOpening {
  /** Stream offset of the first byte that will be fed (MicrophoneOpened.offset, docs/protocol.md §4.4). */
  offsetBytes: number;
  initiator?: {
    type: InitiatorType;
    /** For WAKEWORD: byte offsets into the microphone stream (begin = opening offset + 500 ms pre-roll). */
    wakeWordIndices?: { beginOffset: number; endOffset: number };
  };
}

export interface EndOfSpeechEvent {
  /** Stream offset just past the last byte the decision used (where the service closes the microphone). */
  offsetBytes: number;
  /** 'vad': silence after speech; 'timeout': maxListenMs passed; 'device': the device closed the microphone. */
  reason: 'vad' | 'timeout' | 'device';
}

export interface TranscriptEvent {
  text: string;
  /** The command decode fitted much worse than free words: the assistant treats it as not understood. */
  rejected: boolean;
  confidence: number;
  elapsedMs: number;
  /** The turn's audio as heard, 16 kHz mono, from the opening offset to the end of speech (the dashboard draws it). */
  heard: Int16Array;
}

export interface AnswerEvent {
  intent: Intent;
  /** '' when the assistant says nothing (stop, silence): then pcm and opusFrames are empty. */
  text: string;
  /** 16 kHz mono. */
  pcm: Int16Array;
  /** Raw Opus packets, 160 bytes each (64 kbps CBR, 20 ms), ready for speaker binary entries. */
  opusFrames: Uint8Array[];
  /** Ogg pre-skip of the encoding (48 kHz samples), for writing the answer out as Ogg Opus. */
  preSkip48k: number;
  expectSpeech?: { timeoutMs: number };
  /** What the service must do beside speaking: alerts to set or delete, a volume, an alert to stop. */
  actions?: AssistantAction[];
  /** Wall time from end of speech to this answer: recognition, assistant, synthesis and encoding. */
  elapsedMs: number;
}

export interface TurnResult {
  endOfSpeech?: EndOfSpeechEvent;
  wakeWord?: WakeWordVerification;
  falseWake: boolean;
  transcript?: TranscriptEvent;
  answer?: AnswerEvent;
}

export interface VirtualDeviceOptions {
  /** Shared ones may be passed in (they hold temp files and a WASM instance); made when absent. */
  recognizer?: AssistantRecognizer;
  verifier?: WakeWordVerifier;
  synthesizer?: SpeechSynthesizer;
  /** The assistant's clock. Default () => new Date(). */
  now?: () => Date;
  timeZone?: string;
  /** What the service knows of the device (alerts, volume, endpoints, notifications), asked at each answer. */
  context?(): Omit<AssistantContext, 'now' | 'timeZone'>;
  voice?: Voice;
  /** Uplink encoding: AIS sends L16 (docs/protocol.md §5); 'OPUS' for raw Opus packets of opusFrameBytes. */
  format?: 'L16' | 'OPUS';
  /** Bytes per uplink Opus packet (20 ms each). Default 160 (64 kbps); 80 for 32 kbps. */
  opusFrameBytes?: number;
  /** Speaker stream bitrate (CBR Opus), as the device declared it. Default 64,000. */
  speakerBitsPerSecond?: number;
  vad?: VadOptions;
  /** End of speech is declared after this much audio whatever the VAD says. Default 10,000. */
  maxListenMs?: number;
  onEndOfSpeech?(event: EndOfSpeechEvent): void;
  onFalseWake?(verification: WakeWordVerification): void;
  /** The cloud's check found "Alexa" in the span the device reported: the turn goes on to be understood. */
  onWakeWordVerified?(verification: WakeWordVerification): void;
  onTranscript?(event: TranscriptEvent): void;
  onAnswer?(event: AnswerEvent): void;
  /** The answer asked a question: open the microphone again after playing it. */
  onExpectSpeech?(event: { timeoutMs: number }): void;
  onError?(error: Error): void;
}

/** Audio kept either side of the VAD's speech for the recogniser (measured best near 50–100 ms). */
const RECOGNISER_MARGIN_SAMPLES = 1280;

export class VirtualDevice {
  private readonly options: VirtualDeviceOptions;
  private readonly recognizer: AssistantRecognizer;
  private readonly verifier: WakeWordVerifier;
  private readonly synthesizer: SpeechSynthesizer;
  private readonly ownsEngines: boolean;
  private readonly opusFrameBytes: number;
  private state: DialogState = {};
  // The current turn.
  private listening = false;
  private opening: MicrophoneOpening | undefined;
  private vad: VoiceActivityDetector;
  private samples = new Int16Array(SAMPLE_RATE * 4);
  private sampleCount = 0;
  private vadSamples = 0;
  private pendingByte: number | undefined;
  private opusPending = new Uint8Array(0);
  private opusDecoder: OpusStreamDecoder | undefined;
  private wakeCheck: Promise<WakeWordVerification> | undefined;
  private resolveTurn: ((result: TurnResult) => void) | undefined;
  private closed = false;

  /** Use VirtualDevice.create(). */
  constructor(options: VirtualDeviceOptions, engines: { recognizer: AssistantRecognizer; verifier: WakeWordVerifier; synthesizer: SpeechSynthesizer; owned: boolean }) {
    this.options = options;
    this.recognizer = engines.recognizer;
    this.verifier = engines.verifier;
    this.synthesizer = engines.synthesizer;
    this.ownsEngines = engines.owned;
    this.opusFrameBytes = options.opusFrameBytes ?? 160;
    this.vad = new VoiceActivityDetector(options.vad);
  }

  static async create(options: VirtualDeviceOptions = {}): Promise<VirtualDevice> {
    if (options.format !== undefined && options.format !== 'L16' && options.format !== 'OPUS') throw new RangeError(`format 'L16' or 'OPUS' expected, got ${String(options.format)}`);
    const synthesizer = options.synthesizer ?? (await SpeechSynthesizer.create());
    const owned = !options.recognizer && !options.verifier;
    const recognizer = options.recognizer ?? new AssistantRecognizer();
    const verifier = options.verifier ?? new WakeWordVerifier();
    return new VirtualDevice(options, { recognizer, verifier, synthesizer, owned });
  }

  /** The dialog state the next turn starts in (a question awaiting its answer, remembered facts). */
  get dialogState(): DialogState {
    return this.state;
  }

  get isListening(): boolean {
    return this.listening;
  }

  /**
   * The device opened its microphone (MicrophoneOpened): a new turn. Resolves when the turn is over:
   * answered, refused as a false wake, or ended without speech.
   */
  openMicrophone(opening: MicrophoneOpening): Promise<TurnResult> {
    if (this.closed) return Promise.reject(new TypeError('virtual device closed'));
    if (!Number.isSafeInteger(opening?.offsetBytes) || opening.offsetBytes < 0) throw new RangeError(`offsetBytes expected as a non-negative integer, got ${opening?.offsetBytes}`);
    const indices = opening.initiator?.wakeWordIndices;
    if (indices && !(indices.beginOffset >= opening.offsetBytes && indices.endOffset > indices.beginOffset)) {
      throw new RangeError(`wakeWordIndices with offset ≤ begin < end expected, got ${JSON.stringify(indices)} at offset ${opening.offsetBytes}`);
    }
    this.resolveTurn?.({ falseWake: false });  // a turn still open is abandoned
    this.listening = true;
    this.opening = opening;
    this.vad = new VoiceActivityDetector(this.options.vad);
    this.sampleCount = 0;
    this.vadSamples = 0;
    this.pendingByte = undefined;
    this.opusPending = new Uint8Array(0);
    this.opusDecoder = this.options.format === 'OPUS' ? new OpusStreamDecoder() : undefined;
    this.wakeCheck = undefined;
    return new Promise((resolve) => (this.resolveTurn = resolve));
  }

  /** Microphone stream bytes, contiguous from the opening offset (L16 little-endian, or Opus packets). */
  feed(bytes: Uint8Array): void {
    if (!this.listening) return;  // late audio after end of speech: the service drops it too
    if (this.opusDecoder) {
      const joined = new Uint8Array(this.opusPending.length + bytes.length);
      joined.set(this.opusPending);
      joined.set(bytes, this.opusPending.length);
      let at = 0;
      for (; at + this.opusFrameBytes <= joined.length; at += this.opusFrameBytes) {
        this.append(this.opusDecoder.decode(joined.subarray(at, at + this.opusFrameBytes)));
      }
      this.opusPending = joined.slice(at);
    } else {
      let data = bytes;
      if (this.pendingByte !== undefined) {
        data = new Uint8Array(bytes.length + 1);
        data[0] = this.pendingByte;
        data.set(bytes, 1);
        this.pendingByte = undefined;
      }
      if (data.length % 2 === 1) {
        this.pendingByte = data[data.length - 1];
        data = data.subarray(0, data.length - 1);
      }
      this.append(samplesFromBytes(data));
    }
    this.runVad();
  }

  /** The device closed the microphone itself (button released, MicrophoneClosed): the utterance ends here. */
  microphoneClosed(): void {
    if (this.listening) this.endOfSpeech('device');
  }

  /** Speech for `text` in the assistant's voice, as the speaker stream wants it (alerts, prompts). */
  speak(text: string): { pcm: Int16Array; opusFrames: Uint8Array[]; preSkip48k: number } {
    const pcm = text === '' ? new Int16Array(0) : this.synthesizer.synthesize(text, this.options.voice ?? ASSISTANT_VOICE);
    const encoded = encodeSpeakerFrames(pcm, { bitrate: this.options.speakerBitsPerSecond });
    return { pcm, opusFrames: encoded.frames, preSkip48k: encoded.preSkip48k };
  }

  /** Ends the current turn and, if it made them, the recogniser and verifier. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listening = false;
    this.resolveTurn?.({ falseWake: false });
    this.resolveTurn = undefined;
    if (this.ownsEngines) {
      this.recognizer.close();
      this.verifier.close();
    }
  }

  private bytesPerSample(): number {
    // Stream offsets count stream bytes: L16 bytes, or Opus bytes (frameBytes per 320 samples).
    return this.opusDecoder ? this.opusFrameBytes / FRAME_SAMPLES : BYTES_PER_SAMPLE;
  }

  private sampleAt(offsetBytes: number): number {
    return Math.round((offsetBytes - this.opening!.offsetBytes) / this.bytesPerSample());
  }

  private append(chunk: Int16Array): void {
    if (this.sampleCount + chunk.length > this.samples.length) {
      const bigger = new Int16Array(Math.max(this.samples.length * 2, this.sampleCount + chunk.length));
      bigger.set(this.samples.subarray(0, this.sampleCount));
      this.samples = bigger;
    }
    this.samples.set(chunk, this.sampleCount);
    this.sampleCount += chunk.length;
  }

  private runVad(): void {
    const n = this.vad.frameSamples;
    const maxSamples = ((this.options.maxListenMs ?? 10_000) * SAMPLE_RATE) / 1000;
    const indices = this.opening?.initiator?.wakeWordIndices;
    while (this.listening && this.vadSamples + n <= this.sampleCount) {
      const event = this.vad.push(this.samples, this.vadSamples);
      this.vadSamples += n;
      // Verify the wake word as soon as its span (and the verifier's margin) has arrived, while the
      // user is still speaking: a false wake is closed early.
      if (indices && !this.wakeCheck && this.vadSamples >= this.sampleAt(indices.endOffset) + this.verifier.marginSamples) {
        this.wakeCheck = this.verifier.verify(this.samples.slice(0, this.vadSamples), this.sampleAt(indices.beginOffset), this.sampleAt(indices.endOffset));
        void this.wakeCheck.then((v) => {
          if (!v.verified && this.listening) {
            this.listening = false;
            this.options.onEndOfSpeech?.({ offsetBytes: this.offsetOf(this.vadSamples), reason: 'vad' });
            this.options.onFalseWake?.(v);
            this.finish({ falseWake: true, wakeWord: v });
          }
        }, (error: Error) => this.options.onError?.(error));
      }
      if (event === 'speechEnd') this.endOfSpeech('vad');
      else if (this.vadSamples >= maxSamples) this.endOfSpeech('timeout');
    }
  }

  private offsetOf(sample: number): number {
    return this.opening!.offsetBytes + Math.round(sample * this.bytesPerSample());
  }

  private endOfSpeech(reason: EndOfSpeechEvent['reason']): void {
    this.listening = false;
    const end: EndOfSpeechEvent = { offsetBytes: this.offsetOf(reason === 'device' ? this.sampleCount : this.vadSamples), reason };
    this.options.onEndOfSpeech?.(end);
    const started = performance.now();
    const speechEnd = this.vad.speechEndFrame >= 0 ? this.vad.speechEndFrame * this.vad.frameSamples : this.sampleCount;
    const speech = this.vad.speechStartFrame >= 0
      ? this.samples.slice(Math.max(0, this.vad.speechStartFrame * this.vad.frameSamples - RECOGNISER_MARGIN_SAMPLES), Math.min(this.sampleCount, speechEnd + RECOGNISER_MARGIN_SAMPLES))
      : new Int16Array(0);
    void this.understand(end, speech, this.samples.slice(0, this.sampleCount), started).catch((error: Error) => {
      this.options.onError?.(error);
      this.finish({ endOfSpeech: end, falseWake: false });
    });
  }

  private async understand(end: EndOfSpeechEvent, speech: Int16Array, heard: Int16Array, started: number): Promise<void> {
    const indices = this.opening?.initiator?.wakeWordIndices;
    let wakeWord: WakeWordVerification | undefined;
    if (indices) {
      // The stream may have ended before the span's margin arrived: check what there is.
      this.wakeCheck ??= this.verifier.verify(this.samples.slice(0, this.sampleCount), this.sampleAt(indices.beginOffset), Math.min(this.sampleAt(indices.endOffset), this.sampleCount));
      wakeWord = await this.wakeCheck;
      if (!wakeWord.verified) {
        // runVad's check may have finished this turn already; finish() is once per turn.
        this.options.onFalseWake?.(wakeWord);
        this.finish({ endOfSpeech: end, wakeWord, falseWake: true });
        return;
      }
      this.options.onWakeWordVerified?.(wakeWord);
    }
    let transcript: TranscriptEvent = { text: '', rejected: false, confidence: 0, elapsedMs: 0, heard };
    if (speech.length >= SAMPLE_RATE / 10) {
      const r = await this.recognizer.recognize(speech, this.state);
      transcript = { text: r.text, rejected: r.rejected, confidence: r.confidence, elapsedMs: r.elapsedMs, heard };
    }
    if (this.closed) return;
    this.options.onTranscript?.(transcript);
    const context: AssistantContext = { now: (this.options.now ?? (() => new Date()))(), timeZone: this.options.timeZone, ...this.options.context?.() };
    // A rejected decode is speech the assistant did not understand: no keyword of it may count.
    const reply = respond(transcript.rejected ? 'unrecognised speech' : transcript.text, this.state, context);
    this.state = reply.state;
    const spoken = this.speak(reply.text);
    const answer: AnswerEvent = {
      intent: reply.intent,
      text: reply.text,
      pcm: spoken.pcm,
      opusFrames: spoken.opusFrames,
      preSkip48k: spoken.preSkip48k,
      ...(reply.expectSpeech ? { expectSpeech: reply.expectSpeech } : {}),
      ...(reply.actions ? { actions: reply.actions } : {}),
      elapsedMs: performance.now() - started,
    };
    this.options.onAnswer?.(answer);
    if (reply.expectSpeech) this.options.onExpectSpeech?.(reply.expectSpeech);
    this.finish({ endOfSpeech: end, wakeWord, falseWake: false, transcript, answer });
  }

  private finish(result: TurnResult): void {
    const resolve = this.resolveTurn;
    this.resolveTurn = undefined;
    resolve?.(result);
  }
}
