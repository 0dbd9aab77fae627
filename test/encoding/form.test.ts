import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeForm } from '../../src/encoding/form.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

test('form fields are encoded in order, space as +, reserved and non-ASCII characters percent-encoded as UTF-8', () => {
  assert.equal(text(encodeForm([['grant_type', 'device_code'], ['a b', 'x&y=z+1'], ['scope_data', '{"alexa:all":1}'], ['é', '€😀']])),
    'grant_type=device_code&a+b=x%26y%3Dz%2B1&scope_data=%7B%22alexa%3Aall%22%3A1%7D&%C3%A9=%E2%82%AC%F0%9F%98%80');
  assert.equal(text(encodeForm([])), '');
});

test('URLSearchParams decodes what encodeForm writes, for every printable ASCII character and a few others', () => {
  let value = '';
  for (let c = 0x20; c < 0x7f; c++) value += String.fromCharCode(c);
  value += '\n\tÿ€😀';
  const decoded = new URLSearchParams(text(encodeForm([['k', value], [value, 'v']])));
  assert.deepEqual([...decoded], [['k', value], [value, 'v']]);
});

test('a lone surrogate or a field that is not two strings is refused at once', () => {
  assert.throws(() => encodeForm([['ok', 'x'], ['bad', '\ud800']]), { name: 'RangeError', message: 'form field 1 holds a lone UTF-16 surrogate and has no UTF-8 form' });
  assert.throws(() => encodeForm([['n', 5 as unknown as string]]), { name: 'TypeError', message: 'form field 0 expected [string, string], got [string, number]' });
});
