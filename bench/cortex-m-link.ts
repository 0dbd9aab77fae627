// A session of the device image over its co-processor link, for the link's figures in docs/figures/firmware.md
// (bench/cortex-m-figures.ts): under QEMU -icount shift=0 the image links, registers and connects through
// hosts/cortex-m/bridge.ts against the emulator (HTTPS and MQTT frames), the bridge's microphone sends its 20 ms
// frames, the cloud sets a timer, the network is cut and the image rings it with its local tone (speaker frames
// out, AUDIO_PLAYED in). Then `report` gives the image's link counters (xsrun.io.linkStats() in netlink.c): SysTick
// counts, 40 instructions each under -icount shift=0, in the UART1 RX interrupt and, per frame kind, in parsing
// (CRC and copy into the channel) and in sending (CRC and the UART writes). No pocketsphinx: nothing is spoken.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Bridge, listenForBoard } from '../hosts/cortex-m/bridge.js';
import { deviceConfigFor, startCloud } from '../simulator/cloud.js';
import { fromRoot } from '../test/support/paths.js';

export type LinkCounters = Record<string, number>;

interface Launch {
  prepareImageDevice(): Promise<unknown>;
  spawnImageDevice(options: { link: string; icount?: boolean }): ChildProcess;
}

/** Runs the session; resolves to the image's link counters and the bridge's, and the wall time it took. */
export async function linkSession(log: (line: string) => void = () => {}): Promise<{ link: LinkCounters; bridge: Bridge['stats']; ms: number }> {
  const launch = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'device-launch.mjs')).href) as Launch;
  await launch.prepareImageDevice();
  const started = performance.now();
  const cloud = await startCloud({ pollIntervalMs: 100, alerts: { durationMs: 3000 } });
  const dir = mkdtempSync(join(tmpdir(), 'ais-m7-bench-'));
  const { server, board } = listenForBoard(join(dir, 'uart1.sock'));
  const clientId = 'm7-bench';
  const lines: string[] = [];
  const bridge = new Bridge({ config: deviceConfigFor(cloud, clientId), log: (line) => lines.push(line), microphone: 'link' });
  const child = launch.spawnImageDevice({ link: `unix:${join(dir, 'uart1.sock')}`, icount: true });
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const parts = (rest + text).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      const code = /enter the code (\S+)$/.exec(line);
      if (code) cloud.lwa.approve(code[1]);
    }
  });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const until = async (what: string, done: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!done()) {
      if (exited || performance.now() > end) throw new Error(`link session: ${exited ? 'the image exited' : 'timed out'} waiting for ${what}\n${lines.slice(-20).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    bridge.serve(await board);
    await until('ready', () => lines.some((l) => l.endsWith('[device] state ready')), 300_000);
    log(`  ready after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    cloud.alerts.set(clientId, 'TIMER', cloud.alerts.nowSeconds() + 10, 'ten seconds');
    await until('the timer stored', () => cloud.alerts.list(clientId)[0]?.confirmed === true, 120_000);
    bridge.cutNetwork();
    await until('the local tone over', () => lines.some((l) => l.includes('rang its 3000 ms; stopped')), 120_000);
    bridge.event('report');
    await until('the image report', () => lines.some((l) => l.startsWith('image-report ')), 60_000);
    const report = JSON.parse(lines.find((l) => l.startsWith('image-report '))!.slice('image-report '.length)) as { link: LinkCounters };
    return { link: report.link, bridge: { ...bridge.stats }, ms: performance.now() - started };
  } finally {
    if (!exited) child.kill('SIGKILL');
    bridge.stop();
    server.close();
    cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
