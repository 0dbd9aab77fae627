// The inbound side of an AIS connection: one sequencer per encrypted topic from the service (AIS §3.5), the
// envelope opened only for messages in order, each under the key for its number (§3.6), and the speaker resend
// after an OVERRUN, all in one place. What comes out is an opened body in order; what goes wrong is sorted into
// "the connection is broken" (gap, window, tag) and "this message is malformed" (answered, connection stays).

import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/log.js';
import { peekSequenceNumber, type Envelope } from './envelope.js';
import { INBOUND_ENCRYPTED_TOPICS, type InboundEncryptedTopic } from './rotation.js';
import { sequenceDistance, Sequencer } from './sequencer.js';

/** The Disconnect codes that end a connection over inbound traffic (§3.2, §3.5). */
export type BrokenCode = 'UNEXPECTED_SEQUENCE_NUMBER' | 'ENCRYPTION_ERROR' | 'MESSAGE_TAMPERED';

export interface InboundOptions {
  clock: Clock;
  log: Logger;
  envelope: Envelope;
  /** The key that opens message `sequenceNumber` of `leaf` (SecretManager.keyFor). */
  keyFor(leaf: InboundEncryptedTopic, sequenceNumber: number): Uint8Array;
  /** Reorder window (default 4 slots) and gap timeout (default 10 s), as the SDK's. */
  windowSlots?: number;
  gapTimeoutMs?: number;
  /** An opened message, in order: its body is `bytes[offset, offset + length)`, valid only during the call. */
  onMessage(leaf: InboundEncryptedTopic, sequenceNumber: number, bytes: Uint8Array, offset: number, length: number): void;
  /** The connection must end with Disconnect `code`. */
  onBroken(why: string, code: BrokenCode): void;
  /** A payload that cannot be used: answer with ExceptionEncountered MALFORMED_MESSAGE. */
  onMalformed(description: string, leaf: InboundEncryptedTopic, sequenceNumber?: number): void;
}

const SPEAKER: InboundEncryptedTopic = 'speaker';

export class Inbound {
  private readonly options: InboundOptions;
  private readonly sequencers = {} as Record<InboundEncryptedTopic, Sequencer>;
  /** After a speaker OVERRUN, the number the service must resend; -1 when not waiting (§3.5). */
  private speakerResendFrom = -1;

  constructor(options: InboundOptions) {
    this.options = options;
    const { clock, log, envelope, windowSlots, gapTimeoutMs } = options;
    for (const leaf of INBOUND_ENCRYPTED_TOPICS) {
      this.sequencers[leaf] = new Sequencer({
        clock, slotBytes: envelope.maxMessageBytes, windowSlots, gapTimeoutMs, logger: log,
        onMessage: (seq, payload) => this.open(leaf, seq, payload),
        onError: (error) => options.onBroken(`${leaf}: ${error.message}`, 'UNEXPECTED_SEQUENCE_NUMBER'),
        // An oversized message used its number (so the stream goes on) and is answered as malformed input.
        onDropped: (error) => error.kind === 'TOO_LARGE'
          ? options.onMalformed(error.message, leaf, error.received)
          : log.warn(`${leaf}: dropped a duplicate: ${error.message}`),
      });
    }
  }

  /** One payload as it came on `leaf`. */
  receive(leaf: InboundEncryptedTopic, payload: Uint8Array): void {
    const seq = peekSequenceNumber(payload);
    if (seq < 0) return this.options.onMalformed(`${payload.length}-byte payload has no sequence number`, leaf);
    if (leaf === SPEAKER && this.speakerResendFrom >= 0) {
      const ahead = sequenceDistance(this.speakerResendFrom, seq);
      if (ahead === 0) this.speakerResendFrom = -1;
      else if (ahead > this.sequencers.speaker.windowSlots) {
        if (this.options.log.enabled('debug')) this.options.log.debug(`speaker #${seq} dropped: waiting for the resend of #${this.speakerResendFrom}`);
        return;
      }
      // Otherwise inside the window: the sequencer holds it until the resend comes.
    }
    this.sequencers[leaf].push(seq, payload);
  }

  /**
   * Speaker OVERRUN recovery (§3.5, §7 gotcha 5): the message numbered `sequenceNumber` did not fit and was
   * discarded; the service resends from it. The speaker sequencer expects it again; until it comes, later
   * messages inside the reorder window are held (a resent copy replaces a held one) and those beyond it are
   * dropped instead of ending the connection, since the service keeps sending until it notices. While messages
   * are held the gap timeout runs: a resend that never comes ends the connection like any other gap.
   */
  rewindSpeaker(sequenceNumber: number): void {
    this.sequencers.speaker.rewind(sequenceNumber);
    this.speakerResendFrom = sequenceNumber;
    this.options.log.info(`speaker: waiting for the service to resend from #${sequenceNumber}`);
  }

  /** A new connection: every topic expects 0 again (§3.5), no resend awaited. */
  reset(): void {
    for (const leaf of INBOUND_ENCRYPTED_TOPICS) this.sequencers[leaf].reset();
    this.speakerResendFrom = -1;
  }

  close(): void {
    for (const leaf of INBOUND_ENCRYPTED_TOPICS) this.sequencers[leaf].close();
  }

  private open(leaf: InboundEncryptedTopic, seq: number, payload: Uint8Array): void {
    const result = this.options.envelope.open(this.options.keyFor(leaf, seq), payload);
    if (result.ok) return this.options.onMessage(leaf, seq, result.bytes, result.bodyOffset, result.bodyBytes);
    // Never a byte of a message whose tag failed is used: the envelope zeroes it (envelope.ts).
    const error = result.error!;
    if (error.kind === 'ENCRYPTION_ERROR' || error.kind === 'MESSAGE_TAMPERED') return this.options.onBroken(`${leaf} #${seq}: ${error.message}`, error.kind);
    this.options.onMalformed(error.message, leaf, seq);
  }
}
