// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The receive sequencer and send counter of src/ais/sequencer.ts against a clock the test moves by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceCounter, SequenceError, Sequencer, sequenceDistance } from '../../src/ais/sequencer.js';
import { ascii, fromAscii as text } from '../support/bytes.js';
import { ManualClock } from '../support/manual-clock.js';

function harness(options: { windowSlots?: number; gapTimeoutMs?: number; slotsOnDemand?: boolean; onMessage?: (seq: number, payload: Uint8Array, s: Sequencer) => void } = {}) {
  const clock = new ManualClock();
  const delivered: string[] = [];
  const errors: SequenceError[] = [];
  const dropped: SequenceError[] = [];
  const sequencer: Sequencer = new Sequencer({
    clock,
    slotBytes: 16,
    windowSlots: options.windowSlots,
    slotsOnDemand: options.slotsOnDemand,
    gapTimeoutMs: options.gapTimeoutMs,
    onMessage(seq, payload) {
      delivered.push(`${seq}:${text(payload)}`);
      options.onMessage?.(seq, payload, sequencer);
    },
    onError(error) { errors.push(error); },
    onDropped(error) { dropped.push(error); },
  });
  const push = (seq: number, message = `m${seq}`) => sequencer.push(seq, ascii(message));
  return { clock, delivered, errors, dropped, sequencer, push };
}

test('in-order messages are delivered at once, from 0, without any timer', () => {
  const h = harness();
  h.push(0); h.push(1); h.push(2);
  assert.deepEqual(h.delivered, ['0:m0', '1:m1', '2:m2']);
  assert.equal(h.sequencer.expected, 3);
  assert.equal(h.clock.setCalls, 0);
  assert.equal(h.errors.length + h.dropped.length, 0);
});

test('duplicates and older numbers are dropped and reported, not delivered', () => {
  const h = harness();
  h.push(0); h.push(1); h.push(1, 'again'); h.push(0, 'old');
  assert.deepEqual(h.delivered, ['0:m0', '1:m1']);
  assert.deepEqual(h.dropped.map((e) => [e.kind, e.expected, e.received, e.disconnectCode]), [
    ['DUPLICATE', 2, 1, null], ['DUPLICATE', 2, 0, null]]);
  assert.equal(h.dropped[0].message, 'sequence 2 expected, got 1: already delivered or older');
  assert.equal(h.dropped[0].name, 'SequenceError');
  assert.equal(h.errors.length, 0);
});

test('messages reordered within the window are buffered as copies and delivered in order, with slots made up front or on demand', () => {
  for (const slotsOnDemand of [false, true]) {
    const h = harness({ slotsOnDemand });
    h.push(0);
    const early = ascii('m3');
    h.sequencer.push(3, early);
    early.fill(0x21); // the caller reuses its buffer: the slot must hold a copy
    h.push(2);
    assert.deepEqual(h.delivered, ['0:m0']);
    assert.equal(h.sequencer.bufferedCount, 2);
    h.push(1);
    assert.deepEqual(h.delivered, ['0:m0', '1:m1', '2:m2', '3:m3']);
    assert.equal(h.sequencer.bufferedCount, 0);
    assert.equal(h.clock.pending, 0, 'the gap timer is cleared once the gap is filled');
    // The slots are reused (on demand: the ones made above): a second gap delivers what they now hold.
    h.push(6, 'second 6'); h.push(5, 'second 5'); h.push(4);
    assert.deepEqual(h.delivered.slice(4), ['4:m4', '5:second 5', '6:second 6']);
    assert.equal(h.errors.length, 0);
  }
});

test('a message beyond the 4-slot window is dropped and reported as UNEXPECTED_SEQUENCE_NUMBER', () => {
  const h = harness();
  h.push(4); // 4 ahead of 0: the last number the window holds
  h.push(5);
  assert.equal(h.sequencer.bufferedCount, 1);
  assert.equal(h.errors.length, 1);
  assert.equal(h.errors[0].kind, 'BEYOND_WINDOW');
  assert.equal(h.errors[0].disconnectCode, 'UNEXPECTED_SEQUENCE_NUMBER');
  assert.equal(h.errors[0].message, 'sequence 0 expected, got 5: more than 4 ahead (the window)');
  h.push(0); h.push(1); h.push(2); h.push(3);
  assert.deepEqual(h.delivered, ['0:m0', '1:m1', '2:m2', '3:m3', '4:m4']);
});

