// Portable (runs on Node and on XS: npm run test:xs): imports only node:test, node:assert/strict, src/ and
// the portable helpers of test/support/.
// The device's audio data path without sockets: binary entries byte for byte, the Microphone and Speaker
// components against a connection, clock, opus port and audio out that the test drives by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryReader, parseBinaryBody, writeAudioEntry, writeMarkerEntry } from '../../src/ais/binary.js';
import { Dispatcher } from '../../src/ais/dispatcher.js';
import type { AisMessage } from '../../src/ais/message.js';
import { Microphone, type MicrophoneInitiator } from '../../src/ais/microphone.js';
import { Speaker } from '../../src/ais/speaker.js';
import { speakerOnPort } from '../../src/app/voice.js';
import type { AudioOutOptions } from '../../src/ports/audio.js';
import { Logger, silentSink } from '../../src/ports/log.js';
import type { Opus } from '../../src/ports/opus.js';
import { toHex as hex } from '../support/bytes.js';
import { ManualClock } from '../support/manual-clock.js';

const log = new Logger(silentSink, 'test');

/** A connection stand-in: records events, publishes and exceptions; directives go through its dispatcher. */
class FakeConnection {
  readonly dispatcher = new Dispatcher();
  readonly events: string[] = [];
  readonly published: Uint8Array[] = [];
  readonly rewinds: number[] = [];
  readonly exceptions: string[] = [];
  failPublishes = 0;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean {
    this.events.push(payload === undefined ? name : `${name} ${JSON.stringify(payload)}`);
    return true;
  }
  publishMicrophone(body: Uint8Array, length: number): boolean {
    if (this.failPublishes > 0) { this.failPublishes--; return false; }
    this.published.push(body.slice(0, length));
    return true;
  }
  reportException(code: string, description: string, topic?: string, sequenceNumber?: number, index?: number): void {
    this.exceptions.push(`${code} ${description} ${topic}#${sequenceNumber}/${index}`);
  }
  rewindSpeaker(sequenceNumber: number): void { this.rewinds.push(sequenceNumber); }
  directive(name: string, payload: Record<string, unknown>): void {
    const message: AisMessage = { header: { name, messageId: 'm' }, payload };
    this.dispatcher.handlerFor(name)!(message, { sequenceNumber: 0, index: 0 });
  }
}

/** Frame n of the test capture: every sample says which frame and position it came from. */
function frame(n: number): Int16Array {
  const f = new Int16Array(320);
  for (let i = 0; i < 320; i++) f[i] = ((n * 320 + i) * 3) & 0x7fff;
  return f;
}

function microphone(initiator: MicrophoneInitiator) {
  const clock = new ManualClock();
  const connection = new FakeConnection();
  const mic = new Microphone({ connection, clock, log, initiator });
  return { clock, connection, mic };
}

test('binary entries: the spec\'s worked sizes byte for byte, and a malformed body stops with its named error', () => {
  const body = new Uint8Array(816 + 12);
  let at = writeAudioEntry(body, 0, 0x1_0000_0005, new Uint8Array(800), 4);
  at = writeMarkerEntry(body, at, [0xdeadbeef]);
  assert.equal(hex(body.subarray(0, 16)), '280300000004000005000000' + '01000000');
  assert.equal(hex(body.subarray(816)), '0400000001000000efbeadde');
  assert.deepEqual(parseBinaryBody(body).map((e) => e.type), ['audio', 'marker']);
  const reader = new BinaryReader().reset(new Uint8Array([20, 0, 0, 0, 0, 0, 0, 0, 1, 2]));
  assert.equal(reader.next(), false);
  assert.equal(reader.error!.message, 'binary entry 0 at byte 0: length 20 runs past the body (2 bytes left)');
});

