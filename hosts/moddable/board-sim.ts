// The board of the Moddable simulator (mcconfig -p sim on Linux and macOS): the microphone plays a WAV resource
// (config.audioInWave, 16 kHz mono 16-bit, from hosts/moddable/data; looped unless config.audioInLoop is false) for runs that hear the same thing every time, since mcsim has no
// simulated microphone; the speaker is the host's, through ECMA-419 audio out, or a WAV file (config.audioOutFile, wav-out.ts); random bytes from the host OS.
import AudioOut from 'embedded:io/audio/out';
import Resource from 'Resource';
import config from 'mc/config';
import type { Board } from './board.js';
import type { Clock } from '../../src/ports/clock.js';
import { moddableAudioIn, moddableAudioOut, type AudioInOptions, type AudioOutOptions } from './audio.js';
import { nativeDsp } from './dsp.js';
import { nativeGcm } from './gcm.js';
import { consoleSink } from './log.js';
import { nativeOpusCodec } from './opus-codec.js';
import { trngFill } from './random.js';
import WavAudioIn from './wav-in.js';
import WavAudioOut from './wav-out.js';

export function openBoard(clock: Clock): Board {
  const wave = typeof config.audioInWave === 'string' ? config.audioInWave : 'tone-440.wav';
  const wav = new Resource(wave);
  // mcconfig passes command-line config values as strings: audioInLoop=false plays the WAV once, then silence.
  const loop = config.audioInLoop !== false && config.audioInLoop !== 'false';
  // config.audioOutFile: the speaker writes a WAV there (below config.files), paced as it would play.
  const outFile = typeof config.audioOutFile === 'string' && config.audioOutFile !== '' ? config.audioOutFile : undefined;
  return {
    name: 'simulator',
    random: trngFill,
    log: consoleSink,
    dataDir: 'ais',
    aesGcm: nativeGcm,
    opus: nativeOpusCodec,
    dsp: nativeDsp,
    audio: {
      audioIn: moddableAudioIn(class extends WavAudioIn { constructor(options: AudioInOptions) { super({ ...options, wav, loop }); } }, { clock }),
      audioOut: moddableAudioOut(outFile ? class extends WavAudioOut { constructor(options: AudioOutOptions) { super({ ...options, path: outFile! }); } } : AudioOut, { clock, roomOnlyInCallback: true }),
    },
  };
}
