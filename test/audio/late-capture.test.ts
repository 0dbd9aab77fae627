// Late timers must not change what the cloud hears (issue 24 item 8). Under load the WAV microphone's timer fires
// seconds late and hands over every frame that fell due at once; the capture ring (2 s) must not overwrite frames
// the stream has not sent yet, and the wake-word pre-roll must stay whole. A clock the test controls stalls the
// whole device (microphone timer, publish pacer) in bursts; what the service receives must be the WAV, sample
// for sample, from the opening frame to the closing one, at contiguous offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { SpanWakeWord } from '../../hosts/node/span-wake-word.js';
import { parseBinaryBody } from '../../src/ais/binary.js';
import type { AisConnection } from '../../src/ais/connection.js';
import type { MicrophoneInitiator } from '../../src/ais/microphone.js';
import type { WakeWordDetector } from '../../src/audio/hooks.js';
import { Voice } from '../../src/app/voice.js';
import { Capture } from '../../src/audio/capture.js';
import type { AudioIn, AudioInOptions } from '../../src/ports/audio.js';
import { pattern, samplesOf, concat } from '../support/audio.js';
import { FakeConnection } from '../support/fake-connection.js';
import { captureLogger } from '../support/log.js';
import { ManualClock } from '../support/manual-clock.js';

const FRAME = 320;

/** Records each microphone entry the device publishes. */
class RecordingConnection extends FakeConnection {
  readonly mic: { offset: number; audio: Uint8Array }[] = [];
  override publishMicrophone(body: Uint8Array, length: number): boolean {
    for (const entry of parseBinaryBody(body, 0, length)) if (entry.type === 'audio') this.mic.push({ offset: entry.offsetBytes, audio: entry.audio });
    return true;
  }
  /** The stream's bytes, checked contiguous from `from`. */
  stream(from: number): Uint8Array {
    let expected = from;
    for (const m of this.mic) {
      assert.equal(m.offset, expected, 'entries contiguous');
      expected += m.audio.length;
    }
    return concat(this.mic.map((m) => m.audio));
  }
}

function voiceOn(clock: ManualClock, speech: Int16Array, initiator: MicrophoneInitiator, wakeWord?: WakeWordDetector) {
  const connection = new RecordingConnection();
  const { log, lines } = captureLogger('device', 'info');
  const voice = new Voice({
    ports: { audioIn: wavAudioIn({ samples: [speech], clock }), audioOut: wavAudioOut({ realtime: false }), opus: nodeOpus, wakeWord },
    connection: connection as unknown as AisConnection, clock, log, initiator, maxMessageBytes: 8000,
  });
  // L16, so the bytes heard are the samples said.
  voice.microphone.capabilitiesRejected('the test hears L16');
  return { voice, connection, lines };
}

/** Runs the device's time until `done`, stalling it as `stalls` says (ms into the run → ms blocked). */
function run(clock: ManualClock, done: () => boolean, stalls: Map<number, number>): void {
  for (let ms = 0; !done(); ms += 10) {
    assert.ok(ms < 60_000, 'the stream ended within a minute');
    const stall = stalls.get(ms);
    if (stall) clock.stall(stall);
    else clock.advance(10);
  }
}

test('a tap-opened stream through timer stalls of 3 s and 1.5 s: the service hears every WAV frame once, in order, none lost', () => {
  const clock = new ManualClock(1000);
  const speech = pattern(FRAME * 400, 1); // 8 s
  const { voice, connection, lines } = voiceOn(clock, speech, 'TAP');
  try {
    const mic = voice.microphone;
    clock.advance(200);
    const openFrame = mic.capturedSamples / FRAME;
    assert.ok(openFrame > 0);
    mic.tap();
    run(clock, () => mic.capturedSamples >= speech.length, new Map([[500, 3000], [800, 1500], [1500, 2500]]));
    const stopFrame = mic.capturedSamples / FRAME;
    mic.endOfSpeech();
    run(clock, () => mic.state === 'closed', new Map([[0, 2000]]));
    const heard = samplesOf(connection.stream(0));
    assert.equal(mic.framesLost, 0, `no frame lost; device said: ${lines.filter((l) => /lost|fell/.test(l)).join(' | ')}`);
    assert.equal(heard.length, (stopFrame - openFrame) * FRAME, 'every frame from the tap to the end of speech');
    assert.deepEqual(heard, speech.subarray(openFrame * FRAME, stopFrame * FRAME), 'the WAV, sample for sample');
    assert.ok(connection.events.includes(`MicrophoneClosed {"offset":${heard.length * 2}}`), connection.events.join('\n'));
  } finally {
    voice.close();
  }
});

