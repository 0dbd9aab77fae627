// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The AIS-layer fuzzer (issue 24): the device's AisConnection against a scripted cloud on a hand-moved clock,
// fed inputs on every inbound topic (and the topics it must ignore): random bytes, envelopes sealed with its
// key holding valid, unknown and broken JSON, tampered and foreign-key envelopes, payloads up to and past the
// MQTT limit, split across reads, with sequence numbers in order, early, duplicated, beyond the window and far
// off. For each input the test knows what the protocol defines (nothing, ExceptionEncountered
// MALFORMED_MESSAGE, Disconnect UNEXPECTED_SEQUENCE_NUMBER / ENCRYPTION_ERROR / MESSAGE_TAMPERED, a reconnect
// after the service's Disconnect, a stop after a fatal one) and checks the device did exactly that, never threw,
// and came back to 'ready'. 100,000 inputs on Node, 10,000 on XS; FUZZ_INPUTS overrides, RANDOM_SEED replays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AisConnection } from '../../src/ais/connection.js';
import { ENVELOPE, Envelope } from '../../src/ais/envelope.js';
import { encodeJson, message } from '../../src/ais/message.js';
import { toBase64 } from '../../src/encoding/base64.js';
import { sequenceDistance } from '../../src/ais/sequencer.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { Logger } from '../../src/ports/log.js';
import { ScriptedCloud, type ServiceLeaf } from '../support/ais-cloud.js';
import { ManualClock } from '../support/manual-clock.js';
import { Random, randomSource, testSeed } from '../support/random.js';

const SEED = testSeed();
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const INPUTS = Number(env?.FUZZ_INPUTS) || (env ? 100_000 : 10_000);
const MAX_MESSAGE = 8000;
const WINDOW = 4;
const GAP_MS = 500;
const CLIENT_ID = 'fuzz-device';
const SERVICE_LEAVES: readonly ServiceLeaf[] = ['directive', 'speaker', 'capabilities/acknowledge'];

/** What the protocol says the device does with one input, as the test checks it. */
type Outcome =
  | 'none' | 'exception'
  | 'disconnect UNEXPECTED_SEQUENCE_NUMBER' | 'disconnect ENCRYPTION_ERROR' | 'disconnect MESSAGE_TAMPERED'
  | 'reconnect' | 'fatal';

interface Input {
  kind: string;
  topic: string;
  payload: Uint8Array;
  /** The encrypted topic it is sequenced on, and its number; undefined for topics without sequencing. */
  leaf?: ServiceLeaf;
  seq?: number;
  /** The outcome once its number is the expected one (for sequenced input), or at once (others). */
  inOrder: Outcome;
}

// The name is fixed (the firmware image's exclusions go by name); the count and the seed are in every failure message.
const FUZZ_TEST = 'the device lives through hostile inputs on its AIS topics and answers each as the protocol defines';

