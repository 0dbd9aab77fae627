// What the user says about music and what the assistant answers: the words of the music intents (they join the
// recogniser's grammar through PHRASES) and the action each asks of the service's music player
// (emulator/ais/music-player.ts). Alexa says the track she starts; the transport commands are silent.
import { GENRES, playlist, TRACKS, type Genre } from './music.js';

export type MusicIntent = 'playMusic' | 'nextTrack' | 'previousTrack' | 'pauseMusic' | 'resumeMusic';
export type MusicCommand = 'play' | 'next' | 'previous' | 'pause' | 'resume' | 'stop';

export interface MusicAction { kind: 'music'; command: MusicCommand; genre?: Genre }

/** `<genre>` stands for one of GENRES. Few variants, as for the alert commands (docs/voice.md). */
export const MUSIC_PHRASES: Readonly<Record<MusicIntent, readonly string[]>> = {
  playMusic: ['play some music', 'play <genre>', 'play <genre> music'],
  nextTrack: ['next song', 'skip this song'],
  previousTrack: ['previous song', 'go back a song'],
  pauseMusic: ['pause', 'pause the music'],
  resumeMusic: ['resume', 'resume the music'],
};

export const MUSIC_SLOTS: Readonly<Record<string, string>> = { '<genre>': 'jazz' };

/** The music intent of normalised words, or undefined. */
export function classifyMusic(words: readonly string[]): MusicIntent | undefined {
  const has = (...w: string[]) => w.some((x) => words.includes(x));
  if (has('pause')) return 'pauseMusic';
  if (has('resume', 'unpause')) return 'resumeMusic';
  if (has('next', 'skip')) return 'nextTrack';
  if (has('previous') || (has('back') && has('song', 'track'))) return 'previousTrack';
  if (has('play') && (has('music', 'song', 'songs') || GENRES.some((g) => words.includes(g)))) return 'playMusic';
  return undefined;
}

/** The answer to a music intent: what Alexa says and the player's action. */
export function musicAnswer(intent: MusicIntent, words: readonly string[]): { text: string; actions: MusicAction[] } {
  switch (intent) {
    case 'playMusic': {
      const genre = GENRES.find((g) => words.includes(g));
      const first = TRACKS[playlist(genre)[0]!]!;
      return { text: `Playing ${genre ?? 'music'}: ${first.title}, by ${first.artist}.`, actions: [{ kind: 'music', command: 'play', ...(genre ? { genre } : {}) }] };
    }
    case 'nextTrack': return { text: '', actions: [{ kind: 'music', command: 'next' }] };
    case 'previousTrack': return { text: '', actions: [{ kind: 'music', command: 'previous' }] };
    case 'pauseMusic': return { text: '', actions: [{ kind: 'music', command: 'pause' }] };
    case 'resumeMusic': return { text: '', actions: [{ kind: 'music', command: 'resume' }] };
  }
}
