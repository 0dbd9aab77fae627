// Bytes for tests without host text APIs: hex both ways, ASCII both ways, UTF-8 through src/mqtt/utf8.
// Portable (XS loads it beside the *.portable.test.ts files): imports nothing but src/ (no node:*, no
// Buffer, no TextEncoder; bare XS has none of them).
import { decodeUtf8 } from '../../src/encoding/utf8.js';

/** Hex digits (two a byte, no separators) to bytes. */
export const hex = (text: string): Uint8Array => Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));

/** Bytes to lower-case hex, two digits a byte. */
export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');

/** ASCII (or Latin-1) text to bytes, one a character. */
export const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Bytes to text, one character a byte: the inverse of ascii(). */
export const fromAscii = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** UTF-8 bytes to text; undefined for ill-formed UTF-8 (src/mqtt/utf8.ts decodeUtf8). */
export const utf8Text = (bytes: Uint8Array): string | undefined => decodeUtf8(bytes, 0, bytes.length);
