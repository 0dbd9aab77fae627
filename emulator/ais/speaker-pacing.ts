// How fast the service streams speaker audio to one device (docs/protocol.md §3.5, §4.5, §6): at real time,
// holding the device's buffer between the thresholds it declared, in messages no larger than it declared.
//
// The official client reads its buffer level after each message and as it plays: below
// underrunWarningThreshold it reports UNDERRUN_WARNING, from overrunWarningThreshold on OVERRUN_WARNING, a
// message that does not fit OVERRUN (discarded, to be resent), an empty buffer while playing UNDERRUN. The
// pacer keeps a model of that level (the time at which the device will have played everything sent) and sends
// while the model is under the middle of the two thresholds. Each report bounds the model: OVERRUN_WARNING
// naming message s says the level was at least the threshold when s arrived, UNDERRUN_WARNING says it was under
// the threshold at some point after s arrived; the model is moved just enough to agree. The rate is the
// wall clock's, so it settles at real time; the reports only correct drift and network delay.

/** The speaker terms a device declared in its capabilities. */
export interface SpeakerTerms {
  bufferBytes: number;
  overrunWarningBytes: number;
  underrunWarningBytes: number;
  bitsPerSecond: number;
  /** One 20 ms CBR Opus frame. */
  frameBytes: number;
  /** System mqtt.message.maxSizeInBytes: the largest MQTT payload the device takes. */
  maxMessageBytes: number;
}

/** Envelope (seq, IV, tag, inner seq) + audio entry header and offset + one marker entry. */
const MESSAGE_OVERHEAD = 36 + 16 + 12;
/** The SDK's default when a device declares none (FRK's 8,000 is what our device sends). */
const DEFAULT_MAX_MESSAGE_BYTES = 8000;

type Capability = { interface?: unknown; configurations?: Record<string, unknown> };

/** The terms of a capability list, or why the service cannot honour them (the CAPABILITIES_REJECTED reason). */
export function speakerTerms(capabilities: readonly unknown[]): SpeakerTerms | string | undefined {
  const find = (name: string) => capabilities.find((c) => (c as Capability)?.interface === name) as Capability | undefined;
  const system = find('System')?.configurations as { mqtt?: { message?: { maxSizeInBytes?: unknown } } } | undefined;
  const max = system?.mqtt?.message?.maxSizeInBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const speaker = find('Speaker');
  if (!speaker) return undefined;
  const c = speaker.configurations as {
    audioBuffer?: { sizeInBytes?: unknown; reporting?: { overrunWarningThreshold?: unknown; underrunWarningThreshold?: unknown } };
    audioDecoder?: { format?: unknown; bitrate?: { type?: unknown; bitsPerSecond?: unknown }; numberOfChannels?: unknown };
  } | undefined;
  const size = c?.audioBuffer?.sizeInBytes;
  const over = c?.audioBuffer?.reporting?.overrunWarningThreshold;
  const under = c?.audioBuffer?.reporting?.underrunWarningThreshold;
  const decoder = c?.audioDecoder;
  const bps = decoder?.bitrate?.bitsPerSecond;
  const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
  if (!int(size) || !int(over) || !int(under)) return 'Speaker audioBuffer needs positive integer sizeInBytes, overrunWarningThreshold and underrunWarningThreshold';
  if (!(under < over && over <= size)) return `Speaker thresholds must be underrun < overrun ≤ size, got ${under} / ${over} / ${size}`;
  if (decoder?.format !== 'OPUS') return `Speaker audioDecoder format ${JSON.stringify(decoder?.format)} is not supported (OPUS)`;
  if (decoder.bitrate?.type !== 'CONSTANT') return `Speaker bitrate type ${JSON.stringify(decoder.bitrate?.type)} is not supported (CONSTANT)`;
  if (decoder.numberOfChannels !== undefined && decoder.numberOfChannels !== 1) return `Speaker numberOfChannels ${JSON.stringify(decoder.numberOfChannels)} is not supported (1)`;
  // CBR Opus frames of whole bytes: 20 ms at bitsPerSecond is bitsPerSecond / 400 bytes (6–510 kbit/s).
  if (!int(bps) || bps % 400 !== 0 || bps < 6000 || bps > 510_000) return `Speaker bitsPerSecond ${JSON.stringify(bps)} is not a multiple of 400 within 6000..510000`;
  const frameBytes = bps / 400;
  if (!int(max)) return `System mqtt.message.maxSizeInBytes ${JSON.stringify(max)} is not a positive integer`;
  if (max < MESSAGE_OVERHEAD + frameBytes) return `System mqtt.message.maxSizeInBytes ${max} cannot carry one ${frameBytes}-byte speaker frame (${MESSAGE_OVERHEAD + frameBytes} needed)`;
  if (over - under < 4 * frameBytes) return `Speaker thresholds ${under} and ${over} are less than 4 frames (${4 * frameBytes} bytes) apart`;
  return { bufferBytes: size, overrunWarningBytes: over, underrunWarningBytes: under, bitsPerSecond: bps, frameBytes, maxMessageBytes: max };
}

