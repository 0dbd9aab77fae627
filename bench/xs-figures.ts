// XS figures: runs bench/xs-workload.ts on xsrun (MCU creation settings, precompiled bytecode) and on Node
// in the same run, and prints and writes docs/figures/xs.md: µs per operation on both engines, XS heap
// after each phase (slots, chunks, stack, malloc), what each module costs in bytecode and live heap, slots
// and chunk bytes allocated per operation, and collections while streaming. Never passes or fails on time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fromRoot } from '../test/support/paths.js';
import { build, modules } from '../test/support/xs-tools.js';
import { commandLine } from '../hosts/node/command-line.js';

const audioOnly = commandLine({
  command: 'npm run bench:xs --',
  summary: 'µs per operation on XS and Node, XS heap per phase, allocation per operation; writes docs/figures/xs.md.',
  options: { audio: { type: 'boolean', help: 'only the audio path section, printed (for working on the path)' } },
}).values.audio === true;
const tools = build.toolchain();
const loadBefore = loadavg()[0];
if (tools.missing) {
  console.error(`bench:xs needs a C compiler to build xsrun: ${tools.missing}`);
  process.exit(1);
}
await build.buildXsrun({ quiet: true });

const WORKLOAD = 'build/bench/xs-workload.js';
const MAP = 'build/xs/bench.map';
const BUNDLE = 'build/xs/bench.xsb';
// MCU creation settings are xsrun's defaults (docs/anchors.md §3). ROOMY: a heap where no collection runs while
// allocations are counted; the stack the workload needs under the test runner's margin.
const ROOMY = ['--slots', '400000,4096', '--chunks', '16777216,65536', '--stack', '1024'];

const graph = modules.moduleGraph([WORKLOAD]);
modules.writeMap(fromRoot(MAP), graph.aliases);
const compiled = spawnSync(build.xsrunPath, ['--map', MAP, '--compile', BUNDLE, ...graph.keys], { cwd: fromRoot(), encoding: 'utf8' });
if (compiled.status !== 0) throw new Error(`precompiling failed: ${compiled.stderr}`);
const bytecode = new Map<string, { code: number; symbols: number; source: number }>();
for (const line of compiled.stdout.trim().split('\n')) {
  const [key, code, symbols] = line.split('\t');
  bytecode.set(key, { code: Number(code.split(' ')[1]), symbols: Number(symbols.split(' ')[1]), source: statSync(fromRoot(key)).size });
}

function run(command: string, args: string[]): Record<string, any> {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: fromRoot(), encoding: 'utf8', timeout: 600_000 });
  const line = result.stdout.split('\n').find((l) => l.startsWith('XS-FIGURES '));
  if (result.status !== 0 || !line) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  const figures = JSON.parse(line.slice('XS-FIGURES '.length));
  figures.wallMs = Date.now() - started;
  return figures;
}

// Numbers as the tables print them
const n = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const us = (value: number) => (value >= 100 ? n(value) : value >= 10 ? n(value, 1) : n(value, 2));
const tiny = (value: number, digits: number) => {
  const rounded = Number(value.toFixed(digits));
  return rounded === 0 ? '0' : n(rounded, digits);
};

const xs = (args: string[], mode: string) => run(build.xsrunPath, [...args, WORKLOAD, mode]);

// The audio path frame by frame (bench/audio-turn.ts): its setup (the connection's handshake) peaks at about 1,000
// JS stack slots, over the MCU's 512; the frames themselves stay near 500 (printed).
const AUDIO_STACK = ['--stack', '1536'];
console.log('xs-figures: the audio path on Node and XS ...');
const audioRuns: Record<string, any>[][] = [[], []];
for (let i = 0; i < 3; i++) {
  audioRuns[0].push(run(process.execPath, [fromRoot(WORKLOAD), 'audio-timing']));
  audioRuns[1].push(xs([...AUDIO_STACK, '--bundle', BUNDLE], 'audio-timing'));
}
/** Each figure's least over the runs (a busy neighbour only ever slows a run down). */
const fastestAudio = (runs: Record<string, any>[]): Record<string, any> => Object.fromEntries(Object.keys(runs[0].audio).map((port) => [port, {
  ...runs[0].audio[port],
  perFrame: Math.min(...runs.map((r) => r.audio[port].perFrame as number)),
  stages: (runs[0].audio[port].stages as number[]).map((_, i) => Math.min(...runs.map((r) => r.audio[port].stages[i] as number))),
  gcPerSecond: runs[0].audio[port].gcPerSecond === undefined ? undefined : Math.max(...runs.map((r) => r.audio[port].gcPerSecond as number)),
}]));
const nodeAudio = fastestAudio(audioRuns[0]);
const xsAudio = fastestAudio(audioRuns[1]);
const audioAllocations = xs([...ROOMY, ...AUDIO_STACK, '--bundle', BUNDLE], 'audio-allocations').audio;

