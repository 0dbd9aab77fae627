// Music by cloud mixing (docs/emulator.md, Music): per device, what plays and where, kept in the cloud across
// reconnects; the tracks of emulator/voice/music.ts encoded at the device's declared speaker bitrate and streamed
// by the voice sessions (voice-session.ts playMusic) into the one speaker channel at real time.
//
//   "play some music" / "play jazz"      the playlist from its first track, after Alexa names it
//   "next song" / "previous song"        the next / previous track of the playlist, from its start
//   "pause" / "resume"                   stops where it was played to / goes on from there
//   "stop"                               stops (a "stop" that ends an alert ringing over the music does not)
//   ButtonCommandIssued PLAY / PAUSE / NEXT / PREVIOUS / STOP (AVS PlaybackController's buttons; §4.5)
//   a question, an answer or an alert    cuts the stream where the device had played to; it goes on once the
//                                        speaker is free and no turn is open (VoiceSessions onIdle)
//   the device reconnects                it goes on from where it was
import type { Logger } from '../../src/ports/log.js';
import type { AssistantAction } from '../voice/assistant.js';
import { playlist, trackFrames, TRACKS, type Genre } from '../voice/music.js';
import type { AisMessage, AisServiceOptions } from './service.js';
import type { MusicCut } from './voice-session.js';

/** What plays on a device, for its card (TemplateRuntime's NowPlaying, in short). */
export interface NowPlaying {
  title: string;
  artist: string;
  genre: Genre;
  state: 'PLAYING' | 'PAUSED';
  /** Audio goes out now; false while PLAYING music waits for Alexa to finish speaking or ringing, or for the device. */
  streaming: boolean;
  /** Where playback is (or stopped) in the track. */
  positionMs: number;
  durationMs: number;
}

/** What the player needs of the voice sessions. */
export interface MusicSpeaker {
  playMusic(clientId: string, frames: Uint8Array[], onEnd: (played: number, cutBy: MusicCut | undefined) => void): boolean;
  stopMusic(clientId: string): void;
  isIdle(clientId: string): boolean;
  /** The bitrate the device declared for its speaker. */
  speakerBitsPerSecond(clientId: string): number;
}

export interface MusicPlayerOptions {
  log: Logger;
  /** The now-playing fact changed (undefined: nothing plays or is paused). */
  onNowPlaying?(clientId: string, nowPlaying: NowPlaying | undefined): void;
}

interface DeviceMusic {
  tracks: number[];
  /** Index into tracks. */
  at: number;
  /** Frames of the track played. */
  position: number;
  state: 'playing' | 'paused';
  /** The stream going out now, and the position it started from. */
  streaming?: { from: number; frames: number };
  /** Frames of the current track (known once encoded). */
  length: number;
  /** An alert cut the music: the "stop" that follows is the alert's. */
  cutByAlert: boolean;
  /** Counts changes: a stream's end that belongs to an older one is ignored. */
  version: number;
}

export class MusicPlayer {
  private readonly devices = new Map<string, DeviceMusic>();
  private speaker: MusicSpeaker | undefined;

  constructor(private readonly options: MusicPlayerOptions) {}

  attach(speaker: MusicSpeaker): void {
    this.speaker = speaker;
  }

  /** The service options this module handles, over the given ones (which it chains to, and passes on). */
  serviceHooks<T extends Pick<AisServiceOptions, 'onEvent' | 'onDeviceReady'>>(chain: T) {
    return {
      ...chain,
      onEvent: (clientId: string, event: AisMessage) => {
        chain.onEvent?.(clientId, event);
        if (event.header.name === 'ButtonCommandIssued') this.button(clientId, String(event.payload?.command));
      },
      onDeviceReady: (clientId: string) => {
        chain.onDeviceReady?.(clientId);
        this.idle(clientId);
      },
    };
  }

  /** What plays on the device, for a card; undefined when nothing plays or is paused. */
  nowPlaying(clientId: string): NowPlaying | undefined {
    const m = this.devices.get(clientId);
    if (!m) return undefined;
    const track = TRACKS[m.tracks[m.at]!]!;
    return { title: track.title, artist: track.artist, genre: track.genre, state: m.state === 'playing' ? 'PLAYING' : 'PAUSED', streaming: m.streaming !== undefined && m.streaming.frames > 0, positionMs: m.position * 20, durationMs: m.length * 20 };
  }

  /** An answer's actions: the music ones. */
  actions(clientId: string, actions: readonly AssistantAction[]): void {
    for (const a of actions) {
      if (a.kind === 'music') this.command(clientId, a.command, a.genre);
      else if (a.kind === 'stopAlert') {
        const m = this.devices.get(clientId);
        if (m?.cutByAlert) m.cutByAlert = false; // it stopped the alert; the music goes on
        else this.command(clientId, 'stop');
      }
    }
  }