/** Frames per speaker message: what maxSizeInBytes allows, at most a quarter of the band between the thresholds. */
export function framesPerMessage(terms: SpeakerTerms, ceiling = 25): number {
  const bySize = Math.floor((terms.maxMessageBytes - MESSAGE_OVERHEAD) / terms.frameBytes);
  const byBand = Math.floor((terms.overrunWarningBytes - terms.underrunWarningBytes) / 4 / terms.frameBytes);
  return Math.max(1, Math.min(bySize, byBand, ceiling));
}

interface Sent { seq: number; ms: number; atMs: number }

export class SpeakerPacer {
  /** When the device will have played all it was sent (model). */
  private drainAtMs = 0;
  private readonly sent: Sent[] = [];
  private readonly targetMs: number;
  private readonly overMs: number;
  private readonly underMs: number;

  constructor(readonly terms: SpeakerTerms, private readonly now: () => number) {
    const msPerByte = 8000 / terms.bitsPerSecond;
    this.overMs = terms.overrunWarningBytes * msPerByte;
    this.underMs = terms.underrunWarningBytes * msPerByte;
    this.targetMs = (this.overMs + this.underMs) / 2;
  }

  /** Buffered audio the model believes the device holds, in ms. */
  levelMs(): number {
    return Math.max(0, this.drainAtMs - this.now());
  }

  /** Whether a message may go now. */
  ready(): boolean {
    return this.levelMs() < this.targetMs;
  }

  /** ms until ready() may turn true. */
  waitMs(): number {
    return Math.max(0, this.levelMs() - this.targetMs);
  }

  /** A message of `ms` of audio went out as number `seq`. */
  record(seq: number, ms: number): void {
    const now = this.now();
    this.drainAtMs = Math.max(this.drainAtMs, now) + ms;
    this.sent.push({ seq, ms, atMs: now });
    if (this.sent.length > 512) this.sent.shift();
  }

  /** The device reported its buffer state naming message `seq`; the model moves to agree. */
  report(state: string, seq: number): void {
    const index = this.sent.findIndex((s) => s.seq === seq);
    if (index < 0) return;
    const after = this.sent.slice(index + 1).reduce((sum, s) => sum + s.ms, 0);
    const now = this.now();
    if (state === 'OVERRUN_WARNING') {
      this.drainAtMs = Math.max(this.drainAtMs, this.sent[index].atMs + this.overMs + after);
    } else if (state === 'UNDERRUN_WARNING' || state === 'UNDERRUN') {
      this.drainAtMs = Math.min(this.drainAtMs, now + (state === 'UNDERRUN' ? 0 : this.underMs) + after);
    } else if (state === 'OVERRUN') {
      // Message seq and all after it were discarded: they go again.
      const dropped = this.sent.splice(index);
      this.drainAtMs -= dropped.reduce((sum, s) => sum + s.ms, 0);
    }
  }

  /** The device closed its speaker (a barge-in): nothing of ours is buffered there any more. */
  flush(): void {
    this.drainAtMs = this.now();
    this.sent.length = 0;
  }
}
