// The Speaker namespace on the device (docs/protocol.md §3.3–3.5, §4.5, §5, §6, §7 gotchas 4–6, 13, 17): the
// speaker topic's binary entries into a jitter buffer keyed by stream offset, Opus decoding through the opus
// port, and the decoded frames handed to a play callback (the app wires it to the audio-out port,
// src/app/voice.ts), and the directives that act at offsets:
//
//   OpenSpeaker {offset}        playback starts at offset; bytes before it are dropped (barge-in leftovers,
//                               gotcha 6); SpeakerOpened {offset} once the first frame is handed to audio out
//   CloseSpeaker {offset?}      stop when playback reaches offset, or now; SpeakerClosed {offset}
//   SetVolume {volume, offset?} now or at offset; VolumeChanged {volume, offset?}
//   markers                     SpeakerMarkerEncountered {marker} once the audio before them was played
//   BufferStateChanged          OVERRUN_WARNING / UNDERRUN_WARNING when the level crosses the declared
//                               thresholds (edges, SDK rules), UNDERRUN when playback runs dry, OVERRUN when an
//                               open speaker cannot take a message: it is discarded and the service resends it
//                               (connection.rewindSpeaker, §3.5)
//
// Choices where the sources are silent or differ, each in one place below:
//   - a marker is reported when readOffset ≥ its offset (after the audio before it), so a marker at the end of
//     an utterance fires when that audio has played (the SDK needs a following frame);
//   - OpenSpeaker while open with no CloseSpeaker pending seeks to the offset (SpeakerOpened again);
//     while a CloseSpeaker is pending it is queued after it (back-to-back utterances);
//   - while closed a message that does not fit overwrites the oldest bytes (SDK NONBLOCKABLE writer);
//   - playback starts once `startFrames` frames are held past the open offset, or the utterance's close offset
//     has arrived, so a fresh open does not underrun at once (DOC: no UNDERRUN needed right after opening).
//
// Per 20 ms frame nothing is allocated: the reader, the buffer, the PCM frame and the packet view are made
// once; events (a few per utterance) allocate their JSON as every event does.

import type { Dispatcher } from './dispatcher.js';
import { BinaryReader, ENTRY_AUDIO } from './binary.js';
import { MalformedMessageError, type AisMessage } from './message.js';
import type { Logger } from '../ports/log.js';
import type { Opus, OpusDecoder } from '../ports/opus.js';
import { FRAME_SAMPLES, opusFrameBytes, SAMPLE_RATE } from '../audio/encoder.js';
import { JitterBuffer } from '../audio/jitter.js';
import type { LocalSource } from '../audio/tone.js';

/** What the speaker needs of the connection (AisConnection has it all). */
export interface SpeakerConnection {
  readonly dispatcher: Dispatcher;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean;
  reportException(code: 'MALFORMED_MESSAGE' | 'INTERNAL_ERROR', description: string, topic?: string, sequenceNumber?: number, index?: number): void;
  rewindSpeaker(sequenceNumber: number): void;
}

export type BufferState = 'UNDERRUN' | 'UNDERRUN_WARNING' | 'NONE' | 'OVERRUN_WARNING' | 'OVERRUN';
// Constants, not literals, where the level is checked every frame (docs/xs-host.md, string literals).
const UNDERRUN: BufferState = 'UNDERRUN', UNDERRUN_WARNING: BufferState = 'UNDERRUN_WARNING', NONE: BufferState = 'NONE';
const OVERRUN_WARNING: BufferState = 'OVERRUN_WARNING', OVERRUN: BufferState = 'OVERRUN';
// Ordered as the SDK orders them: a warning is sent on crossing into it from the other side.
const LEVEL: Record<BufferState, number> = { UNDERRUN: 0, UNDERRUN_WARNING: 1, NONE: 2, OVERRUN_WARNING: 3, OVERRUN: 4 };