test(FUZZ_TEST, () => {
  const random = new Random(SEED);
  const fill = randomSource(SEED ^ 0x5a5a5a5a);
  const clock = new ManualClock(1000);
  const crypto = createPortableCrypto(randomSource(SEED ^ 0x1234567));
  const key = new Uint8Array(32);
  fill(key);
  const foreignKey = new Uint8Array(32);
  fill(foreignKey);
  const keyText = toBase64(key);
  const cloud = new ScriptedCloud({ clock, crypto, clientId: CLIENT_ID, topicRoot: '$aws/alexa', key, maxMessageBytes: MAX_MESSAGE });
  // A sender that seals past the device's limit, for the oversized envelopes.
  const bigEnvelope = new Envelope({ crypto, maxMessageBytes: MAX_MESSAGE + 256 });
  const bigSealed = new Uint8Array(MAX_MESSAGE + 256);
  const recent: string[] = [];
  const problems: string[] = [];
  const log = new Logger({
    write(level, component, line) {
      if (line.includes('\n')) problems.push(`a log line of several lines: ${line}`);
      if (line.includes(keyText)) problems.push('the key in a log line');
      recent.push(`${level} [${component}] ${line}`);
      if (recent.length > 30) recent.shift();
    },
  }, CLIENT_ID, 'info');
  let fatal = 0;
  let restarts = 0;
  const connection = new AisConnection({
    identity: { topicRoot: '$aws/alexa', clientId: CLIENT_ID, awsAccountId: '123456789012', key },
    mqtt: { socket: cloud.factory, host: 'cloud.test', port: 8883, keepAliveSec: 0 },
    clock, log, crypto, maxMessageBytes: MAX_MESSAGE, windowSlots: WINDOW, gapTimeoutMs: GAP_MS,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 }, random: () => random.next(), acknowledgeTimeoutMs: 2000,
    capabilities: () => [{ type: 'AisInterface', interface: 'System', version: '1.0', configurations: { mqtt: { message: { maxSizeInBytes: MAX_MESSAGE } } } }],
    synchronizeState: () => ({}),
    onFatal: () => { fatal++; },
    onStateChange: (state) => { if (state === 'waiting') restarts++; },
  });
  const where = (i: number, input?: Input) => `input ${i} of ${INPUTS}, seed ${SEED}${input ? ` (${input.kind} on ${input.topic.slice(cloud.prefix.length)}, ${input.payload.length} B${input.seq !== undefined ? `, #${input.seq}` : ''})` : ''}\n${recent.join('\n')}`;

  /** Moves time until the device is ready again (each reconnect takes a backoff delay and the handshake). */
  const untilReady = (i: number, input?: Input) => {
    for (let step = 0; step < 400 && connection.state !== 'ready'; step++) clock.advance(5);
    assert.equal(connection.state, 'ready', `not ready again after ${where(i, input)}`);
    clock.advance(60); // SynchronizeState goes out
  };

  // ---- inputs ----
  const sizeUpTo = (max: number) => {
    const r = random.next();
    return r < 0.3 ? random.int(Math.min(max, 64) + 1) : r < 0.7 ? random.int(Math.min(max, 2000) + 1) : random.int(max + 1);
  };
  // Random bytes cut from a seeded pool at a random offset: a native copy instead of a generator call per byte,
  // which made most of the run's time on XS.
  const pool = new Uint8Array(2 * (MAX_MESSAGE + 512));
  fill(pool);
  const bytes = (length: number) => { const from = random.int(pool.length - length + 1); return pool.slice(from, from + length); };
  const writeU32 = (out: Uint8Array, value: number) => { out[0] = value & 0xff; out[1] = (value >>> 8) & 0xff; out[2] = (value >>> 16) & 0xff; out[3] = value >>> 24; };
  /** An adversarial number relative to what the device expects next. */
  const sequenceFor = (leaf: ServiceLeaf) => {
    const expected = cloud.next[leaf];
    const r = random.next();
    const delta = r < 0.55 ? 0 : r < 0.7 ? 1 + random.int(WINDOW) : r < 0.75 ? WINDOW + 1 : r < 0.8 ? 0x7fffffff
      : r < 0.85 ? 0x80000000 : r < 0.9 ? 0xffffffff : r < 0.95 ? -(1 + random.int(3)) : random.int(0x100000000);
    return (expected + delta + 0x100000000) % 0x100000000;
  };
  /** A JSON body the leaf's reader accepts without complaint, padded with a field it ignores. */
  const harmlessBody = (leaf: ServiceLeaf, pad = 0): Uint8Array => {
    if (leaf === 'speaker') return bytes(pad);
    const padding = 'p'.repeat(pad);
    if (leaf === 'directive') return encodeJson({ directives: random.next() < 0.5 ? [] : [message('Exception', 'x', { code: 'INTERNAL_ERROR', description: 'fuzz' })], padding });
    return encodeJson(message('Acknowledge', 'stale', { publishMessageId: 'not-ours', code: 'CAPABILITIES_ACCEPTED', padding }));
  };
  const malformedBody = (leaf: ServiceLeaf): Uint8Array | undefined => {
    if (leaf === 'speaker') return undefined; // any bytes are audio
    const r = random.next();
    if (leaf === 'capabilities/acknowledge' && r >= 0.4) {
      return encodeJson(random.pick([{ header: { name: 'Acknowledge' } }, { header: { name: '', messageId: 'm' } }, { header: { name: 'A', messageId: 'm' }, payload: [] }]));
    }
    if (r < 0.25) return bytes(sizeUpTo(MAX_MESSAGE - ENVELOPE.headerBytes));
    if (r < 0.4) return encodeJson(random.pick([[], 5, null, { directives: 5 }, { directives: [1, 'a', null] }, { header: {} }, 'text']));
    if (r < 0.7) {
      const names = ['Dance', 'SetVolume', 'OpenSpeaker', 'RotateSecret', '', 'Exception'];
      const directives = [];
      for (let n = 1 + random.int(4); n > 0; n--) {
        const name = random.pick(names);
        directives.push(name === 'RotateSecret' ? message(name, 'r', { newSecret: 'short' }) : name === 'Exception' ? { header: { name } } : message(name, 'm', { x: random.int(100) }));
      }
      return leaf === 'directive' ? encodeJson({ directives }) : encodeJson(directives[0]);
    }
    return encodeJson(leaf === 'directive' ? { directives: [{ header: { name: 'Exception', messageId: 7 } }] } : { header: { name: 'Acknowledge' } });
  };
  const seal = (leaf: ServiceLeaf, seq: number, body: Uint8Array, withKey = key): Uint8Array => {
    const length = (body.length > MAX_MESSAGE - ENVELOPE.headerBytes ? bigEnvelope : cloud.envelope).seal(withKey, seq, body, bigSealed);
    return bigSealed.slice(0, length);
  };
  const maxPayload = (topic: string) => {
    let n = MAX_MESSAGE + 256;
    while (cloud.packetBytes(topic, n) > MAX_MESSAGE + 256) n--;
    return n;
  };
  const maxPayloadOf = new Map<string, number>();
  const limitOf = (topic: string) => maxPayloadOf.get(topic) ?? (maxPayloadOf.set(topic, maxPayload(topic)), maxPayloadOf.get(topic)!);

  const nextInput = (): Input => {
    const r = random.next();
    if (r < 0.08) {
      // connection/fromservice: plaintext, no sequence.
      const topic = cloud.prefix + 'connection/fromservice';
      const c = random.next();
      if (c < 0.5) return { kind: 'random bytes', topic, payload: bytes(sizeUpTo(limitOf(topic))), inOrder: 'none' };
      if (c < 0.7) {
        const code = random.pick(['GOING_OFFLINE', 'UNEXPECTED_SEQUENCE_NUMBER', 'MESSAGE_TAMPERED', 'SOMETHING_ELSE']);
        return { kind: `Disconnect ${code}`, topic, payload: encodeJson(message('Disconnect', 'd', { code })), inOrder: 'reconnect' };
      }
      if (c < 0.75) {
        const code = random.pick(['API_VERSION_DEPRECATED', 'ENCRYPTION_ERROR']);
        return { kind: `Disconnect ${code}`, topic, payload: encodeJson(message('Disconnect', 'd', { code })), inOrder: 'fatal' };
      }
      return { kind: 'stray Acknowledge or unknown message', topic, payload: encodeJson(message(random.pick(['Acknowledge', 'Hello']), 'a', { connectMessageId: 'old', code: 'INVALID_CLIENT_ID' })), inOrder: 'none' };
    }
    if (r < 0.12) {
      // Topics the device must ignore: its own outbound ones, another device's, an unknown leaf.
      const topic = random.pick([cloud.prefix + 'event', cloud.prefix + 'microphone', cloud.prefix + 'connection/fromclient',
        cloud.prefix + 'capabilities/publish', '$aws/alexa/ais/v1/other-device/directive', cloud.prefix + 'nonsense']);
      return { kind: 'a topic not ours to read', topic, payload: bytes(sizeUpTo(limitOf(topic))), inOrder: 'none' };
    }
    const leaf = random.pick(SERVICE_LEAVES);
    const topic = cloud.prefix + leaf;
    const seq = sequenceFor(leaf);
    if (r < 0.45) {
      // Random bytes with an adversarial number in front: never opens.
      const length = random.next() < 0.03 ? random.int(ENVELOPE.sequenceBytes) : sizeUpTo(limitOf(topic));
      const payload = bytes(length);
      if (length < ENVELOPE.sequenceBytes) return { kind: 'too short for a number', topic, payload, inOrder: 'exception' };
      writeU32(payload, seq);
      const inOrder: Outcome = length < ENVELOPE.headerBytes || length > MAX_MESSAGE ? 'exception' : 'disconnect ENCRYPTION_ERROR';
      return { kind: 'random bytes', topic, payload, leaf, seq, inOrder };
    }
    if (r < 0.8) {
      // Sealed with the device's key: harmless, malformed, or over the declared size.
      const c = random.next();
      if (c < 0.06) {
        const body = bytes(MAX_MESSAGE - ENVELOPE.headerBytes + 1 + random.int(limitOf(topic) - MAX_MESSAGE));
        return { kind: 'sealed, over the declared size', topic, payload: seal(leaf, seq, body), leaf, seq, inOrder: 'exception' };
      }
      const malformed = c < 0.55 ? malformedBody(leaf) : undefined;
      if (malformed && malformed.length <= MAX_MESSAGE - ENVELOPE.headerBytes) {
        return { kind: 'sealed, malformed', topic, payload: seal(leaf, seq, malformed), leaf, seq, inOrder: 'exception' };
      }
      const pad = random.next() < 0.2 ? random.int(MAX_MESSAGE - ENVELOPE.headerBytes - 200) : random.int(64);
      return { kind: 'sealed, harmless', topic, payload: seal(leaf, seq, harmlessBody(leaf, pad)), leaf, seq, inOrder: 'none' };
    }
    // Tampered: a flipped byte, a foreign key, an outer number that is not the sealed one.
    const c = random.next();
    const body = harmlessBody(leaf, random.int(256));
    if (c < 0.4) {
      const payload = seal(leaf, seq, body);
      payload[ENVELOPE.ivOffset + random.int(payload.length - ENVELOPE.ivOffset)] ^= 1 << random.int(8);
      return { kind: 'sealed, one bit flipped', topic, payload, leaf, seq, inOrder: 'disconnect ENCRYPTION_ERROR' };
    }
    if (c < 0.7) return { kind: 'sealed with a foreign key', topic, payload: seal(leaf, seq, body, foreignKey), leaf, seq, inOrder: 'disconnect ENCRYPTION_ERROR' };
    const payload = seal(leaf, (seq + 1 + random.int(0xfffffffe)) >>> 0, body);
    writeU32(payload, seq);
    return { kind: 'outer number rewritten', topic, payload, leaf, seq, inOrder: 'disconnect MESSAGE_TAMPERED' };
  };

  /** Checks what the device did about one input against `expected`; returns to 'ready' where it left it. */
  const check = (i: number, input: Input, expected: Outcome) => {
    clock.advance(60); // a queued ExceptionEncountered goes out after the event spacing
    const d = cloud.disconnects, e = cloud.exceptions;
    const ok = expected === 'none' ? restarts === 0 && connection.state === 'ready' && d.length === 0 && e.length === 0
      : expected === 'exception' ? restarts === 0 && connection.state === 'ready' && d.length === 0 && e.length > 0 && e.every((x) => x.startsWith('MALFORMED_MESSAGE: '))
        : expected === 'reconnect' ? restarts === 1 && d.length === 0
          : expected === 'fatal' ? connection.state === 'stopped' && fatal === 1 && d.length === 0
            : restarts === 1 && d.length === 1 && `disconnect ${d[0]}` === expected;
    if (!ok) {
      assert.fail(`${expected} expected; device ${connection.state} after ${restarts} restart(s), Disconnect [${d.join(', ')}], exceptions [${e.join(' | ')}], fatal ${fatal}; ${where(i, input)}`);
    }
    if (expected === 'fatal') {
      fatal = 0;
      connection.start(); // the app re-registers or is fixed; the connection object itself still works
    }
    if (expected !== 'none' && expected !== 'exception') untilReady(i, input);
    cloud.clear();
    restarts = 0;
  };

  connection.start();
  untilReady(-1);
  cloud.clear();
  const tally = new Map<string, number>();
  for (let i = 0; i < INPUTS; i++) {
    const input = nextInput();
    const cuts = random.next() < 0.2 ? [1 + random.int(8), 1 + random.int(input.payload.length + 40)].sort((a, b) => a - b) : [];
    const overLimit = random.next() < 0.01;
    if (overLimit) {
      // Past the MQTT packet limit: the client drops the broker's connection and comes back.
      const payload = bytes(limitOf(input.topic) + 1 + random.int(64));
      cloud.publish(input.topic, payload, cuts);
      check(i, { ...input, kind: 'past the MQTT limit', payload }, 'reconnect');
      tally.set('past the MQTT limit', (tally.get('past the MQTT limit') ?? 0) + 1);
      continue;
    }
    let expected = input.inOrder;
    let held = false;
    if (input.leaf !== undefined && input.seq !== undefined) {
      const distance = sequenceDistance(cloud.next[input.leaf], input.seq);
      if (distance === 0) cloud.next[input.leaf] = (input.seq + 1) >>> 0;
      else if (distance >= 0x80000000) expected = 'none'; // a duplicate or older: dropped
      else if (distance > WINDOW) expected = 'disconnect UNEXPECTED_SEQUENCE_NUMBER';
      else held = true;
    }
    tally.set(input.kind, (tally.get(input.kind) ?? 0) + 1);
    cloud.publish(input.topic, input.payload, cuts);
    if (!held) {
      check(i, input, expected);
      continue;
    }
    // Early: held in the window. Either the gap is filled and it is read in its turn, or the gap times out.
    const leaf = input.leaf!;
    if (random.next() < 0.5) {
      check(i, input, 'none');
      while (cloud.next[leaf] !== input.seq) cloud.sendSealed(leaf, harmlessBody(leaf));
      cloud.next[leaf] = (input.seq! + 1) >>> 0;
      check(i, input, expected);
    } else {
      check(i, input, 'none');
      clock.advance(GAP_MS);
      check(i, input, 'disconnect UNEXPECTED_SEQUENCE_NUMBER');
    }
  }
  assert.deepEqual([...problems, ...cloud.problems], [], where(INPUTS));
  assert.ok(cloud.connections > INPUTS / 20, `only ${cloud.connections} connections over ${INPUTS} inputs: the disconnect paths were hardly taken`);
  for (const kind of ['random bytes', 'sealed, harmless', 'sealed, malformed', 'sealed, over the declared size', 'sealed, one bit flipped', 'outer number rewritten', 'past the MQTT limit']) {
    assert.ok((tally.get(kind) ?? 0) > INPUTS / 1000, `${kind}: ${tally.get(kind) ?? 0} inputs`);
  }
  connection.close();
});
