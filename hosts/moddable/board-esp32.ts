// An ESP32-S3 board (mcconfig -p esp32/<board>): microphone and speaker through Moddable's ECMA-419 audio
// drivers on I2S (pins from manifest.json's defines.audioIn / defines.audioOut), random bytes from
// esp_fill_random, the store on littlefs. The mic and the speaker must be on separate I2S ports for full
// duplex (the SDK refuses a PDM mic and a PDM speaker on one: "pdm already in use by audioout").
import AudioIn from 'embedded:io/audio/in';
import AudioOut from 'embedded:io/audio/out';
import type { Board } from './board.js';
import type { Clock } from '../../src/ports/clock.js';
import { moddableAudioIn, moddableAudioOut } from './audio.js';
import { nativeDsp } from './dsp.js';
import { nativeGcm } from './gcm.js';
import { consoleSink } from './log.js';
import { nativeOpusCodec } from './opus-codec.js';
import { trngFill } from './random.js';

export function openBoard(clock: Clock): Board {
  return {
    name: 'esp32',
    random: trngFill,
    log: consoleSink,
    dataDir: 'ais',
    aesGcm: nativeGcm,
    opus: nativeOpusCodec,
    dsp: nativeDsp,
    audio: { audioIn: moddableAudioIn(AudioIn, { clock }), audioOut: moddableAudioOut(AudioOut, { clock }) },
  };
}
