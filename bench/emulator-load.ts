// How many devices and concurrent voice turns the emulator holds on this machine, and at what latency. The
// emulator (broker, AIS service, voice) runs in this process; the devices, the real application on the Node host,
// run in a child (bench/load-devices.ts), so the emulator's memory and CPU are its own.
//   connected devices  for each level: devices join (linking, registration, MQTT, SynchronizeState) until that
//                      many are connected; then the emulator's heap and RSS after a GC, its CPU while they idle
//                      (keep-alives), and a fan-out round trip: SetAlertVolume to every device at once, each one's
//                      AlertVolumeChanged back (encrypted both ways, stored on the device), three rounds.
//   voice turns        with the crowd still connected, K devices with audio say "what time is it" at the same
//                      moment; per turn, the emulator's end of speech → first answer message sent, whether it was
//                      understood, and whether the answer played to its end on the device.
// Writes docs/figures/emulator-load.md and .svg. Prints figures; never passes or fails.
// Run: npm run bench:emulator-load [-- --devices 10,100,500,1000,2000 --turns 1,2,4,8,16]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Logger, silentSink } from '../src/ports/log.js';
import { startCloud } from '../emulator/cloud.js';
import { fromRoot } from '../test/support/paths.js';
import { commandLine } from '../hosts/node/command-line.js';

const { values } = commandLine({
  command: 'npm run bench:emulator-load --',
  summary: 'How many devices and concurrent voice turns the emulator holds, and at what latency; writes docs/figures/emulator-load.md and .svg.',
  options: {
    devices: { type: 'string', value: 'N,N,…', help: 'connected-device levels', default: '10,100,500,1000,2000' },
    turns: { type: 'string', value: 'K,K,…', help: 'concurrent voice turns, with the crowd connected', default: '1,2,4,8,16' },
  },
});
const LEVELS = values.devices.split(',').map(Number);
const TURNS = values.turns.split(',').map(Number);
const VOICES = ['us-male', 'us-female', 'gb-male', 'us-klatt'];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:emulator-load does)');

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const volumeBack = new Map<string, { volume: number; atMs: number }>();
const speaker = new Map<string, { endOfSpeechAtMs: number; atMs: number }[]>();
const closed = new Map<string, number>();
const answers = new Map<string, string[]>();
const push = <T>(map: Map<string, T[]>, id: string, v: T) => map.set(id, [...(map.get(id) ?? []), v]);
const cloud = await startCloud({
  pollIntervalMs: 100, log: new Logger(silentSink, 'cloud'), lwaLimits: { codePairsPerMinute: 1_000_000, maxLiveCodePairs: 1_000_000 },
  voice: {
    onSpeakerStart: (id, s) => push(speaker, id, { endOfSpeechAtMs: s.endOfSpeechAtMs, atMs: s.atMs }),
    onAnswer: (id, a) => push(answers, id, a.intent),
  },
  service: {
    onEvent: (id, e) => {
      if (e.header.name === 'AlertVolumeChanged') volumeBack.set(id, { volume: Number(e.payload?.volume), atMs: performance.now() });
      else if (e.header.name === 'SpeakerClosed') closed.set(id, (closed.get(id) ?? 0) + 1);
    },
  },
});
if (!cloud.voice) {
  console.log('emulator-load: pocketsphinx not found; apt-get install pocketsphinx pocketsphinx-en-us');
  process.exit(0);
}
const dataDir = mkdtempSync(join(tmpdir(), 'ais-load-'));
const child = spawn(process.execPath, [fromRoot('build/bench/load-devices.js'), JSON.stringify({ cloud: cloud.httpUrl, mqttPort: cloud.mqttPort, dataDir })],
  { stdio: ['pipe', 'pipe', 'inherit'] });
const ready = new Set<string>();
const stopped: string[] = [];
createInterface({ input: child.stdout! }).on('line', (line) => {
  const m = JSON.parse(line) as { code?: string; ready?: string; stopped?: string; reason?: string };
  if (m.code) cloud.lwa.approve(m.code);
  if (m.ready) ready.add(m.ready);
  if (m.stopped) stopped.push(`${m.stopped}: ${m.reason}`);
});
const command = (c: object) => child.stdin!.write(`${JSON.stringify(c)}\n`);
const synchronized = (id: string) => ready.has(id) && cloud.service.deviceState(id)?.synchronizedState !== undefined;

