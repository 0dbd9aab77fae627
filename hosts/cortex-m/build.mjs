#!/usr/bin/env node
// Builds the firmware image for QEMU's mps2-an500 (Cortex-M7): precompiles the application to XS bytecode
// with xsrun on the host, cross-compiles the engine and the platform layer, links with the board, and
// prints flash and RAM use. Here the application is the self-test: every portable suite the image can hold,
// the board's own checks and the overrun fixture (docs/firmware.md).
// Usage: node hosts/cortex-m/build.mjs [--ram-size bytes] [--stack-size bytes] [--quiet]  (npm run build:firmware)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildXsrun, root, toolchain as hostToolchain, xsrunPath } from '../xs/build.mjs';
import { moduleGraph, writeMap } from '../xs/modules.mjs';
import { findPortableTests, option, runMake } from '../script-tools.mjs';

export const OUT = 'build/cortex-m';
export const APT_PACKAGES = ['gcc-arm-none-eabi', 'libnewlib-arm-none-eabi', 'qemu-system-arm'];
export const APT_HINT = `apt-get install -y ${APT_PACKAGES.join(' ')}`;
export const DEFAULT_RAM_SIZE = 1024 * 1024;
export const DEFAULT_STACK_SIZE = 32 * 1024;
/** The board's own suites and fixtures, compiled by npm run build from test/cortex-m/. */
export const BOARD_SUITES = ['build/test/cortex-m/board.selftest.js'];
export const OVERRUN_FIXTURE = 'build/test/cortex-m/overrun.fixture.js';
const NODE_TEST = 'build/test/cortex-m/node-test.js';
const EXCLUSIONS = 'build/test/cortex-m/exclusions.js';

const firstLine = (text) => text.split('\n')[0].trim();

/** The cross toolchain, QEMU and the host compiler, or `missing`: a sentence with the apt-get line. */
export function firmwareToolchain({ qemu = true } = {}) {
  const problems = [];
  const gcc = spawnSync('arm-none-eabi-gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error || gcc.status !== 0) problems.push('no arm-none-eabi-gcc');
  else {
    const libc = spawnSync('arm-none-eabi-gcc', ['-mcpu=cortex-m7', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv5-d16',
      '-print-file-name=libc_nano.a'], { encoding: 'utf8' });
    const path = libc.stdout.trim();
    if (!isAbsolute(path) || !existsSync(path)) problems.push('no newlib for arm-none-eabi (libc_nano.a)');
  }
  const emulator = qemu ? spawnSync('qemu-system-arm', ['--version'], { encoding: 'utf8' }) : undefined;
  if (emulator && (emulator.error || emulator.status !== 0)) problems.push('no qemu-system-arm');
  const host = hostToolchain();
  if (host.missing) problems.push(`${host.missing} for xsrun, the precompiler (Debian: build-essential)`);
  if (problems.length) return { missing: `${problems.join(', ')}; install with: ${APT_HINT}` };
  return { gcc: firstLine(gcc.stdout), qemu: emulator ? firstLine(emulator.stdout) : undefined };
}


/**
 * The portable suites (build/test/**\/*.portable.test.js) the image runs, and those it leaves out with the
 * reason: a suite that imports a module of EXCLUDED_MODULES (test/cortex-m/exclusions.ts).
 */
export async function selfTestPlan() {
  if (!existsSync(join(root, EXCLUSIONS))) throw new Error(`${EXCLUSIONS} not found: run npm run build first`);
  const { EXCLUDED_MODULES, EXCLUDED_TESTS } = await import(pathToFileURL(join(root, EXCLUSIONS)).href);
  const suites = [];
  const excluded = [];
  for (const file of findPortableTests(join(root, 'build', 'test')).map((f) => relative(root, f).split('\\').join('/')).sort()) {
    const graph = moduleGraph([file]);
    const module = Object.keys(EXCLUDED_MODULES).find((specifier) => graph.aliases.has(specifier));
    if (module) excluded.push({ file, reason: EXCLUDED_MODULES[module] });
    else suites.push(file);
  }
  if (suites.length === 0) throw new Error('no portable suites under build/test: run npm run build first');
  return { suites, excluded, excludedTests: EXCLUDED_TESTS };
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.error) throw result.error;
  return result;
}

/**
 * Precompiles `entries` and everything they import with xsrun into OUT/<name>.xsb and its C array
 * OUT/<name>.c; node:test maps to the image's wrapper unless `nodeTest` is false (an application: every module
 * of its bundle is one it loads). Returns the bundle and the bytecode per module.
 */
