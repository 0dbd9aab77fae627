// The cost of native/dsp on the emulated Cortex-M7 (the echo canceller, the wake word): compiled by Debian's
// arm-none-eabi-gcc (the firmware image's CPU flags, -O2 and -Os), linked with the image's startup and board
// layer and bench/native/dsp-m7.c, run on QEMU mps2-an500 with -icount shift=0 over 4 s of the simulated
// room's far-end signal (test/support/echo.ts). Instructions per 20 ms frame, mean and max. Then the same C through
// the XS binding, as the devices call it (JavaScript included), on the firmware image and on xsrun.
// Prints figures and writes docs/figures/dsp-m7.md; never passes or fails.
// Usage: node build/bench/dsp-m7.js
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpeechSynthesizer } from '../emulator/voice/tts.js';
import { echoScenarios } from '../test/support/echo.js';
import { fromRoot } from '../test/support/paths.js';
import { DspSignal, runDsp } from '../test/support/dsp-signal.js';
import * as xsTools from '../test/support/xs-tools.js';
import { wasmDsp } from '../hosts/node/dsp.js';
import { NativeEchoCanceller, NativeWakeWord } from '../src/audio/native-dsp.js';

interface Boot { code: number | null; output: string; stderr: string }
const qemu = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'qemu.mjs')).href) as { boot(elf: string, args: string[], o?: { icount?: boolean }): Promise<Boot> };
const firmware = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'build.mjs')).href) as {
  precompile(name: string, entries: string[]): { bundleC: string };
  link(o: { name: string; bundleC: string; quiet?: boolean }): Promise<{ elf: string }>;
};

const TAPS = [1024, 2048];
const n = (x: number) => x.toLocaleString('en');
const SECONDS = 4;
const out = fromRoot('build', 'cortex-m', 'aec-bench');
mkdirSync(out, { recursive: true });

const tts = await SpeechSynthesizer.create();
const [far] = echoScenarios(tts, { seconds: SECONDS });
const frames = far.played.length / 320;
const array = (name: string, x: Int16Array) => `const int16_t ${name}[] = {${Array.from(x).join(',')}};\n`;
const signalC = join(out, 'signal.c');
writeFileSync(signalC, `#include <stdint.h>\n${array('bench_mic', far.capture.mic)}${array('bench_ref', far.played)}const int bench_frames = ${frames};\n`);

