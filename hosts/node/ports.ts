// Every port of the Node host in one place: what the demo, the device command and the tests hand the core.
import { randomFillSync } from 'node:crypto';
import type { DevicePorts } from '../../src/app/device.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import type { Logger } from '../../src/ports/log.js';
import { NodeClock } from './clock.js';
import { nodeHttpClient } from './http.js';
import { createSocket } from './socket.js';
import { openFolderStorage } from './storage.js';

/** Node host ports with storage in `dataDir` (one file per key) and the portable crypto over Node's CSPRNG. */
export function nodePorts(dataDir: string, log: Logger): DevicePorts {
  return {
    clock: new NodeClock(),
    log,
    crypto: createPortableCrypto((out) => { randomFillSync(out); }),
    storage: openFolderStorage(dataDir),
    http: nodeHttpClient,
    socket: createSocket,
  };
}