function audioSection(out: (text?: string) => void): void {
  const stages = ['capture → ring', 'microphone tick: Opus encode + binary entry', 'microphone publish: envelope seal + MQTT PUBLISH',
    'speaker in: MQTT parse + sequencer + envelope open', 'speaker receive: binary entries → jitter buffer', 'playout: jitter → Opus decode → volume → audio out'];
  out('## The audio path, frame by frame');
  out();
  out('`bench/audio-turn.ts`: the device\'s own Capture, Microphone, AisConnection (envelope, sequencer, MQTT client and parser) and '
    + 'Speaker in the middle of a voice turn, the microphone streaming and the speaker playing. Per 20 ms frame: a captured frame into '
    + 'the ring; the microphone\'s 50 ms tick when due (Opus encode of the waiting frames into one binary audio entry, envelope seal, '
    + 'MQTT PUBLISH to a socket stand-in that only counts); every fifth frame a sealed speaker message of five 160-byte Opus frames '
    + 'from the socket (MQTT parse, sequencer, envelope open, binary entries, jitter buffer); one frame to an audio out that only counts '
    + '(Opus decode, volume). AES-GCM is native on XS (native/aes_gcm.c) and noble\'s on Node. Two opus ports: the host\'s (native '
    + 'libopus on XS, @evan/opus on Node, which allocates a Uint8Array per call) and one that allocates nothing and does no signal '
    + 'work (the core alone). XS with the MCU creation settings and a 1,536-slot JS stack (the handshake before the frames needs it).');
  out();
  out('| opus port | Node µs per frame | XS µs per frame | XS / Node | XS slots per frame | XS chunk bytes per frame | XS collections per second of audio (MCU heap) | XS JS stack peak in the frames |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [port, label] of [['codec', 'the host\'s Opus'], ['core', 'none (core only)']]) {
    const a = audioAllocations[port];
    out(`| ${label} | ${us(nodeAudio[port].perFrame)} | ${us(xsAudio[port].perFrame)} | ${n(xsAudio[port].perFrame / nodeAudio[port].perFrame, 1)}× `
      + `| ${tiny(a.slots, 1)} | ${tiny(a.chunkBytes, 0)}${a.collected ? ' (a collection ran: not exact)' : ''} | ${n(xsAudio[port].gcPerSecond, 2)} | ${xsAudio[port].stackPeak} |`);
  }
  out();
  out('Per stage, per frame (a stage that runs every fifth frame is divided by five), exclusive of the stages inside it; times from '
    + 'brackets around each stage (their own cost taken off, so small stages read near zero and can go slightly negative), allocations '
    + `from XS's heap counters in a heap where no collection runs (${ROOMY.slice(0, 4).join(' ')}), the counters' own reading taken off.`);
  out();
  out('| stage | Node µs (host Opus) | XS µs (host Opus) | Node µs (core) | XS µs (core) | XS / Node (core) | XS slots | XS chunk bytes |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|');
  stages.forEach((label, i) => {
    const a = audioAllocations.core;
    const nodeCore = nodeAudio.core.stages[i], xsCore = xsAudio.core.stages[i];
    out(`| ${label} | ${us(nodeAudio.codec.stages[i])} | ${us(xsAudio.codec.stages[i])} | ${us(nodeCore)} | ${us(xsCore)} `
      + `| ${nodeCore > 0.05 ? `${n(xsCore / nodeCore)}×` : ''} | ${tiny(a.stageSlots[i], 1)} | ${tiny(a.stageChunkBytes[i], 0)}${a.stageCollected ? ' (collected)' : ''} |`);
  });
  out();
}

if (audioOnly) {
  const lines: string[] = [];
  audioSection((text = '') => lines.push(text));
  console.log(lines.join('\n'));
  process.exit(0);
}
console.log('xs-figures: timing on Node and XS, memory, allocations, modules ...');
// Three runs of each engine, interleaved, keeping each operation's fastest: this machine is shared, and a
// busy neighbour only ever makes a run slower.
const timingRuns: Record<string, any>[][] = [[], []];
for (let i = 0; i < 3; i++) {
  timingRuns[0].push(run(process.execPath, [fromRoot(WORKLOAD), 'timing']));
  timingRuns[1].push(xs(['--bundle', BUNDLE], 'timing'));
}
const fastest = (runs: Record<string, any>[]): Record<string, any> => ({
  ...runs[0],
  us: Object.fromEntries(Object.keys(runs[0].us).map((key) => [key, Math.min(...runs.map((r) => r.us[key] as number))])),
  wallMs: runs.reduce((sum, r) => sum + (r.wallMs as number), 0),
});
const nodeTiming = fastest(timingRuns[0]);
const xsTiming = fastest(timingRuns[1]);
const memory = xs(['--bundle', BUNDLE], 'memory');
const memoryFromSource = xs(['--map', MAP], 'memory');
const allocations = xs([...ROOMY, '--bundle', BUNDLE], 'allocations');
const perModule = xs(['--bundle', BUNDLE], 'modules');
const perModuleFromSource = xs(['--map', MAP], 'modules');

