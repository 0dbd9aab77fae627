// Firmware figures (npm run bench:firmware): builds the self-test image and an image of
// bench/cortex-m-workload.ts, boots them on QEMU's emulated Cortex-M7 and writes docs/figures/firmware.md
// and docs/figures/firmware-memory.svg: flash by part (engine, application bytecode, newlib), RAM regions,
// the XS heap after loading the application's modules, heap and C stack peaks per suite, the smallest
// RAM_SIZE that runs every suite (bisected), instructions per operation under -icount shift=0 against
// a 20 ms frame of a 600 MHz Cortex-M7, and the co-processor link's stages per 20 ms frame from a session of the
// device image (bench/cortex-m-link.ts). Never passes or fails on a figure.
import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../test/support/paths.js';
import { linkSession } from './cortex-m-link.js';

interface Report {
  text: number; data: number; bss: number; flash: number;
  ram: { size: number; data: number; bss: number; heap: number; guard: number; stack: number; handlerStack: number };
  parts: Record<string, number>;
}
interface Bundle { name: string; bundleC: string; bytes: number; modules: { key: string; code: number; symbols: number }[] }
interface Board { [field: string]: number }
interface Boot { code: number | null; signal: string | null; output: string; stderr: string; board?: Board; ms: number }
interface BuildModule {
  APT_HINT: string;
  BOARD_SUITES: string[];
  DEFAULT_RAM_SIZE: number;
  DEFAULT_STACK_SIZE: number;
  PART_LABELS: Record<string, string>;
  firmwareToolchain(): { missing?: string; gcc?: string; qemu?: string };
  buildSelfTest(options?: { ramSize?: number; stackSize?: number; quiet?: boolean; name?: string }): Promise<{
    elf: string; bundle: Bundle; report: Report; plan: { suites: string[]; excluded: { file: string; reason: string }[] };
  }>;
  precompile(name: string, entries: string[], options?: { nodeTest?: boolean }): Bundle;
  link(options: { name: string; bundleC: string; ramSize?: number; stackSize?: number; defaultArgs?: string; quiet?: boolean }): Promise<{ elf: string }>;
  imageReport(elf: string, bundleObject: string): Report;
}
interface QemuModule { boot(elf: string, args: string[], options?: { icount?: boolean; timeoutMs?: number }): Promise<Boot> }

const build = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'build.mjs')).href) as BuildModule;
const qemu = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'qemu.mjs')).href) as QemuModule;
const launch = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'device-launch.mjs')).href) as {
  prepareMachine(elf: string, entry: string, machine?: string[]): Promise<{ bytes: number }>;
};

const tools = build.firmwareToolchain();
if (tools.missing) {
  console.error(`bench:firmware: ${tools.missing}`);
  process.exit(1);
}
const started = Date.now();
const WORKLOAD = 'build/bench/cortex-m-workload.js';
const TEST_ARGS = ['--stack', '1024'];
const KB = 1024;
// A 20 ms audio frame on the link: header, 640 B of PCM, CRC (hosts/cortex-m/netlink.h).
const LINK_HEADER = 5;
const LINK_AUDIO_WIRE = LINK_HEADER + 640 + 2;

console.log('firmware figures: building the self-test and workload images ...');
const selftest = await build.buildSelfTest({ quiet: true });
const benchBundle = build.precompile('bench', [WORKLOAD], { nodeTest: false });
const benchImage = await build.link({ name: 'bench', bundleC: benchBundle.bundleC, defaultArgs: `--embedded ${WORKLOAD} memory`, quiet: true });
const benchReport = build.imageReport(benchImage.elf, benchBundle.bundleC.replace(/\.c$/, '.o'));

function figures(result: Boot): Record<string, any> {
  const line = result.output.split('\n').find((l) => l.startsWith('M7-FIGURES '));
  if (result.code !== 0 || !line) throw new Error(`the workload failed (exit ${result.code ?? result.signal}):\n${result.output}\n${result.stderr}`);
  return { ...JSON.parse(line.slice('M7-FIGURES '.length)), board: result.board };
}