// The board layer's objects come from the firmware Makefile (same rules, same flags as the image).
const board = ['build/cortex-m/obj/board/startup.o', 'build/cortex-m/obj/board/board.o'];
execFileSync('make', ['-s', '-f', 'hosts/cortex-m/Makefile', ...board], { cwd: fromRoot(), stdio: 'inherit' });
const xsIncludes = ['-Ihosts/xs', '-Ihosts/cortex-m', '-Inative/dsp'];
const CPU = ['-mcpu=cortex-m7', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv5-d16'];
// As native/native.mk builds native/dsp into the firmware image: no fused multiply-add (bit-identical hosts).
const FLOAT = ['-ffp-contract=off'];

interface Result { opt: string; taps: number; suppress: boolean; init: number; mean: number; max: number; stateBytes: number; codeBytes: number; erleDb: number }
interface Wake { opt: string; init: number; mean: number; max: number; stateBytes: number }

/** The bare-C bench image (bench/native/dsp-m7.c) over the frames in `signal` (a C file), booted under -icount. */
async function bareC(opt: string, taps: number, signal: string, name: string, suppress = false): Promise<{ aec: Result; kws: Wake }> {
  const elf = join(out, `${name}${opt}-${taps}${suppress ? '-suppress' : ''}.elf`);
  const tapsC = join(out, `taps-${taps}${suppress ? '-suppress' : ''}.c`);
  writeFileSync(tapsC, `const int bench_taps = ${taps};\nconst int bench_suppress = ${suppress ? 1 : 0};\n`);
  const dspObjects = ['aec', 'delay', 'fft', 'kws', 'suppress'].map((file) => {
    const o = join(out, `${file}${opt}.o`);
    execFileSync('arm-none-eabi-gcc', [...CPU, opt, ...FLOAT, '-Wall', '-ffunction-sections', '-fdata-sections', '-c', `native/dsp/${file}.c`, '-o', o], { cwd: fromRoot() });
    return o;
  });
  const codeBytes = dspObjects.reduce((sum, o) => sum + Number(execFileSync('arm-none-eabi-size', ['-A', o], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('.text')).reduce((t, l) => t + Number(l.split(/\s+/)[1]), 0)), 0);
  execFileSync('arm-none-eabi-gcc', [...CPU, opt, ...xsIncludes, '--specs=nano.specs', '-nostartfiles', '-Wl,--gc-sections', '-T', 'hosts/cortex-m/link.ld',
    '-Wl,--defsym=RAM_SIZE=1048576', '-Wl,--defsym=STACK_SIZE=32768', '-o', elf, 'bench/native/dsp-m7.c', signal, tapsC, ...dspObjects, ...board, '-lm', '-lc', '-lgcc'], { cwd: fromRoot(), stdio: 'inherit' });
  const boot = await qemu.boot(elf, [], { icount: true });
  const fields = (prefix: string) => {
    const line = boot.output.split('\n').find((l) => l.startsWith(prefix));
    if (boot.code !== 0 || !line) throw new Error(`the DSP bench image failed (exit ${boot.code}):\n${boot.output}\n${boot.stderr}`);
    return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
  };
  const f = fields('aec-m7 ');
  const k = fields('kws-m7 ');
  return {
    aec: { opt, taps, suppress, init: f.init, mean: f.mean, max: f.max, stateBytes: f.state_bytes, codeBytes, erleDb: 10 * Math.log10(f.in_energy / f.out_energy) },
    kws: { opt, init: k.init, mean: k.mean, max: k.max, stateBytes: k.state_bytes },
  };
}

const results: Result[] = [];
const wake: Wake[] = [];
for (const opt of ['-O2', '-Os']) {
  for (const taps of TAPS) {
    const { aec: r, kws: k } = await bareC(opt, taps, signalC, 'aec');
    results.push(r);
    if (taps === TAPS[0]) {
      wake.push(k);
      console.log(`${opt} wake word: ${n(k.mean)} instructions per frame (max ${n(k.max)}), state ${k.stateBytes} B`);
    }
    console.log(`${opt} ${taps} taps (canceller): ${r.mean.toLocaleString('en')} instructions per frame (max ${r.max.toLocaleString('en')}), init ${r.init.toLocaleString('en')}, state ${r.stateBytes} B, code ${r.codeBytes} B`);
  }
  // The residual echo suppressor after it (off on the device by default).
  const { aec: s } = await bareC(opt, TAPS[0], signalC, 'aec', true);
  results.push(s);
  console.log(`${opt} ${TAPS[0]} taps with the suppressor: ${n(s.mean)} instructions per frame (max ${n(s.max)})`);
}

// Through the XS binding (hosts/xs/xr_dsp.c, src/audio/native-dsp.ts): test/native/dsp-program.ts times each hook's
// process() with xsrun.now() on the firmware image (-icount: ms x 1e6 = instructions) and on xsrun (this machine's
// wall clock), over test/support/dsp-signal.ts's frames (integer-made, the same on every host); the bare C runs
// over the same frames for the difference, and Node's WebAssembly build through the same wrapper for scale.
const BOUND_FRAMES = 200;
const generated = new DspSignal();
const ref = new Int16Array(BOUND_FRAMES * 320), mic = new Int16Array(BOUND_FRAMES * 320);
for (let f = 0; f < BOUND_FRAMES; f++) generated.frame(ref.subarray(f * 320, (f + 1) * 320), mic.subarray(f * 320, (f + 1) * 320));
const generatedC = join(out, 'signal-generated.c');
writeFileSync(generatedC, `#include <stdint.h>\n${array('bench_mic', mic)}${array('bench_ref', ref)}const int bench_frames = ${BOUND_FRAMES};\n`);
const bare = await bareC('-O2', 1024, generatedC, 'generated');
const PROGRAM = 'build/test/native/dsp-program.js';
interface Timing { aecMean: number; aecMax: number; kwsMean: number; kwsMax: number }
const timing = (output: string): Timing => {
  const line = output.split('\n').find((l) => l.startsWith('time '));
  if (!line) throw new Error(`no timing from the DSP program:\n${output.slice(-2000)}`);
  return JSON.parse(line.slice(5)) as Timing;
};
const MAP = 'build/bench/dsp-program.map';
await xsTools.build.buildXsrun({ quiet: true });
xsTools.modules.writeMap(fromRoot(MAP), xsTools.modules.moduleGraph([PROGRAM]).aliases);
const bundle = firmware.precompile('dsp-bench', [PROGRAM]);
const image = await firmware.link({ name: 'dsp-bench', bundleC: bundle.bundleC, quiet: true });
const m7Boot = await qemu.boot(image.elf, ['--embedded', PROGRAM, 'time', String(BOUND_FRAMES), '1024'], { icount: true });
if (m7Boot.code !== 0) throw new Error(`the firmware image failed (exit ${m7Boot.code}):\n${m7Boot.output.slice(-2000)}\n${m7Boot.stderr}`);
const m7 = timing(m7Boot.output);
const bound = { aec: Math.round(m7.aecMean * 1e6), aecMax: Math.round(m7.aecMax * 1e6), kws: Math.round(m7.kwsMean * 1e6), kwsMax: Math.round(m7.kwsMax * 1e6) };
console.log(`through the XS binding on the image: canceller ${n(bound.aec)} (bare C ${n(bare.aec.mean)}), wake word ${n(bound.kws)} (bare C ${n(bare.kws.mean)}) instructions per frame`);
const xsrunRun = spawnSync(xsTools.build.xsrunPath, ['--map', MAP, PROGRAM, 'time', String(BOUND_FRAMES), '1024'], { cwd: fromRoot(), encoding: 'utf8' });
if (xsrunRun.status !== 0) throw new Error(`xsrun failed:\n${xsrunRun.stderr}`);
const onXsrun = timing(xsrunRun.stdout);
const onNode = runDsp(new NativeEchoCanceller(wasmDsp), new NativeWakeWord(wasmDsp), BOUND_FRAMES, () => performance.now()).time!;
const us = (ms: number) => (ms * 1000).toFixed(0);
console.log(`per frame on this machine: xsrun canceller ${us(onXsrun.aecMean)} µs, wake word ${us(onXsrun.kwsMean)} µs; Node (wasm) ${us(onNode.aecMean)} µs, ${us(onNode.kwsMean)} µs`);

const md = [
  '# native/dsp on the Cortex-M7 emulation',
  '',
  '## Echo canceller',
  '',
  `Measured by bench/dsp-m7.ts on ${new Date().toISOString().slice(0, 10)}: native/dsp/aec.c, delay.c, fft.c and suppress.c built by Debian arm-none-eabi-gcc `
  + `(${[...CPU, ...FLOAT].join(' ')}), run on QEMU mps2-an500 with \`-icount shift=0\` (one virtual ns per guest instruction, read through the `
  + `board's SysTick clock to 40 instructions) over ${frames} frames (${SECONDS} s) of the simulated room's far-end signal `
  + '(still converging: about 3 s to 20 dB, aec.md). State is the C struct (static, nothing allocated), sized for the largest filter (2,048 taps; '
  + 'build with -DAEC_MAX_PARTITIONS=16 to halve it for 1,024); code is .text of aec.o, delay.o, fft.o, suppress.o and kws.o. The last column checks that the image '
  + 'cancels: microphone over output power in the last 2 s (ERLE including the silent gaps; aec.md has the windowed figures).',
  '',
  '| build | taps | suppressor | instructions per 20 ms frame, mean | max | share of a 600 MHz M7\'s 12 M cycles (1 instruction per cycle) | init | state | code | ERLE, last 2 s |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.opt} | ${r.taps} | ${r.suppress ? 'on' : 'off'} | ${n(r.mean)} | ${n(r.max)} | ${((100 * r.mean) / 12e6).toFixed(1)} % | ${n(r.init)} | ${(r.stateBytes / 1024).toFixed(1)} KB | ${(r.codeBytes / 1024).toFixed(1)} KB | ${r.erleDb.toFixed(1)} dB |`),
  '',
  'Anchors: speexdsp\'s canceller, fixed point, on the same emulation: 0.94 M (1,024 taps) and 1.04 M (2,048 taps) instructions per '
  + 'frame with 56 and 71 KB of state; with its preprocessor (residual echo suppression) 1.47 M. A Q14 biquad in JavaScript on XS on this emulation costs '
  + '970,180 instructions per 320-sample frame (docs/figures/firmware.md, npm run bench:firmware): one biquad stage in JavaScript '
  + 'costs more than this whole canceller in C.',
  '',
  '## Wake word (kws.c: 24 log-mel bands from a 512-point FFT per frame, one hidden layer of 48 over the last second in 40 ms steps, int8 × int16 dot products)',
  '',
  '| build | instructions per 20 ms frame, mean | max | share of 12 M cycles | init | state | weights (flash) |',
  '|---|---|---|---|---|---|---|',
  ...wake.map((w) => `| ${w.opt} | ${n(w.mean)} | ${n(w.max)} | ${((100 * w.mean) / 12e6).toFixed(1)} % | ${n(w.init)} | ${(w.stateBytes / 1024).toFixed(1)} KB | 28.1 KB int8 + 0.3 KB float |`),
  '',
  'The weights are in kws.o\'s .rodata, not in the code column above. Canceller and wake word together (the barge-in path): '
  + `${n((results[0]?.mean ?? 0) + (wake[0]?.mean ?? 0))} instructions per frame at -O2 and 1,024 taps.`,
  '',
  '## Through the XS binding (the devices\' front end)',
  '',
  `The same C as the firmware image links it (native/native.mk: -O2, no fused multiply-add, the canceller's state sized for 1,024 taps), `
  + 'called as the devices call it: the hook\'s process() in JavaScript (src/audio/native-dsp.ts), the host function `natives.aecProcess` / '
  + '`kwsProcess` (hosts/xs/xr_dsp.c: the typed arrays read in place, their lengths checked), then the C. test/native/dsp-program.ts '
  + `times each call with xsrun.now() over ${BOUND_FRAMES} frames of test/support/dsp-signal.ts (integer-made far end, echo, a near talker `
  + 'from 1.2 s to 2 s), the canceller\'s output going to the wake word as in the front end; the bare C (bench/native/dsp-m7.c, the same '
  + 'flags) over the same frames beside it.',
  '',
  '| stage | bare C, instructions per frame (mean) | through the XS binding (mean) | max | the call\'s cost | share of 12 M cycles |',
  '|---|---|---|---|---|---|',
  `| echo canceller, 1,024 taps | ${n(bare.aec.mean)} | ${n(bound.aec)} | ${n(bound.aecMax)} | ${n(bound.aec - bare.aec.mean)} | ${((100 * bound.aec) / 12e6).toFixed(1)} % |`,
  `| wake word | ${n(bare.kws.mean)} | ${n(bound.kws)} | ${n(bound.kwsMax)} | ${n(bound.kws - bare.kws.mean)} | ${((100 * bound.kws) / 12e6).toFixed(1)} % |`,
  `| both (the front end's DSP) | ${n(bare.aec.mean + bare.kws.mean)} | ${n(bound.aec + bound.kws)} | | ${n(bound.aec + bound.kws - bare.aec.mean - bare.kws.mean)} | ${((100 * (bound.aec + bound.kws)) / 12e6).toFixed(1)} % |`,
  '',
  `State, c_malloc'd once per hook outside the XS heap: the canceller ${(bare.aec.stateBytes / 1024).toFixed(1)} KB as bench/native/dsp-m7.c `
  + 'builds it (32 partitions), 40.1 KB in the firmware image (AEC_MAX_PARTITIONS=16, test/native/dsp.test.ts prints it); the detector '
  + `${(bare.kws.stateBytes / 1024).toFixed(1)} KB.`,
  '',
  `On xsrun (this machine, wall clock, one run; the same program): canceller ${us(onXsrun.aecMean)} µs, wake word ${us(onXsrun.kwsMean)} µs per frame; `
  + `on Node through the WebAssembly build and the same wrapper: ${us(onNode.aecMean)} µs and ${us(onNode.kwsMean)} µs.`,
  '',
];
writeFileSync(fromRoot('docs', 'figures', 'dsp-m7.md'), md.join('\n'));
console.log('wrote docs/figures/dsp-m7.md');