// Rendering

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const slotBytes = memory.phases.machine.slotBytes as number;
const date = new Date().toISOString().slice(0, 10);
const lines: string[] = [];
const out = (text = '') => lines.push(text);

out('# XS figures');
out();
out(`Measured by \`npm run bench:xs\` (bench/xs-figures.ts running bench/xs-workload.ts) on ${date}: ${cpus()[0]?.model ?? 'unknown CPU'}, `
  + `Node ${process.version}, ${xsTiming.host} built from @agoric/xsnap's sources by \`npm run build:xs\` (${tools.version}, -O2, `
  + 'CESU-8 strings, mxBoundsCheck, mxInstrument). Every figure below comes from this one run. XS runs precompiled bytecode with the '
  + 'parser off and the MCU creation settings of docs/xs-host.md (chunks 16 KB +8 KB, slots 4096 +512, stack 512, keys 1024 +128) '
  + 'unless a row says otherwise.');
out();
out(`Load average (1 min) ${loadBefore.toFixed(2)} before and ${loadavg()[0].toFixed(2)} after the run, on ${cpus().length} CPUs: times on a shared `
  + 'machine vary from run to run; the ratios in one run are the figure to read.');
out();
out(`A slot is ${slotBytes} bytes on this x86-64 host and 16 bytes on a 32-bit MCU, so slot and stack bytes roughly halve there; `
  + 'chunk bytes (strings, typed-array and array storage, function bytecode) change little.');
out();
out('## Time per operation, x86-64, same run');
out();
out('| operation | Node µs | XS µs | XS / Node |');
out('|---|---:|---:|---:|');
const operations: [string, string][] = [
  ['codec', 'MQTT encode + decode of a 640-byte PUBLISH (`writePublish` into a reused buffer, `MqttParser.push`)'],
  ['envelope', 'AIS envelope seal + open of a 644-byte body, AES-256-GCM (portable: @noble/ciphers `gcm`)'],
  ['framing', 'the same envelope with a Crypto that only copies: the framing without AES-GCM'],
  ['biquad', 'Q14 biquad over a 320-sample frame (Int16Array, one 20 ms frame at 16 kHz)'],
  ['x25519', 'X25519 shared secret (portable: tweetnacl), once per registration'],
];
for (const [key, label] of operations) {
  const a = nodeTiming.us[key] as number;
  const b = xsTiming.us[key] as number;
  out(`| ${label} | ${us(a)} | ${us(b)} | ${n(b / a)}× |`);
}
out();
out('Median of five batches after a warm-up (Node\'s JIT needs it; XS interprets); the fastest of three such runs per engine, '
  + 'interleaved. For comparison, docs/anchors.md §3 measured its own '
  + 'Q14 biquad at 90 to 130 µs (112 typical) on XS and 2.5 µs on Node on this kind of machine.');
out();
out('## XS heap after each phase');
out();
out('`gc()` before each reading, so *live* is what stays; *peak* is the highest use since the previous phase, garbage included; '
  + '*reserved* is what the heap took from malloc.');
out();
out('| phase | malloc live KB | malloc peak KB | slots live / peak / reserved | slot KB reserved | chunks live / peak / reserved KB | JS stack peak (slots of 512) |');
out('|---|---:|---:|---:|---:|---:|---:|');
const phaseNames: [string, string][] = [
  ['machine', 'empty machine + prelude (timers, console)'],
  ['mqtt', '+ MQTT codec and client loaded, one session'],
  ['crypto', '+ envelope and portable crypto (tweetnacl, noble) loaded'],
  ['workloadLive', 'after 1,000 publishes, 1,000 codec round trips, 50 biquad frames, 50 envelopes'],
];
for (const [key, label] of phaseNames) {
  const p = memory.phases[key];
  out(`| ${label} | ${kb(p.mallocCurrent)} | ${kb(p.mallocPeak)} | ${n(p.slotsCurrent)} / ${n(p.slotsPeak)} / ${n(p.slotsReserved)} | ${kb(p.slotsReserved * slotBytes)} `
    + `| ${kb(p.chunksCurrent)} / ${kb(p.chunksPeak)} / ${kb(p.chunksReserved)} | ${p.stackPeak} |`);
}
const fromSource = memoryFromSource.phases;
out();
out(`From source instead (the machine parses every module): malloc peak ${kb(Math.max(...Object.values(fromSource).map((p: any) => p.mallocPeak)))} KB `
  + `against ${kb(Math.max(...Object.values(memory.phases).map((p: any) => p.mallocPeak)))} KB with bytecode; the largest parser arena was `
  + `${kb(Math.max(...perModuleFromSource.modules.map((m: any) => m.parserPeak)))} KB.`);
