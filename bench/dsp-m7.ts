// The cost of native/dsp on the emulated Cortex-M7 (the echo canceller, the wake word): compiled by Debian's
// arm-none-eabi-gcc (the firmware image's CPU flags, -O2 and -Os), linked with the image's startup and board
// layer and bench/native/dsp-m7.c, run on QEMU mps2-an500 with -icount shift=0 over 4 s of the simulated
// room's far-end signal (test/support/echo.ts). Instructions per 20 ms frame, mean and max.
// Prints figures and writes docs/figures/dsp-m7.md; never passes or fails.
// Usage: node build/bench/dsp-m7.js
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpeechSynthesizer } from '../simulator/voice/tts.js';
import { echoScenarios } from '../test/support/echo.js';
import { fromRoot } from '../test/support/paths.js';

interface Boot { code: number | null; output: string; stderr: string }
const qemu = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'qemu.mjs')).href) as { boot(elf: string, args: string[], o?: { icount?: boolean }): Promise<Boot> };

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

interface Result { opt: string; taps: number; init: number; mean: number; max: number; stateBytes: number; codeBytes: number; erleDb: number }
const results: Result[] = [];
const wake: { opt: string; init: number; mean: number; max: number; stateBytes: number }[] = [];
for (const opt of ['-O2', '-Os']) {
  for (const taps of TAPS) {
    const elf = join(out, `aec${opt}-${taps}.elf`);
    const tapsC = join(out, `taps-${taps}.c`);
    writeFileSync(tapsC, `const int bench_taps = ${taps};\n`);
    const dspObjects = ['aec', 'delay', 'fft', 'kws'].map((name) => {
      const o = join(out, `${name}${opt}.o`);
      execFileSync('arm-none-eabi-gcc', [...CPU, opt, '-Wall', '-ffunction-sections', '-fdata-sections', '-c', `native/dsp/${name}.c`, '-o', o], { cwd: fromRoot() });
      return o;
    });
    const codeBytes = dspObjects.reduce((sum, o) => sum + Number(execFileSync('arm-none-eabi-size', ['-A', o], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('.text')).reduce((s, l) => s + Number(l.split(/\s+/)[1]), 0)), 0);
    execFileSync('arm-none-eabi-gcc', [...CPU, opt, ...xsIncludes, '--specs=nano.specs', '-nostartfiles', '-Wl,--gc-sections', '-T', 'hosts/cortex-m/link.ld',
      '-Wl,--defsym=RAM_SIZE=1048576', '-Wl,--defsym=STACK_SIZE=32768', '-o', elf, 'bench/native/dsp-m7.c', signalC, tapsC, ...dspObjects, ...board, '-lm', '-lc', '-lgcc'], { cwd: fromRoot(), stdio: 'inherit' });
    const boot = await qemu.boot(elf, [], { icount: true });
    const line = boot.output.split('\n').find((l) => l.startsWith('aec-m7 '));
    if (boot.code !== 0 || !line) throw new Error(`the AEC image failed (exit ${boot.code}):\n${boot.output}\n${boot.stderr}`);
    const f = Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
    const r = { opt, taps, init: f.init, mean: f.mean, max: f.max, stateBytes: f.state_bytes, codeBytes, erleDb: 10 * Math.log10(f.in_energy / f.out_energy) };
    results.push(r);
    const kwsLine = boot.output.split('\n').find((l) => l.startsWith('kws-m7 '));
    if (!kwsLine) throw new Error(`no wake-word figures:\n${boot.output}`);
    const k = Object.fromEntries([...kwsLine.matchAll(/(\w+)=(\d+)/g)].map(([, key, value]) => [key, Number(value)]));
    if (taps === TAPS[0]) {
      wake.push({ opt, init: k.init, mean: k.mean, max: k.max, stateBytes: k.state_bytes });
      console.log(`${opt} wake word: ${n(k.mean)} instructions per frame (max ${n(k.max)}), state ${k.state_bytes} B`);
    }
    console.log(`${opt} ${taps} taps (canceller): ${r.mean.toLocaleString('en')} instructions per frame (max ${r.max.toLocaleString('en')}), init ${r.init.toLocaleString('en')}, state ${r.stateBytes} B, code ${r.codeBytes} B`);
  }
}

const md = [
  '# native/dsp on the Cortex-M7 emulation',
  '',
  '## Echo canceller',
  '',
  `Measured by bench/dsp-m7.ts on ${new Date().toISOString().slice(0, 10)}: native/dsp/aec.c, delay.c and fft.c built by Debian arm-none-eabi-gcc `
  + `(${CPU.join(' ')}), run on QEMU mps2-an500 with \`-icount shift=0\` (one virtual ns per guest instruction, read through the `
  + `board's SysTick clock to 40 instructions) over ${frames} frames (${SECONDS} s) of the simulated room's far-end signal `
  + '(still converging: about 3 s to 20 dB, aec.md). State is the C struct (static, nothing allocated), sized for the largest filter (2,048 taps; '
  + 'build with -DAEC_MAX_PARTITIONS=16 to halve it for 1,024); code is .text of aec.o, delay.o, fft.o and kws.o. The last column checks that the image '
  + 'cancels: microphone over output power in the last 2 s (ERLE including the silent gaps; aec.md has the windowed figures).',
  '',
  '| build | taps | instructions per 20 ms frame, mean | max | share of a 600 MHz M7\'s 12 M cycles (1 instruction per cycle) | init | state | code | ERLE, last 2 s |',
  '|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.opt} | ${r.taps} | ${n(r.mean)} | ${n(r.max)} | ${((100 * r.mean) / 12e6).toFixed(1)} % | ${n(r.init)} | ${(r.stateBytes / 1024).toFixed(1)} KB | ${(r.codeBytes / 1024).toFixed(1)} KB | ${r.erleDb.toFixed(1)} dB |`),
  '',
  'Anchors: speexdsp\'s canceller, fixed point, on the same emulation: 0.94 M (1,024 taps) and 1.04 M (2,048 taps) instructions per '
  + 'frame with 56 and 71 KB of state (../shared/spec/xs-facts.md §7). A Q14 biquad in JavaScript on XS on this emulation costs '
  + '970,180 instructions per 320-sample frame (docs/figures/firmware.md, npm run bench:firmware): one biquad stage in JavaScript '
  + 'costs more than this whole canceller in C.',
  '',
  '## Wake word (kws.c: 24 log-mel bands from a 512-point FFT per frame, one hidden layer of 24 over the last second)',
  '',
  '| build | instructions per 20 ms frame, mean | max | share of 12 M cycles | init | state | weights (flash) |',
  '|---|---|---|---|---|---|---|',
  ...wake.map((w) => `| ${w.opt} | ${n(w.mean)} | ${n(w.max)} | ${((100 * w.mean) / 12e6).toFixed(1)} % | ${n(w.init)} | ${(w.stateBytes / 1024).toFixed(1)} KB | 28.1 KB int8 + 0.3 KB float |`),
  '',
  'The weights are in kws.o\'s .rodata, not in the code column above. Canceller and wake word together (the barge-in path): '
  + `${n((results[0]?.mean ?? 0) + (wake[0]?.mean ?? 0))} instructions per frame at -O2 and 1,024 taps.`,
  '',
];
writeFileSync(fromRoot('docs', 'figures', 'dsp-m7.md'), md.join('\n'));
console.log('wrote docs/figures/dsp-m7.md');
