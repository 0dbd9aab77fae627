// Builds and boots the device application image (hosts/cortex-m/device.ts) with its co-processor link on a Unix
// socket: `prepareImageDevice()` precompiles the device's module graph and links build/cortex-m/device.elf;
// `spawnImageDevice({ link })` boots it on QEMU with UART0 on stdout (the log) and UART1 on `link` (a chardev
// such as unix:<path>, where hosts/cortex-m/bridge.ts listens). Needs `npm run build` first.
import { spawn, spawnSync } from 'node:child_process';
import { statSync, truncateSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { firmwareToolchain, imageReport, link, precompile } from './build.mjs';
import { boot, qemuArgs } from './qemu.mjs';
import { buildXsrun, root } from '../xs/build.mjs';

export const DEVICE_IMAGE_ENTRY = 'build/hosts/cortex-m/device.js';
// The JS stack the device needs under the portable crypto (hosts/xs/device-launch.mjs's).
export const DEVICE_IMAGE_MACHINE = ['--stack', '1024'];
// XS's chunks at boot: one block that holds the session's buffers, so that after a compaction a large ArrayBuffer
// finds its room. In 8 KB steps from 16 KB, as xsrun's default, the blocks came from malloc wherever it had room and
// a buffer larger than the free end of each found none: XS grew the chunks to 248 KB for the 128 KB it held live.
export const DEVICE_IMAGE_CHUNKS = ['--chunks', '131072,8192'];

// The device's RAM_SIZE: a whole session (link, register, connect, two turns, a timer rung offline, the front end on).
// With the XS machine prepared in flash (prepareMachine) it holds in 512 KB and ran out of memory at 448 KB as it
// registered (it needed 784 to 832 KB with the machine built in RAM): a session that grows past it fails
// test/cortex-m/device-link.test.js (docs/firmware.md).
export const DEVICE_IMAGE_RAM_SIZE = 512 * 1024;

// The device's C stack: a session's deepest is 20.3 KB (libopus's encoder keeps its scratch on the stack), so 24 KB
// rather than the self-tests' 32 KB; the board's exit line gives the peak, and an overflow faults at the guard.
export const DEVICE_IMAGE_STACK_SIZE = 24 * 1024;

/** Builds build/cortex-m/device.elf; resolves to { elf, report (imageReport), bundle }. */
export async function prepareImageDevice({ ramSize = DEVICE_IMAGE_RAM_SIZE, stackSize = DEVICE_IMAGE_STACK_SIZE, quiet = true } = {}) {
  const tools = firmwareToolchain({ qemu: false });
  if (tools.missing) throw new Error(`cannot build the firmware: ${tools.missing}`);
  await buildXsrun({ quiet: true });
  const bundle = precompile('device', [DEVICE_IMAGE_ENTRY], { nodeTest: false });
  const image = await link({ name: 'device', bundleC: bundle.bundleC, ramSize, stackSize, quiet });
  const prepared = await prepareMachine(image.elf, DEVICE_IMAGE_ENTRY, DEVICE_IMAGE_MACHINE);
  return { ...image, bundle, prepared, report: imageReport(image.elf, bundle.bundleC.replace(/\.c$/, '.o')) };
}

/**
 * Prepares an image's XS machine in flash (hosts/cortex-m/prepared.c): boots `elf` in QEMU with `--prepare`, which
 * loads every module of its bundle but `entry` and the prelude into the image's .xsprep region and writes it to the
 * host, then puts those bytes into the same ELF. `machine`: the creation options of the image's runs. Resolves to
 * { bytes } (the prepared machine's size) or rejects with the run's output.
 */
export async function prepareMachine(elf, entry, machine = []) {
  const file = elf.replace(/\.elf$/, '.prepared');
  const run = await boot(elf, ['--prepare', file, '--embedded', ...machine, entry], { timeoutMs: 120_000 });
  if (run.code !== 0) throw new Error(`preparing the XS machine of ${elf} failed (exit ${run.code}):\n${run.output}${run.stderr}`);
  const bytes = statSync(join(root, file)).size;
  const section = spawnSync('arm-none-eabi-objdump', ['-h', elf], { cwd: root, encoding: 'utf8' }).stdout.match(/\.xsprep\s+([0-9a-f]+)/);
  if (!section) throw new Error(`${elf} has no .xsprep section`);
  const room = parseInt(section[1], 16);
  if (bytes > room) throw new Error(`the prepared XS machine (${bytes} B) does not fit the image's ${room} B of .xsprep`);
  // Padded to the section's size, so that objcopy changes its bytes and nothing else of the image.
  truncateSync(join(root, file), room);
  const patched = spawnSync('arm-none-eabi-objcopy', ['--update-section', `.xsprep=${file}`, elf], { cwd: root, encoding: 'utf8' });
  if (patched.status !== 0) throw new Error(`objcopy could not write the prepared machine into ${elf}: ${patched.stderr}`);
  return { bytes };
}

/** Boots the device image; stdout is UART0 (log lines, image-* reports), `link` the chardev of UART1. */
export function spawnImageDevice({ elf = 'build/cortex-m/device.elf', link: chardev, logLevel = 'info', icount = false }) {
  const args = ['--embedded', ...DEVICE_IMAGE_MACHINE, ...DEVICE_IMAGE_CHUNKS, DEVICE_IMAGE_ENTRY, logLevel];
  // Niceness 10, as the project runs heavy jobs, not 10 more than the caller's: under `nice -n 10 node …` QEMU ran at
  // 19, with a seventh of the CPU weight of every other job at 10, and the link's speaker window ran dry.
  const niceness = Math.max(0, 10 - getPriority());
  return spawn('nice', ['-n', String(niceness), 'qemu-system-arm', ...qemuArgs(elf, args, { icount, link: chardev })], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}
