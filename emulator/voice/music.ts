// The emulator's own music: a small catalogue of tracks composed here as MIDI (a few bars of chords, a bass
// line, drums and a melody per genre, from a seeded random source so each track is always the same), rendered
// by Debian's fluidsynth with the General MIDI soundfont of fluid-soundfont-gm at first use and kept in memory.
// Nothing is downloaded. The virtual device streams it as the AIS cloud does: decoded, mixed and encoded in the
// cloud, one Opus stream to the device's one speaker (docs/emulator.md, Music).
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeSpeakerFrames } from './opus.js';
import { FRAME_SAMPLES, rms, SAMPLE_RATE, seededRandom } from './pcm.js';

export const FLUIDSYNTH_INSTALL_HINT = 'install them with: apt-get install fluidsynth fluid-soundfont-gm';
const FLUIDSYNTH = '/usr/bin/fluidsynth';
const SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2';

export type Genre = 'jazz' | 'classical' | 'rock' | 'electronic';
export const GENRES: readonly Genre[] = ['jazz', 'classical', 'rock', 'electronic'];

export interface Track {
  title: string;
  artist: string;
  genre: Genre;
  /** Seeds the composition. */
  seed: number;
  /** Chord roots (semitones above C) and qualities, one a bar, repeated to `bars`. */
  progression: readonly [number, 'maj' | 'min' | 'dom'][];
  bars: number;
  bpm: number;
}

/** The catalogue, in playlist order ("play some music" starts at the first). */
export const TRACKS: readonly Track[] = [
  { title: 'Blue Register', artist: 'The Emulator Quartet', genre: 'jazz', seed: 11, bpm: 132, bars: 12, progression: [[2, 'min'], [7, 'dom'], [0, 'maj'], [9, 'dom']] },
  { title: 'Morning Sonatina', artist: 'Virtual Strings', genre: 'classical', seed: 23, bpm: 96, bars: 8, progression: [[0, 'maj'], [5, 'maj'], [7, 'dom'], [0, 'maj'], [9, 'min'], [2, 'min'], [7, 'dom'], [0, 'maj']] },
  { title: 'Overrun Warning', artist: 'Buffer State', genre: 'rock', seed: 37, bpm: 138, bars: 12, progression: [[4, 'min'], [0, 'maj'], [7, 'maj'], [2, 'maj']] },
  { title: 'Packet Loss', artist: 'Opus Ensemble', genre: 'electronic', seed: 41, bpm: 118, bars: 10, progression: [[9, 'min'], [5, 'maj'], [0, 'maj'], [7, 'maj']] },
  { title: 'Late Night Offsets', artist: 'The Emulator Quartet', genre: 'jazz', seed: 53, bpm: 108, bars: 8, progression: [[5, 'maj'], [2, 'dom'], [7, 'min'], [0, 'dom']] },
];

/** Why music cannot be made here, as a one-line hint; undefined when fluidsynth and its soundfont are installed. */
export function fluidsynthMissingHint(): string | undefined {
  for (const [path, mode] of [[FLUIDSYNTH, constants.X_OK], [SOUNDFONT, constants.R_OK]] as const) {
    try {
      accessSync(path, mode);
    } catch {
      return `${path} not found: the emulator has no music; ${FLUIDSYNTH_INSTALL_HINT}`;
    }
  }
  return undefined;
}

// ---- composition ----

interface Note { tick: number; length: number; channel: number; key: number; velocity: number }
interface Part { program: number; channel: number }

const TICKS = 480; // per quarter note
const DRUMS = 9;
/** General MIDI programs per genre: chords, bass, melody (0-based). */
const INSTRUMENTS: Record<Genre, { chords: number; bass: number; melody: number }> = {
  jazz: { chords: 0, bass: 32, melody: 11 },       // acoustic piano, acoustic bass, vibraphone
  classical: { chords: 48, bass: 42, melody: 73 }, // string ensemble, cello, flute
  rock: { chords: 29, bass: 33, melody: 30 },      // overdriven guitar, finger bass, distortion guitar
  electronic: { chords: 89, bass: 38, melody: 81 },// warm pad, synth bass, saw lead
};
const QUALITY: Record<'maj' | 'min' | 'dom', number[]> = { maj: [0, 4, 7, 11], min: [0, 3, 7, 10], dom: [0, 4, 7, 10] };

