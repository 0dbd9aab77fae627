// The C of the Moddable build's natives, compiled here as mcconfig would compile it, without the SDK (not
// installable on CI): each C file manifest.json maps becomes one object with the manifest's include folders
// (from hosts/moddable/manifest-check.mjs) and the SDK's flags for ESP32 minus the Xtensa options.
//   - The bindings (gcm.c, opus-codec.c, dsp.c, random.c, and the checks and setup they share with the XS hosts:
//     native/aes_gcm_check.c, native/ais_opus.c, native/dsp_check.c) against XS's headers from node_modules/@agoric/xsnap, whose
//     xsmc.h has the SDK's xsmc API; without the SDK's platform header (lin_xs.h needs GLib's headers), as
//     random.c already assumes: <stddef.h> first. Every native("…") and Native("…") name in hosts/moddable is a
//     function those objects define (xsl's generated table would not link otherwise).
//   - native/dsp: every C file of it but wasm.c is in the build, compiled with ESP32's flags and the mc.defines.h
//     the manifest's defines make, and ESP32's canceller is sized by defines.dsp.aecMaxPartitions (aec.h through
//     hosts/moddable/dsp/ais_dsp_config.h), the simulator's by aec.h's default.
//   - libopus's six wrappers: together they #include exactly libopus's own source lists, set native.mk's
//     OPUS_DEFINES, and linked with test/moddable/c/opus-frames.c they encode and decode bit for bit as libopus
//     built file by file with native.mk's flags (the XS hosts' build).
// Not here: xsc/xsl, linking against the XS runtime, running on mcsim or a board.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../support/paths.js';

interface Build { errors: string[]; cFiles: Map<string, { file: string }>; includeFolders: string[]; defines: Record<string, unknown> }
interface Checker {
  checkManifest(path: string, platform: string, options?: { moddable?: string }): Build;
  definesHeader(defines: Record<string, unknown>): string;
}
const checker = await import(pathToFileURL(fromRoot('hosts', 'moddable', 'manifest-check.mjs')).href) as Checker;

const cc = process.env.CC || 'gcc';
const hasCompiler = spawnSync(cc, ['--version']).status === 0 && spawnSync('nm', ['--version']).status === 0;
const skip = hasCompiler ? false : `no C compiler or nm (${cc}): apt-get install build-essential`;
const XS = fromRoot('node_modules', '@agoric', 'xsnap', 'moddable', 'xs', 'includes');
const OPUS = fromRoot('node_modules', '@discordjs', 'opus', 'deps', 'opus');
// make.esp32.mk's C_COMMON_FLAGS and C_FLAGS at 8.2.3 that a host gcc takes (not -mlongcalls, -mtext-section-literals).
const ESP32_FLAGS = ['-c', '-Os', '-g', '-Wno-unused-variable', '-Wpointer-arith', '-nostdlib', '-falign-functions=4', '-fdata-sections',
  '-ffunction-sections', '-fno-jump-tables', '-fstrict-volatile-bitfields', '-fno-inline-functions', '-DWITH_POSIX', '-DHAVE_CONFIG_H',
  '-DESP_PLATFORM', '-Wno-implicit-function-declaration', '-std=gnu17'];

const esp32 = checker.checkManifest(fromRoot('manifest.json'), 'esp32/esp32s3', { moddable: undefined });
// mcconfig's generated folder: mc.defines.h from the platform's defines.
const generated = mkdtempSync(join(tmpdir(), 'moddable-generated-'));
process.on('exit', () => rmSync(generated, { recursive: true, force: true }));
function generatedFolder(build: Build, name: string): string {
  mkdirSync(join(generated, name), { recursive: true });
  writeFileSync(join(generated, name, 'mc.defines.h'), `${checker.definesHeader(build.defines)}\n`);
  return join(generated, name);
}
const includes = [generatedFolder(esp32, 'esp32'), ...esp32.includeFolders].map((folder) => `-I${folder}`);
const cFile = (object: string) => {
  const entry = esp32.cFiles.get(object);
  assert.ok(entry, `${object} is not in the esp32 build`);
  return entry.file;
};

