// Builds and boots the device application image (hosts/cortex-m/device.ts) with its co-processor link on a Unix
// socket: `prepareImageDevice()` precompiles the device's module graph and links build/cortex-m/device.elf;
// `spawnImageDevice({ link })` boots it on QEMU with UART0 on stdout (the log) and UART1 on `link` (a chardev
// such as unix:<path>, where hosts/cortex-m/bridge.ts listens). Needs `npm run build` first.
import { spawn } from 'node:child_process';
import { getPriority } from 'node:os';
import { firmwareToolchain, imageReport, link, precompile } from './build.mjs';
import { qemuArgs } from './qemu.mjs';
import { buildXsrun, root } from '../xs/build.mjs';

export const DEVICE_IMAGE_ENTRY = 'build/hosts/cortex-m/device.js';
// The JS stack the device needs under the portable crypto (hosts/xs/device-launch.mjs's).
export const DEVICE_IMAGE_MACHINE = ['--stack', '1024'];

// The device's RAM_SIZE: a whole session (link, register, connect, two turns, a timer rung offline, the front end on)
// passed at 784 KB with 5.6 KB of heap to spare and failed at 768 KB (memory full); since MQTT went to mutual TLS with
// the issued certificate and the error tone joined, 800 KB left 3.2 KB and failed a loaded run as the link opened the
// MQTT socket, so 832 KB: a session that grows past it fails test/cortex-m/device-link.test.ts (docs/firmware.md).
export const DEVICE_IMAGE_RAM_SIZE = 832 * 1024;

// The device's C stack: a session's deepest is 20.3 KB (libopus's encoder keeps its scratch on the stack), so 24 KB
// rather than the self-tests' 32 KB; the board's exit line gives the peak, and an overflow faults at the guard.
export const DEVICE_IMAGE_STACK_SIZE = 24 * 1024;

/** Builds build/cortex-m/device.elf; resolves to { elf, report (imageReport), bundle }. */
export async function prepareImageDevice({ ramSize = DEVICE_IMAGE_RAM_SIZE, stackSize = DEVICE_IMAGE_STACK_SIZE, quiet = true } = {}) {
  const tools = firmwareToolchain({ qemu: false });
  if (tools.missing) throw new Error(`cannot build the firmware: ${tools.missing}`);
  await buildXsrun({ quiet: true });
  const bundle = precompile('device', [DEVICE_IMAGE_ENTRY]);
  const image = await link({ name: 'device', bundleC: bundle.bundleC, ramSize, stackSize, quiet });
  return { ...image, bundle, report: imageReport(image.elf, bundle.bundleC.replace(/\.c$/, '.o')) };
}

/** Boots the device image; stdout is UART0 (log lines, image-* reports), `link` the chardev of UART1. */
export function spawnImageDevice({ elf = 'build/cortex-m/device.elf', link: chardev, logLevel = 'info', icount = false }) {
  const args = ['--embedded', ...DEVICE_IMAGE_MACHINE, DEVICE_IMAGE_ENTRY, logLevel];
  // Niceness 10, as the project runs heavy jobs, not 10 more than the caller's: under `nice -n 10 node …` QEMU ran at
  // 19, with a seventh of the CPU weight of every other job at 10, and the link's speaker window ran dry.
  const niceness = Math.max(0, 10 - getPriority());
  return spawn('nice', ['-n', String(niceness), 'qemu-system-arm', ...qemuArgs(elf, args, { icount, link: chardev })], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}
