// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The outbound side of the connection (src/ais/emitter.ts): event batches paced per topic, a refused publish
// that gives its number back and, for events, keeps its batch for the next slot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { Emitter, type Publisher } from '../../src/ais/emitter.js';
import { Envelope, peekSequenceNumber } from '../../src/ais/envelope.js';
import { message } from '../../src/ais/message.js';
import type { TopicLeaf } from '../../src/ais/topics.js';
import { TOPIC_LEAVES } from '../../src/ais/topics.js';
import { Logger } from '../../src/ports/log.js';
import { ManualClock } from '../support/manual-clock.js';
import { randomSource } from '../support/random.js';

const KEY = new Uint8Array(32).fill(7);

function harness() {
  const clock = new ManualClock(1000);
  const sent: { leaf: string; seq: number; at: number }[] = [];
  /** publish() answers from this list first (false: refused), then true. */
  const answers: boolean[] = [];
  const publisher: Publisher = {
    connected: true,
    publish(topic, payload, options) {
      const ok = answers.length > 0 ? answers.shift()! : true;
      if (ok) sent.push({ leaf: topic.slice(topic.lastIndexOf('/', topic.length - 1) + 1), seq: peekSequenceNumber(payload.subarray(0, options?.length)), at: clock.now });
      return ok;
    },
  };
  const topic = {} as Record<TopicLeaf, string>;
  for (const leaf of TOPIC_LEAVES) topic[leaf] = `root/${leaf}`;
  const lines: string[] = [];
  const emitter = new Emitter({
    publisher, envelope: new Envelope({ crypto: createPortableCrypto(randomSource(3)), maxMessageBytes: 8000 }), topic,
    keyFor: () => KEY, clock, log: new Logger({ write: (level, _c, text) => lines.push(`${level} ${text}`) }, 'ais'),
  });
  const event = (name: string) => emitter.queueEvent(message(name, `id-${name}`));
  return { clock, sent, answers, emitter, event, lines };
}

test('the first event goes at once; events within the next 50 ms go together in one message at the next slot', () => {
  const h = harness();
  h.event('A');
  h.clock.advance(10);
  h.event('B');
  h.event('C');
  assert.deepEqual(h.sent, [{ leaf: 'event', seq: 0, at: 1000 }]);
  h.clock.advance(40);
  assert.deepEqual(h.sent, [{ leaf: 'event', seq: 0, at: 1000 }, { leaf: 'event', seq: 1, at: 1050 }], 'B and C in one message, 50 ms after A');
  h.clock.advance(500);
  assert.equal(h.sent.length, 2, 'nothing more');
  assert.equal(h.clock.pending, 0, 'no slot left pending');
});

test('a refused event batch keeps its number and its place: it goes at the next slot, before what came after it', () => {
  const h = harness();
  h.answers.push(false);
  h.event('A');
  assert.deepEqual(h.sent, [], 'refused (a stalled link)');
  h.event('B');
  h.clock.advance(50);
  assert.deepEqual(h.sent, [{ leaf: 'event', seq: 0, at: 1050 }], 'A and B together, still number 0');
});

test('a refused microphone publish gives its number back; flushAll stops at a refusal instead of spinning', () => {
  const h = harness();
  const body = new Uint8Array(100);
  h.answers.push(false);
  assert.equal(h.emitter.publish('microphone', body, body.length, undefined), false);
  assert.equal(h.emitter.nextSequenceNumber('microphone'), 0);
  assert.equal(h.emitter.publish('microphone', body, body.length, undefined), true);
  assert.equal(h.emitter.nextSequenceNumber('microphone'), 1);
  h.event('A');
  h.event('B');
  h.answers.push(false, false, false);
  h.emitter.flushAll();
  assert.deepEqual(h.sent.map((s) => `${s.leaf}#${s.seq}`), ['microphone#0', 'event#0'], 'B waits: refused once, flushAll returned');
});
