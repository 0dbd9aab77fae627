// Every port of a Moddable-shaped host in one place (xsrun here, a Moddable SDK build on a board): sockets,
// timers and files through the ECMA-419 modules, HTTP over the socket port (src/http/client.ts).
// What stays the board's: the random source (a TRNG; Moddable's `rng` module is RC4 seeded from rand(), not
// for keys), the log sink, the crypto implementation (the portable JS one by default; a native AES-GCM drops
// in through `crypto`), and the audio ports with Opus (DevicePorts.audio), which need natives of their own.
import type { DevicePorts } from '../../src/app/device.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { createSocketHttpClient } from '../../src/http/client.js';
import type { Crypto } from '../../src/ports/crypto.js';
import type { Logger } from '../../src/ports/log.js';
import { moddableClock } from './clock.js';
import { moddableSocket } from './socket.js';
import { openFilesStorage } from './storage.js';

export interface ModdablePortsOptions {
  /** Folder of the key-value store, below the files root. */
  dataDir: string;
  log: Logger;
  /** Fills `out` with bytes from a cryptographically secure source. */
  random(out: Uint8Array): void;
  /** Replaces the portable crypto (e.g. with a native AES-GCM). */
  crypto?: Crypto;
  audio?: DevicePorts['audio'];
}

export function moddablePorts(options: ModdablePortsOptions): DevicePorts {
  return {
    clock: moddableClock,
    log: options.log,
    crypto: options.crypto ?? createPortableCrypto(options.random),
    storage: openFilesStorage(options.dataDir),
    http: createSocketHttpClient(moddableSocket, moddableClock),
    socket: moddableSocket,
    audio: options.audio,
  };
}