/** Where the speaker's frames go: the app wires it to the audio-out port (src/app/voice.ts speakerOnPort). */
export interface SpeakerOutput {
  /** One decoded 20 ms frame, valid only during the call; called only while there is room (Speaker.writable). */
  play(frame: Int16Array): void;
  /** Drop what was handed over and not yet heard (a barge-in); the room is reported again through writable(). */
  silence(): void;
}

export interface SpeakerOptions {
  connection: SpeakerConnection;
  opus: Opus;
  output: SpeakerOutput;
  log: Logger;
  /** Declared buffer (§6). Default 32,000 bytes: 4 s of 64 kbps Opus. */
  bufferBytes?: number;
  /** Default 80 % / 20 % of the buffer (SDK). */
  overrunWarningBytes?: number;
  underrunWarningBytes?: number;
  /** The declared CBR bitrate (§5: 64,000). */
  bitsPerSecond?: number;
  /** Frames held past the open offset before playback starts (default 3 = 60 ms). */
  startFrames?: number;
  /** Volume 0–100 before the service sets one (persisted by the app; reported in SynchronizeState). Default 50. */
  volume?: number;
  /** The app persists the volume. */
  onVolumeChanged?(volume: number): void;
  /** Playback started (true) or stopped (false) at `offsetBytes`: the UX shows SPEAKING. */
  onPlayback?(playing: boolean, offsetBytes: number): void;
}

interface OffsetAction { open: boolean; offset: number }
/** Something to do when playback reaches a speaker-stream offset (SetVolume, SetAttentionState). */
interface DueAction { offset: number; run(): void }

/** The Speaker capability object (§6) for the declared buffer and decoder. */
export function speakerCapability(bufferBytes: number, overrunWarningBytes: number, underrunWarningBytes: number, bitsPerSecond = 64000): Record<string, unknown> {
  return {
    type: 'AisInterface', interface: 'Speaker', version: '1.0',
    configurations: {
      // Camel-case overrunWarningThreshold: the docs' sample spells it with a lower-case t (§7 gotcha 3).
      audioBuffer: { sizeInBytes: bufferBytes, reporting: { overrunWarningThreshold: overrunWarningBytes, underrunWarningThreshold: underrunWarningBytes } },
      audioDecoder: { format: 'OPUS', bitrate: { type: 'CONSTANT', bitsPerSecond }, numberOfChannels: 1 },
    },
  };
}