console.log('firmware figures: XS heap by phase, instructions per operation (-icount shift=0) ...');
const memory = figures(await qemu.boot(benchImage.elf, ['--embedded', WORKLOAD, 'memory']));
const counted = figures(await qemu.boot(benchImage.elf, ['--embedded', WORKLOAD, 'instructions'], { icount: true }));
// The same image with its machine prepared in flash (the device image's way): the same operations, run in place.
console.log('firmware figures: the same instructions with the workload\'s machine prepared in flash ...');
const preparedBench = await launch.prepareMachine(benchImage.elf, WORKLOAD);
const countedPrepared = figures(await qemu.boot(benchImage.elf, ['--embedded', WORKLOAD, 'instructions'], { icount: true }));

console.log('firmware figures: a session of the device image over its co-processor link (-icount shift=0) ...');
const session = await linkSession((line) => console.log(line));

async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  return results;
}

const suites = [...selftest.plan.suites, ...build.BOARD_SUITES];
const width = Math.max(1, Math.min(availableParallelism(), 4));
const runSuites = (elf: string) => pool(suites.map((file) => () => qemu.boot(elf, ['--embedded', ...TEST_ARGS, file])), width);
const passed = (run: Boot) => run.code === 0 && /^# fail 0$/m.test(run.output);

console.log(`firmware figures: ${suites.length} suites at RAM_SIZE ${build.DEFAULT_RAM_SIZE / KB} KB ...`);
const atDefault = await runSuites(selftest.elf);
const failedAtDefault = suites.filter((_, i) => !passed(atDefault[i]));
if (failedAtDefault.length) throw new Error(`suites fail at the default RAM_SIZE: ${failedAtDefault.join(', ')}; run npm run test:firmware`);

// The smallest RAM_SIZE (4 KB steps) at which every suite passes, with the default C stack.
const STEP = 4 * KB;
let lo = 128 * KB; // assumed to fail: checked below
let hi = build.DEFAULT_RAM_SIZE;
const probes: { ramSize: number; ok: boolean; why: string }[] = [];
async function probe(ramSize: number): Promise<boolean> {
  let why = '';
  let ok = false;
  try {
    const image = await build.link({ name: 'ramprobe', bundleC: selftest.bundle.bundleC, ramSize, quiet: true });
    const runs = await runSuites(image.elf);
    const failed = suites.map((file, i) => ({ file, run: runs[i] })).filter(({ run }) => !passed(run));
    ok = failed.length === 0;
    if (!ok) {
      const first = failed[0];
      const abort = first.run.output.split('\n').find((l) => /XS abort|board: .*fault|cannot create/.test(l));
      why = `${first.file.replace(/^build\//, '')}: ${abort ? abort.replace(/ \(malloc.*$/, '').trim() : `exit ${first.run.code}`}`;
    }
  } catch (error) {
    why = /RAM budget overrun/.test(String((error as { stderr?: string }).stderr)) ? 'the link refuses it (RAM budget overrun)' : String(error);
  }
  probes.push({ ramSize, ok, why });
  console.log(`  RAM_SIZE ${ramSize / KB} KB: ${ok ? 'every suite passes' : why}`);
  return ok;
}
console.log('firmware figures: bisecting RAM_SIZE ...');
if (await probe(lo)) hi = lo;
else {
  while (hi - lo > STEP) {
    const mid = lo + Math.floor((hi - lo) / 2 / STEP) * STEP;
    if (await probe(mid)) hi = mid;
    else lo = mid;
  }
}
const minimumRam = hi;
const firstFailure = probes.filter((p) => !p.ok).sort((a, b) => b.ramSize - a.ramSize)[0];

// Rendering

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const kb = (bytes: number) => (bytes / KB).toFixed(1);
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const date = new Date().toISOString().slice(0, 10);
const lines: string[] = [];
const out = (text = '') => lines.push(text);

function bytecodeBy(bundle: Bundle, groups: [string, (key: string) => boolean][]) {
  return groups.map(([label, test]) => {
    const modules = bundle.modules.filter((m) => test(m.key));
    return { label, count: modules.length, bytes: modules.reduce((sum, m) => sum + m.code + m.symbols, 0) };
  });
}

