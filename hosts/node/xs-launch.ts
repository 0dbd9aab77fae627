// The types of hosts/xs/device-launch.mjs (a Node script of the XS host), for the TypeScript that starts the
// device on xsrun: hosts/node/main.ts (--host xs), test/xs/device.test.ts, bench/xs-device.ts.
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { DeviceConfig } from '../../src/app/device.js';

export interface XsDeviceLauncher {
  /** xsrun's machine options for the device (MCU creation settings, a 1,024-slot JS stack). */
  DEVICE_MACHINE: string[];
  prepareXsDevice(options?: { quiet?: boolean }): Promise<{ key: string; code: number; symbols: number }[]>;
  /** Why xsrun has no TLS socket (libmbedtls-dev missing), or undefined. */
  mbedtlsMissingHint(): string | undefined;
  /** With `voice`: audio in and out (WAV files), `tap` and `say PATH` lines on stdin, the speaker recorded to `voice.out`. */
  spawnXsDevice(options: { config: DeviceConfig; dataDir: string; logLevel?: string; memory?: boolean; machine?: string[]; voice?: { out?: string }; binary?: string }): ChildProcessByStdio<Writable, Readable, Readable>;
}

const launcher = fileURLToPath(new URL('../../../hosts/xs/device-launch.mjs', import.meta.url));
export const { DEVICE_MACHINE, prepareXsDevice, spawnXsDevice, mbedtlsMissingHint } = await import(pathToFileURL(launcher).href) as XsDeviceLauncher;
