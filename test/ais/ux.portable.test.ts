// Portable (runs on Node, XS and the Cortex-M7 image): imports only node:test, node:assert/strict, src/ and
// portable test/support helpers.
// The device's UX without sockets: the attention light's priorities, the local alert tone, the speaker playing
// it when no cloud stream plays, a turn the network cuts (the error tone under the ERROR light), and the buttons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alerts } from '../../src/ais/alerts.js';
import { Attention, attentionLight } from '../../src/ais/attention.js';
import { WallClock } from '../../src/ais/clock.js';
import { Dispatcher } from '../../src/ais/dispatcher.js';
import { Microphone } from '../../src/ais/microphone.js';
import { Speaker } from '../../src/ais/speaker.js';
import { speakerOnPort, Voice } from '../../src/app/voice.js';
import type { AisConnection } from '../../src/ais/connection.js';
import { writeAudioEntry } from '../../src/ais/binary.js';
import { Controls, MICROPHONE_OFF_KEY } from '../../src/app/controls.js';
import { AlertTone, ERROR_HIGH_HZ, ERROR_LOW_HZ, ErrorTone, TONE_HIGH_HZ, TONE_LOW_HZ } from '../../src/audio/tone.js';
import type { AudioOutOptions } from '../../src/ports/audio.js';
import { Logger, silentSink } from '../../src/ports/log.js';
import type { Opus } from '../../src/ports/opus.js';
import type { AttentionLight } from '../../src/ports/ui.js';
import { FakeConnection } from '../support/fake-connection.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryStorage } from '../support/memory-storage.js';

const log = new Logger(silentSink, 'test');

/** Frequency of a frame by zero crossings (the tone is a whole number of sine periods, so the frame wraps). */
function frequencyHz(frame: Int16Array): number {
  let crossings = 0;
  for (let i = 0; i < frame.length; i++) if ((frame[(i + frame.length - 1) % frame.length] < 0) !== (frame[i] < 0)) crossings++;
  return (crossings / 2) * (16000 / frame.length);
}

function peak(frame: Int16Array): number {
  let p = 0;
  for (let i = 0; i < frame.length; i++) p = Math.max(p, Math.abs(frame[i]));
  return p;
}

test('the attention light: LISTENING over a failed turn\'s ERROR over a local alert over the cloud\'s activity over microphone off over DND and notifications', () => {
  const none = { listening: false, error: false, localAlerting: false, microphoneOff: false };
  assert.equal(attentionLight('IDLE', none), 'IDLE');
  assert.equal(attentionLight('DO_NOT_DISTURB', { ...none, microphoneOff: true }), 'MICROPHONE_OFF');
  assert.equal(attentionLight('SPEAKING', { ...none, microphoneOff: true }), 'SPEAKING');
  assert.equal(attentionLight('THINKING', { ...none, localAlerting: true }), 'ALERTING');
  assert.equal(attentionLight('ALERTING', { ...none, listening: true, localAlerting: true }), 'LISTENING');
  assert.equal(attentionLight('THINKING', { ...none, error: true, localAlerting: true }), 'ERROR');
  assert.equal(attentionLight('IDLE', { ...none, error: true, listening: true }), 'LISTENING');
  assert.equal(attentionLight('NOTIFICATION_AVAILABLE', none), 'NOTIFICATION_AVAILABLE');
});

test('SetAttentionState shows at its offset, once per change; the cloud\'s state returns when LISTENING ends; a bad state or offset is refused', () => {
  const dispatcher = new Dispatcher();
  const due: { offset: number; action: () => void }[] = [];
  const lights: AttentionLight[] = [];
  const cloud: string[] = [];
  const attention = new Attention({ dispatcher, atOffset: (offset, action) => due.push({ offset, action }), onLight: (l) => lights.push(l), onCloudState: (s) => cloud.push(s) });
  const run = (payload: Record<string, unknown>) => dispatcher.handlerFor('SetAttentionState')!({ header: { name: 'SetAttentionState', messageId: 'm' }, payload }, { sequenceNumber: 0, index: 0 });
  attention.setListening(true);
  run({ state: 'THINKING' });
  assert.deepEqual(lights, ['LISTENING'], 'THINKING waits behind LISTENING');
  attention.setListening(false);
  run({ state: 'SPEAKING', offset: 3200 });
  assert.deepEqual(lights, ['LISTENING', 'THINKING']);
  due.shift()!.action();
  assert.deepEqual(lights, ['LISTENING', 'THINKING', 'SPEAKING']);
  attention.setMicrophoneOff(true);
  run({ state: 'IDLE' });
  assert.deepEqual(lights.slice(3), ['MICROPHONE_OFF']);
  assert.deepEqual(cloud, ['THINKING', 'SPEAKING', 'IDLE']);
  assert.throws(() => run({ state: 'DANCING' }), /SetAttentionState state "DANCING" is not one of IDLE, THINKING, SPEAKING, ALERTING, NOTIFICATION_AVAILABLE, DO_NOT_DISTURB/);
  assert.throws(() => run({ state: 'IDLE', offset: -1 }), /SetAttentionState offset expected a non-negative integer, got -1/);
});

