// A session of the device image over its co-processor link, for the link's figures in docs/figures/firmware.md
// (bench/cortex-m-figures.ts): under QEMU -icount shift=0 the image links, registers and connects through
// hosts/cortex-m/bridge.ts against the emulator (HTTPS and MQTT frames), the bridge's microphone sends its 20 ms
// frames, the cloud sets a timer, the network is cut and the image rings it with its local tone (speaker frames
// out, AUDIO_PLAYED in). Then `report` gives the image's link counters (xsrun.io.linkStats() in netlink.c): SysTick
// counts, 40 instructions each under -icount shift=0, in the UART1 RX interrupt and, per frame kind, in parsing
// (CRC and copy into the channel) and in sending (CRC and the UART writes). No pocketsphinx: nothing is spoken.
import { pathToFileURL } from 'node:url';
import type { BridgeStats } from '../hosts/cortex-m/bridge.js';
import { deviceConfigFor, startCloud } from '../emulator/cloud.js';
import { bootM7Board, ringTimerOffline, waitOnBoard } from '../test/support/m7-board.js';
import { fromRoot } from '../test/support/paths.js';

export type LinkCounters = Record<string, number>;

/** Runs the session; resolves to the image's link counters and the bridge's, and the wall time it took. */
export async function linkSession(log: (line: string) => void = () => {}): Promise<{ link: LinkCounters; bridge: BridgeStats; ms: number }> {
  const launch = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'device-launch.mjs')).href) as { prepareImageDevice(): Promise<unknown> };
  await launch.prepareImageDevice();
  const started = performance.now();
  const cloud = await startCloud({ pollIntervalMs: 100, alerts: { durationMs: 3000 } });
  const clientId = 'm7-bench';
  const board = await bootM7Board(cloud, deviceConfigFor(cloud, clientId), { icount: true });
  const { lines } = board;
  const wait = (what: string, done: () => boolean, ms: number) => waitOnBoard(board, `link session: ${what}`, done, ms);
  try {
    await wait('ready', () => lines.some((l) => l.endsWith('[device] state ready')), 300_000);
    log(`  ready after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    await ringTimerOffline(board, cloud, clientId, 'link session: ');
    board.bridge.event('report');
    await wait('the image report', () => lines.some((l) => l.startsWith('image-report ')), 60_000);
    const report = JSON.parse(lines.find((l) => l.startsWith('image-report '))!.slice('image-report '.length)) as { link: LinkCounters };
    return { link: report.link, bridge: { ...board.bridge.stats }, ms: performance.now() - started };
  } finally {
    await board.close();
    cloud.close();
  }
}
