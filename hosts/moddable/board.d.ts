// `hosts/moddable/board`: what differs from board to board in a Moddable SDK build. manifest.json maps this
// specifier to one file per platform (board-sim.ts, board-esp32.ts, board-generic.ts); this
// declaration is what main.ts compiles against, and each of them must match it.
import type { AesGcm } from '../../src/crypto/aes-gcm-contract.js';
import type { AudioInFactory, AudioOutFactory } from '../../src/ports/audio.js';
import type { DspBinding } from '../../src/audio/native-dsp.js';
import type { Clock } from '../../src/ports/clock.js';
import type { LogSink } from '../../src/ports/log.js';
import type { Opus } from '../../src/ports/opus.js';

export interface Board {
  name: string;
  /** Fills `out` from the part's TRNG (never Moddable's `rng`: RC4 seeded from rand()). */
  random(out: Uint8Array): void;
  log: LogSink;
  /** Folder of the key-value store below the files root. */
  dataDir: string;
  /** Microphone and speaker, when the board has both (full duplex: the echo canceller needs the two at once). */
  audio?: { audioIn: AudioInFactory; audioOut: AudioOutFactory };
  /** Opus, native: libopus behind XS in C (opus-codec.ts, docs/moddable.md); voice needs it and `audio`. */
  opus?: Opus;
  /** native/dsp, the echo canceller and wake word behind XS in C (dsp.ts): the front end main.ts gives the voice. */
  dsp?: DspBinding;
  /** AES-GCM, native (gcm.ts, or the part's AES engine); without it the portable JavaScript one. */
  aesGcm?: AesGcm;
}

export function openBoard(clock: Clock): Board;