test('the alert tone: 800 and 1000 Hz beeps of 100 ms then silence, scaled by the volume, into the caller\'s frame', () => {
  const tone = new AlertTone(100);
  const frame = new Int16Array(320);
  const kinds: string[] = [];
  for (let i = 0; i < 60; i++) {
    assert.equal(tone.fill(frame), true);
    kinds.push(peak(frame) === 0 ? '-' : String(Math.round(frequencyHz(frame))));
  }
  assert.equal(kinds.slice(0, 20).join(' '), `${[TONE_LOW_HZ, TONE_LOW_HZ, TONE_LOW_HZ, TONE_LOW_HZ, TONE_LOW_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ].join(' ')} ${[TONE_LOW_HZ, TONE_LOW_HZ, TONE_LOW_HZ, TONE_LOW_HZ, TONE_LOW_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ, TONE_HIGH_HZ].join(' ')}`);
  assert.ok(kinds.slice(20).every((k) => k === '-'), 'silent for the rest of the 1.2 s cycle');
  tone.restart();
  tone.fill(frame);
  const loud = peak(frame);
  tone.setVolume(25);
  tone.restart();
  tone.fill(frame);
  assert.ok(Math.abs(peak(frame) - loud / 4) <= 1, `volume 25 is a quarter of 100: ${peak(frame)} vs ${loud}`);
  assert.throws(() => tone.setVolume(101), /volume expected an integer 0..100, got 101/);
});

test('the error tone: 600 Hz then 400 Hz, falling, once (340 ms), scaled by the volume', () => {
  const tone = new ErrorTone(100);
  const frame = new Int16Array(320);
  const kinds: string[] = [];
  while (tone.fill(frame)) kinds.push(peak(frame) === 0 ? '-' : String(Math.round(frequencyHz(frame))));
  assert.equal(kinds.join(' '), [...Array(6).fill(ERROR_HIGH_HZ), '-', ...Array(10).fill(ERROR_LOW_HZ)].join(' '));
  assert.equal(tone.durationMs, kinds.length * 20);
  assert.equal(tone.fill(frame), false, 'it stays ended');
  tone.restart();
  assert.equal(tone.fill(frame), true, 'restart plays it again');
});

/** An Opus port whose decoder is never used here (no cloud stream in these tests). */
const opus: Opus = {
  createEncoder: () => { throw new Error('no encoder'); },
  createDecoder: () => ({ decode: () => 0, close() {} }),
};

function speakerWithOut(connection = new FakeConnection()) {
  const written: Int16Array[] = [];
  let options!: AudioOutOptions;
  const { speaker } = speakerOnPort((o) => {
    options = o;
    return { write: (f) => { written.push(f.slice()); }, reference: () => false, start() {}, stop() {}, close() {} };
  }, log, (output) => new Speaker({ connection, opus, log, output }));
  return { connection, speaker, written, writable: (frames: number) => options.onWritable(frames) };
}

test('the speaker plays a local source while no cloud stream plays, as many frames as audio out takes, and stops when told', () => {
  const { speaker, written, writable } = speakerWithOut();
  const tone = new AlertTone(50);
  speaker.playLocal(tone);
  assert.equal(written.length, 0, 'no room announced yet');
  writable(3);
  assert.equal(written.length, 3);
  assert.equal(Math.round(frequencyHz(written[0])), TONE_LOW_HZ);
  writable(2);
  assert.equal(written.length, 5);
  speaker.playLocal(undefined);
  writable(3);
  assert.equal(written.length, 5);
  // A source that ends is dropped.
  let left = 2;
  speaker.playLocal({ fill: (f) => { f.fill(7); return left-- > 0; } });
  writable(3);
  assert.equal(written.length, 7);
  writable(3);
  assert.equal(written.length, 7);
});

