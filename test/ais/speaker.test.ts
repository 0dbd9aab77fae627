// The Speaker namespace end to end over real sockets: the emulator's AIS service streams Opus frames encoded by
// the Node opus port, with markers and offset directives, to the device (src/ais/speaker.ts on the Node host's
// recording audio out), which plays them and reports (docs/protocol.md §3.3–3.5, §4.5, §5, §7 gotchas 5, 6, 13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeAudioEntry, writeMarkerEntry } from '../../src/ais/binary.js';
import { AisTestbed, until } from '../support/ais.js';
import { align, chirp, decodeOpus, encodeOpus } from '../support/audio.js';
import { ServiceRecorder, voiceDevice, type VoiceDevice, type VoiceDeviceOptions } from '../support/voice.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FRAME_BYTES = 160;

/** A speaker message: count+1 frames at `offset`, then markers if any. */
function speakerBody(offset: number, frames: Uint8Array[], markers: number[] = []): Uint8Array {
  const audio = new Uint8Array(frames.length * FRAME_BYTES);
  frames.forEach((f, i) => audio.set(f, i * FRAME_BYTES));
  const body = new Uint8Array(16 + audio.length + (markers.length ? 8 + 4 * markers.length : 0));
  let at = frames.length ? writeAudioEntry(body, 0, offset, audio, frames.length - 1) : 0;
  if (markers.length) at = writeMarkerEntry(body, at, markers);
  return body.subarray(0, at);
}

/**
 * The service side of a speaker stream, as a virtual device would pace it: `ahead` messages at once, then
 * one per message duration; on OVERRUN it waits, then resends from the named message (§3.5).
 */
class Streamer {
  sent = 0;            // stream bytes sent so far (the service's write offset)
  private nextSeq = 0;
  private resendFrom = -1;
  readonly resends: number[] = [];

  constructor(private readonly bed: AisTestbed, recorder: ServiceRecorder, private readonly overrunWaitMs = 300) {
    recorder.on((e) => {
      if (e.name === 'BufferStateChanged' && e.payload.state === 'OVERRUN') this.resendFrom = (e.payload.message as { sequenceNumber: number }).sequenceNumber;
    });
  }

  /** Sends `frames` from the current offset, `perMessage` a message, markers after the given frame counts. */
  async stream(frames: Uint8Array[], o: { perMessage?: number; ahead?: number; markers?: Map<number, number>; stopWhen?: () => boolean } = {}): Promise<void> {
    const perMessage = o.perMessage ?? 5;
    const messages: { seq: number; body: Uint8Array }[] = [];
    for (let first = 0; first < frames.length; first += perMessage) {
      const chunk = frames.slice(first, first + perMessage);
      const markers = [...(o.markers ?? [])].filter(([after]) => after > first && after <= first + chunk.length).map(([, m]) => m);
      messages.push({ seq: this.nextSeq + messages.length, body: speakerBody(this.sent + first * FRAME_BYTES, chunk, markers) });
    }
    const base = this.nextSeq;
    let i = 0;
    let credit = o.ahead ?? 3;
    while (i < messages.length) {
      if (o.stopWhen?.()) break;
      if (this.resendFrom >= 0) {
        const from = this.resendFrom;
        this.resendFrom = -1;
        await pause(this.overrunWaitMs);
        this.resends.push(from);
        this.bed.service.resendSpeakerFrom('thing-1', from);
        i = from - base;
        credit = 3; // a little ahead again, inside the buffer
      }
      this.bed.service.sendSpeaker('thing-1', messages[i].body);
      i++;
      if (--credit <= 0) {
        await pause(perMessage * 20);
        credit = 1;
      }
    }
    this.nextSeq = base + i;
    this.sent += Math.min(frames.length, i * perMessage) * FRAME_BYTES;
  }

  /** Sends raw bytes as one speaker message (malformed-input tests). */
  raw(body: Uint8Array): number {
    this.bed.service.sendSpeaker('thing-1', body);
    return this.nextSeq++;
  }
}

async function start(options: VoiceDeviceOptions = {}) {
  const recorder = new ServiceRecorder();
  const bed = await new AisTestbed().start(recorder.options);
  const d = voiceDevice(bed, 'thing-1', options);
  d.connection.start();
  await until('ready', () => d.connection.state === 'ready' && bed.service.deviceState('thing-1')?.synchronizedState !== undefined);
  const directive = (name: string, payload: Record<string, unknown>) => bed.service.sendDirectives('thing-1', [{ name, payload }]);
  return { bed, d, recorder, directive, streamer: new Streamer(bed, recorder), stop: async () => { d.stop(); await bed.stop(); } };
}