interface Level { devices: number; joinS: number; heapMb: number; externalMb: number; rssMb: number; heapPerDeviceKb: number; idleCpu: number; rtt: number[]; loopP99: number }
interface Turn { concurrent: number; responseMs: number; understood: boolean; played: boolean }
const levels: Level[] = [];
const turns: Turn[] = [];
try {
  gc();
  const base = process.memoryUsage();
  const ids: string[] = [];
  for (const n of LEVELS) {
    const fresh = Array.from({ length: n - ids.length }, (_, i) => `load-${ids.length + i + 1}`);
    ids.push(...fresh);
    const t0 = performance.now();
    // Batches of 25, as a fleet powers up over a few seconds rather than in one instant.
    for (let i = 0; i < fresh.length; i += 25) {
      command({ add: fresh.slice(i, i + 25) });
      await until(`devices ${i + 1}..${i + 25} connected`, () => fresh.slice(i, i + 25).every(synchronized), 120_000);
    }
    const joinS = (performance.now() - t0) / 1000;
    await sleep(1000);
    gc();
    const memory = process.memoryUsage();
    const cpu0 = process.cpuUsage();
    const idle0 = performance.now();
    await sleep(5000);
    const cpu = process.cpuUsage(cpu0);
    const idleCpu = (cpu.user + cpu.system) / 1000 / (performance.now() - idle0);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const rtt: number[] = [];
    for (let round = 0; round < 3; round++) {
      const volume = 40 + levels.length * 3 + round;
      const sentAt = performance.now();
      for (const id of ids) cloud.service.sendDirectives(id, [{ name: 'SetAlertVolume', payload: { volume } }]);
      await until(`AlertVolumeChanged ${volume} from all ${ids.length}`, () => ids.every((id) => volumeBack.get(id)?.volume === volume), 60_000);
      for (const id of ids) rtt.push(volumeBack.get(id)!.atMs - sentAt);
      await sleep(500);
    }
    loop.disable();
    const level: Level = {
      devices: ids.length, joinS, heapMb: memory.heapUsed / 1048576, externalMb: memory.external / 1048576, rssMb: memory.rss / 1048576,
      heapPerDeviceKb: (memory.heapUsed - base.heapUsed) / 1024 / ids.length, idleCpu, rtt, loopP99: loop.percentile(99) / 1e6,
    };
    levels.push(level);
    console.log(`${ids.length} devices: joined in ${joinS.toFixed(1)} s; emulator heap ${mb(memory.heapUsed)} MB (${level.heapPerDeviceKb.toFixed(0)} KB a device), external ${mb(memory.external)} MB, RSS ${mb(memory.rss)} MB; idle CPU ${(idleCpu * 100).toFixed(1)} % of a core; fan-out round trip p50 ${percentile(rtt, 0.5).toFixed(0)} ms, p95 ${percentile(rtt, 0.95).toFixed(0)} ms, max ${Math.max(...rtt).toFixed(0)} ms; event loop p99 ${level.loopP99.toFixed(1)} ms`);
  }

  const talkers = Array.from({ length: Math.max(...TURNS) }, (_, i) => `talker-${i + 1}`);
  command({ add: talkers, voice: true });
  await until('the talkers connected', () => talkers.every(synchronized), 120_000);
  // A warm-up turn, not reported: the emulator loads its speech engines then.
  await talk([talkers[0]]);
  for (const k of TURNS) {
    const result = await talk(talkers.slice(0, k));
    turns.push(...result);
    const times = result.map((t) => t.responseMs);
    console.log(`${k} concurrent turn${k > 1 ? 's' : ''}: end of speech → answer sent median ${percentile(times, 0.5).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms; understood ${result.filter((t) => t.understood).length}/${k}, played ${result.filter((t) => t.played).length}/${k}`);
  }
} finally {
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** The given devices say "what time is it" at once; each turn's emulator response and outcome. */
async function talk(ids: string[]): Promise<Turn[]> {
  const before = new Map(ids.map((id) => [id, { speaker: speaker.get(id)?.length ?? 0, answers: answers.get(id)?.length ?? 0, closed: closed.get(id) ?? 0 }]));
  ids.forEach((id, i) => command({ say: id, text: 'what time is it', as: VOICES[i % VOICES.length] }));
  const answered = (id: string) => (closed.get(id) ?? 0) > before.get(id)!.closed;
  await until(`${ids.length} answers played`, () => ids.every(answered), 60_000).catch(() => undefined);
  return ids.map((id) => {
    const s = speaker.get(id)?.[before.get(id)!.speaker];
    const a = answers.get(id)?.[before.get(id)!.answers];
    return { concurrent: ids.length, responseMs: s ? s.atMs - s.endOfSpeechAtMs : NaN, understood: a === 'time', played: answered(id) };
  });
}

const load = loadavg()[0].toFixed(1);
const md = `# Emulator load

Measured by bench/emulator-load.ts on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, this machine (2 cores, load average ${load} at the end). The
emulator (broker, AIS service, LWA, registration, voice) runs in one process; the devices, the real application on
the Node host, run in another, so the emulator's figures are its own. They share the machine's two cores.

## Connected devices

Each device links its account, registers, connects over MQTT and synchronizes its state. Then the emulator's heap
and RSS after a garbage collection, its CPU over 5 s while they idle, and a fan-out: SetAlertVolume to every device
at once and each AlertVolumeChanged back, three rounds (each message encrypted, sequenced, through the broker both
ways, and stored by the device).

| devices | joined in | emulator heap | heap a device | external (buffers) | RSS | idle CPU (of a core) | fan-out round trip p50 / p95 / max | event loop delay p99 |
|---:|---:|---:|---:|---:|---:|---:|---|---:|
${levels.map((l) => `| ${l.devices} | ${l.joinS.toFixed(1)} s | ${l.heapMb.toFixed(1)} MB | ${l.heapPerDeviceKb.toFixed(0)} KB | ${l.externalMb.toFixed(1)} MB | ${l.rssMb.toFixed(0)} MB | ${(l.idleCpu * 100).toFixed(1)} % | ${percentile(l.rtt, 0.5).toFixed(0)} / ${percentile(l.rtt, 0.95).toFixed(0)} / ${Math.max(...l.rtt).toFixed(0)} ms | ${l.loopP99.toFixed(1)} ms |`).join('\n')}

The fan-out's time grows with the crowd because the whole round is sent in one go: the last device's directive
waits behind every other's encryption and publish, in one process on a shared core.

## Concurrent voice turns

With the ${levels.at(-1)?.devices ?? 0} devices above still connected, K devices with audio say "what time is it" at the same moment
(synthesised voices, tap to talk). Response: from the emulator's end-of-speech decision to its first answer message
sent, which is recognition (pocketsphinx), the answer, synthesis and Opus; the VAD's hangover comes before it and
is the same at any load (docs/figures/voice-latency.md).

| concurrent turns | response median | response max | understood | played to the end |
|---:|---:|---:|---:|---:|
${TURNS.map((k) => {
  const r = turns.filter((t) => t.concurrent === k);
  const times = r.map((t) => t.responseMs).filter((x) => !Number.isNaN(x));
  return `| ${k} | ${times.length ? percentile(times, 0.5).toFixed(0) : '—'} ms | ${times.length ? Math.max(...times).toFixed(0) : '—'} ms | ${r.filter((t) => t.understood).length}/${k} | ${r.filter((t) => t.played).length}/${k} |`;
}).join('\n')}

Recognition and synthesis take CPU in the emulator's process, so concurrent turns queue on its two cores: the
response grows about linearly with K. ${stopped.length ? `Devices that stopped: ${stopped.join('; ')}.` : 'No device stopped or lost its connection.'}

![fan-out round trip and voice response](emulator-load.svg)
`;
mkdirSync(fromRoot('docs/figures'), { recursive: true });
writeFileSync(fromRoot('docs/figures/emulator-load.md'), md);
writeFileSync(fromRoot('docs/figures/emulator-load.svg'), plot());
console.log('wrote docs/figures/emulator-load.md and docs/figures/emulator-load.svg');

/** Two dot plots: every fan-out round trip by crowd size, every voice response by concurrent turns. */
function plot(): string {
  const W = 380, H = 260, left = 56, bottom = 40, top = 30;
  const panel = (x0: number, title: string, xLabel: string, groups: { x: number; ys: number[] }[]) => {
    const maxY = Math.max(100, ...groups.flatMap((g) => g.ys)) * 1.1;
    const xs = groups.map((g) => g.x);
    const xAt = (i: number) => x0 + left + ((W - left - 20) * (i + 0.5)) / xs.length;
    const yAt = (v: number) => top + (H - top - bottom) * (1 - v / maxY);
    const step = 10 ** Math.floor(Math.log10(maxY / 2));
    const parts = [`<text x="${x0 + left}" y="18" font-size="13">${title}</text>`];
    for (let v = 0; v <= maxY; v += step * (maxY / step > 8 ? 2 : 1)) parts.push(`<line x1="${x0 + left}" x2="${x0 + W - 20}" y1="${yAt(v)}" y2="${yAt(v)}" stroke="#ddd"/><text x="${x0 + left - 6}" y="${yAt(v) + 4}" text-anchor="end">${v} ms</text>`);
    groups.forEach((g, i) => {
      parts.push(`<text x="${xAt(i)}" y="${H - bottom + 15}" text-anchor="middle">${g.x}</text>`);
      g.ys.forEach((y, j) => parts.push(`<circle cx="${(xAt(i) + (((j * 0.618) % 1) - 0.5) * 24).toFixed(1)}" cy="${yAt(y).toFixed(1)}" r="2" fill="#1f77b4" fill-opacity="0.4"/>`));
      const m = percentile(g.ys, 0.5);
      if (m !== undefined) parts.push(`<line x1="${xAt(i) - 16}" x2="${xAt(i) + 16}" y1="${yAt(m)}" y2="${yAt(m)}" stroke="#d62728" stroke-width="2"/>`);
    });
    parts.push(`<text x="${x0 + left + (W - left) / 2}" y="${H - 8}" text-anchor="middle">${xLabel}</text>`);
    return parts.join('');
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" font-family="sans-serif" font-size="11">`
    + panel(0, 'fan-out round trip (each device; red: median)', 'devices connected', levels.map((l) => ({ x: l.devices, ys: l.rtt })))
    + panel(W, 'voice: end of speech → answer sent', 'concurrent turns', TURNS.map((k) => ({ x: k, ys: turns.filter((t) => t.concurrent === k && !Number.isNaN(t.responseMs)).map((t) => t.responseMs) })))
    + '</svg>\n';
}
