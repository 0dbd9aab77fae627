// The emulator's music (emulator/voice/music.ts) and its intents (emulator/voice/music-intents.ts): what the user
// says lands on the music intents with the right action; each track is a valid MIDI file that fluidsynth renders to
// audible music as long as its bars, the same every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { respond } from '../../../emulator/voice/assistant.js';
import { compose, GENRES, midiFile, playlist, trackFrames, trackPcm, TRACKS } from '../../../emulator/voice/music.js';
import { rms } from '../../../emulator/voice/pcm.js';
import { requireFluidsynth } from './tools.js';

const context = { now: new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC' };

test('music requests: play (a genre or any), next, previous, pause, resume; "stop" also stops the music', () => {
  const jazz = respond('alexa play jazz', {}, context);
  assert.equal(jazz.intent, 'playMusic');
  assert.deepEqual(jazz.actions, [{ kind: 'music', command: 'play', genre: 'jazz' }]);
  assert.equal(jazz.text, `Playing jazz: ${TRACKS[playlist('jazz')[0]!]!.title}, by ${TRACKS[playlist('jazz')[0]!]!.artist}.`);
  const any = respond('play some music', {}, context);
  assert.deepEqual(any.actions, [{ kind: 'music', command: 'play' }]);
  assert.equal(any.text, `Playing music: ${TRACKS[0]!.title}, by ${TRACKS[0]!.artist}.`);
  assert.deepEqual(respond('play classical music', {}, context).actions, [{ kind: 'music', command: 'play', genre: 'classical' }]);
  for (const [said, command] of [['next song', 'next'], ['skip this song', 'next'], ['previous song', 'previous'], ['pause', 'pause'], ['resume the music', 'resume']] as const) {
    const a = respond(said, {}, context);
    assert.deepEqual(a.actions, [{ kind: 'music', command }], said);
    assert.equal(a.text, '', `${said}: Alexa just does it`);
  }
  // "stop" is the stop intent: its stopAlert action also stops the music (emulator/ais/music-player.ts).
  assert.deepEqual(respond('stop', {}, context).actions, [{ kind: 'stopAlert' }]);
  // Not music: the time, and "play" alone.
  assert.equal(respond("what's the time", {}, context).intent, 'time');
  assert.equal(respond('play', {}, context).intent, 'unknown');
});

test('every track is a format-0 MIDI file with its tempo, programs and notes; each genre has a track', () => {
  assert.deepEqual([...new Set(TRACKS.map((t) => t.genre))].sort(), [...GENRES].sort());
  for (const track of TRACKS) {
    const composition = compose(track);
    const file = midiFile(composition, track.bpm);
    const text = (at: number) => String.fromCharCode(...file.subarray(at, at + 4));
    const u32 = (at: number) => new DataView(file.buffer, file.byteOffset).getUint32(at);
    assert.equal(text(0), 'MThd');
    assert.equal(u32(4), 6);
    assert.deepEqual([...file.subarray(8, 14)], [0, 0, 0, 1, 1, 0xe0], 'format 0, one track, 480 ticks a quarter');
    assert.equal(text(14), 'MTrk');
    assert.equal(u32(18), file.length - 22, 'the track chunk runs to the end');
    assert.deepEqual([...file.subarray(file.length - 3)], [0xff, 0x2f, 0], 'ends with End of Track');
    assert.ok(composition.notes.length > track.bars * 8, `${track.title}: ${composition.notes.length} notes`);
    assert.ok(composition.notes.every((n) => n.key >= 0 && n.key < 128 && n.length > 0 && n.tick + n.length <= composition.ticks + 480));
    assert.deepEqual(compose(track), composition, 'the same every time');
  }
});

test('fluidsynth renders each track to music as long as its bars; it encodes at a declared bitrate', async (t) => {
  if (!requireFluidsynth(t)) return;
  for (let i = 0; i < TRACKS.length; i++) {
    const track = TRACKS[i]!;
    const pcm = await trackPcm(i);
    const seconds = (track.bars * 4 * 60) / track.bpm;
    // The last notes ring on (release and reverb) for a moment past the last bar; the silence after is cut.
    assert.ok(pcm.length / 16000 >= seconds && pcm.length / 16000 < seconds + 2, `${track.title}: ${(pcm.length / 16000).toFixed(1)} s for ${seconds.toFixed(1)} s of bars`);
    // Audible all through: no second of it near silence until the last notes have rung.
    for (let s = 0; s + 1 < seconds; s++) assert.ok(rms(pcm, s * 16000, (s + 1) * 16000) > 300, `${track.title}: second ${s} audible`);
    assert.ok(rms(pcm, pcm.length - 320) >= 30, `${track.title}: ends on sound, not on silence`);
  }
  const frames = await trackFrames(0, 32000);
  assert.ok(frames.every((f) => f.length === 80), '32 kbit/s CBR: 80 bytes a frame');
  assert.equal(frames.length, Math.ceil((await trackPcm(0)).length / 320));
});