function offsetField(payload: Record<string, unknown> | undefined, name: string, required: boolean): number {
  const value = payload?.offset;
  if (value === undefined && !required) return -1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MalformedMessageError(`${name} offset expected a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class Speaker {
  readonly bufferBytes: number;
  readonly overrunWarningBytes: number;
  readonly underrunWarningBytes: number;
  readonly bitsPerSecond: number;
  private readonly options: SpeakerOptions;
  private readonly connection: SpeakerConnection;
  private readonly log: Logger;
  private readonly buffer: JitterBuffer;
  private readonly reader = new BinaryReader();
  private readonly decoder: OpusDecoder;
  private readonly out: SpeakerOutput;
  private readonly pcm = new Int16Array(FRAME_SAMPLES);
  private readonly startFrames: number;
  private readonly queue: OffsetAction[] = [];
  private readonly dueActions: DueAction[] = [];
  private volumeValue: number;
  private gainQ15: number;
  private open = false;
  private openedAt = -1;          // SpeakerOpened still to send for this offset, once a frame plays
  private dropBefore = 0;         // incoming bytes below this are dropped (the open offset)
  private credit = 0;             // frames the output has room for
  private pumping = false;
  private state: BufferState = NONE;
  private lastSequenceNumber = -1;
  private local: LocalSource | undefined;
  /** A short sound played to its end ahead of the local source (playCue). */
  private cue: LocalSource | undefined;
  private closed = false;

  constructor(options: SpeakerOptions) {
    if (!options?.connection || !options.opus || typeof options.output?.play !== 'function' || !options.log) {
      throw new TypeError('Speaker needs options.connection, opus, output and log');
    }
    this.options = options;
    this.connection = options.connection;
    this.log = options.log;
    this.bitsPerSecond = options.bitsPerSecond ?? 64000;
    this.bufferBytes = options.bufferBytes ?? 32000;
    this.overrunWarningBytes = options.overrunWarningBytes ?? Math.floor(this.bufferBytes * 0.8);
    this.underrunWarningBytes = options.underrunWarningBytes ?? Math.floor(this.bufferBytes * 0.2);
    if (!(this.underrunWarningBytes < this.overrunWarningBytes && this.overrunWarningBytes <= this.bufferBytes)) {
      throw new RangeError(`thresholds expected underrun < overrun ≤ buffer, got ${this.underrunWarningBytes} / ${this.overrunWarningBytes} / ${this.bufferBytes}`);
    }
    const frame = opusFrameBytes(this.bitsPerSecond);
    if (!Number.isInteger(frame) || this.bufferBytes < frame * 2) throw new RangeError(`bufferBytes expected at least two ${frame}-byte frames, got ${this.bufferBytes}`);
    this.startFrames = options.startFrames ?? 3;
    this.volumeValue = this.checkVolume(options.volume ?? 50);
    this.gainQ15 = this.gainFor(this.volumeValue);
    this.buffer = new JitterBuffer({ sizeInBytes: this.bufferBytes });
    this.decoder = options.opus.createDecoder({ sampleRate: SAMPLE_RATE, channels: 1 });
    this.out = options.output;
    const d = this.connection.dispatcher;
    d.register('OpenSpeaker', (m) => this.openSpeaker(m));
    d.register('CloseSpeaker', (m) => this.closeSpeaker(m));
    d.register('SetVolume', (m) => this.setVolumeDirective(m));
  }

  /** The output has room for `frames` more frames (the audio-out port's onWritable). */
  writable(frames: number): void {
    if (this.closed) return;
    this.credit = frames;
    this.pump();
  }

  /** The Speaker capability to declare (§6). */
  capability(): Record<string, unknown> {
    return speakerCapability(this.bufferBytes, this.overrunWarningBytes, this.underrunWarningBytes, this.bitsPerSecond);
  }

  get volume(): number { return this.volumeValue; }
  get isOpen(): boolean { return this.open; }
  /** Playing, or about to (an OpenSpeaker waits for data): what a barge-in interrupts. */
  get isActive(): boolean { return this.open || this.queue.length > 0; }
  get readOffset(): number { return this.buffer.readOffset; }
  get writeOffset(): number { return this.buffer.writeOffset; }
  get bufferedBytes(): number { return this.buffer.bufferedBytes; }
  get bufferState(): BufferState { return this.state; }

  /**
   * The connection is gone or new: the speaker stream starts again at 0 (§3.4). No event: the old connection is
   * gone. A half-played answer stops now, audio out dropping what it holds of it.
   */
  reset(): void {
    const playing = this.open;
    if (playing) this.options.onPlayback?.(false, this.buffer.readOffset);
    this.open = false;
    this.openedAt = -1;
    this.queue.length = 0;
    this.dueActions.length = 0;
    this.dropBefore = 0;
    this.state = NONE;
    this.lastSequenceNumber = -1;
    this.buffer.reset(0);
    if (playing) this.silenceNow();
  }

  /** The user changed the volume (buttons): applied now and reported (§4.5). */
  setVolume(volume: number): void {
    this.applyVolume(this.checkVolume(volume), -1);
  }

  /**
   * Stops playback now (barge-in, a STOP button): SpeakerClosed at the read offset, and whatever was
   * pending is cancelled; the service's next OpenSpeaker says where new playback starts (gotcha 6).
   */
  stop(): void {
    this.queue.length = 0;
    if (!this.open) return;
    this.closeNow();
    this.silenceNow();
  }

  /**
   * Plays frames of `source` (the local alert tone) whenever no cloud stream is playing, until it ends or
   * playLocal(undefined); the cloud's stream takes precedence and the source resumes after it. Its frames
   * are played as they are: the source applies its own volume (the alert volume, §4.8).
   */
  playLocal(source: LocalSource | undefined): void {
    const stopped = source === undefined && this.local !== undefined && !this.open;
    this.local = source;
    if (stopped) this.silenceNow(); // the alert stopped: its tone stops now, not after what audio out holds
    this.pump();
  }

  /**
   * Plays `source` once to its end (the error cue of a failed turn) whenever no cloud stream is playing, ahead of
   * the local source, which resumes after it. A new cue replaces one still playing.
   */
  playCue(source: LocalSource): void {
    this.cue = source;
    this.pump();
  }

  /** Stops playing and frees the decoder; the output is the app's to close. Safe twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.open = false;
    this.decoder.close();
  }

  /**
   * One decrypted speaker message (AisConnection onSpeaker): `length` bytes of `bytes` from `start`, valid
   * only during the call. Malformed bodies are answered with ExceptionEncountered and dropped whole.
   */
  receive(sequenceNumber: number, bytes: Uint8Array, start: number, length: number): void {
    if (this.closed) return;
    // Pass 1: validate every entry and count what would be stored, so a message is taken whole or not at all.
    const reader = this.reader.reset(bytes, start, length);
    const buffer = this.buffer;
    let frameBytes = buffer.frameBytes;
    let expected = buffer.writeOffset;
    let jump = false;
    let store = 0;
    while (reader.next()) {
      if (reader.type !== ENTRY_AUDIO) continue;
      const size = reader.dataBytes / reader.items;
      if (frameBytes === 0) frameBytes = size;
      else if (size !== frameBytes) return this.malformed(`frames of ${size} bytes, the stream's are ${frameBytes} (CBR only)`, sequenceNumber, reader.index);
      if (reader.offsetBytes !== expected) {
        // A forward jump is taken only into an empty buffer (a fresh stream); otherwise the SDK's rule holds.
        if (!(expected === buffer.writeOffset && !jump && buffer.bufferedBytes === 0 && reader.offsetBytes > expected)) {
          return this.malformed(`offset ${reader.offsetBytes} is not contiguous, expected ${expected}`, sequenceNumber, reader.index);
        }
        jump = true;
      }
      const end = reader.offsetBytes + reader.dataBytes;
      store += end - Math.max(reader.offsetBytes, Math.min(end, this.dropBefore));
      expected = end;
    }
    if (reader.error) return this.malformed(reader.error.message, sequenceNumber, reader.index);
    // Open, or about to play from an offset already reached: a message that does not fit is refused (OVERRUN);
    // closed, it overwrites the oldest bytes (leftovers the next OpenSpeaker drops anyway).
    const head = this.queue[0];
    const playing = this.open || (head !== undefined && head.open && buffer.readOffset >= head.offset);
    if (playing && store > buffer.freeBytes) return this.overrun(sequenceNumber, store);

    // Pass 2: store.
    if (frameBytes !== buffer.frameBytes) buffer.setFrameBytes(frameBytes);
    reader.reset(bytes, start, length);
    while (reader.next()) {
      if (reader.type !== ENTRY_AUDIO) {
        // Markers of dropped audio (before the open offset) go with it.
        if (buffer.writeOffset < this.dropBefore) continue;
        for (let i = 0; i < reader.items; i++) {
          if (!buffer.addMarker(reader.marker(i))) this.log.warn(`more than ${buffer.maxMarkers} markers held; the oldest was dropped`);
        }
        continue;
      }
      if (reader.offsetBytes > buffer.writeOffset) buffer.jumpTo(reader.offsetBytes);
      let from = reader.dataStart;
      let n = reader.dataBytes;
      const below = Math.min(n, this.dropBefore - buffer.writeOffset);
      if (below > 0) {
        buffer.skipIncoming(below);
        from += below;
        n -= below;
      }
      if (n > 0) {
        const lost = buffer.append(bytes, from, n);
        if (lost > 0) this.log.warn(`speaker closed and its buffer full: ${lost} old bytes overwritten`);
      }
    }
    this.lastSequenceNumber = sequenceNumber;
    if (this.state === OVERRUN) this.state = NONE;
    this.levelChanged(sequenceNumber, true);
    this.pump();
  }

  // ---- directives ----

  private openSpeaker(m: AisMessage): void {
    const offset = offsetField(m.payload, 'OpenSpeaker', true);
    const buffer = this.buffer;
    if (this.open && !this.queue.some((a) => !a.open)) {
      // Open again while playing, no close pending: a seek.
      if (offset < buffer.readOffset) throw new MalformedMessageError(`OpenSpeaker offset ${offset} was already played (playing at ${buffer.readOffset})`);
      this.skipTo(offset);
      this.openedAt = offset;
      this.log.info(`speaker: OpenSpeaker ${offset} while open: playback moves there`);
      return this.pump();
    }
    if (!this.open && this.queue.length === 0 && offset < buffer.readOffset) {
      // "If the offset given in this directive has already been dropped from the audio buffer, this is
      // considered a fatal case" (SDK quoting the spec): reported, not opened.
      throw new MalformedMessageError(`OpenSpeaker offset ${offset} was already dropped from the buffer (held from ${buffer.readOffset})`);
    }
    const last = this.queue[this.queue.length - 1];
    if (last?.open) last.offset = offset; // a second open before the first started replaces it
    else this.queue.push({ open: true, offset });
    this.pump();
  }

  private closeSpeaker(m: AisMessage): void {
    const offset = offsetField(m.payload, 'CloseSpeaker', false);
    if (offset < 0) {
      // Now: whatever was pending goes too.
      this.queue.length = 0;
      if (!this.open) return this.log.info('speaker: CloseSpeaker while closed; nothing to stop');
      this.closeNow();
      this.silenceNow();
      return;
    }
    if (!this.open && this.queue.length === 0) return this.log.info(`speaker: CloseSpeaker ${offset} while closed; ignored`);
    this.queue.push({ open: false, offset });
    this.pump();
  }

  private setVolumeDirective(m: AisMessage): void {
    const volume = m.payload?.volume;
    if (typeof volume !== 'number' || !Number.isInteger(volume) || volume < 0 || volume > 100) {
      throw new MalformedMessageError(`SetVolume volume expected an integer 0..100, got ${JSON.stringify(volume)}`);
    }
    const offset = offsetField(m.payload, 'SetVolume', false);
    if (offset < 0) return this.applyVolume(volume, offset);
    this.atOffset(offset, () => this.applyVolume(volume, offset));
  }

  /** Runs `action` when playback reaches speaker-stream `offset`, or now if it already has (§4.5, §4.6). */
  atOffset(offset: number, action: () => void): void {
    if (offset <= this.buffer.readOffset) return action();
    this.dueActions.push({ offset, run: action });
  }

  // ---- playback ----

  /** Plays as many frames as audio out has room for, applying what is due at each offset. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      this.play();
      if (!this.open && (this.cue || this.local)) this.playLocalFrames();
    } finally {
      this.pumping = false;
    }
  }

  private play(): void {
    const buffer = this.buffer;
    for (;;) {
      const head = this.queue[0];
      if (!this.open) {
        if (head === undefined) return;
        if (!head.open) { this.queue.shift(); continue; } // a close with nothing open
        this.skipTo(head.offset);
        this.dropBefore = Math.max(this.dropBefore, head.offset);
        if (buffer.readOffset < head.offset || buffer.frameBytes === 0) return; // data has not reached the offset
        const next = this.queue[1];
        const allIn = next !== undefined && !next.open && buffer.writeOffset >= next.offset;
        if (buffer.bufferedBytes < this.startFrames * buffer.frameBytes && !allIn) return;
        if (this.credit <= 0) return;
        this.queue.shift();
        this.open = true;
        this.openedAt = head.offset;
        this.settleState(); // no warning for the level a fresh open starts at
        continue;
      }
      this.runDue();
      if (head !== undefined && !head.open && buffer.readOffset >= head.offset) {
        this.queue.shift();
        this.closeNow();
        continue;
      }
      if (this.credit <= 0) return;
      if (!buffer.hasFrame) {
        if (this.state !== UNDERRUN) {
          // SDK: the next expected message's number.
          this.bufferStateChanged(UNDERRUN, (this.lastSequenceNumber + 1) >>> 0);
          this.state = UNDERRUN;
        }
        return;
      }
      this.playFrame();
      this.levelChanged(this.lastSequenceNumber, false);
    }
  }

  private playLocalFrames(): void {
    while (this.credit > 0) {
      const source = this.cue ?? this.local;
      if (source === undefined) return;
      if (!source.fill(this.pcm)) {
        if (source === this.cue) this.cue = undefined;
        else this.local = undefined;
        continue;
      }
      this.out.play(this.pcm);
      this.credit--;
    }
  }

  private playFrame(): void {
    const buffer = this.buffer;
    let samples: number;
    try {
      samples = buffer.decodeFrame(this.decoder, this.pcm);
    } catch (error) {
      this.log.error(`speaker: frame at ${buffer.readOffset - buffer.frameBytes} did not decode: ${(error as Error).message}`);
      samples = 0;
    }
    const pcm = this.pcm;
    if (samples !== FRAME_SAMPLES) {
      if (samples !== 0) this.log.warn(`speaker: a frame decoded to ${samples} samples, ${FRAME_SAMPLES} expected; played as silence`);
      pcm.fill(0);
    } else if (this.gainQ15 !== 32768) {
      const g = this.gainQ15;
      for (let i = 0; i < FRAME_SAMPLES; i++) pcm[i] = (pcm[i] * g) >> 15;
    }
    this.out.play(pcm);
    this.credit--;
    if (this.openedAt >= 0) {
      const offset = this.openedAt;
      this.openedAt = -1;
      this.connection.sendEvent('SpeakerOpened', { offset });
      this.log.info(`speaker: playing from ${offset}`);
      this.options.onPlayback?.(true, offset);
    }
    for (let marker = buffer.takeMarker(buffer.readOffset); marker >= 0; marker = buffer.takeMarker(buffer.readOffset)) {
      this.connection.sendEvent('SpeakerMarkerEncountered', { marker });
    }
  }

  private closeNow(): void {
    const offset = this.buffer.readOffset;
    if (this.openedAt >= 0) {
      // Closed before a frame played (an empty utterance): the service still hears it open, then close.
      this.connection.sendEvent('SpeakerOpened', { offset: this.openedAt });
      this.openedAt = -1;
    }
    this.open = false;
    this.settleState();
    this.connection.sendEvent('SpeakerClosed', { offset });
    this.log.info(`speaker: closed at ${offset}`);
    this.options.onPlayback?.(false, offset);
  }

  /**
   * Playback stopped before its end (a barge-in, CloseSpeaker now, an alert stopped): audio out drops the frames it
   * holds, up to 200 ms on a board's co-processor speaker, instead of playing them after the stop (AudioOut.stop).
   * A close at its offset does not: the frames it holds are the utterance's last.
   */
  private silenceNow(): void {
    if (this.closed) return;
    this.credit = 0; // the output reports its room again
    this.out.silence();
  }

  /** Drops held bytes before `offset`, applying volume changes that were due in them. */
  private skipTo(offset: number): void {
    if (offset <= this.buffer.readOffset) return;
    this.buffer.dropTo(offset);
    this.runDue();
  }

  private runDue(): void {
    const actions = this.dueActions;
    if (actions.length === 0) return;
    const at = this.buffer.readOffset;
    for (let i = 0; i < actions.length;) {
      const a = actions[i];
      if (a.offset <= at) {
        actions.splice(i, 1);
        a.run();
      } else i++;
    }
  }

  private applyVolume(volume: number, offset: number): void {
    this.volumeValue = volume;
    this.gainQ15 = this.gainFor(volume);
    this.connection.sendEvent('VolumeChanged', offset >= 0 ? { volume, offset } : { volume });
    this.options.onVolumeChanged?.(volume);
  }

  // ---- buffer states (§4.5) ----

  private overrun(sequenceNumber: number, bytes: number): void {
    this.log.warn(`speaker: #${sequenceNumber} (${bytes} bytes) does not fit (${this.buffer.freeBytes} free): OVERRUN, the service resends from it`);
    this.bufferStateChanged(OVERRUN, sequenceNumber);
    this.state = OVERRUN;
    this.connection.rewindSpeaker(sequenceNumber);
  }

  /** Moves between UNDERRUN_WARNING, NONE and OVERRUN_WARNING with the level; reports the SDK's edges while open. */
  private levelChanged(sequenceNumber: number, filling: boolean): void {
    const level = this.buffer.bufferedBytes;
    const next: BufferState = level < this.underrunWarningBytes ? UNDERRUN_WARNING : level < this.overrunWarningBytes ? NONE : OVERRUN_WARNING;
    const previous = this.state;
    if (next === previous) return;
    if (filling && next === UNDERRUN_WARNING && LEVEL[previous] < LEVEL.UNDERRUN_WARNING) {
      this.state = next; // filling up out of UNDERRUN: no warning
      return;
    }
    this.state = next;
    if (!this.open) return;
    if (filling && next === OVERRUN_WARNING && LEVEL[previous] < LEVEL.OVERRUN_WARNING) {
      this.bufferStateChanged(OVERRUN_WARNING, sequenceNumber);
    } else if (!filling && next === UNDERRUN_WARNING && LEVEL[previous] > LEVEL.UNDERRUN_WARNING && this.moreExpected()) {
      this.bufferStateChanged(UNDERRUN_WARNING, sequenceNumber);
    }
  }

  /** Takes the level's state without reporting it (on open and close; the SDK resets to NONE and may warn at once). */
  private settleState(): void {
    const level = this.buffer.bufferedBytes;
    this.state = level < this.underrunWarningBytes ? UNDERRUN_WARNING : level < this.overrunWarningBytes ? NONE : OVERRUN_WARNING;
  }

  /** False once the utterance's close offset is already in the buffer: draining to it is no underrun. */
  private moreExpected(): boolean {
    const head = this.queue[0];
    return !(head !== undefined && !head.open && this.buffer.writeOffset >= head.offset);
  }

  private bufferStateChanged(state: BufferState, sequenceNumber: number): void {
    this.connection.sendEvent('BufferStateChanged', { message: { topic: 'speaker', sequenceNumber }, state });
    if (this.log.enabled('info')) this.log.info(`speaker: ${state} at ${this.buffer.bufferedBytes} bytes held (#${sequenceNumber})`);
  }

  private malformed(description: string, sequenceNumber: number, index: number): void {
    this.connection.reportException('MALFORMED_MESSAGE', description, 'speaker', sequenceNumber, index);
  }

  private checkVolume(volume: number): number {
    if (!Number.isInteger(volume) || volume < 0 || volume > 100) throw new RangeError(`volume expected an integer 0..100, got ${volume}`);
    return volume;
  }

  private gainFor(volume: number): number {
    return Math.round((volume * 32768) / 100);
  }
}
