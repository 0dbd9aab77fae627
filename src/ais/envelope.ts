// The encrypted MQTT payload of every AIS topic except connection/* (docs/protocol.md §3.2):
//
//   [u32 LE sequence][12 IV][16 AES-GCM tag][ciphertext of ([u32 LE sequence copy] + body)]
//
// AES-GCM with no AAD and a random IV per message. The inner copy of the sequence number is what binds the
// plaintext outer number to the ciphertext; the pre-3.2.5 ("legacy") layout lacks it (§3.2 "Variant").
//
// Allocation: buffers are made once in the constructor, sized by maxMessageBytes. The Crypto port takes arrays of
// their exact length, so the envelope keeps a view per message size (up to 8 sizes: an audio stream alternates
// between two or three) of its scratch and of the output buffer. Per message, once its sizes were seen: seal
// allocates nothing, open one view of the caller's payload (the ciphertext). A bodyBytes shorter than the body array
// costs a view. The Crypto port allocates on its own: see src/crypto/portable.ts (~40 KB per call with noble's gcm
// on V8; nothing with the native AES-GCM of the XS hosts). Failures allocate their EnvelopeError.

import type { Crypto } from '../ports/crypto.js';
import { ViewsByLength } from '../util/views.js';
import { nameError } from '../util/error-name.js';

/** Byte layout of the envelope (docs/protocol.md §3.2; SDK aia_message_constants.h). */
export const ENVELOPE = {
  sequenceOffset: 0,
  sequenceBytes: 4,
  ivOffset: 4,
  ivBytes: 12,
  tagOffset: 16,
  tagBytes: 16,
  ciphertextOffset: 32,
  /** Header of the current layout, inner sequence included. */
  headerBytes: 36,
  /** Header of the legacy layout without the inner sequence. */
  legacyHeaderBytes: 32,
} as const;

/**
 * Why a payload did not open. ENCRYPTION_ERROR and MESSAGE_TAMPERED are the spec's disconnect codes
 * (§3.2); TRUNCATED and TOO_LARGE are ours, for payloads that never reached AES-GCM.
 */
export type EnvelopeErrorKind = 'TRUNCATED' | 'TOO_LARGE' | 'ENCRYPTION_ERROR' | 'MESSAGE_TAMPERED';

export class EnvelopeError extends Error {
  constructor(readonly kind: EnvelopeErrorKind, message: string) {
    super(`${kind}: ${message}`);
    nameError(this, 'EnvelopeError');
  }
}

/** Reads the plaintext outer sequence number (u32 LE at offset 0), or -1 when fewer than 4 bytes came. */
export function peekSequenceNumber(payload: Uint8Array): number {
  if (payload.length < ENVELOPE.sequenceBytes) return -1;
  return readU32LE(payload, 0);
}

function readU32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function writeU32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

function checkSequenceNumber(sequenceNumber: number): void {
  if (!Number.isInteger(sequenceNumber) || sequenceNumber < 0 || sequenceNumber > 0xffffffff) {
    throw new RangeError(`sequence number expected a u32, got ${sequenceNumber}`);
  }
}

/**
 * The outcome of Envelope.open(), one object per Envelope reused by every call. On success the body is
 * `bytes[bodyOffset, bodyOffset + bodyBytes)`: it lives in the envelope's scratch and is overwritten by the
 * next seal() or open(); copy what must outlive the call.
 */
export class OpenResult {
  sequenceNumber = 0;
  bodyOffset = 0;
  bodyBytes = 0;
  error: EnvelopeError | null = null;
  constructor(readonly bytes: Uint8Array) {}
  get ok(): boolean {
    return this.error === null;
  }
  /** A view of the body (allocates a view; for tests and cold paths). */
  body(): Uint8Array {
    return this.bytes.subarray(this.bodyOffset, this.bodyOffset + this.bodyBytes);
  }
}

export interface EnvelopeOptions {
  /** randomBytes for the IV, AES-GCM for the rest. */
  crypto: Pick<Crypto, 'randomBytes' | 'aesGcmSeal' | 'aesGcmOpen'>;
  /** Largest whole MQTT payload, header included; bigger inbound payloads are TOO_LARGE. */
  maxMessageBytes: number;
  /**
   * Whether the ciphertext starts with the inner copy of the sequence number (default true: the SDK and spec
   * rev 3.2.5). false is the older layout, which the emulator produces for negative tests (§3.2, §7 gotcha 2).
   */
  innerSequence?: boolean;
}

export class Envelope {
  readonly innerSequence: boolean;
  readonly headerBytes: number;
  readonly maxMessageBytes: number;
  /** Largest body seal() accepts. */
  readonly maxBodyBytes: number;
  private readonly crypto: EnvelopeOptions['crypto'];
  private readonly iv = new Uint8Array(ENVELOPE.ivBytes);
  private readonly tag = new Uint8Array(ENVELOPE.tagBytes);
  /** Plaintext scratch: [inner sequence] + body, for both directions. */
  private readonly plain: Uint8Array;
  private readonly result: OpenResult;
  // Views cut once and kept while the sizes and the output buffer repeat.
  private readonly plainViews: ViewsByLength;
  private outCiphertext: ViewsByLength | null = null;
  private outTag: Uint8Array;