export function precompile(name, entries, { nodeTest = true } = {}) {
  const graph = moduleGraph(nodeTest ? [...entries, NODE_TEST] : entries);
  if (nodeTest) graph.aliases.set('node:test', NODE_TEST);
  const modulesFile = `${OUT}/${name}.modules`;
  writeMap(join(root, modulesFile), graph.aliases);
  const xsb = `${OUT}/${name}.xsb`;
  const bundleC = `${OUT}/${name}.c`;
  const compiled = run(xsrunPath, ['--map', modulesFile, '--compile', xsb, '--c-array', bundleC, ...graph.keys]);
  if (compiled.status !== 0) throw new Error(`precompiling ${name} failed:\n${compiled.stderr}`);
  const modules = compiled.stdout.trim().split('\n').map((line) => {
    const [key, code, symbols] = line.split('\t');
    return { key, code: Number(code.split(' ')[1]), symbols: Number(symbols.split(' ')[1]) };
  });
  return { name, xsb, bundleC, bytes: statSync(join(root, xsb)).size, modules };
}

/** make -f hosts/cortex-m/Makefile: resolves to the image's paths, or rejects with make's errors. */
export function link({ name, bundleC, ramSize = DEFAULT_RAM_SIZE, stackSize = DEFAULT_STACK_SIZE, defaultArgs = '', quiet = false }) {
  const jobs = Math.max(1, Math.min(availableParallelism(), 8));
  const elf = `${OUT}/${name}.elf`;
  const args = ['-f', 'hosts/cortex-m/Makefile', `-j${jobs}`, `BUNDLE_C=${bundleC}`, `IMAGE=${elf}`,
    `RAM_SIZE=${ramSize}`, `STACK_SIZE=${stackSize}`, `DEFAULT_ARGS=${defaultArgs}`];
  return runMake(args, { quiet }).then(({ compiled, seconds }) => ({ elf, map: elf.replace(/\.elf$/, '.map'), compiled, seconds }));
}

/** Sizes of a linked image: arm-none-eabi-size, the RAM regions from the linker's symbols, flash by part. */
export function imageReport(elf, bundleObject) {
  const size = run('arm-none-eabi-size', [elf]);
  const [text, data, bss] = size.stdout.trim().split('\n')[1].trim().split(/\s+/).map(Number);
  const symbols = {};
  for (const line of run('arm-none-eabi-nm', [elf]).stdout.split('\n')) {
    const [address, , name] = line.trim().split(/\s+/);
    if (name && /^(__\w+|RAM_SIZE|STACK_SIZE|HANDLER_STACK_SIZE|FLASH_SIZE)$/.test(name)) symbols[name] = parseInt(address, 16);
  }
  const ram = {
    size: symbols.RAM_SIZE,
    data,
    bss,
    heap: symbols.__heap_end - symbols.__heap_start,
    guard: symbols.__stack_bottom - symbols.__stack_guard,
    stack: symbols.__stack_top - symbols.__stack_bottom,
    handlerStack: symbols.__handler_stack_top - symbols.__handler_stack_bottom,
  };
  return { text, data, bss, flash: text + data, flashSize: symbols.FLASH_SIZE, ram, parts: flashParts(elf.replace(/\.elf$/, '.map'), bundleObject) };
}

const PARTS = [
  ['engine', 'XS engine', (file) => file.includes('/obj/engine/')],
  ['opus', 'libopus 1.3.1, fixed point (@discordjs/opus sources)', (file) => file.includes('/obj/opus/')],
  ['crypto', 'AES-GCM (native/aes_gcm.c)', (file) => file.includes('/obj/native/aes_gcm')],
  ['dsp', 'echo canceller and wake word (native/dsp, with the int8 weights)', (file) => file.includes('/obj/native/dsp/')],
  ['platform', 'platform layer and natives (hosts/xs)', (file) => file.includes('/obj/xs/')],
  ['board', 'board (hosts/cortex-m)', (file) => file.includes('/obj/board/')],
  ['libc', 'newlib-nano libc', (file) => /libc_nano\.a|libc\.a/.test(file)],
  ['libm', 'newlib libm', (file) => /libm\.a/.test(file)],
  ['libgcc', 'libgcc', (file) => /libgcc\.a/.test(file)],
];