  /** The speaker is free: music that should play starts. */
  idle(clientId: string): void {
    const m = this.devices.get(clientId);
    if (!m || m.state !== 'playing' || m.streaming || !this.speaker?.isIdle(clientId)) return;
    const version = m.version;
    const index = m.tracks[m.at]!;
    const bitrate = this.speaker.speakerBitsPerSecond(clientId);
    m.streaming = { from: m.position, frames: 0 };
    trackFrames(index, bitrate).then((frames) => {
      if (m.version !== version || m.state !== 'playing' || this.devices.get(clientId) !== m) {
        if (m.version === version) m.streaming = undefined;
        return;
      }
      m.length = frames.length;
      if (m.position >= frames.length) m.position = 0;
      const from = m.position;
      const rest = frames.slice(from);
      m.streaming = { from, frames: rest.length };
      const started = this.speaker!.playMusic(clientId, rest, (played, cutBy) => this.streamEnded(clientId, m, version, from, rest.length, played, cutBy));
      if (!started) {
        m.streaming = undefined;
        return;
      }
      m.cutByAlert = false;
      // The next track renders while this one plays (fluidsynth takes a second or two).
      void trackFrames(m.tracks[(m.at + 1) % m.tracks.length]!, bitrate).catch(() => undefined);
      this.options.log.info(`${clientId}: music: "${TRACKS[index]!.title}" from ${(from / 50).toFixed(1)} s at ${bitrate / 1000} kbit/s`);
      this.changed(clientId);
    }, (error: Error) => {
      m.streaming = undefined;
      m.state = 'paused';
      this.options.log.error(`${clientId}: music: ${error.message}`);
      this.changed(clientId);
    });
  }

  private streamEnded(clientId: string, m: DeviceMusic, version: number, from: number, frames: number, played: number, cutBy: MusicCut | undefined): void {
    if (m.version !== version) return;
    m.streaming = undefined;
    m.position = from + Math.min(played, frames);
    if (cutBy === 'alert') m.cutByAlert = true;
    if (played >= frames) {
      // The track was sent to its end: the next follows at once (the device still plays the last of it).
      m.at = (m.at + 1) % m.tracks.length;
      m.position = 0;
      m.version++;
    } else {
      this.options.log.info(`${clientId}: music cut (${cutBy ?? 'ended'}) at ${(m.position / 50).toFixed(1)} s`);
    }
    this.changed(clientId);
    if (played >= frames && this.devices.get(clientId) === m) this.idle(clientId);
  }

  private button(clientId: string, command: string): void {
    const known: Record<string, 'play' | 'pause' | 'next' | 'previous' | 'stop'> = { PLAY: 'play', PAUSE: 'pause', NEXT: 'next', PREVIOUS: 'previous', STOP: 'stop' };
    const c = known[command];
    if (!c) return this.options.log.warn(`${clientId}: ButtonCommandIssued ${JSON.stringify(command)} is not PLAY, PAUSE, NEXT, PREVIOUS or STOP; ignored`);
    // STOP is the action button's: it stops an alert ringing over the music before the music (as "stop" does).
    if (c === 'stop') return this.actions(clientId, [{ kind: 'stopAlert' }]);
    // PLAY on a paused player resumes it, as AVS PlaybackController's PlayCommandIssued does; with nothing, it starts.
    this.command(clientId, c === 'play' && this.devices.has(clientId) ? 'resume' : c);
  }

  private command(clientId: string, command: 'play' | 'next' | 'previous' | 'pause' | 'resume' | 'stop', genre?: Genre): void {
    let m = this.devices.get(clientId);
    if (command === 'play') {
      if (m) m.version++; // where the old playlist was cut does not matter
      this.speaker?.stopMusic(clientId);
      m = { tracks: playlist(genre), at: 0, position: 0, state: 'playing', length: 0, cutByAlert: false, version: (m?.version ?? 0) + 1 };
      this.devices.set(clientId, m);
    } else if (!m) {
      return this.options.log.info(`${clientId}: music: ${command} with nothing playing; ignored`);
    } else {
      // The stream now going out ends here; its end records where it was played to.
      this.speaker?.stopMusic(clientId);
      m.version++;
      m.streaming = undefined;
      if (command === 'stop') {
        this.devices.delete(clientId);
        this.options.log.info(`${clientId}: music stopped`);
        return this.changed(clientId);
      }
      if (command === 'next' || command === 'previous') {
        m.at = (m.at + (command === 'next' ? 1 : m.tracks.length - 1)) % m.tracks.length;
        m.position = 0;
        m.state = 'playing';
      } else {
        m.state = command === 'pause' ? 'paused' : 'playing';
      }
    }
    this.options.log.info(`${clientId}: music ${command}: "${TRACKS[m.tracks[m.at]!]!.title}" ${m.state} at ${(m.position / 50).toFixed(1)} s`);
    // Rendered while Alexa names it, so the music follows her at once.
    if (this.speaker) void trackFrames(m.tracks[m.at]!, this.speaker.speakerBitsPerSecond(clientId)).catch(() => undefined);
    this.changed(clientId);
    this.idle(clientId);
  }

  private changed(clientId: string): void {
    this.options.onNowPlaying?.(clientId, this.nowPlaying(clientId));
  }
}
