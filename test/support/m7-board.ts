// The device image booted on QEMU with its co-processor link to a bridge (hosts/cortex-m/bridge.ts) on a Unix
// socket, its log gathered line by line and its user codes approved by the emulator as they come: for
// test/cortex-m/device-link.test.ts, bench/cortex-m-link.ts and bench/cortex-m-ram.ts. Needs `npm run build` and the device image
// (prepareImageDevice in hosts/cortex-m/device-launch.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Bridge, listenForBoard } from '../../hosts/cortex-m/bridge.js';
import type { Cloud } from '../../emulator/cloud.js';
import { fromRoot } from './paths.js';
import { until } from './wait.js';

export interface M7Board {
  bridge: Bridge;
  /** The image's UART0 lines, the bridge's log lines (`bridge: …`) and QEMU's stderr (`qemu: …`). */
  lines: string[];
  /** performance.now() when each of `lines` came, on the clock of the bridge's playedAtMs. */
  linesAtMs: number[];
  child: ChildProcess;
  exited(): boolean;
  /** Kills QEMU if it still runs, stops the bridge, removes the socket. */
  close(): Promise<void>;
}

/** Waits until `done()`; fails with the image's last lines when it times out or the image exits first (for the benches). */
export async function waitOnBoard(board: M7Board, what: string, done: () => boolean, ms: number): Promise<void> {
  const tail = () => board.lines.slice(-20).join('\n');
  await until(what, () => done() || board.exited(), ms).catch((error) => { throw new Error(`${(error as Error).message}\n${tail()}`); });
  if (!done()) throw new Error(`the image exited while waiting for ${what}\n${tail()}`);
}

/** The benches' offline alert: the cloud sets a 10 s timer, the image stores it, the network goes, the image rings it
 * with its local tone (3 s with the benches' cloud) and stops. */
export async function ringTimerOffline(board: M7Board, cloud: Cloud, clientId: string, context = ''): Promise<void> {
  cloud.alerts.set(clientId, 'TIMER', cloud.alerts.nowSeconds() + 10, 'ten seconds');
  await waitOnBoard(board, `${context}the timer stored`, () => cloud.alerts.list(clientId)[0]?.confirmed === true, 120_000);
  board.bridge.cutNetwork();
  await waitOnBoard(board, `${context}the local tone over`, () => board.lines.some((l) => l.includes('rang its 3000 ms; stopped')), 120_000);
}

interface Launch { spawnImageDevice(options: { link: string; icount?: boolean }): ChildProcess }

/** `icount`: QEMU counts instructions (-icount shift=0), so the link's stage timers read instructions. */
export async function bootM7Board(cloud: Cloud, config: unknown, { icount = false } = {}): Promise<M7Board> {
  const launch = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'device-launch.mjs')).href) as Launch;
  const dir = mkdtempSync(join(tmpdir(), 'ais-m7-link-'));
  const path = join(dir, 'uart1.sock');
  const { server, board } = listenForBoard(path);
  const lines: string[] = [];
  const linesAtMs: number[] = [];
  const push = (line: string) => {
    lines.push(line);
    linesAtMs.push(performance.now());
  };
  const bridge = new Bridge({ config, log: push, microphone: 'link' });
  const child = launch.spawnImageDevice({ link: `unix:${path}`, icount });
  let exited = false;
  child.on('exit', () => { exited = true; });
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const parts = (rest + text).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      push(line);
      const code = /enter the code (\S+)$/.exec(line);
      if (code) cloud.lwa.approve(code[1]);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => push(`qemu: ${text.trim()}`));
  const close = async () => {
    if (!exited) child.kill('SIGKILL');
    bridge.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  bridge.serve(await board);
  return { bridge, lines, linesAtMs, child, exited: () => exited, close };
}