/** Speaker events as the service received them: "Name {payload}". */
function speakerEvents(recorder: ServiceRecorder): string[] {
  return recorder.events
    .filter((e) => /^Speaker|^BufferStateChanged|^VolumeChanged|^Microphone/.test(e.name))
    .map((e) => `${e.name} ${JSON.stringify(e.payload)}`);
}

/** Event names in the device's own protocol trace, in the order sent (batched events flattened). */
function tracedEvents(d: VoiceDevice): string[] {
  return d.lines.flatMap((l) => {
    const m = /→ event #\d+ (\S+) /.exec(l);
    return m ? m[1].split(',') : [];
  });
}

test('OpenSpeaker, Opus frames with markers, CloseSpeaker at an offset: played audio equals the decoded stream exactly, events in playback order', async () => {
  const { d, recorder, directive, streamer, stop } = await start();
  try {
    const source = chirp(1200, 250, 3500);
    const frames = encodeOpus(source);
    assert.equal(frames.length, 60);
    assert.ok(frames.every((f) => f.length === FRAME_BYTES), 'CBR: every frame 160 bytes');
    directive('OpenSpeaker', { offset: 0 });
    await streamer.stream(frames, { markers: new Map([[30, 7], [60, 8]]) });
    directive('CloseSpeaker', { offset: 60 * FRAME_BYTES });
    await until('SpeakerClosed', () => recorder.named('SpeakerClosed').length === 1, 6000);
    await until('the last frames out of the audio-out queue', () => d.audioOut.played.length >= 60);
    const events = speakerEvents(recorder).filter((e) => !e.startsWith('BufferStateChanged'));
    assert.deepEqual(events, [
      'SpeakerOpened {"offset":0}', 'SpeakerMarkerEncountered {"marker":7}', 'SpeakerMarkerEncountered {"marker":8}', 'SpeakerClosed {"offset":9600}',
    ]);
    const played = d.audioOut.samples();
    assert.deepEqual(played, decodeOpus(frames), 'every frame played once, in order, decoded exactly as a fresh decoder does');
    const { correlation, lag } = align(source.subarray(0, 16000), played, 480);
    assert.ok(correlation > 0.9, `played audio correlates ${correlation.toFixed(3)} with the source (lag ${lag})`);
    // The device's protocol trace: speaker messages in, then the events in the same order.
    const names = tracedEvents(d).filter((n) => n.startsWith('Speaker'));
    assert.deepEqual(names, ['SpeakerOpened', 'SpeakerMarkerEncountered', 'SpeakerMarkerEncountered', 'SpeakerClosed']);
    const firstIn = d.lines.findIndex((l) => /← speaker #0 binary 816 B/.test(l));
    const opened = d.lines.findIndex((l) => /→ event #\d+ [\w,]*SpeakerOpened/.test(l));
    assert.ok(firstIn >= 0 && firstIn < opened, 'SpeakerOpened after the first speaker message');
    // Marker 7 sits after frame 30: it is reported only once that audio was handed to audio out.
    const marker7 = recorder.named('SpeakerMarkerEncountered')[0].atMs;
    const opened0 = recorder.named('SpeakerOpened')[0].atMs;
    assert.ok(marker7 - opened0 >= 30 * 20 - 150, `marker 7 came ${(marker7 - opened0).toFixed(0)} ms after SpeakerOpened`);
  } finally {
    await stop();
  }
});

test('buffer states from the declared thresholds: OVERRUN_WARNING, then OVERRUN naming the message that did not fit; the service resends from it (rewind) and nothing is lost or doubled', async () => {
  const { d, recorder, directive, streamer, stop } = await start({ speaker: { bufferBytes: 4000, overrunWarningBytes: 3000, underrunWarningBytes: 1200 } });
  try {
    const speaker = d.speaker.capability() as { configurations: { audioBuffer: unknown } };
    assert.deepEqual(speaker.configurations.audioBuffer, { sizeInBytes: 4000, reporting: { overrunWarningThreshold: 3000, underrunWarningThreshold: 1200 } });
    const frames = encodeOpus(chirp(2000, 200, 2500));
    directive('OpenSpeaker', { offset: 0 });
    await streamer.stream(frames, { ahead: 8 }); // eight messages at once: 6,400 bytes into a 4,000-byte buffer
    directive('CloseSpeaker', { offset: frames.length * FRAME_BYTES });
    await until('SpeakerClosed', () => recorder.named('SpeakerClosed').length === 1, 8000);
    await until('played', () => d.audioOut.played.length >= frames.length);
    const states = recorder.named('BufferStateChanged').map((e) => `${e.payload.state} #${(e.payload.message as { sequenceNumber: number }).sequenceNumber}`);
    assert.ok(states.length >= 2 && states[0].startsWith('OVERRUN_WARNING') && states[1].startsWith('OVERRUN #'), states.join(', '));
    const overrunSeq = Number(states[1].split('#')[1]);
    assert.equal(streamer.resends[0], overrunSeq, 'the service resent from the message the device named');
    assert.ok(recorder.named('BufferStateChanged').every((e) => (e.payload.message as { topic: string }).topic === 'speaker'));
    // While the service waits before resending, the buffer drains below the underrun threshold.
    assert.ok(states.slice(2).some((s) => s.startsWith('UNDERRUN_WARNING')), states.join(', '));
    const order = speakerEvents(recorder).map((e) => e.split(' ')[0]);
    assert.equal(order[0], 'SpeakerOpened');
    assert.equal(order.at(-1), 'SpeakerClosed');
    assert.deepEqual(d.audioOut.samples(), decodeOpus(frames), 'after the resend every frame played exactly once');
    assert.ok(d.lines.some((l) => l === `INFO [thing-1] speaker: waiting for the service to resend from #${overrunSeq}`), d.lines.join('\n'));
    assert.ok(d.lines.filter((l) => l.includes(`← speaker #${overrunSeq} binary`)).length >= 2, 'the overrun message arrived twice');
    assert.equal(d.connection.state, 'ready');
    assert.equal(d.states.filter((s) => s === 'ready').length, 1, 'no reconnect');
  } finally {
    await stop();
  }
});

test('barge-in: a tap closes the speaker (SpeakerClosed), 50 ms later MicrophoneOpened; leftovers before the next OpenSpeaker offset are dropped', async () => {
  const { bed, d, recorder, directive, streamer, stop } = await start({ initiator: 'TAP', speech: [chirp(3000, 500, 900, 3000)] });
  try {
    const a = encodeOpus(chirp(2000, 200, 1200));
    const b = encodeOpus(chirp(600, 2000, 3000));
    directive('OpenSpeaker', { offset: 0 });
    // The service streams utterance A until the user barges in (it does not know yet).
    const streaming = streamer.stream(a, { stopWhen: () => recorder.named('SpeakerClosed').length > 0 });
    await until('playing 500 ms', () => d.audioOut.played.length >= 25);
    d.microphone.tap();
    // The tap stopped the speaker: what audio out still held (up to its 3 frames) is dropped, not played.
    const heardA = d.audioOut.played.length;
    await streaming;
    await until('MicrophoneOpened', () => recorder.named('MicrophoneOpened').length === 1);
    const closedAt = recorder.named('SpeakerClosed')[0].payload.offset as number;
    assert.equal(closedAt % FRAME_BYTES, 0);
    const gapMs = recorder.named('MicrophoneOpened')[0].atMs - recorder.named('SpeakerClosed')[0].atMs;
    assert.ok(gapMs >= 40, `MicrophoneOpened ${gapMs.toFixed(0)} ms after SpeakerClosed`);
    assert.ok(tracedEvents(d).join(' ').includes('SpeakerClosed MicrophoneOpened'), tracedEvents(d).join(' '));
    await pause(300);
    bed.service.sendDirectives('thing-1', [{ name: 'CloseMicrophone', payload: {} }]);
    // The answer to the new question starts where A ends; A's leftovers still arrive first and are dropped.
    const answerAt = a.length * FRAME_BYTES;
    directive('OpenSpeaker', { offset: answerAt });
    const sentBefore = streamer.sent / FRAME_BYTES;
    await streamer.stream(a.slice(sentBefore), { ahead: 10 });
    await streamer.stream(b);
    directive('CloseSpeaker', { offset: answerAt + b.length * FRAME_BYTES });
    await until('second SpeakerClosed', () => recorder.named('SpeakerClosed').length === 2, 6000);
    const decodedFrames = closedAt / FRAME_BYTES;
    assert.ok(heardA <= decodedFrames && heardA >= decodedFrames - 3, `A: ${heardA} frames played of the ${decodedFrames} handed to audio out`);
    await until('played', () => d.audioOut.played.length >= heardA + b.length);
    assert.deepEqual(speakerEvents(recorder).filter((e) => !e.startsWith('BufferStateChanged')), [
      'SpeakerOpened {"offset":0}', `SpeakerClosed {"offset":${closedAt}}`, 'MicrophoneOpened {"profile":"NEAR_FIELD","offset":0,"initiator":{"type":"TAP"}}',
      `MicrophoneClosed {"offset":${recorder.micBytes().length}}`, `SpeakerOpened {"offset":${answerAt}}`, `SpeakerClosed {"offset":${answerAt + b.length * FRAME_BYTES}}`,
    ]);
    // The decoder heard A's first frames, then B: the same through a fresh decoder gives the played audio exactly,
    // less A's frames that audio out dropped at the stop.
    const decoded = decodeOpus([...a.slice(0, decodedFrames), ...b]);
    assert.equal(d.audioOut.played.length, heardA + b.length, 'nothing of A after the stop');
    assert.deepEqual(d.audioOut.samples(), Int16Array.from([...decoded.subarray(0, heardA * 320), ...decoded.subarray(decodedFrames * 320)]));
  } finally {
    await stop();
  }
});

test('SetVolume now and at an offset: VolumeChanged for each, applied from that frame on', async () => {
  const { d, recorder, directive, streamer, stop } = await start();
  try {
    const frames = encodeOpus(chirp(800, 300, 1500));
    directive('SetVolume', { volume: 100 });
    directive('OpenSpeaker', { offset: 0 });
    directive('SetVolume', { volume: 50, offset: 20 * FRAME_BYTES });
    await streamer.stream(frames);
    directive('CloseSpeaker', { offset: frames.length * FRAME_BYTES });
    await until('SpeakerClosed', () => recorder.named('SpeakerClosed').length === 1, 6000);
    await until('played', () => d.audioOut.played.length >= frames.length);
    assert.deepEqual(recorder.named('VolumeChanged').map((e) => e.payload), [{ volume: 100 }, { volume: 50, offset: 3200 }]);
    const reference = decodeOpus(frames);
    const played = d.audioOut.samples();
    assert.deepEqual(played.subarray(0, 20 * 320), reference.subarray(0, 20 * 320));
    assert.deepEqual(played.subarray(20 * 320), reference.subarray(20 * 320).map((s) => (s * 16384) >> 15));
    assert.equal(d.speaker.volume, 50);
    assert.ok(tracedEvents(d).lastIndexOf('VolumeChanged') > tracedEvents(d).indexOf('SpeakerOpened'), 'the offset volume change is reported when playback reaches it');
  } finally {
    await stop();
  }
});

test('malformed speaker messages are answered with ExceptionEncountered naming topic, sequence number and entry index, and dropped whole', async () => {
  const { bed, d, streamer, stop } = await start();
  try {
    const frames = encodeOpus(chirp(200));
    streamer.raw(speakerBody(480, frames.slice(0, 2)));      // a jump into the empty buffer: a new stream position, taken
    const gapSeq = streamer.raw(speakerBody(0, frames.slice(0, 1)));
    const odd = new Uint8Array(16 + 100);
    writeAudioEntry(odd, 0, 960, new Uint8Array(100), 0);   // one frame of 100 bytes after one of 160
    const vbrSeq = streamer.raw(concat2(speakerBody(800, frames.slice(2, 3)), odd));
    const typeSeq = streamer.raw(new Uint8Array([0, 0, 0, 0, 9, 0, 0, 0]));
    const exceptions = () => bed.service.deviceState('thing-1')!.exceptions;
    await until('three exceptions', () => exceptions().length === 3);
    assert.deepEqual(exceptions(), [
      { error: { code: 'MALFORMED_MESSAGE', description: 'offset 0 is not contiguous, expected 800' }, message: { topic: 'speaker', sequenceNumber: gapSeq, index: 0 } },
      { error: { code: 'MALFORMED_MESSAGE', description: 'frames of 100 bytes, the stream\'s are 160 (CBR only)' }, message: { topic: 'speaker', sequenceNumber: vbrSeq, index: 1 } },
      { error: { code: 'MALFORMED_MESSAGE', description: 'binary entry 0 at byte 0: type 0..1 expected, got 9' }, message: { topic: 'speaker', sequenceNumber: typeSeq, index: 0 } },
    ]);
    assert.equal(d.speaker.writeOffset, 800, 'only the first message was stored; a malformed one is dropped whole');
    assert.equal(d.connection.state, 'ready');
  } finally {
    await stop();
  }
});

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