/** The notes of `track`: one bar per chord of its progression. */
export function compose(track: Track): { notes: Note[]; parts: Part[]; ticks: number } {
  const random = seededRandom(track.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const notes: Note[] = [];
  const add = (tick: number, length: number, channel: number, key: number, velocity: number) => notes.push({ tick: Math.round(tick), length: Math.round(length), channel, key, velocity });
  const bar = TICKS * 4;
  const swing = track.genre === 'jazz' ? TICKS * 2 / 3 : TICKS / 2; // where the off-beat eighth falls
  for (let b = 0; b < track.bars; b++) {
    const [root, quality] = track.progression[b % track.progression.length]!;
    const chord = QUALITY[quality].map((i) => 48 + root + i);
    const start = b * bar;
    switch (track.genre) {
      case 'jazz':
        for (const beat of [1, 3]) for (const k of chord.slice(1)) add(start + beat * TICKS + (random() < 0.5 ? swing : 0), TICKS / 2, 0, k + 12, 70);
        for (let beat = 0; beat < 4; beat++) add(start + beat * TICKS, TICKS * 0.9, 1, 36 + root + pick([0, QUALITY[quality][1]!, 7, 12 - 2]), 90);
        for (let beat = 0; beat < 4; beat++) {
          add(start + beat * TICKS, TICKS / 3, DRUMS, 51, 70);
          if (beat % 2 === 1) add(start + beat * TICKS + swing, TICKS / 3, DRUMS, 51, 55), add(start + beat * TICKS, TICKS / 4, DRUMS, 44, 60);
        }
        break;
      case 'classical':
        add(start, bar, 0, chord[0]!, 55), add(start, bar, 0, chord[1]! + 12, 50), add(start, bar, 0, chord[2]!, 50);
        add(start, bar, 1, 36 + root, 70);
        for (let step = 0; step < 8; step++) add(start + step * TICKS / 2, TICKS / 2, 2, chord[[0, 2, 1, 2][step % 4]!]! + 24, 45);
        break;
      case 'rock':
        for (let step = 0; step < 8; step++) {
          for (const i of [0, 7, 12]) add(start + step * TICKS / 2, TICKS * 0.45, 0, 40 + root + i, 95);
          add(start + step * TICKS / 2, TICKS * 0.45, 1, 28 + root + (root < 5 ? 12 : 0), 100);
          add(start + step * TICKS / 2, TICKS / 4, DRUMS, 42, 70);
        }
        for (const beat of [0, 2]) add(start + beat * TICKS, TICKS / 2, DRUMS, 36, 110);
        for (const beat of [1, 3]) add(start + beat * TICKS, TICKS / 2, DRUMS, 38, 105);
        break;
      case 'electronic':
        for (const k of chord) add(start, bar, 0, k + 12, 60);
        for (let step = 0; step < 8; step++) add(start + step * TICKS / 2, TICKS * 0.4, 1, 36 + root + (step % 2 === 1 ? 12 : 0), 95);
        for (let beat = 0; beat < 4; beat++) add(start + beat * TICKS, TICKS / 2, DRUMS, 36, 115), add(start + beat * TICKS + TICKS / 2, TICKS / 4, DRUMS, 42, 70);
        for (const beat of [1, 3]) add(start + beat * TICKS, TICKS / 2, DRUMS, 39, 90);
        break;
    }
    // A melody over every bar but the first: chord tones and passing notes, some rests.
    if (b > 0) {
      const scale = [0, 2, 4, 5, 7, 9, 11];
      for (let step = 0; step < 8; step++) {
        if (random() < 0.3) continue;
        const key = step % 2 === 0 ? pick(chord) + 24 : 72 + pick(scale);
        add(start + step * TICKS / 2 + (step % 2 === 1 ? swing - TICKS / 2 : 0), TICKS / 2 * (random() < 0.3 ? 2 : 1), 2, key, 80);
      }
    }
  }
  const programs = INSTRUMENTS[track.genre];
  const parts = [{ program: programs.chords, channel: 0 }, { program: programs.bass, channel: 1 }, { program: programs.melody, channel: 2 }];
  return { notes, parts, ticks: track.bars * bar };
}

/** A Standard MIDI File (format 0, one track) of the notes, at `bpm`. */
export function midiFile(composition: { notes: Note[]; parts: Part[]; ticks: number }, bpm: number): Uint8Array {
  const events: { tick: number; order: number; bytes: number[] }[] = [];
  const tempo = Math.round(60_000_000 / bpm);
  events.push({ tick: 0, order: 0, bytes: [0xff, 0x51, 3, tempo >> 16, (tempo >> 8) & 0xff, tempo & 0xff] });
  for (const p of composition.parts) events.push({ tick: 0, order: 0, bytes: [0xc0 | p.channel, p.program] });
  for (const n of composition.notes) {
    events.push({ tick: n.tick, order: 2, bytes: [0x90 | n.channel, n.key, n.velocity] });
    events.push({ tick: n.tick + n.length, order: 1, bytes: [0x80 | n.channel, n.key, 0] }); // offs before ons at one tick
  }
  events.push({ tick: composition.ticks + TICKS, order: 3, bytes: [0xff, 0x2f, 0] });
  events.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const body: number[] = [];
  let last = 0;
  for (const e of events) {
    const delta = e.tick - last;
    last = e.tick;
    const varlen = [delta & 0x7f];
    for (let v = delta >> 7; v > 0; v >>= 7) varlen.unshift((v & 0x7f) | 0x80);
    body.push(...varlen, ...e.bytes);
  }
  const u32 = (v: number) => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  return Uint8Array.from([...ascii('MThd'), ...u32(6), 0, 0, 0, 1, TICKS >> 8, TICKS & 0xff, ...ascii('MTrk'), ...u32(body.length), ...body]);
}

// ---- rendering ----

const run = promisify(execFile);
/** Rendered tracks by index, and their encodings by bitrate: made once per process. */
const rendered = new Map<number, Promise<Int16Array>>();
const encoded = new Map<string, Promise<Uint8Array[]>>();

/** A rendered track's tail quieter than this (RMS of 20 ms) is cut. */
const TAIL_RMS = 30;
/** Peak level of rendered music: below speech, as a speaker plays music quieter than Alexa's voice. */
const PEAK = 0.5 * 32767;

/** Track `index` as 16 kHz mono PCM, rendered by fluidsynth at first use. */
export function trackPcm(index: number): Promise<Int16Array> {
  const track = TRACKS[index];
  if (!track) return Promise.reject(new RangeError(`no track ${index}: the catalogue has ${TRACKS.length}`));
  let pcm = rendered.get(index);
  if (!pcm) {
    pcm = render(track);
    rendered.set(index, pcm);
    pcm.catch(() => rendered.delete(index));
  }
  return pcm;
}

async function render(track: Track): Promise<Int16Array> {
  const hint = fluidsynthMissingHint();
  if (hint) throw new Error(hint);
  const dir = mkdtempSync(join(tmpdir(), 'ais-music-'));
  try {
    writeFileSync(join(dir, 'track.mid'), midiFile(compose(track), track.bpm));
    // -n -i: no MIDI input, no shell; -F: render to a file as fast as it can; raw signed 16-bit stereo.
    await run(FLUIDSYNTH, ['-n', '-i', '-q', '-r', String(SAMPLE_RATE), '-T', 'raw', '-O', 's16', '-E', 'little', '-F', join(dir, 'track.raw'), SOUNDFONT, join(dir, 'track.mid')]);
    const raw = readFileSync(join(dir, 'track.raw'));
    const stereo = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
    const mono = new Int16Array(stereo.length >> 1);
    let peak = 1;
    for (let i = 0; i < mono.length; i++) peak = Math.max(peak, Math.abs(stereo[2 * i]! + stereo[2 * i + 1]!) / 2);
    const gain = PEAK / peak;
    for (let i = 0; i < mono.length; i++) mono[i] = Math.round(((stereo[2 * i]! + stereo[2 * i + 1]!) / 2) * gain);
    // fluidsynth renders until the last voice has died away: seconds of near silence a track need not stream.
    let end = mono.length;
    while (end > FRAME_SAMPLES && rms(mono, end - FRAME_SAMPLES, end) < TAIL_RMS) end -= FRAME_SAMPLES;
    if (end < SAMPLE_RATE) throw new Error(`fluidsynth rendered ${end} audible samples of "${track.title}"`);
    return mono.slice(0, end);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Track `index` as CBR Opus frames (20 ms) at `bitsPerSecond`, the speaker's declared bitrate. */
export function trackFrames(index: number, bitsPerSecond: number): Promise<Uint8Array[]> {
  const key = `${index}@${bitsPerSecond}`;
  let frames = encoded.get(key);
  if (!frames) {
    frames = trackPcm(index).then((pcm) => encodeSpeakerFrames(pcm, { bitrate: bitsPerSecond, signal: 'music' }).frames);
    encoded.set(key, frames);
    frames.catch(() => encoded.delete(key));
  }
  return frames;
}

/** The playlist for a genre (the whole catalogue when none): indices into TRACKS. */
export function playlist(genre?: Genre): number[] {
  return TRACKS.flatMap((t, i) => (genre === undefined || t.genre === genre ? [i] : []));
}
