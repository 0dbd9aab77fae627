// `npm run device -- --host cortex-m`: the device image (hosts/cortex-m/device.ts) built and booted on QEMU's
// mps2-an500 (Cortex-M7), its co-processor link on a Unix socket to the bridge (hosts/cortex-m/bridge.ts) in this
// process, which opens the connections to the cloud, hands the image its provisioning record and is its
// microphone and speaker. The image's log (UART0) goes to stdout a line per event, the bridge's as `bridge: …`.
// --say taps and says each WAV in turn over the link once the image is ready and the previous answer played (a turn
// the network cuts is reported by the image, the rest of its file dropped, and the next file waits for ready); --out
// writes what the bridge's speaker played when the image stops. Keys live in the image's RAM (QEMU gives it no
// writable flash), so every boot links again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { DeviceConfig } from '../../src/app/device.js';
import type { Logger } from '../../src/ports/log.js';
import { Bridge, listenForBoard } from '../cortex-m/bridge.js';
import { readWav, writeWav } from './wav.js';

interface FirmwareLauncher {
  prepareImageDevice(options?: { quiet?: boolean }): Promise<{ elf: string; seconds: number; compiled: number }>;
  spawnImageDevice(options: { link: string; logLevel?: string }): ChildProcess;
}
interface FirmwareBuild { firmwareToolchain(): { missing?: string } }

const cortexM = (file: string) => pathToFileURL(fileURLToPath(new URL(`../../../hosts/cortex-m/${file}`, import.meta.url))).href;

export interface CortexMOptions {
  config: DeviceConfig;
  /** WAV files said one turn each, and the WAV the speaker is written to on exit. */
  say: string[];
  out?: string;
  logLevel: string;
  log: Logger;
}

/** Builds and boots the image; resolves to its exit status once QEMU ends (a signal ends it cleanly first). */
export async function runCortexMDevice({ config, say, out, logLevel, log }: CortexMOptions): Promise<number> {
  const { firmwareToolchain } = await import(cortexM('build.mjs')) as FirmwareBuild;
  const { missing } = firmwareToolchain();
  if (missing) {
    log.error(`--host cortex-m needs the firmware toolchain: ${missing}`);
    return 2;
  }
  const launch = await import(cortexM('device-launch.mjs')) as FirmwareLauncher;
  log.info('building the device image for the Cortex-M7 (about 50 s the first time; make prints each file it compiles)');
  const image = await launch.prepareImageDevice({ quiet: false });
  log.info(`built ${image.elf} (${image.compiled} files compiled, ${image.seconds.toFixed(0)} s); booting it on QEMU mps2-an500`);

  const dir = mkdtempSync(join(tmpdir(), 'ais-cortex-m-'));
  const path = join(dir, 'uart1.sock');
  const { server, board } = listenForBoard(path);
  const bridge = new Bridge({ config, log: (line) => console.log(line), microphone: 'link' });
  const child = launch.spawnImageDevice({ link: `unix:${path}`, logLevel });
  const next = () => {
    const wav = say.shift();
    if (!wav) return;
    bridge.event('button tap');
    bridge.say(readWav(wav));
  };
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      // image-memory, image-turn, image-report: JSON figures for the tests and the bench, not events.
      if (!line.startsWith('image-')) console.log(line);
      // A failed turn (the core's one line): the rest of its file is not said; the next file waits for ready.
      if (line.includes('[device] turn failed:')) log.warn(`turn failed; the rest of its file (${(bridge.abandon() / 16000).toFixed(1)} s) dropped, not retried`);
      if (line.endsWith('[device] state ready') || line.includes('speaker: closed at')) next();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { for (const line of text.trim().split('\n')) console.error(`qemu: ${line}`); });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  // A signal asks the image to end (its exit line follows); QEMU goes if it does not within 5 s.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      bridge.event('exit');
      setTimeout(() => child.kill(), 5000).unref();
    });
  }
  const connection = await Promise.race([board, exited.then(() => undefined)]);
  if (connection) bridge.serve(connection);
  const code = await exited;
  bridge.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
  if (out) {
    writeWav(out, bridge.samples());
    log.info(`the speaker's ${bridge.played.length} frames written to ${out}`);
  }
  return code;
}