test('a wake word streams from 500 ms before it in 1,600-sample entries every 50 ms; CloseMicrophone reports the end offset', () => {
  const { clock, connection, mic } = microphone('WAKEWORD');
  for (let n = 0; n < 60; n++) mic.pushFrame(frame(n));
  mic.wakeWordDetected(60 * 320 - 8000, 60 * 320);
  assert.deepEqual(connection.events, ['MicrophoneOpened {"profile":"FAR_FIELD","offset":0,"initiator":{"type":"WAKEWORD","payload":{"wakeWord":"ALEXA","wakeWordIndices":{"beginOffset":16000,"endOffset":32000}}}}']);
  clock.advance(0);
  clock.advance(50);
  assert.equal(connection.published.length, 2);
  const first = parseBinaryBody(connection.published[0]);
  assert.equal(connection.published[0].length, 3216);
  assert.deepEqual(first[0].type === 'audio' && [first[0].offsetBytes, first[0].audio.length], [0, 3200]);
  const pcm = first[0].type === 'audio' ? first[0].audio : new Uint8Array(0);
  // The wake word begins at frame 35; the stream 25 frames (500 ms) earlier.
  assert.equal(pcm[0] | (pcm[1] << 8), frame(10)[0]);
  assert.equal(pcm[3198] | (pcm[3199] << 8), frame(14)[319]);
  connection.directive('CloseMicrophone', {});
  assert.equal(connection.events.at(-1), 'MicrophoneClosed {"offset":6400}');
  assert.equal(mic.state, 'closed');
});

test('a failed publish is retried on the next tick with the same bytes: no audio lost', () => {
  const { clock, connection, mic } = microphone('TAP');
  mic.tap();
  for (let n = 0; n < 5; n++) mic.pushFrame(frame(n));
  connection.failPublishes = 2;
  clock.advance(0);
  clock.advance(50);
  assert.equal(connection.published.length, 0);
  clock.advance(50);
  assert.equal(connection.published.length, 1);
  const entries = parseBinaryBody(connection.published[0]);
  assert.deepEqual(entries[0].type === 'audio' && [entries[0].offsetBytes, entries[0].audio.length], [0, 3200]);
  assert.equal(mic.publishFailures, 2);
  assert.equal(mic.offset, 3200);
});

test('publishes stay 50 ms apart when the repeating tick runs late and its next run comes early (a loaded host)', () => {
  const { clock, connection, mic } = microphone('TAP');
  mic.tap();
  for (let n = 0; n < 40; n++) mic.pushFrame(frame(n));
  const counts: number[] = [];
  clock.advance(0);
  counts.push(connection.published.length);   // at 0
  clock.fireLate(10);
  counts.push(connection.published.length);   // the 50 ms tick at 60
  clock.advance(40);
  counts.push(connection.published.length);   // the 100 ms tick, 40 ms after the last publish: waits
  clock.advance(50);
  counts.push(connection.published.length);   // the 150 ms tick
  assert.deepEqual(counts, [1, 2, 2, 3]);
  const offsets = connection.published.map((b) => parseBinaryBody(b)[0]).map((e) => (e.type === 'audio' ? e.offsetBytes : -1));
  assert.deepEqual(offsets, [0, 3200, 6400], 'nothing skipped: the waiting audio goes in the next slot');
});

test('press and hold: OpenMicrophone arms; without a press it times out with OpenMicrophoneTimedOut and no MicrophoneOpened', () => {
  const { clock, connection, mic } = microphone('PRESS_AND_HOLD');
  connection.directive('OpenMicrophone', { timeoutInMilliseconds: 500 });
  assert.equal(mic.state, 'armed');
  clock.advance(499);
  assert.deepEqual(connection.events, []);
  clock.advance(1);
  assert.deepEqual(connection.events, ['OpenMicrophoneTimedOut']);
  assert.equal(mic.state, 'closed');
});

/** A speaker on fakes: "decoding" turns each packet byte into a sample, so the output shows which bytes played. */
function speaker(bufferBytes = 4000) {
  const connection = new FakeConnection();
  const played: number[] = [];
  /** The port's start() and stop() calls after the speaker made it. */
  const port: string[] = [];
  let out: AudioOutOptions | undefined;
  const opus: Opus = {
    createEncoder: () => { throw new Error('unused'); },
    createDecoder: () => ({ decode: (packet, pcm) => { pcm.fill(0); for (let i = 0; i < packet.length; i++) pcm[i] = packet[i]; return 320; }, close() {} }),
  };
  const { speaker: s } = speakerOnPort((options) => {
    out = options;
    return { write: (f) => { played.push(f[0]); }, reference: () => false, start() { port.push('start'); }, stop() { port.push('stop'); }, close() {} };
  }, log, (output) => new Speaker({ connection, opus, log, bufferBytes, volume: 100, output }));
  port.length = 0;
  const message = (seq: number, offset: number, frames: number, markers: number[] = []) => {
    const audio = new Uint8Array(frames * 160);
    for (let f = 0; f < frames; f++) audio[f * 160] = (offset / 160 + f) & 0xff;
    const body = new Uint8Array(16 + audio.length + 12);
    let at = writeAudioEntry(body, 0, offset, audio, frames - 1);
    if (markers.length) at = writeMarkerEntry(body, at, markers);
    s.receive(seq, body, 0, at);
  };
  return { connection, s, played, port, message, writable: (n: number) => out!.onWritable(n) };
}

