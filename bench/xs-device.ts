// XS figures of the device application (npm run bench:xs-device): the device on xsrun (hosts/xs/device.ts,
// MCU creation settings but a 1024-slot JS stack, precompiled bytecode) against the emulator over real sockets.
// Prints the XS heap peak (since the previous phase) and live (after a collection) at each phase (linked,
// registered, connected, ready), collections per second while idle and connected, and the bytecode per module
// of the device bundle; the Node device in the same cloud is the baseline for the time to ready.
// Then a spoken turn on a device with audio (--voice: xsrun's WAV-file audio through the Moddable adapter,
// native libopus and AES-GCM; needs pocketsphinx for the emulator's recogniser): heap live and peak over the turn,
// collections per second idle (capture running), while the microphone streams and while the speaker plays,
// slots and chunk bytes allocated per 20 ms frame in those windows (windows of ~100 ms without a collection,
// less the snapshot's own cost), and the xsrun process's CPU time per 20 ms frame in them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device } from '../src/app/device.js';
import { Logger, silentSink } from '../src/ports/log.js';
import { nodePorts } from '../hosts/node/ports.js';
import { prepareXsDevice, spawnXsDevice } from '../hosts/node/xs-launch.js';
import { deviceConfigFor, startCloud } from '../emulator/cloud.js';
import { writeWav } from '../hosts/node/wav.js';
import { pocketsphinxMissingHint } from '../emulator/voice/asr.js';
import { concat, silence } from '../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../emulator/voice/tts.js';

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
  await voiceFigures();
} finally {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
}

interface Snapshot { ms: number; cpuMs: number; memory: { slots: { current: number; peak: number }; chunks: { current: number; peak: number }; malloc: { current: number; peak: number }; gcCount: number } }