out('# Firmware figures');
out();
out(`Measured by \`npm run bench:firmware\` (bench/cortex-m-figures.ts, bench/cortex-m-workload.ts) on ${date}: QEMU \`mps2-an500\` `
  + `(Cortex-M7, double-precision FPU) from ${tools.qemu}, images built by ${tools.gcc} with \`-mcpu=cortex-m7 -mthumb `
  + '-mfloat-abi=hard -mfpu=fpv5-d16 -Os\`, newlib-nano; XS 13.3.0 from @agoric/xsnap\'s sources without its parser, the application '
  + `precompiled to bytecode on the host by xsrun. Host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs (it only affects wall time). `
  + 'Every figure below comes from this one run; docs/firmware.md explains the image.');
out();
out('## Flash');
out();
out('By part, from the linker map (`.text` with read-only data, and the initial values of `.data`). String literals that the '
  + 'linker merges across objects are counted in each part, so the parts add up to slightly more than the image.');
out();
out('| part | self-test image | application image |');
out('|---|---:|---:|');
for (const key of Object.keys(build.PART_LABELS)) {
  const a = selftest.report.parts[key] ?? 0;
  const b = benchReport.parts[key] ?? 0;
  if (a || b) out(`| ${build.PART_LABELS[key]} | ${kb(a)} KB | ${kb(b)} KB |`);
}
out(`| **image** (arm-none-eabi-size text + data) | **${kb(selftest.report.flash)} KB** | **${kb(benchReport.flash)} KB** |`);
out();
const srcOf = (key: string) => key.startsWith('build/src/');
const selftestBytecode = bytecodeBy(selftest.bundle, [
  ['firmware modules (src/)', srcOf],
  ['portable suites and the board\'s checks (test/)', (k) => k.startsWith('build/test/') && !k.startsWith('build/test/xs/') && !/node-test|exclusions/.test(k)],
  ['node:test and node:assert shims, prelude', (k) => k.startsWith('build/test/xs/') || /cortex-m\/(node-test|exclusions)/.test(k) || k.startsWith('hosts/')],
  ['npm packages', (k) => k.startsWith('node_modules/') || k.startsWith('build/xs/cjs/')],
]);
const appBytecode = bytecodeBy(benchBundle, [
  ['firmware modules (src/): the application `src/app/device.ts` and everything it imports', srcOf],
  ['the workload and the prelude', (k) => !srcOf(k)],
]);
out('Application bytecode (per module its code and the names it adds to the bundle\'s symbol table, from `xsrun --compile`; '
  + 'all of it stays in flash: the engine runs it in place, docs/xs-host.md):');
out();
out('| image | modules | bytecode |');
out('|---|---:|---:|');
for (const group of [...selftestBytecode.map((g) => ({ ...g, image: 'self-test' })), ...appBytecode.map((g) => ({ ...g, image: 'application' }))]) {
  if (group.count) out(`| ${group.image}: ${group.label} | ${group.count} | ${kb(group.bytes)} KB |`);
}
out();
out(`The self-test image holds ${selftest.plan.suites.length} portable suites and the board's checks. `
  + `${selftest.plan.excluded.length ? `Left out: ${selftest.plan.excluded.map((e) => `\`${e.file.replace(/^build\//, '').replace(/\.js$/, '.ts')}\``).join(', ')} `
    + '(it imports `@noble/ciphers/aes.js` to compare the native AES-GCM with it; noble\'s tables take 1.3 MB of heap on XS).' : ''}`);
out();
out('## RAM');
out();
const ram = selftest.report.ram;
out(`RAM_SIZE is the budget: one linker region of ${n(ram.size)} B (${kb(ram.size)} KB) holds everything the image writes.`);
out();
out('| region | bytes |');
out('|---|---:|');
out(`| .data | ${n(ram.data)} |`);
out(`| .bss | ${n(ram.bss)} |`);
out(`| heap (newlib malloc: XS slots, chunks, keys; the bytecode runs in place from flash) | ${n(ram.heap)} |`);
out(`| MPU guard under the C stack | ${n(ram.guard)} |`);
out(`| C stack (the program, PSP) | ${n(ram.stack)} |`);
out(`| handler stack (exceptions, MSP) | ${n(ram.handlerStack)} |`);
out();
out(`**The smallest RAM_SIZE that runs every suite: ${kb(minimumRam)} KB** (bisected in ${STEP / KB} KB steps, C stack ${build.DEFAULT_STACK_SIZE / KB} KB; `
  + `${firstFailure ? `at ${kb(firstFailure.ramSize)} KB: ${firstFailure.why}` : 'no smaller size was tried'}). Probes: `
  + `${probes.map((p) => `${p.ramSize / KB} KB ${p.ok ? 'pass' : 'fail'}`).join(', ')}.`);
