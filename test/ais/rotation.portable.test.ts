// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// Secret rotation (docs/protocol.md §3.6) of src/ais/rotation.ts. The service side is a second portable
// Envelope here (rotation.test.ts uses the emulator's crypto on Node): the point is which key each
// sequence number gets, and that the other key cannot open it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { Envelope } from '../../src/ais/envelope.js';
import { SequenceCounter } from '../../src/ais/sequencer.js';
import {
  INBOUND_ENCRYPTED_TOPICS, OUTBOUND_ENCRYPTED_TOPICS, SECRET_ROTATION_PADDING, SecretManager, type OutboundEncryptedTopic,
} from '../../src/ais/rotation.js';
import { encodeUtf8 } from '../../src/encoding/utf8.js';
import { toHex, utf8Text as text } from '../support/bytes.js';
import { randomSource } from '../support/random.js';

const random = randomSource(0x0417);
const randomBytes = (n: number) => { const b = new Uint8Array(n); random(b); return b; };
const OLD = randomBytes(32);
const NEW = randomBytes(32);

function manager(next: Partial<Record<OutboundEncryptedTopic, number>> = {}) {
  const nextOutbound = { event: 0, microphone: 0, 'capabilities/publish': 0, ...next };
  return new SecretManager({ key: OLD, nextOutboundSequenceNumber: (topic) => nextOutbound[topic] });
}

test('the encrypted topics come from the topic table: three inbound, three outbound', () => {
  assert.deepEqual([...INBOUND_ENCRYPTED_TOPICS].sort(), ['capabilities/acknowledge', 'directive', 'speaker']);
  assert.deepEqual([...OUTBOUND_ENCRYPTED_TOPICS].sort(), ['capabilities/publish', 'event', 'microphone']);
});

test('before any rotation every topic uses a copy of the registration key', () => {
  const m = manager();
  for (const topic of ['directive', 'speaker', 'capabilities/acknowledge', 'event', 'microphone', 'capabilities/publish'] as const) {
    assert.equal(toHex(m.keyFor(topic, 0)), toHex(OLD));
  }
  assert.notEqual(m.keyFor('event', 0), OLD, 'a copy, so the caller may zero its own');
  assert.throws(() => m.keyFor('connection/fromclient' as 'event', 0), { name: 'RangeError' });
});

test('inbound topics switch exactly at the RotateSecret numbers; outbound at next + 5, as SecretRotated says', () => {
  const m = manager({ event: 10, microphone: 3, 'capabilities/publish': 1 });
  const rotated = m.rotate({ newSecret: NEW, directiveSequenceNumber: 20, speakerSequenceNumber: 100 });
  assert.deepEqual(rotated, { eventSequenceNumber: 15, microphoneSequenceNumber: 8 });
  assert.equal(SECRET_ROTATION_PADDING, 5);
  const key = (topic: Parameters<SecretManager['keyFor']>[0], seq: number) => (toHex(m.keyFor(topic, seq)) === toHex(NEW) ? 'new' : 'old');
  assert.deepEqual([key('directive', 19), key('directive', 20), key('directive', 21)], ['old', 'new', 'new']);
  assert.deepEqual([key('speaker', 99), key('speaker', 100)], ['old', 'new']);
  assert.deepEqual([key('event', 10), key('event', 14), key('event', 15)], ['old', 'old', 'new']);
  assert.deepEqual([key('microphone', 7), key('microphone', 8)], ['old', 'new']);
  assert.deepEqual([key('capabilities/publish', 5), key('capabilities/publish', 6)], ['old', 'new']);
  // Not named by RotateSecret (§3.6 gap): switched at once, like the SDK.
  assert.equal(key('capabilities/acknowledge', 0), 'new');
  assert.equal(toHex(m.currentKey), toHex(NEW));
});

test('a switch point past the u32 wrap selects by serial order', () => {
  const m = manager({ event: 0xfffffffd });
  const rotated = m.rotate({ newSecret: NEW, directiveSequenceNumber: 1, speakerSequenceNumber: 0 });
  assert.equal(rotated.eventSequenceNumber, 2);
  assert.equal(toHex(m.keyFor('event', 0xfffffffe)), toHex(OLD));
  assert.equal(toHex(m.keyFor('event', 0xffffffff)), toHex(OLD));
  assert.equal(toHex(m.keyFor('event', 1)), toHex(OLD));
  assert.equal(toHex(m.keyFor('event', 2)), toHex(NEW));
});

