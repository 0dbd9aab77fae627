// XS figures of the device application (npm run bench:xs-device): the device on xsrun (hosts/xs/device.ts,
// MCU creation settings but a 1024-slot JS stack, precompiled bytecode) against the emulator over real sockets.
// Prints the XS heap peak (since the previous phase) and live (after a collection) at each phase (linked,
// registered, connected, ready), collections per second while idle and connected, and the bytecode per module
// of the device bundle; the Node device in the same cloud is the baseline for the time to ready.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device } from '../src/app/device.js';
import { Logger, silentSink } from '../src/ports/log.js';
import { nodePorts } from '../hosts/node/ports.js';
import { prepareXsDevice, spawnXsDevice } from '../hosts/node/xs-launch.js';
import { deviceConfigFor, startCloud } from '../simulator/cloud.js';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

const bytecode = await prepareXsDevice();
const cloud = await startCloud({ pollIntervalMs: 100 });
const dir = mkdtempSync(join(tmpdir(), 'ais-xs-bench-'));
try {
  const started = performance.now();
  const nodeDevice = new Device(nodePorts(join(dir, 'node'), new Logger(silentSink, 'node')), deviceConfigFor(cloud, 'bench-node'), {
    onCode: (pair) => cloud.lwa.approve(pair.userCode),
  });
  nodeDevice.start();
  let nodeReadyMs = 0;
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => { if (nodeDevice.state === 'ready') { nodeReadyMs = performance.now() - started; clearInterval(poll); resolve(); } }, 5);
  });
  nodeDevice.stop();

  const xsStarted = performance.now();
  const child = spawnXsDevice({ config: deviceConfigFor(cloud, 'bench-xs'), dataDir: join(dir, 'xs'), memory: true, logLevel: 'warn' });
  const phases: { name: string; peak: any; live: any }[] = [];
  let xsReadyMs = 0;
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => process.stderr.write(text));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const code = /enter the code (\S+)$/.exec(line);
        if (code) cloud.lwa.approve(code[1]);
        const memory = /^xsrun-memory (\S+) (.*)$/.exec(line);
        if (memory) {
          phases.push({ name: memory[1], ...JSON.parse(memory[2]) });
          if (memory[1] === 'ready') { xsReadyMs = performance.now() - xsStarted; resolve(); }
        }
      }
    });
  });
  const ready = phases[phases.length - 1];
  // Idle and connected (keep-alive only): collections between two of the device's 5 s lines.
  const gc: { ms: number; gcCount: number }[] = [];
  child.stdout.on('data', (text: string) => {
    for (const match of text.matchAll(/^xsrun-gc (.*)$/gm)) gc.push(JSON.parse(match[1]));
  });
  await new Promise<void>((resolve) => { const poll = setInterval(() => { if (gc.length >= 3) { clearInterval(poll); resolve(); } }, 50); });
  child.kill();
  const idleRate = (gc[2].gcCount - gc[0].gcCount) / ((gc[2].ms - gc[0].ms) / 1000);
  console.log(`# XS device figures (x86-64: a slot is ${ready.live.slots.bytes} B here, 16 B on a 32-bit MCU)\n`);
  console.log('| phase | slots live / peak | chunks live / peak | JS stack peak | malloc live / peak | collections so far |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const p of phases) {
    console.log(`| ${p.name} | ${p.live.slots.current} / ${p.peak.slots.peak} | ${kb(p.live.chunks.current)} / ${kb(p.peak.chunks.peak)} | ${p.peak.stack.peak} / ${p.peak.stack.size} | ${kb(p.live.malloc.current)} / ${kb(p.peak.malloc.peak)} | ${p.live.gcCount} |`);
  }
  console.log(`\nIdle and connected: ${idleRate.toFixed(2)} collections per second (${gc[2].gcCount - gc[0].gcCount} in ${((gc[2].ms - gc[0].ms) / 1000).toFixed(1)} s).`);
  console.log(`Time to ready from a blank store (linking approved at once): Node ${nodeReadyMs.toFixed(0)} ms, XS ${xsReadyMs.toFixed(0)} ms (${(xsReadyMs / nodeReadyMs).toFixed(1)}x, xsrun's start included).`);
  console.log('\n| module (device bundle) | code | symbols |\n|---|---:|---:|');
  let total = 0;
  for (const m of [...bytecode].sort((a, b) => b.code - a.code)) {
    total += m.code + m.symbols;
    console.log(`| ${m.key} | ${m.code} | ${m.symbols} |`);
  }
  console.log(`| all ${bytecode.length} modules, code + symbols | ${total} | |`);
} finally {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
}