test('a gap left open for gapTimeoutMs reports UNEXPECTED_SEQUENCE_NUMBER once, and not a millisecond earlier', () => {
  const h = harness();
  h.push(0);
  h.push(2);
  h.push(3);
  assert.equal(h.clock.setCalls, 1, 'one timer per gap, not per buffered message');
  h.clock.advance(9999);
  assert.equal(h.errors.length, 0);
  h.clock.advance(1);
  assert.equal(h.errors.length, 1);
  const error = h.errors[0];
  assert.equal(error.kind, 'GAP_TIMEOUT');
  assert.equal(error.expected, 1);
  assert.equal(error.received, 2);
  assert.equal(error.disconnectCode, 'UNEXPECTED_SEQUENCE_NUMBER');
  assert.equal(error.message, 'sequence 1 expected, got 2: UNEXPECTED_SEQUENCE_NUMBER after 10000 ms');
  h.clock.advance(60000);
  assert.equal(h.errors.length, 1);
});

test('filling a gap clears its timer; a gap still open behind it gets a fresh full timeout', () => {
  const h = harness({ gapTimeoutMs: 500 });
  h.push(1); // gap at 0, timer until 500
  h.push(3);
  h.clock.advance(400);
  h.push(0); // delivers 0 and 1; 2 still missing: new timer until 900
  assert.deepEqual(h.delivered, ['0:m0', '1:m1']);
  assert.equal(h.clock.pending, 1);
  h.clock.advance(499);
  assert.equal(h.errors.length, 0);
  h.clock.advance(1);
  assert.deepEqual(h.errors.map((e) => [e.kind, e.expected, e.received]), [['GAP_TIMEOUT', 2, 3]]);
});

test('numbers wrap at 2^32: 4294967294, 4294967295, 0 in any order within the window', () => {
  const h = harness();
  h.sequencer.rewind(0xfffffffe);
  h.push(0);
  h.push(0xffffffff);
  assert.deepEqual(h.delivered, []);
  h.push(0xfffffffe);
  assert.deepEqual(h.delivered, ['4294967294:m4294967294', '4294967295:m4294967295', '0:m0']);
  assert.equal(h.sequencer.expected, 1);
  h.push(0xfffffffd);
  assert.equal(h.dropped.length, 1, '2^32-3 is older than 1 across the wrap');
  assert.equal(sequenceDistance(0xffffffff, 2), 3);
  assert.equal(sequenceDistance(2, 0xffffffff), 2 ** 32 - 3);
});

test('reset returns to 0, drops buffered messages and clears the timer', () => {
  const h = harness();
  h.push(0); h.push(2);
  assert.equal(h.clock.pending, 1);
  h.sequencer.reset();
  assert.equal(h.sequencer.expected, 0);
  assert.equal(h.sequencer.bufferedCount, 0);
  assert.equal(h.clock.pending, 0);
  h.clock.advance(20000);
  assert.equal(h.errors.length, 0);
  h.push(0, 'new'); h.push(1, 'session');
  assert.deepEqual(h.delivered, ['0:m0', '0:new', '1:session']);
});

test('rewind from inside onMessage (speaker OVERRUN) waits for the resend, whose copies replace buffered ones', () => {
  let overrunOnce = true;
  const h = harness({
    onMessage(seq, _payload, s) {
      if (seq === 5 && overrunOnce) { overrunOnce = false; s.rewind(5); } // did not fit: the service redrives from 5
    },
  });
  h.sequencer.rewind(5);
  h.push(6, 'old6'); // arrives before the message that overruns: buffered
  h.push(5, 'big5'); // delivered, overruns, rewinds to 5
  assert.equal(h.sequencer.expected, 5);
  assert.deepEqual(h.delivered, ['5:big5']);
  h.push(7, 'old7');
  h.push(6, 'new6'); // resend with different content replaces the buffered copy
  h.push(5, 'again5');
  assert.deepEqual(h.delivered, ['5:big5', '5:again5', '6:new6', '7:old7']);
  assert.equal(h.sequencer.expected, 8);
  assert.equal(h.dropped.length, 0);
});