test('a turn the network cuts ends visibly: its stream closed with no event, its answer stopped, the error tone ahead of an alert tone under the ERROR light, then IDLE; a tap offline gets the same cue', () => {
  const clock = new ManualClock();
  const connection = new FakeConnection();
  const lights: AttentionLight[] = [];
  const attention = new Attention({ dispatcher: connection.dispatcher, onLight: (light) => lights.push(light) });
  const written: Int16Array[] = [];
  let out!: AudioOutOptions;
  let stops = 0;
  const failures: string[] = [];
  const voice = new Voice({
    ports: {
      audioIn: () => ({ read: () => -1, start() {}, stop() {}, close() {} }),
      audioOut: (options) => { out = options; return { write: (f) => { written.push(f.slice()); }, reference: () => false, start() {}, stop() { stops++; }, close() {} }; },
      opus: { createEncoder: () => ({ encode: () => 160, close() {} }), createDecoder: opus.createDecoder },
    },
    connection: connection as unknown as AisConnection, clock, log, initiator: 'TAP', maxMessageBytes: 8000,
    onMicrophoneState: (state) => attention.setListening(state === 'open'),
    onErrorCue: (playing) => attention.setError(playing),
    onTurnFailed: (reason) => failures.push(reason),
  });
  // No turn on: nothing to say.
  voice.connectionLost('IDLE');
  assert.deepEqual(failures, []);
  out.onWritable(3);
  assert.equal(written.length, 0, 'no tone without a turn');

  voice.microphone.tap();
  assert.deepEqual(lights, ['LISTENING']);
  voice.speaker.playLocal(new AlertTone(100)); // an alert that rings locally meanwhile
  const eventsBefore = connection.events.length;
  voice.connectionLost('IDLE');
  assert.match(failures.at(-1) ?? '', /connection was lost while the microphone was open/);
  assert.equal(voice.microphone.state, 'closed');
  assert.deepEqual(connection.events.slice(eventsBefore), [], 'no MicrophoneClosed: there is no connection to send it on');
  assert.deepEqual(lights, ['LISTENING', 'ERROR'], 'LISTENING straight to ERROR, never IDLE between');
  out.onWritable(18);
  const heard = written.slice(3).map((f) => (peak(f) === 0 ? 0 : Math.round(frequencyHz(f))));
  assert.deepEqual(heard.slice(0, 17), [...Array(6).fill(ERROR_HIGH_HZ), 0, ...Array(10).fill(ERROR_LOW_HZ)], 'the error tone first');
  assert.equal(heard[17], TONE_LOW_HZ, 'then the alert tone resumes');
  clock.advance(339);
  assert.equal(lights.at(-1), 'ERROR');
  clock.advance(1);
  assert.deepEqual(lights, ['LISTENING', 'ERROR', 'IDLE'], 'ERROR while the tone plays, then IDLE');

  // The cloud thinking (the microphone already closed) or speaking: the turn fails too.
  connection.directive('SetAttentionState', { state: 'THINKING' });
  voice.connectionLost(attention.cloudState);
  assert.match(failures.at(-1) ?? '', /while the cloud was THINKING/);
  attention.reset(); // as Device.connectionDown does: the cloud's state no longer holds
  assert.equal(lights.at(-1), 'ERROR');
  clock.advance(340);

  // An answer half played: it stops now (audio out drops what it holds), the error tone follows.
  connection.directive('SetAttentionState', { state: 'SPEAKING' });
  connection.directive('OpenSpeaker', { offset: 0 });
  const body = new Uint8Array(16 + 50 * 160);
  writeAudioEntry(body, 0, 0, new Uint8Array(50 * 160), 49);
  voice.speaker.receive(0, body, 0, body.length);
  const before = written.length;
  out.onWritable(3);
  assert.equal(written.length, before + 3, 'three frames of the answer played');
  const stopsBefore = stops;
  voice.connectionLost(attention.cloudState);
  assert.match(failures.at(-1) ?? '', /while the cloud was SPEAKING/);
  attention.reset();
  assert.equal(voice.speaker.isOpen, false);
  assert.equal(stops, stopsBefore + 1, 'audio out told to drop what it holds of the answer');
  out.onWritable(3);
  assert.ok(written.slice(before + 3).every((f) => Math.round(frequencyHz(f)) === ERROR_HIGH_HZ), 'the error tone, not the rest of the answer');
  clock.advance(340);
  attention.reset();

  // A tap while the connection is not ready: nothing opens, the same cue says so.
  const lightsBefore = lights.length;
  connection.sendEvent = () => false;
  voice.microphone.tap();
  assert.equal(voice.microphone.state, 'closed');
  assert.match(failures.at(-1) ?? '', /the microphone did not open: the connection is not ready/);
  assert.deepEqual(lights.slice(lightsBefore), ['ERROR']);
  const toneAt = written.length;
  out.onWritable(3);
  assert.ok(written.slice(toneAt).every((f) => Math.round(frequencyHz(f)) === ERROR_HIGH_HZ), 'the error tone');
  voice.close();
  assert.equal(clock.pending, 0, 'close clears the cue timer');
  assert.equal(lights.at(-1), 'IDLE', 'and ends its light (a fatal error closes the voice): no ERROR left on');
});

