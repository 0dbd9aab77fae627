// application/x-www-form-urlencoded bodies (WHATWG URL §5) without URLSearchParams, which bare XS lacks.
// Login with Amazon takes its code-pair and token requests in this form (docs/protocol.md §8, Code-Based Linking).

import { encodeUtf8 } from './utf8.js';

/**
 * Encodes `fields` in order as `name=value&...`: UTF-8 percent-encoding, space as `+`.
 * encodeURIComponent is ECMA-262 (XS has it); it leaves `!'()~` bare, which every form decoder accepts.
 * A lone UTF-16 surrogate has no UTF-8 form: RangeError naming the field.
 */
export function encodeForm(fields: ReadonlyArray<readonly [string, string]>): Uint8Array {
  let text = '';
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (typeof name !== 'string' || typeof value !== 'string') {
      throw new TypeError(`form field ${i} expected [string, string], got [${typeof name}, ${typeof value}]`);
    }
    if (i > 0) text += '&';
    text += `${formComponent(name, i)}=${formComponent(value, i)}`;
  }
  return encodeUtf8(text);
}

function formComponent(text: string, index: number): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    throw new RangeError(`form field ${index} holds a lone UTF-16 surrogate and has no UTF-8 form`);
  }
  return encoded.replace(/%20/g, '+');
}