out();
out(`Per suite at RAM_SIZE ${build.DEFAULT_RAM_SIZE / KB} KB (the board's exit line: newlib's heap high-water mark and the deepest C stack, `
  + 'from the painted stack):');
out();
out('| suite | tests | heap peak KB | C stack peak KB | wall s (no -icount) |');
out('|---|---:|---:|---:|---:|');
suites.forEach((file, i) => {
  const run = atDefault[i];
  const tests = Number((run.output.match(/^# tests (\d+)$/m) ?? [])[1] ?? 0);
  out(`| ${file.replace(/^build\//, '').replace(/\.js$/, '.ts')} | ${tests} | ${kb(run.board?.heap_peak ?? 0)} | ${kb(run.board?.stack_peak ?? 0)} | ${(run.ms / 1000).toFixed(1)} |`);
});
out();
out('## XS heap on the Cortex-M7');
out();
out('The application image boots, then loads the MQTT codec and client (one session), then `src/app/device.ts` with everything it '
  + 'imports (connection, envelope, sequencer, rotation, registration, linking, microphone, speaker, audio), then runs 1,000 '
  + 'publishes, 1,000 codec round trips, 1,000 envelopes (copying crypto) and 50 biquad frames. `gc()` before each reading: *live* stays, '
  + '*peak* is the highest since the previous phase, garbage included. A slot is 16 bytes here (32 on x86-64).');
out();
out('| phase | malloc live KB | slots live / peak / reserved | slot KB reserved | chunks live / peak / reserved KB | JS stack peak (slots of 512) |');
out('|---|---:|---:|---:|---:|---:|');
const phaseNames: [string, string][] = [
  ['machine', 'machine + prelude'],
  ['mqtt', '+ MQTT codec and client, one session'],
  ['app', '+ the application (`src/app/device.ts` and its imports)'],
  ['native', '+ Opus encoders and decoder, native AES-GCM envelope, 50 frames each'],
  ['workload', 'after the workload, before collecting'],
  ['workloadLive', 'after the workload, collected'],
];
for (const [key, label] of phaseNames) {
  const p = memory.phases[key];
  out(`| ${label} | ${kb(p.mallocCurrent)} | ${n(p.slotsCurrent)} / ${n(p.slotsPeak)} / ${n(p.slotsReserved)} | ${kb(p.slotsReserved * p.slotBytes)} `
    + `| ${kb(p.chunksCurrent)} / ${kb(p.chunksPeak)} / ${kb(p.chunksReserved)} | ${p.stackPeak} |`);
}
out();
out(`libopus's own state, outside the XS heap (malloc): encoder ${n(memory.opusState.encoder)} B, decoder ${n(memory.opusState.decoder)} B `
  + '(`opus_encoder_get_size`, `opus_decoder_get_size`); its scratch arrays live on the C stack (VAR_ARRAYS): the C stack peak of '
  + `the instruction run, which encodes with SILK, is ${kb(counted.board.stack_peak)} KB of ${kb(counted.board.stack)} KB.`);
out();
out(`Newlib's heap high-water mark over the whole run: ${kb(memory.board.heap_peak)} KB (malloc's own overhead and fragmentation on top of `
  + `XS's); C stack peak ${kb(memory.board.stack_peak)} KB of ${kb(memory.board.stack)} KB; handler stack peak ${memory.board.handler_stack_peak} B. `
  + `${memory.gcInWorkload} collections during the workload.`);
out();
out('## Instructions per operation');
out();
out('QEMU `-icount shift=0`: one guest instruction is one virtual nanosecond, and SysTick counts virtual time at 25 MHz, so '
  + '`performance.now()` around a batch of calls reads instructions to 40. Median of five batches after three warm-up calls; '
  + 'collections inside a batch are counted, as on the device. Instructions are not cycles: a real M7 dual-issues but waits on '
  + 'memory; assume code and hot data in TCM (docs/anchors.md §7).');
out();
const FRAME_CYCLES = 12e6; // 600 MHz x 20 ms
const FRAME_BUDGET = 3e6;  // docs/anchors.md §7: think ~3 M instructions per frame for everything
const per = counted.perCall as Record<string, number>;
out(`The 20 ms frame of a 600 MHz Cortex-M7 is ${n(FRAME_CYCLES)} cycles; docs/anchors.md §7 plans about ${n(FRAME_BUDGET)} instructions `
  + 'per frame for everything (native audio paths included) and about 1 M for all JavaScript.');
out();
out('| operation | instructions | share of 3 M | share of 12 M cycles | µs at 600 MHz, 1 per cycle |');
out('|---|---:|---:|---:|---:|');
const rows: [string, number][] = [
  ['MQTT encode + decode of a 640-byte PUBLISH (`writePublish` into a reused buffer, `MqttParser.push`)', per.codec],
  ['  encode alone (`writePublish`)', per.encode],
  ['  decode alone (`MqttParser.push`: topic string, payload view, packet object)', per.decode],
  ['QoS 0 `MqttClient.publish` of 640 bytes, connected (the uplink path)', per.publish],
  ['envelope seal + open of a 644-byte body, copying crypto (framing, no AES)', per.framing],
  ['  seal alone', per.seal],
  ['  open alone', per.open],
  ['Q14 biquad over a 320-sample frame (`Int16Array`)', per.biquad],
];
for (const [label, value] of rows) out(`| ${label} | ${n(value)} | ${pct(value, FRAME_BUDGET)} | ${pct(value, FRAME_CYCLES)} | ${(value / 600).toFixed(0)} |`);
const uplink = per.seal + per.publish;
const downlink = per.decode + per.open;
out();
out(`Per 20 ms frame in JavaScript: an L16 uplink frame is one seal and one publish, **${n(uplink)} instructions** (${pct(uplink, FRAME_BUDGET)} of 3 M); `
  + `a speaker frame received is one decode and one open, **${n(downlink)}** (${pct(downlink, FRAME_BUDGET)}), before AES-GCM. One JavaScript biquad stage alone takes `
  + `${pct(per.biquad, FRAME_BUDGET)} of the frame: per-sample work stays in C.`);
out();
out('### Native stages per 20 ms frame');
out();
out('Through the ports as the device calls them (JavaScript wrapper and XS call included): libopus 1.3.1 fixed point at -O2 from '
  + '@discordjs/opus\'s sources, `native/aes_gcm.c` at -O2; a second of a voice-band test signal, 50 frames; median per call of five '
  + 'batches, and the worst single frame. Anchors: docs/anchors.md §7 (others\' libraries on this emulated M7, -O2).');
out();
const worstCall = counted.worstCall as Record<string, number>;
out('| stage | instructions (median) | worst frame | share of 12 M cycles | docs/anchors.md §7 anchor |');
out('|---|---:|---:|---:|---|');
const nativeRows: [string, number, number | undefined, string][] = [
  ['Opus encode, the device\'s uplink encoder (64 kbps CBR, `voip`: SILK, complexity 9 by default)', per.opusEncode, worstCall.opusEncode, 'SILK c10 5.9 M (max 10.4 M), c3 2.5 M, c0 1.2 M'],
  ['Opus encode, `restricted-lowdelay` (CELT), 64 kbps', per.opusEncodeCelt, worstCall.opusEncodeCelt, 'CELT 64 kbps c10 0.85 M'],
  ['Opus decode of a 64 kbps speaker frame', per.opusDecode, worstCall.opusDecode, '0.14–0.27 M (max 0.30 M)'],
  ['envelope seal, 644-byte body, AES-256-GCM (framing included)', per.sealAes, undefined, '—'],
  ['envelope open, 644-byte body, AES-256-GCM (framing included)', per.openAes, undefined, '—'],
  ['AES-128-GCM seal of 644 bytes alone, through the port', per.aes128, undefined, 'mbedTLS 72 k'],
];
for (const [label, value, most, anchor] of nativeRows) {
  out(`| ${label} | ${n(value)} | ${most === undefined ? '' : n(most)} | ${pct(value, FRAME_CYCLES)} | ${anchor} |`);
}
const opusUplink = per.opusEncode + per.sealAes + per.publish;
const speakerFrame = per.decode + per.openAes + per.opusDecode;
const both = opusUplink + speakerFrame;
out();
out(`An Opus uplink frame (encode, seal, publish) is **${n(opusUplink)} instructions** (${pct(opusUplink, FRAME_CYCLES)} of 12 M cycles); a speaker frame `
  + `(MQTT decode, open, Opus decode) **${n(speakerFrame)}** (${pct(speakerFrame, FRAME_CYCLES)}); both at once (barge-in) ${n(both)} (${pct(both, FRAME_CYCLES)}), `
  + `before the echo canceller and the wake word (docs/anchors.md §7: about 1.5 M more). ${both > FRAME_BUDGET
    ? `That is over the 3 M-instruction plan: the SILK encoder alone is ${pct(per.opusEncode, FRAME_BUDGET)} of it. Move it first: force CELT `
      + `(\`restricted-lowdelay\`, ${n(per.opusEncodeCelt)}) for an Opus uplink, or send L16 (AIS's documented format, no encoder at all).`
    : 'That fits the 3 M-instruction plan.'}`);
out();
out(`Boot: ${n(counted.reachedMs * 1e6)} instructions from the board's start (SysTick starts after RAM is set up) to the workload's first line (machine creation, the prelude, loading `
  + `the workload's bytecode); loading the application's ${appBytecode[0].count} modules takes ${n(counted.appLoad)} instructions `
  + `(${(counted.appLoad / 600e3).toFixed(0)} ms at 600 MHz), once at boot: each module's body runs from flash (the bundle's symbols `
  + 'were registered as keys when the machine was created).');
out();
out('### The machine prepared in flash, per operation');
out();
out(`The same workload image with its XS machine prepared at build time (${n(preparedBench.bytes)} B in flash: the realm and the `
  + 'application\'s modules, run in place; hosts/cortex-m/prepared.c), the same runs: the ratio is prepared over built in RAM.');
out();
out('| operation | built in RAM | prepared in flash | ratio |');
out('|---|---:|---:|---:|');
const perPrepared = countedPrepared.perCall as Record<string, number>;
for (const key of Object.keys(per)) out(`| \`${key}\` | ${n(per[key])} | ${n(perPrepared[key])} | ${(perPrepared[key] / per[key]).toFixed(2)} |`);
out();
out(`Boot to the workload's first line: ${n(counted.reachedMs * 1e6)} instructions built in RAM, ${n(countedPrepared.reachedMs * 1e6)} prepared.`);
out();
out('## The co-processor link per 20 ms frame');
out();
const linkFigures = linkRows(session.link);
out(`The device image (\`hosts/cortex-m/device.ts\`) under \`-icount shift=0\` against the emulator through \`hosts/cortex-m/bridge.ts\`, `
  + `in ${(session.ms / 1000).toFixed(0)} s of wall time: it links, registers over HTTPS and connects over MQTT (TLS in the co-processor), the bridge's `
  + 'microphone sends its 20 ms frames (paced by the link), the cloud sets a timer, the network is cut and the image rings it with its local '
  + 'tone. The link\'s own stage timers in `netlink.c` (SysTick counts, 40 instructions each) give instructions per frame; the session moved '
  + `${n(session.link.bytesIn)} B in ${n(session.link.framesIn)} frames to the board and ${n(session.link.bytesOut)} B in ${n(session.link.framesOut)} frames from it `
  + `(${session.link.crcErrors} CRC errors, ${session.link.overruns} ring overruns).`);
out();
out('| stage | frames | mean bytes on the wire | instructions per frame | per byte |');
out('|---|---:|---:|---:|---:|');
for (const row of linkFigures.rows) out(`| ${row.label} | ${n(row.frames)} | ${n(row.bytes)} | ${n(row.perFrame)} | ${row.perByte.toFixed(1)} |`);
out();
out(`Per 20 ms of audio each way, frames as the link carries them: a microphone frame in (${n(LINK_AUDIO_WIRE)} B through the RX interrupt, then parsed, `
  + `checked and copied) **${n(linkFigures.micFrame)} instructions** (${pct(linkFigures.micFrame, FRAME_BUDGET)} of 3 M); a speaker frame out and its `
  + `AUDIO_PLAYED back **${n(linkFigures.speakerFrame)}** (${pct(linkFigures.speakerFrame, FRAME_BUDGET)}). The RX interrupt takes a byte per interrupt `
  + '(the CMSDK UART has no FIFO) and the CRC goes a nibble at a time over the ring; a board\'s UART with a FIFO and DMA, or audio on I2S, '
  + 'takes most of it away.');
out();
out(`Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s of wall time.`);
out();

/** The link's stage timers as instructions per frame and per byte (40 per SysTick count under -icount shift=0). */
function linkRows(link: Record<string, number>) {
  const INSTRUCTIONS_PER_TICK = 40;
  const stage = (label: string, ticks: number, frames: number, bytes: number) => ({
    label, frames, bytes: frames ? bytes / frames : 0,
    perFrame: frames ? (ticks * INSTRUCTIONS_PER_TICK) / frames : 0, perByte: bytes ? (ticks * INSTRUCTIONS_PER_TICK) / bytes : 0,
  });
  const isr = stage('UART1 RX interrupt, per byte received (frames: bytes)', link.rxIsrTicks, link.rxIsrBytes, link.rxIsrBytes);
  const rows = [
    isr,
    stage('parse, CRC, copy: audio in (AUDIO_IN, 640 B of PCM)', link.parseAudioTicks, link.parseAudioFrames, link.parseAudioBytes),
    stage('parse, CRC, copy: socket bytes (PEER_DATA)', link.parseSocketTicks, link.parseSocketFrames, link.parseSocketBytes),
    stage('parse: the rest (AUDIO_PLAYED, SENT, OPENED, CLOSED, RANDOM, CONFIG, EVENT)', link.parseOtherTicks, link.parseOtherFrames, link.parseOtherBytes),
    stage('send, CRC and UART writes: audio out (AUDIO_OUT, 640 B)', link.sendAudioTicks, link.sendAudioFrames, link.sendAudioBytes),
    stage('send: socket bytes (DATA)', link.sendSocketTicks, link.sendSocketFrames, link.sendSocketBytes),
    stage('send: the rest (LINK_CREDIT, CREDIT, OPEN, CERT, HELLO, requests)', link.sendOtherTicks, link.sendOtherFrames, link.sendOtherBytes),
  ];
  const played = LINK_HEADER + 2 + 2;
  const micFrame = isr.perByte * LINK_AUDIO_WIRE + rows[1].perFrame;
  const speakerFrame = rows[4].perFrame + isr.perByte * played + rows[3].perFrame;
  return { rows, micFrame, speakerFrame };
}

const markdown = lines.join('\n');
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'firmware.md'), markdown);
writeFileSync(fromRoot('docs', 'figures', 'firmware-memory.svg'), memoryMap());
console.log(markdown);
console.log('wrote docs/figures/firmware.md and docs/figures/firmware-memory.svg');

/** The memory map as SVG: flash by part, RAM by region (by address, with the measured peaks). */
function memoryMap(): string {
  const W = 840, TOP = 84, H = 430, COLUMN = 150, RAM_X = 480;
  const heapPeak = Math.max(...atDefault.map((r) => r.board?.heap_peak ?? 0), memory.board.heap_peak);
  const stackPeak = Math.max(...atDefault.map((r) => r.board?.stack_peak ?? 0), memory.board.stack_peak);
  const parts = Object.entries(benchReport.parts).filter(([, bytes]) => bytes > 0).sort((a, b) => b[1] - a[1]);
  const esc = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const size = (bytes: number) => (bytes < KB ? `${bytes} B` : `${kb(bytes)} KB`);
  const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;
  const svg: string[] = [];
  const text = (x: number, y: number, value: string, attrs = '') => svg.push(`<text x="${x}" y="${y.toFixed(1)}" ${attrs}>${esc(value)}</text>`);
  /** Stacks segments from the bottom up, each at least `min` px so small regions stay readable. */
  function column(x: number, segments: { label: string; bytes: number; fill: string; address?: number }[], total: number, min = 16) {
    const raw = segments.map((s) => (s.bytes / total) * H);
    const small = raw.filter((h) => h < min).length;
    const scale = (H - small * min) / raw.filter((h) => h >= min).reduce((a, b) => a + b, 0);
    let y = TOP + H;
    segments.forEach((s, i) => {
      const h = raw[i] < min ? min : raw[i] * scale;
      if (s.address !== undefined) text(x - 6, y, hex(s.address), 'font-size="10" text-anchor="end" fill="#555" font-family="monospace"');
      y -= h;
      svg.push(`<rect x="${x}" y="${y.toFixed(1)}" width="${COLUMN}" height="${h.toFixed(1)}" fill="${s.fill}" stroke="#333" stroke-width="0.8"/>`);
      text(x + COLUMN + 8, y + h / 2 + 4, `${s.label}: ${size(s.bytes)}`, 'font-size="11"');
    });
    return y;
  }
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${TOP + H + 50}" viewBox="0 0 ${W} ${TOP + H + 50}" font-family="sans-serif">`);
  svg.push('<rect width="100%" height="100%" fill="#fff"/>');
  text(20, 24, 'Firmware image on the emulated Cortex-M7 (QEMU mps2-an500)', 'font-size="15" font-weight="bold"');
  text(20, 42, `npm run bench:firmware, ${date}. Regions under 16 px are drawn at 16 px.`, 'font-size="11" fill="#555"');
  text(20, TOP - 22, `FLASH at 0x00000000: ${kb(benchReport.flash)} KB`, 'font-size="12" font-weight="bold"');
  text(20, TOP - 8, 'application image, by part', 'font-size="11" fill="#555"');
  const flashFills: Record<string, string> = { engine: '#9ecae1', bytecode: '#fdae6b', libc: '#c7e9c0', libm: '#a1d99b', libgcc: '#74c476', platform: '#dadaeb', board: '#bcbddc', opus: '#fdd49e', crypto: '#fc8d59', other: '#eee' };
  column(20, parts.map(([key, bytes]) => ({ label: build.PART_LABELS[key].replace(/ \(.*\)$/, ''), bytes, fill: flashFills[key] ?? '#eee' })), benchReport.flash);
  text(RAM_X, TOP - 22, `RAM at 0x20000000: ${kb(ram.size)} KB (RAM_SIZE)`, 'font-size="12" font-weight="bold"');
  text(RAM_X, TOP - 8, 'by address, high on top; peaks of the largest run', 'font-size="11" fill="#555"');
  const base = 0x20000000;
  const heapStart = base + ram.data + ram.bss;
  const guard = heapStart + ram.heap;
  const top = column(RAM_X, [
    { label: '.data + .bss', bytes: ram.data + ram.bss, fill: '#fdd0a2', address: base },
    { label: 'heap in use at peak', bytes: heapPeak, fill: '#fc9272', address: heapStart },
    { label: 'heap, unused at peak', bytes: ram.heap - heapPeak, fill: '#fee0d2' },
    { label: 'MPU guard', bytes: ram.guard, fill: '#636363', address: guard },
    { label: 'C stack, unused at peak', bytes: ram.stack - stackPeak, fill: '#deebf7', address: guard + ram.guard },
    { label: 'C stack peak', bytes: stackPeak, fill: '#6baed6' },
    { label: 'handler stack', bytes: ram.handlerStack, fill: '#c6dbef', address: guard + ram.guard + ram.stack },
  ], ram.size);
  text(RAM_X - 6, top + 4, hex(base + ram.size), 'font-size="10" text-anchor="end" fill="#555" font-family="monospace"');
  text(RAM_X, TOP + H + 24, `smallest RAM_SIZE that runs every suite: ${kb(minimumRam)} KB`, 'font-size="12"');
  text(20, TOP + H + 24, 'parts from the linker map; XS without its parser', 'font-size="12"');
  svg.push('</svg>');
  return svg.join('\n') + '\n';
}