out();
out('## Per module: bytecode and the live heap it adds');
out();
out('Bytecode from `xsrun --compile` (code + symbol table). Live heap: the growth after loading the module (and the dependencies not '
  + 'loaded before it) and a collection, in this order. Parser peak: the largest parser arena while the machine parsed it from source.');
out();
out('| module | source KB | bytecode KB | live slots | live chunks KB | load ms | parser peak KB (from source) |');
out('|---|---:|---:|---:|---:|---:|---:|');
const sizeOf = (prefix: string) => {
  let source = 0, code = 0;
  for (const [key, size] of bytecode) {
    if (key.includes(prefix)) { source += size.source; code += size.code + size.symbols; }
  }
  return { source, code };
};
const moduleFiles: Record<string, string[]> = {
  'src/mqtt/utf8': ['build/src/mqtt/utf8.js'],
  'src/mqtt/generate (+constants, topic)': ['build/src/mqtt/generate.js', 'build/src/mqtt/constants.js', 'build/src/mqtt/topic.js'],
  'src/mqtt/parser (+packets)': ['build/src/mqtt/parser.js', 'build/src/mqtt/packets.js'],
  'src/mqtt/client (+log, backoff)': ['build/src/mqtt/client.js', 'build/src/ports/log.js', 'build/src/util/backoff.js'],
  'src/ais/sequencer': ['build/src/ais/sequencer.js'],
  'src/ais/envelope': ['build/src/ais/envelope.js'],
  'tweetnacl (X25519)': ['build/xs/cjs/tweetnacl.js'],
  '@noble/hashes/sha2 (+utils, _md, _u64)': ['hashes/sha2.js', 'hashes/utils.js', 'hashes/_md.js', 'hashes/_u64.js'],
  '@noble/hashes/hkdf (+hmac)': ['hashes/hkdf.js', 'hashes/hmac.js'],
  '@noble/ciphers/utils': ['ciphers/utils.js'],
  '@noble/ciphers/_polyval (GHASH)': ['ciphers/_polyval.js'],
  '@noble/ciphers/aes': ['ciphers/aes.js'],
  'src/crypto/portable': ['build/src/crypto/portable.js'],
};
perModule.modules.forEach((m: any, i: number) => {
  const files = moduleFiles[m.name] ?? [];
  const total = files.map(sizeOf).reduce((a, b) => ({ source: a.source + b.source, code: a.code + b.code }), { source: 0, code: 0 });
  const parsed = perModuleFromSource.modules[i];
  out(`| ${m.name} | ${kb(total.source)} | ${kb(total.code)} | ${n(m.slots)} | ${kb(m.chunkBytes)} | ${n(m.ms, 1)} | ${kb(parsed.parserPeak)} |`);
});
out();
out('## Allocation per operation and collections');
out();
out(`Counted from the heap's own counters (slots taken, chunk bytes taken) over a window in which no collection ran (heap ${ROOMY.join(' ')}), `
  + 'minus an empty loop of the same length.');
out();
out('| operation | slots per call | slot bytes per call | chunk bytes per call |');
out('|---|---:|---:|---:|');
const perCallNames: [string, string][] = [
  ['publish', 'QoS 0 `MqttClient.publish` of 640 bytes while connected (the uplink path)'],
  ['codec', 'MQTT encode + decode of a 640-byte PUBLISH'],
  ['biquad', 'Q14 biquad, one 320-sample frame'],
  ['framing', 'envelope seal + open with the copying Crypto (framing only)'],
  ['envelope', 'envelope seal + open, 644-byte body (noble AES-GCM)'],
];
for (const [key, label] of perCallNames) {
  const a = allocations.perCall[key];
  out(`| ${label} | ${tiny(a.slots, 1)} | ${tiny(a.slots * slotBytes, 0)} | ${tiny(a.chunkBytes, 0)} |${a.collected ? ' (a collection ran: not exact)' : ''}`);
}
out();
out(`With the MCU settings: ${memory.gcPer1000Publishes} collections in 1,000 publishes; ${memory.gcPer50Envelopes} in the mixed workload `
  + `(50 envelopes, 1,000 codec round trips, 50 biquad frames); ${memory.gcPerSecondOfUplink} in one second of L16 uplink (50 envelopes + 50 publishes).`);
out();

audioSection(out);

const markdown = lines.join('\n');
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'xs.md'), markdown);
console.log(markdown);
console.log(`\nwrote docs/figures/xs.md (XS runs took ${[xsTiming, memory, memoryFromSource, allocations, perModule, perModuleFromSource].map((r) => r.wallMs).join(' + ')} ms)`);