function compile(source: string, out: string, flags: string[], folders = includes): void {
  execFileSync('nice', ['-n', '10', cc, ...flags, ...folders, source, '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
}

function definedFunctions(object: string): string[] {
  return execFileSync('nm', ['--defined-only', object], { encoding: 'utf8' }).split('\n')
    .filter((line) => / T /.test(line)).map((line) => line.split(' ')[2]);
}

test('the bindings compile against xsmc.h and define every native name the board modules use', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'moddable-natives-'));
  try {
    const defined = new Set<string>();
    // The platform branch of random.c that this machine takes (__linux__); ESP32's and Zephyr's need their SDKs.
    for (const object of ['gcm.c.o', 'aes_gcm_check.c.o', 'opus-codec.c.o', 'ais_opus.c.o', 'dsp.c.o', 'dsp_check.c.o', 'random.c.o']) {
      const out = join(dir, object);
      compile(cFile(object), out, ['-c', '-std=gnu17', '-Wall', '-Wextra', '-Werror', `-I${XS}`]);
      for (const name of definedFunctions(out)) defined.add(name);
    }
    const used = new Set<string>();
    for (const file of readdirSync(fromRoot('hosts', 'moddable')).filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))) {
      const text = readFileSync(fromRoot('hosts', 'moddable', file), 'utf8');
      for (const match of text.matchAll(/\b[nN]ative\s*\(\s*'([^']+)'\s*\)/g)) used.add(match[1]);
    }
    assert.ok(used.size >= 19, `found ${used.size} native names`);
    assert.deepEqual([...used].filter((name) => !defined.has(name)), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The .c files of one of libopus's lists (a make variable of its *_sources.mk). */
function opusList(file: string, variable: string): string[] {
  const text = readFileSync(join(OPUS, file), 'utf8');
  const block = text.split(new RegExp(`^${variable} =`, 'm'))[1].split(/\n\s*\n/)[0];
  return block.split(/[\s\\]+/).filter((name) => name.endsWith('.c'));
}

const LISTS = [...opusList('celt_sources.mk', 'CELT_SOURCES'), ...opusList('silk_sources.mk', 'SILK_SOURCES'),
  ...opusList('silk_sources.mk', 'SILK_SOURCES_FIXED'), ...opusList('opus_sources.mk', 'OPUS_SOURCES')];
const wrappers = [...esp32.cFiles.keys()].filter((object) => object.startsWith('ais_opus_')).map(cFile);

test('the libopus wrappers include exactly libopus\'s source lists, each once, with native.mk\'s settings', () => {
  assert.equal(wrappers.length, 6);
  const included = wrappers.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^#include "([^"]+\.c)"/gm)].map((m) => m[1]));
  assert.equal(LISTS.length, 128);
  assert.deepEqual([...included].sort(), [...LISTS].sort());
  const config = readFileSync(fromRoot('hosts', 'moddable', 'libopus', 'ais_opus_config.h'), 'utf8');
  const defines = [...config.matchAll(/^#define (\w+)(?: (\S+))?$/gm)].filter((m) => m[1] !== 'AIS_OPUS_CONFIG_H').map((m) => `-D${m[1]}${m[2] ? `=${m[2]}` : ''}`);
  const mk = readFileSync(fromRoot('native', 'native.mk'), 'utf8').match(/^OPUS_DEFINES := (.*)$/m)?.[1].trim().split(/\s+/);
  assert.deepEqual(defines, mk);
  assert.match(config, /^#undef HAVE_CONFIG_H$/m);
});

test('the libopus wrappers compile one object each with ESP32\'s flags and code bit for bit as libopus built file by file', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'moddable-opus-'));
  try {
    const objects = wrappers.map((file) => {
      const out = join(dir, `${basename(file)}.o`);
      compile(file, out, ESP32_FLAGS);
      return out;
    });
    const frames = fromRoot('test', 'moddable', 'c', 'opus-frames.c');
    execFileSync('nice', ['-n', '10', cc, '-O1', `-I${OPUS}/include`, frames, ...objects, '-lm', '-o', join(dir, 'wrapped')]);
    const mk = readFileSync(fromRoot('native', 'native.mk'), 'utf8').match(/^OPUS_DEFINES := (.*)$/m)![1].trim().split(/\s+/);
    execFileSync('nice', ['-n', '10', cc, '-Os', '-w', ...mk, ...['include', 'celt', 'silk', 'silk/fixed'].map((folder) => `-I${OPUS}/${folder}`),
      ...LISTS.map((file) => join(OPUS, file)), frames, '-lm', '-o', join(dir, 'files')]);
    for (const [application, bitrate] of [['voip', '32000'], ['restricted-lowdelay', '64000']]) {
      const wrapped = execFileSync(join(dir, 'wrapped'), [application, bitrate], { encoding: 'utf8' });
      const files = execFileSync(join(dir, 'files'), [application, bitrate], { encoding: 'utf8' });
      assert.equal(wrapped, files, application);
      const [, frameCount, bytes, correlation] = wrapped.match(/frames=(\d+) bytes=(\d+) fnv=\w+ correlation=([\d.]+)/)!;
      assert.equal(Number(bytes), Number(frameCount) * Number(bitrate) / 8 / 50, 'hard CBR: every 20 ms frame the same size');
      assert.ok(Number(correlation) > 0.9, `${application}: decoded audio correlates ${correlation} with the input`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const DSP_FILES = readdirSync(fromRoot('native', 'dsp')).filter((name) => name.endsWith('.c') && name !== 'wasm.c');

test('every C file of native/dsp but the WebAssembly face is in the builds with audio, and none where there is none', () => {
  assert.ok(DSP_FILES.length >= 3);
  for (const platform of ['lin', 'mac', 'esp32/esp32s3']) {
    const build = checker.checkManifest(fromRoot('manifest.json'), platform, { moddable: undefined });
    for (const name of [...DSP_FILES, 'dsp_check.c', 'dsp.c']) assert.ok(build.cFiles.has(`${name}.o`), `${name} in ${platform}`);
    assert.ok(!build.cFiles.has('wasm.c.o'), platform);
  }
  assert.ok(!checker.checkManifest(fromRoot('manifest.json'), 'zephyr/mimxrt1060_evk', { moddable: undefined }).cFiles.has('dsp.c.o'));
});

test('native/dsp compiles with ESP32\'s flags, sized by the manifest\'s defines: 1,024 taps on ESP32, aec.h\'s 2,048 on the simulator', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'moddable-dsp-'));
  try {
    const run = (name: string, build: Build, folders: string[]) => {
      const objects = [...DSP_FILES, 'dsp_check.c'].map((file) => {
        const out = join(dir, `${name}-${file}.o`);
        compile(build.cFiles.get(`${file}.o`)!.file, out, ESP32_FLAGS, folders);
        return out;
      });
      execFileSync('nice', ['-n', '10', cc, '-O1', ...folders, fromRoot('test', 'moddable', 'c', 'dsp-state.c'), ...objects, '-o', join(dir, name)]);
      return execFileSync(join(dir, name), { encoding: 'utf8' });
    };
    const lin = checker.checkManifest(fromRoot('manifest.json'), 'lin', { moddable: undefined });
    const device = run('esp32', esp32, includes);
    const simulator = run('lin', lin, [generatedFolder(lin, 'lin'), ...lin.includeFolders].map((folder) => `-I${folder}`));
    assert.match(device, /^partitions=16 aec=\d+ kws=\d+\n1024: ok\n2048: echo canceller: frameSamples 320 must be a multiple of 64, taps 2048 a multiple of 64 up to 1024\n$/);
    assert.match(simulator, /^partitions=32 aec=\d+ kws=\d+\n1024: ok\n2048: ok\n$/);
    const bytes = (text: string) => text.match(/aec=(\d+) kws=(\d+)/)!.slice(1).map(Number);
    const [deviceAec, deviceKws] = bytes(device);
    const [simulatorAec, simulatorKws] = bytes(simulator);
    assert.equal(deviceKws, simulatorKws);
    // 16 partitions fewer: at least the two filters' 65 complex float bins each (the fixed part, e.g. the bulk-delay
    // estimator, is the same on both).
    assert.ok(simulatorAec - deviceAec >= 16 * 2 * 65 * 8, `ESP32's canceller state ${deviceAec} B against ${simulatorAec} B`);
    console.log(`# native/dsp state on ESP32: canceller ${deviceAec} B (simulator ${simulatorAec} B), wake word ${deviceKws} B`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