test('the buttons: tap or hold to talk, microphone off enforced and stored, volume steps, STOP and the transport commands', () => {
  const storage = new MemoryStorage();
  const connection = new FakeConnection();
  const clock = new ManualClock();
  const { speaker } = speakerWithOut(connection);
  const microphone = new Microphone({ connection, clock, log, initiator: 'PRESS_AND_HOLD' });
  const lights: AttentionLight[] = [];
  const attention = new Attention({ dispatcher: connection.dispatcher, onLight: (l) => lights.push(l) });
  const controls = new Controls({
    storage, log, initiator: 'PRESS_AND_HOLD',
    target: () => ({ microphone, speaker, attention, sendEvent: (n, p) => connection.sendEvent(n, p) }),
  });
  controls.button('talk', true);
  assert.equal(microphone.state, 'open');
  controls.button('talk', false);
  assert.notEqual(microphone.state, 'open');
  clock.advance(100);
  assert.equal(microphone.state, 'closed');
  controls.button('micOff', true);
  assert.deepEqual(storage.get(MICROPHONE_OFF_KEY), Uint8Array.of(1));
  assert.deepEqual(lights, ['MICROPHONE_OFF']);
  connection.events.length = 0;
  controls.button('talk', true);
  assert.equal(microphone.state, 'closed', 'the microphone stays off');
  // Off survives a reboot: new controls read it back.
  const again = new Controls({ storage, log, initiator: 'TAP', target: () => ({ microphone, attention }) });
  assert.equal(again.microphoneOff, true);
  controls.button('micOff', true);
  assert.deepEqual(lights, ['MICROPHONE_OFF', 'IDLE']);
  controls.button('volumeUp', true);
  controls.button('volumeUp', false);
  controls.button('volumeDown', true);
  controls.button('volumeDown', true);
  controls.button('action', true);
  for (const b of ['play', 'pause', 'next', 'previous'] as const) controls.button(b, true);
  assert.deepEqual(connection.events.filter((e) => !e.startsWith('Microphone')), [
    'VolumeChanged {"volume":60}', 'VolumeChanged {"volume":50}', 'VolumeChanged {"volume":40}',
    'ButtonCommandIssued {"command":"STOP"}', 'ButtonCommandIssued {"command":"PLAY"}', 'ButtonCommandIssued {"command":"PAUSE"}',
    'ButtonCommandIssued {"command":"NEXT"}', 'ButtonCommandIssued {"command":"PREVIOUS"}',
  ]);
});

test('while an alert rings locally the action button stops it and the volume buttons set the alert volume, not the speaker\'s', () => {
  const storage = new MemoryStorage();
  const connection = new FakeConnection();
  const clock = new ManualClock(0);
  const wall = new WallClock({ clock });
  wall.set(3_900_000_000);
  const tones: (number | undefined)[] = [];
  const alerts = new Alerts({ connection, clock, wall, storage, log, online: () => false, onLocalTone: (v) => tones.push(v) });
  const { speaker } = speakerWithOut(connection);
  const controls = new Controls({ storage, log, initiator: 'TAP', target: () => ({ speaker, alerts, sendEvent: (n, p) => connection.sendEvent(n, p) }) });
  connection.directive('SetAlert', { token: 'egg', type: 'TIMER', scheduledTime: 3_900_000_001, durationInMilliseconds: 60_000 });
  clock.advance(1000);
  assert.equal(alerts.ringing?.mode, 'local');
  controls.button('volumeDown', true);
  assert.equal(alerts.volume, 50);
  assert.equal(speaker.volume, 50, 'the speaker volume is untouched (its default)');
  assert.deepEqual(tones, [60, 50]);
  controls.button('action', true);
  assert.equal(alerts.ringing, undefined);
  assert.deepEqual(alerts.list(), []);
  assert.deepEqual(tones, [60, 50, undefined]);
  assert.deepEqual(connection.events.slice(1), ['AlertVolumeChanged {"volume":50}'], 'a local stop needs no ButtonCommandIssued');
});