test('the speaker plays from the open offset, reports markers once their audio played, and closes at the close offset', () => {
  const { connection, played, message, writable } = speaker();
  connection.directive('OpenSpeaker', { offset: 0 });
  message(0, 0, 5, [7]);
  message(1, 800, 5);
  connection.directive('CloseSpeaker', { offset: 1600 });
  writable(4);
  assert.deepEqual(played, [0, 1, 2, 3]);
  assert.deepEqual(connection.events, ['SpeakerOpened {"offset":0}']);
  writable(10);
  assert.deepEqual(played, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(connection.events, ['SpeakerOpened {"offset":0}', 'SpeakerMarkerEncountered {"marker":7}', 'SpeakerClosed {"offset":1600}']);
});

test('a stop before the end drops what audio out holds (its stop, then start); a close at its offset or a source that ends lets it play out', () => {
  const { connection, s, played, port, message, writable } = speaker();
  connection.directive('OpenSpeaker', { offset: 0 });
  message(0, 0, 5);
  connection.directive('CloseSpeaker', { offset: 800 });
  writable(5);
  assert.deepEqual(played, [0, 1, 2, 3, 4]);
  assert.deepEqual(port, [], 'closed at its offset: the last frames are the utterance\'s');
  connection.directive('OpenSpeaker', { offset: 800 });
  message(1, 800, 5);
  writable(2);
  s.stop();
  assert.deepEqual(port, ['stop', 'start'], 'a barge-in');
  writable(10);
  assert.deepEqual(played, [0, 1, 2, 3, 4, 5, 6], 'nothing after the stop');
  connection.directive('OpenSpeaker', { offset: 1600 });
  message(2, 1600, 5);
  writable(2);
  connection.directive('CloseSpeaker', {});
  assert.deepEqual(port, ['stop', 'start', 'stop', 'start'], 'CloseSpeaker now');
  port.length = 0;
  let left = 3;
  s.playLocal({ fill: (f) => { f.fill(9); return left-- > 0; } });
  writable(10);
  assert.deepEqual(port, [], 'a local source that ended');
  s.playLocal({ fill: (f) => { f.fill(9); return true; } });
  writable(2);
  s.playLocal(undefined);
  assert.deepEqual(port, ['stop', 'start'], 'a local source stopped (the alert)');
  s.playLocal(undefined);
  assert.deepEqual(port, ['stop', 'start'], 'nothing to stop');
});

test('a message that does not fit an open speaker is OVERRUN: named, discarded, and the connection rewound to it', () => {
  const { connection, s, message, writable } = speaker(2000);
  connection.directive('OpenSpeaker', { offset: 0 });
  writable(1);
  message(0, 0, 5);
  message(1, 800, 5);
  message(2, 1600, 5);
  assert.deepEqual(connection.rewinds, [2]);
  assert.ok(connection.events.includes('BufferStateChanged {"message":{"topic":"speaker","sequenceNumber":2},"state":"OVERRUN"}'), connection.events.join('\n'));
  assert.equal(s.writeOffset, 1600, 'the message was not stored');
});

test('barge-in leftovers before the next OpenSpeaker offset are dropped, arriving before or after it', () => {
  const { connection, s, played, message, writable } = speaker();
  connection.directive('OpenSpeaker', { offset: 0 });
  message(0, 0, 5);
  writable(2);
  s.stop();
  const speakerEvents = () => connection.events.filter((e) => e.startsWith('Speaker'));
  assert.deepEqual(speakerEvents(), ['SpeakerOpened {"offset":0}', 'SpeakerClosed {"offset":320}']);
  message(1, 800, 5);                            // leftovers while closed
  connection.directive('OpenSpeaker', { offset: 2400 });
  message(2, 1600, 5);                           // leftovers after the open: dropped on arrival
  message(3, 2400, 5);
  writable(10);
  assert.deepEqual(played, [0, 1, 15, 16, 17, 18, 19]);
  assert.equal(speakerEvents()[2], 'SpeakerOpened {"offset":2400}');
});