test('rewind drops buffered messages that fall outside the new window', () => {
  const h = harness({ windowSlots: 2 });
  h.sequencer.rewind(10);
  h.push(11); h.push(12);
  h.sequencer.rewind(9); // window is now 10..11: 12 no longer fits
  assert.equal(h.sequencer.bufferedCount, 1);
  h.push(9); h.push(10);
  assert.deepEqual(h.delivered, ['9:m9', '10:m10', '11:m11']);
  assert.equal(h.clock.pending, 0);
});

test('close clears the timer and ignores later messages; closing twice is fine', () => {
  const h = harness();
  h.push(1);
  h.sequencer.close();
  h.sequencer.close();
  assert.equal(h.clock.pending, 0);
  h.push(0);
  h.clock.advance(20000);
  assert.deepEqual(h.delivered, []);
  assert.equal(h.errors.length, 0);
});

test('bad options and bad sequence numbers are refused at once', () => {
  const clock = new ManualClock();
  const base = { clock, slotBytes: 4, onMessage() {}, onError() {} };
  assert.throws(() => new Sequencer({ ...base, windowSlots: 0 }), { name: 'RangeError', message: 'windowSlots expected 1..64, got 0' });
  assert.throws(() => new Sequencer({ ...base, slotBytes: 0 }), { name: 'RangeError', message: 'slotBytes expected a positive integer, got 0' });
  const s = new Sequencer(base);
  assert.throws(() => s.push(1.5, new Uint8Array(1)), { name: 'RangeError', message: 'sequence number expected a u32, got 1.5' });
});

// Issue 24 item 1: an out-of-order payload over slotBytes threw out of push() (through the MQTT client's
// onMessage and the parser), ending the device. Wire input never throws: such a payload takes its number and
// is reported TOO_LARGE in order, in either order of arrival, and its neighbours are delivered.
test('an oversized payload, early or in order, takes its number, is reported TOO_LARGE and never delivered', () => {
  for (const slotsOnDemand of [false, true]) {
    const h = harness({ slotsOnDemand });
    const big = ascii('x'.repeat(17)); // slotBytes is 16
    h.push(0);
    h.sequencer.push(2, big); // early and oversized
    h.push(3);
    assert.deepEqual(h.delivered, ['0:m0']);
    assert.equal(h.dropped.length, 0, 'reported when its turn comes, not on arrival');
    h.push(1);
    assert.deepEqual(h.delivered, ['0:m0', '1:m1', '3:m3']);
    h.sequencer.push(4, big); // in order and oversized
    h.push(5);
    assert.deepEqual(h.delivered, ['0:m0', '1:m1', '3:m3', '5:m5']);
    assert.deepEqual(h.dropped.map((e) => [e.kind, e.received, e.disconnectCode, e.message]), [
      ['TOO_LARGE', 2, null, 'sequence 2 expected, got 2: 17-byte payload exceeds the 16-byte limit'],
      ['TOO_LARGE', 4, null, 'sequence 4 expected, got 4: 17-byte payload exceeds the 16-byte limit']]);
    assert.equal(h.errors.length, 0);
    assert.equal(h.sequencer.bufferedCount, 0);
    assert.equal(h.clock.pending, 0, 'no gap timer left');
  }
});

test('the send counter counts from 0, peeks without taking, and wraps at 2^32', () => {
  const counter = new SequenceCounter();
  assert.equal(counter.peek(), 0);
  assert.equal(counter.next(), 0);
  assert.equal(counter.next(), 1);
  assert.equal(counter.peek(), 2);
  const wrapping = new SequenceCounter(0xfffffffe);
  assert.deepEqual([wrapping.next(), wrapping.next(), wrapping.next()], [0xfffffffe, 0xffffffff, 0]);
  counter.reset();
  assert.equal(counter.next(), 0);
});

test('a failed publish releases its number so the next message reuses it; other releases are refused', () => {
  const counter = new SequenceCounter();
  counter.next();
  const failed = counter.next();
  counter.release(failed);
  assert.equal(counter.next(), 1);
  assert.throws(() => counter.release(0), { name: 'RangeError', message: 'release expected the last number taken (1), got 0' });
  counter.release(1);
  assert.throws(() => counter.release(0), { name: 'RangeError', message: 'release expected the last number taken (none), got 0' });
  const wrapped = new SequenceCounter(0xffffffff);
  assert.equal(wrapped.next(), 0xffffffff);
  wrapped.release(0xffffffff);
  assert.equal(wrapped.peek(), 0xffffffff);
});
