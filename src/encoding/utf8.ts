// UTF-8 for MQTT strings (§1.5.3) without TextEncoder/TextDecoder, which bare XS lacks.
// Decoding rejects what §1.5.3 forbids: ill-formed sequences, surrogates, overlongs and U+0000.

// Engines differ in what a string index counts: UTF-16 code units (V8, XS built with mxCESU8) or code points
// (default Moddable device builds). codePointAt() reads a whole character in both; this says how far to step.
const ASTRAL_UNITS = '\u{1F600}'.length;

/** UTF-8 length of `text`, or -1 when it holds a lone surrogate (not encodable). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length;) {
    const c = text.codePointAt(i)!;
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c < 0x10000) {
      if (c >= 0xd800 && c <= 0xdfff) return -1;
      length += 3;
    } else {
      length += 4;
      i += ASTRAL_UNITS;
      continue;
    }
    i++;
  }
  return length;
}

/** Writes `text` as UTF-8 at `offset`; returns the offset after it. The caller sized `out` with utf8Length. */
export function writeUtf8(text: string, out: Uint8Array, offset: number): number {
  for (let i = 0; i < text.length;) {
    const c = text.codePointAt(i)!;
    if (c < 0x80) out[offset++] = c;
    else if (c < 0x800) {
      out[offset++] = 0xc0 | (c >> 6);
      out[offset++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      out[offset++] = 0xe0 | (c >> 12);
      out[offset++] = 0x80 | ((c >> 6) & 0x3f);
      out[offset++] = 0x80 | (c & 0x3f);
    } else {
      out[offset++] = 0xf0 | (c >> 18);
      out[offset++] = 0x80 | ((c >> 12) & 0x3f);
      out[offset++] = 0x80 | ((c >> 6) & 0x3f);
      out[offset++] = 0x80 | (c & 0x3f);
      i += ASTRAL_UNITS;
      continue;
    }
    i++;
  }
  return offset;
}

export function encodeUtf8(text: string): Uint8Array {
  const length = utf8Length(text);
  if (length < 0) throw new RangeError('string holds a lone UTF-16 surrogate and has no UTF-8 form');
  const out = new Uint8Array(length);
  writeUtf8(text, out, 0);
  return out;
}

/** Longest ASCII run decoded by one fromCharCode call. */
const ASCII_RUN = 128;

/** Decodes bytes[start, end) or returns undefined when they are not well-formed MQTT UTF-8. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = '';
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === 0) return undefined; // [MQTT-1.5.3-2]
      // Runs of ASCII are the common case: collect them in one call.
      let j = i + 1;
      // Bounded so the argument list of fromCharCode stays small on every engine: XS puts each argument in a
      // stack slot, and 1,024 of them overflowed xsrun's 1,024-slot stack (an MCU build starts with 512).
      while (j < end && j - i < ASCII_RUN && bytes[j] < 0x80 && bytes[j] !== 0) j++;
      text += String.fromCharCode.apply(null, bytes.subarray(i, j) as unknown as number[]);
      i = j;
      continue;
    }
    let code: number;
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { code = b & 0x1f; need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { code = b & 0x0f; need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { code = b & 0x07; need = 3; min = 0x10000; }
    else return undefined;
    if (i + need >= end) return undefined; // truncated sequence
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return undefined;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    text += String.fromCodePoint(code);
    i += need + 1;
  }
  return text;
}