/** Flash bytes (.text with rodata, .ARM.exidx, .data's initial values) per part, from the linker map. */
export function flashParts(mapPath, bundleObject) {
  const parts = Object.fromEntries([...PARTS.map(([key]) => [key, 0]), ['bytecode', 0], ['other', 0]]);
  const text = readFileSync(join(root, mapPath), 'utf8');
  const lines = text.slice(text.indexOf('Linker script and memory map')).split('\n');
  let output = '';
  let pendingName = '';
  for (const line of lines) {
    const section = line.match(/^(\.[\w.]+)/);
    if (section) { output = section[1]; continue; }
    if (!['.text', '.ARM.exidx', '.data'].includes(output)) continue;
    const named = line.match(/^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/);
    const continued = pendingName && line.match(/^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/);
    let bytes;
    let file;
    if (named) { bytes = parseInt(named[3], 16); file = named[4]; pendingName = ''; }
    else if (continued) { bytes = parseInt(continued[2], 16); file = continued[3]; pendingName = ''; }
    else {
      const fill = line.match(/^ \*fill\*\s+0x[0-9a-f]+\s+0x([0-9a-f]+)/);
      if (fill) parts.other += parseInt(fill[1], 16);
      pendingName = /^ \S+$/.test(line) ? line.trim() : '';
      continue;
    }
    const part = bundleObject && file.endsWith(bundleObject) ? 'bytecode' : PARTS.find(([, , test]) => test(file))?.[0] ?? 'other';
    parts[part] += bytes;
  }
  return parts;
}

export const PART_LABELS = Object.fromEntries([...PARTS.map(([key, label]) => [key, label]), ['bytecode', 'application bytecode (precompiled bundle)'], ['other', 'vector table, alignment']]);

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const n = (value) => value.toLocaleString('en-US');

/** The lines build:firmware prints: flash and RAM of an image. */
export function describeImage(report, title) {
  const { ram } = report;
  const lines = [`${title}`];
  lines.push(`  arm-none-eabi-size: text ${n(report.text)}  data ${n(report.data)}  bss ${n(report.bss)}`);
  lines.push(`  flash ${n(report.flash)} B (${kb(report.flash)}): text + rodata ${n(report.text)}, .data initial values ${n(report.data)}`);
  for (const [key, bytes] of Object.entries(report.parts).sort((a, b) => b[1] - a[1])) {
    if (bytes) lines.push(`    ${PART_LABELS[key].padEnd(42)} ${kb(bytes).padStart(10)}`);
  }
  lines.push(`  RAM ${n(ram.size)} B (${kb(ram.size)}, the RAM_SIZE budget): data ${n(ram.data)} + bss ${n(ram.bss)} + heap ${n(ram.heap)} `
    + `+ stack guard ${ram.guard} + C stack ${n(ram.stack)} + handler stack ${n(ram.handlerStack)}`);
  return lines.join('\n');
}

/** The self-test image: every suite the image holds, the board's checks and the overrun fixture. */
export async function buildSelfTest({ ramSize = DEFAULT_RAM_SIZE, stackSize = DEFAULT_STACK_SIZE, quiet = false, name = 'selftest' } = {}) {
  const tools = firmwareToolchain({ qemu: false });
  if (tools.missing) throw new Error(`cannot build the firmware: ${tools.missing}`);
  const say = quiet ? () => {} : (text) => console.log(text);
  say(`firmware: ${tools.gcc}`);
  await buildXsrun({ quiet: true });
  const plan = await selfTestPlan();
  for (const { file, reason } of plan.excluded) say(`firmware: leaving out ${file}: ${reason}`);
  const bundle = precompile(name, [...plan.suites, ...BOARD_SUITES, OVERRUN_FIXTURE]);
  say(`firmware: precompiled ${bundle.modules.length} modules with xsrun: ${n(bundle.bytes)} B of bytecode (${bundle.bundleC})`);
  const image = await link({ name, bundleC: bundle.bundleC, ramSize, stackSize, defaultArgs: `--embedded ${BOARD_SUITES[0]}`, quiet });
  const report = imageReport(image.elf, bundle.bundleC.replace(/\.c$/, '.o'));
  say(`firmware: ${image.compiled ? `${image.compiled} files compiled, ` : ''}linked in ${image.seconds.toFixed(1)} s`);
  return { ...image, bundle, plan, report, tools };
}


if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  try {
    const ramSize = option('--ram-size', DEFAULT_RAM_SIZE);
    const stackSize = option('--stack-size', DEFAULT_STACK_SIZE);
    const built = await buildSelfTest({ ramSize, stackSize, quiet: process.argv.includes('--quiet') });
    console.log(describeImage(built.report, `firmware: ${built.elf} (RAM_SIZE ${ramSize}, STACK_SIZE ${stackSize})`));
    console.log(`firmware: done in ${((Date.now() - started) / 1000).toFixed(1)} s; run it with npm run test:firmware`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