test('no directive is opened with the wrong key across the switch, and the SecretRotated event goes out under the old key', () => {
  const crypto = createPortableCrypto(random);
  const envelope = new Envelope({ crypto, maxMessageBytes: 256 });
  const service = new Envelope({ crypto, maxMessageBytes: 256 });
  const sealed = new Uint8Array(256);
  const events = new SequenceCounter();
  const m = new SecretManager({ key: OLD, nextOutboundSequenceNumber: () => events.peek() });
  events.next(); events.next(); // two events already sent: next is 2

  // The service announces the new key from directive 4; RotateSecret itself is directive 2.
  const rotated = m.rotate({ newSecret: NEW, directiveSequenceNumber: 4, speakerSequenceNumber: 0 });
  assert.equal(rotated.eventSequenceNumber, 7);
  for (let seq = 0; seq < 8; seq++) {
    const serviceKey = seq < 4 ? OLD : NEW;
    const payload = sealed.subarray(0, service.seal(serviceKey, seq, encodeUtf8(`{"directives":[${seq}]}`), sealed));
    const result = envelope.open(m.keyFor('directive', seq), payload);
    assert.equal(result.error, null, `directive ${seq}`);
    assert.equal(text(result.body()), `{"directives":[${seq}]}`);
    // the other key must not open it: a wrong choice could not go unnoticed
    const wrong = seq < 4 ? NEW : OLD;
    assert.equal(envelope.open(wrong, payload).error?.kind, 'ENCRYPTION_ERROR', `directive ${seq} under the other key`);
  }

  // Outbound: SecretRotated takes event number 2 (old key); the service switches at 7.
  const out = new Uint8Array(256);
  for (let i = 0; i < 8; i++) {
    const seq = events.next();
    const length = envelope.seal(m.keyFor('event', seq), seq, encodeUtf8(`{"events":[${seq}]}`), out);
    const serviceKey = seq < rotated.eventSequenceNumber ? OLD : NEW;
    const opened = service.open(serviceKey, out.subarray(0, length));
    assert.equal(opened.ok, true, `event ${seq} under the key the service expects`);
    assert.equal(text(opened.body()), `{"events":[${seq}]}`);
  }
});

test('reset on reconnect puts every topic on the newest key from 0 and zeroes the old key', () => {
  const m = manager({ event: 50 });
  const old = m.keyFor('event', 0);
  m.rotate({ newSecret: NEW, directiveSequenceNumber: 30, speakerSequenceNumber: 30 });
  assert.equal(toHex(m.keyFor('directive', 0)), toHex(OLD));
  m.reset();
  for (const topic of ['directive', 'speaker', 'event', 'microphone'] as const) assert.equal(toHex(m.keyFor(topic, 0)), toHex(NEW));
  assert.deepEqual(old, new Uint8Array(32));
});

test('a second rotation before the first takes effect chains the keys by number', () => {
  const third = randomBytes(32);
  const m = manager();
  m.rotate({ newSecret: NEW, directiveSequenceNumber: 10, speakerSequenceNumber: 10 });
  m.rotate({ newSecret: third, directiveSequenceNumber: 20, speakerSequenceNumber: 20 });
  assert.deepEqual([9, 10, 19, 20].map((s) => toHex(m.keyFor('directive', s))), [toHex(OLD), toHex(NEW), toHex(NEW), toHex(third)]);
});

test('a new secret of the wrong size is refused before anything changes', () => {
  const m = manager();
  assert.equal(m.keyBytes, 32);
  assert.throws(() => m.rotate({ newSecret: new Uint8Array(16), directiveSequenceNumber: 1, speakerSequenceNumber: 1 }),
    { name: 'RangeError', message: 'newSecret expected 32 bytes, got 16' });
  assert.throws(() => m.rotate({ newSecret: NEW, directiveSequenceNumber: -1, speakerSequenceNumber: 1 }),
    { name: 'RangeError', message: 'directiveSequenceNumber expected a u32, got -1' });
  assert.equal(toHex(m.keyFor('capabilities/acknowledge', 0)), toHex(OLD));
});