  constructor(options: EnvelopeOptions) {
    if (!options || typeof options.crypto !== 'object' || options.crypto === null) {
      throw new TypeError('Envelope expected options.crypto');
    }
    this.innerSequence = options.innerSequence !== false;
    this.headerBytes = this.innerSequence ? ENVELOPE.headerBytes : ENVELOPE.legacyHeaderBytes;
    const max = options.maxMessageBytes;
    if (!Number.isInteger(max) || max < this.headerBytes) {
      throw new RangeError(`maxMessageBytes expected an integer >= ${this.headerBytes}, got ${max}`);
    }
    this.crypto = options.crypto;
    this.maxMessageBytes = max;
    this.maxBodyBytes = max - this.headerBytes;
    this.plain = new Uint8Array(max - ENVELOPE.ciphertextOffset);
    this.plainViews = new ViewsByLength(this.plain, 0);
    this.outTag = this.plain;
    this.result = new OpenResult(this.plain);
  }

  /** Payload bytes of a sealed body of `bodyBytes`. */
  sealedBytes(bodyBytes: number): number {
    return this.headerBytes + bodyBytes;
  }

  /**
   * Seals `body[0, bodyBytes)` under `key` with a fresh random IV into `out` (from offset 0) and returns the
   * payload length. Misuse (sequence not a u32, body or out too small for it) throws a RangeError.
   */
  seal(key: Uint8Array, sequenceNumber: number, body: Uint8Array, out: Uint8Array, bodyBytes: number = body.length): number {
    checkSequenceNumber(sequenceNumber);
    if (!Number.isInteger(bodyBytes) || bodyBytes < 0 || bodyBytes > body.length) {
      throw new RangeError(`bodyBytes expected 0..${body.length}, got ${bodyBytes}`);
    }
    if (bodyBytes > this.maxBodyBytes) {
      throw new RangeError(`body expected at most ${this.maxBodyBytes} bytes (maxMessageBytes ${this.maxMessageBytes}), got ${bodyBytes}`);
    }
    const total = this.headerBytes + bodyBytes;
    if (out.length < total) throw new RangeError(`out expected at least ${total} bytes, got ${out.length}`);

    const plainBytes = total - ENVELOPE.ciphertextOffset;
    let offset = 0;
    if (this.innerSequence) {
      writeU32LE(this.plain, 0, sequenceNumber);
      offset = ENVELOPE.sequenceBytes;
    }
    this.plain.set(bodyBytes === body.length ? body : body.subarray(0, bodyBytes), offset);

    // §3.2: a random IV per message; the SDK and NXP draw it from a CTR-DRBG, we from the host's port.
    this.crypto.randomBytes(this.iv);
    writeU32LE(out, ENVELOPE.sequenceOffset, sequenceNumber);
    for (let i = 0; i < ENVELOPE.ivBytes; i++) out[ENVELOPE.ivOffset + i] = this.iv[i];

    if (this.outCiphertext === null || out !== this.outCiphertext.array) {
      this.outCiphertext = new ViewsByLength(out, ENVELOPE.ciphertextOffset);
      this.outTag = out.subarray(ENVELOPE.tagOffset, ENVELOPE.ciphertextOffset);
    }
    this.crypto.aesGcmSeal(key, this.iv, this.plainViews.of(plainBytes), this.outCiphertext.of(plainBytes), this.outTag);
    return total;
  }

  /**
   * Opens `payload` under `key`. Wire input never throws: the returned result (the same object on every call)
   * carries the sequence number and body, or a named error. On any failure the plaintext scratch is zeroed.
   */
  open(key: Uint8Array, payload: Uint8Array): OpenResult {
    const result = this.result;
    result.error = null;
    result.bodyOffset = 0;
    result.bodyBytes = 0;
    const total = payload.length;
    result.sequenceNumber = total >= ENVELOPE.sequenceBytes ? readU32LE(payload, ENVELOPE.sequenceOffset) : 0;
    if (total < this.headerBytes) {
      result.error = new EnvelopeError('TRUNCATED', `envelope expected at least ${this.headerBytes} bytes, got ${total}`);
      return result;
    }
    if (total > this.maxMessageBytes) {
      result.error = new EnvelopeError('TOO_LARGE', `envelope expected at most ${this.maxMessageBytes} bytes, got ${total}`);
      return result;
    }
    for (let i = 0; i < ENVELOPE.ivBytes; i++) this.iv[i] = payload[ENVELOPE.ivOffset + i];
    for (let i = 0; i < ENVELOPE.tagBytes; i++) this.tag[i] = payload[ENVELOPE.tagOffset + i];
    const plainBytes = total - ENVELOPE.ciphertextOffset;
    const plain = this.plainViews.of(plainBytes);
    if (!this.crypto.aesGcmOpen(key, this.iv, payload.subarray(ENVELOPE.ciphertextOffset), this.tag, plain)) {
      // The port leaves `out` unspecified on failure: never let unauthenticated bytes linger (§3.2).
      plain.fill(0);
      result.error = new EnvelopeError('ENCRYPTION_ERROR',
        `AES-GCM tag does not verify for sequence ${result.sequenceNumber} (${total} bytes)`);
      return result;
    }
    if (this.innerSequence) {
      const inner = readU32LE(plain, 0);
      if (inner !== result.sequenceNumber) {
        // §3.2 / §7 gotcha 2: a service speaking the legacy layout shows up here, its body's first four bytes
        // read as the inner sequence (`{"di` = 1768170107 in ESP#96).
        plain.fill(0);
        result.error = new EnvelopeError('MESSAGE_TAMPERED',
          `inner sequence ${result.sequenceNumber} expected (the outer one), got ${inner}`);
        return result;
      }
      result.bodyOffset = ENVELOPE.sequenceBytes;
    }
    result.bodyBytes = plainBytes - result.bodyOffset;
    return result;
  }
}