test('a wake word heard inside a 3 s burst of late frames: the 500 ms pre-roll, the word and what follows reach the service whole', () => {
  const clock = new ManualClock(1000);
  const speech = pattern(FRAME * 300, 3); // 6 s
  const begin = 100 * FRAME + 37;           // 2 s in
  const end = begin + 9600;                 // a 600 ms word
  const wakeWord = new SpanWakeWord();
  wakeWord.expect(begin, end);
  const { voice, connection, lines } = voiceOn(clock, speech, 'WAKEWORD', wakeWord);
  try {
    const mic = voice.microphone;
    // The word and the frames after it all fall due while the device is blocked.
    run(clock, () => mic.state !== 'closed', new Map([[1000, 3000]]));
    const opened = connection.events.find((e) => e.startsWith('MicrophoneOpened'));
    assert.ok(opened, connection.events.join('\n'));
    const payload = JSON.parse(opened.slice('MicrophoneOpened '.length)) as { offset: number; initiator: { payload: { wakeWordIndices: { beginOffset: number; endOffset: number } } } };
    const startSample = Math.floor((begin - 8000) / FRAME) * FRAME;
    assert.deepEqual(payload.initiator.payload.wakeWordIndices, { beginOffset: (begin - startSample) * 2, endOffset: (end - startSample) * 2 }, 'a whole 500 ms pre-roll');
    run(clock, () => mic.capturedSamples >= speech.length, new Map([[300, 2500]]));
    const stopFrame = mic.capturedSamples / FRAME;
    mic.endOfSpeech();
    run(clock, () => mic.state === 'closed', new Map());
    const heard = samplesOf(connection.stream(0));
    assert.equal(mic.framesLost, 0, `no frame lost; device said: ${lines.filter((l) => /lost|fell/.test(l)).join(' | ')}`);
    assert.deepEqual(heard, speech.subarray(startSample, stopFrame * FRAME), 'pre-roll, word and command, sample for sample');
  } finally {
    voice.close();
  }
});

/** A port like a driver's bounded ring: `capacity` frames, the oldest dropped and counted when nobody reads. */
class BoundedPort implements AudioIn {
  dropped = 0;
  private readonly held: number[] = [];
  private next = 0;
  constructor(private readonly options: AudioInOptions, private readonly capacity: number) {}
  /** The hardware captures `frames` more frames, one at a time (frame n holds the value n). */
  capture(frames: number): void {
    for (let i = 0; i < frames; i++) {
      if (this.held.length === this.capacity) {
        this.held.shift();
        this.dropped++;
      }
      this.held.push(this.next++);
      this.options.onReadable(this.held.length);
    }
  }
  read(frame: Int16Array): number {
    const n = this.held.shift();
    if (n === undefined) return -1;
    frame.fill(n);
    return n * 20;
  }
  start(): void {}
  stop(): void {}
  close(): void {}
}

test('a bounded port that overflows while the consumer has no room: its drops are counted and logged once, the rest arrives in order', () => {
  let port: BoundedPort | undefined;
  let room = 0;
  const got: number[] = [];
  const { log, lines } = captureLogger('capture', 'info');
  const capture = new Capture({ audioIn: (options) => (port = new BoundedPort(options, 25)), log, onFrame: (frame) => got.push(frame[0]), room: () => room - got.length });
  room = 10;
  port!.capture(40);                      // 10 read, 30 held of which 5 dropped
  for (let i = 0; i < 5; i++) port!.capture(2); // 10 more dropped, a frame at a time
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(lines.filter((l) => /dropped/.test(l)), [], 'logged once the episode ends');
  room = 1000;
  capture.resume();
  assert.equal(capture.framesDropped, 15);
  assert.deepEqual(got.slice(10), Array.from({ length: 25 }, (_, i) => 25 + i), 'what the port held, in order');
  assert.deepEqual(lines.filter((l) => /dropped/.test(l)), ['WARN [capture] audio in: 15 frames dropped by the port, not read in time (15 since start)']);
  port!.capture(3);
  assert.equal(lines.filter((l) => /dropped/.test(l)).length, 1, 'one line per episode');
  capture.close();
});
