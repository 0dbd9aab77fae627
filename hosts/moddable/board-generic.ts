// Any other board (Zephyr boards such as an i.MX RT1060/RT106A, Pico, nRF52): network, storage and the
// cloud link; no audio, because the SDK has no ECMA-419 audio in on these platforms (modules/io/audioin
// refuses them). A port adds its own audio drivers in ECMA-419 shape and a board file like board-esp32.ts.
// random.c refuses to compile on a platform it has no random source for.
import type { Board } from './board.js';
import type { Clock } from '../../src/ports/clock.js';
import { nativeGcm } from './gcm.js';
import { consoleSink } from './log.js';
import { trngFill } from './random.js';

export function openBoard(clock: Clock): Board {
  void clock;
  return { name: 'generic', random: trngFill, log: consoleSink, dataDir: 'ais', aesGcm: nativeGcm };
}