/** CPU time of a process so far (user + system), in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function voiceFigures(): Promise<void> {
  const missing = pocketsphinxMissingHint();
  if (missing) {
    console.log(`\nNo voice figures: ${missing}`);
    return;
  }
  const voiceCloud = await startCloud({ pollIntervalMs: 100, voice: { now: () => new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC' } });
  const voiceDir = mkdtempSync(join(tmpdir(), 'ais-xs-voice-bench-'));
  try {
    const question = join(voiceDir, 'question.wav');
    const synthesizer = await SpeechSynthesizer.create();
    writeWav(question, concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-male']), silence(8000)));
    const child = spawnXsDevice({ config: deviceConfigFor(voiceCloud, 'bench-voice'), dataDir: join(voiceDir, 'xs'), memory: true, voice: { out: join(voiceDir, 'speaker.wav') } });
    const snapshots = new Map<string, Snapshot>();
    const cpuAsked = new Map<string, number>();
    let readyLive: Snapshot['memory'] | undefined;
    const ask = (name: string) => { cpuAsked.set(name, cpuMs(child.pid!)); child.stdin.write(`memory ${name}\n`); };
    const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => { const parts = (rest + text).split('\n'); rest = parts.pop()!; parts.forEach(onLine); });
    };
    // Windows by the device's info lines, not the protocol trace (its line per audio message allocates; the device
    // runs without it): the microphone streams from `microphone open` (MicrophoneOpened) to `microphone closed`
    // (after CloseMicrophone), the speaker plays from `speaker: playing from` (SpeakerOpened) to `speaker: closed at`
    // (SpeakerClosed); a snapshot every 100 ms inside them, numbered from 0 in each.
    let window = '';
    let sample = 0;
    const sampler = setInterval(() => { if (window) ask(`${window}-${sample++}`); }, 100);
    const edge = (name: string, open: string) => { ask(name); window = open; sample = 0; };
    let done: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    lines(child.stdout, (line) => {
      const code = /enter the code (\S+)$/.exec(line);
      if (code) voiceCloud.lwa.approve(code[1]);
      const phase = /^xsrun-memory ready (.*)$/.exec(line);
      if (phase) {
        readyLive = JSON.parse(phase[1]).live;
        setTimeout(() => ask('idle-start'), 500);
        setTimeout(() => { ask('idle-end'); child.stdin.write(`tap\nsay ${question}\n`); }, 5500);
      }
      const snap = /^xsrun-snapshot (\S+) (.*)$/.exec(line);
      if (snap) snapshots.set(snap[1], { ...JSON.parse(snap[2]), cpuMs: cpuAsked.get(snap[1])! });
      if (snap?.[1] === 'end') done();
    });
    lines(child.stderr, (line) => {
      if (/\[microphone\] microphone open at/.test(line)) edge('mic-start', 'mic');
      else if (/\[microphone\] microphone closed at/.test(line)) edge('mic-end', '');
      else if (/speaker: playing from/.test(line)) edge('speaker-start', 'speaker');
      else if (/speaker: closed at/.test(line)) { edge('speaker-end', ''); setTimeout(() => ask('end'), 1000); }
      else if (/ERROR/.test(line)) process.stderr.write(`${line}\n`);
    });
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error('the voice turn did not finish in 60 s')), 60_000))]);
    clearInterval(sampler);
    // The snapshot's own allocation: two at once, nothing in between; five pairs, the first without a collection
    // between its two is used (one there makes the difference meaningless, even negative).
    for (let i = 0; i < 5; i++) child.stdin.write(`memory cost-a${i}\nmemory cost-b${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill();
    const get = (name: string) => { const s = snapshots.get(name); if (!s) throw new Error(`no snapshot ${name}`); return s; };
    const pair = [0, 1, 2, 3, 4].find((i) => get(`cost-a${i}`).memory.gcCount === get(`cost-b${i}`).memory.gcCount);
    if (pair === undefined) throw new Error('a collection between each pair of cost snapshots');
    const costSlots = get(`cost-b${pair}`).memory.slots.current - get(`cost-a${pair}`).memory.slots.current;
    const costChunks = get(`cost-b${pair}`).memory.chunks.current - get(`cost-a${pair}`).memory.chunks.current;
    const rate = (from: string, to: string) => {
      const a = get(from), b = get(to);
      const seconds = (b.ms - a.ms) / 1000;
      return { seconds, gcPerSecond: (b.memory.gcCount - a.memory.gcCount) / seconds, cpuUsPerFrame: ((b.cpuMs - a.cpuMs) * 1000) / ((b.ms - a.ms) / 20) };
    };
    const perFrame = (prefix: string) => {
      const slots: number[] = [], chunks: number[] = [];
      for (let i = 0; snapshots.has(`${prefix}-${i + 1}`); i++) {
        const a = get(`${prefix}-${i}`), b = get(`${prefix}-${i + 1}`);
        if (a.memory.gcCount !== b.memory.gcCount) continue;
        const frames = (b.ms - a.ms) / 20;
        slots.push((b.memory.slots.current - a.memory.slots.current - costSlots) / frames);
        chunks.push((b.memory.chunks.current - a.memory.chunks.current - costChunks) / frames);
      }
      const median = (values: number[]) => values.length ? [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] : NaN;
      return { windows: slots.length, slots: median(slots), chunks: median(chunks) };
    };
    const end = get('end').memory;
    console.log('\n## A spoken turn on XS (--voice)\n');
    console.log('| | slots | chunks | malloc |\n|---|---:|---:|---:|');
    console.log(`| live at ready, after a collection | ${readyLive!.slots.current} | ${kb(readyLive!.chunks.current)} | ${kb(readyLive!.malloc.current)} |`);
    console.log(`| peak from ready to the end of the turn | ${end.slots.peak} | ${kb(end.chunks.peak)} | ${kb(end.malloc.peak)} |`);
    console.log('\n| window | length | collections per second | slots / chunk bytes allocated per 20 ms frame (windows) | xsrun CPU per 20 ms frame |\n|---|---:|---:|---:|---:|');
    for (const [label, from, to, prefix] of [['idle, capture running', 'idle-start', 'idle-end', ''], ['microphone streaming', 'mic-start', 'mic-end', 'mic'], ['speaker playing', 'speaker-start', 'speaker-end', 'speaker']] as const) {
      const r = rate(from, to);
      const a = prefix ? perFrame(prefix) : undefined;
      console.log(`| ${label} | ${r.seconds.toFixed(1)} s | ${r.gcPerSecond.toFixed(1)} | ${!a ? '' : a.windows ? `${a.slots.toFixed(1)} / ${a.chunks.toFixed(0)} (${a.windows})` : 'a collection in every window'} | ${r.cpuUsPerFrame.toFixed(0)} µs |`);
    }
    console.log(`\nA snapshot itself allocates ${costSlots} slots and ${costChunks} chunk bytes (subtracted).`);
  } finally {
    await voiceCloud.close();
    rmSync(voiceDir, { recursive: true, force: true });
  }
}
