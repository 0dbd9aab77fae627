// manifest.json against the Moddable SDK's manifest rules (hosts/moddable/manifest-check.mjs), for every
// platform the project builds for, and the checker against broken manifests it must refuse.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../support/paths.js';

interface Result { errors: string[]; warnings: string[]; modules: Map<string, { file: string }>; cFiles: Map<string, { file: string }>; preloads: string[] }
interface Checker {
  PLATFORMS: string[];
  REFUSED: string[];
  checkManifest(path: string, platform: string, options?: { moddable?: string }): Result;
  matchPlatform(platforms: Record<string, unknown>, platform: string): { name: string } | undefined;
}
const checker = await import(pathToFileURL(fromRoot('hosts', 'moddable', 'manifest-check.mjs')).href) as Checker;

for (const platform of checker.PLATFORMS) {
  test(`manifest.json builds for ${platform}`, () => {
    const result = checker.checkManifest(fromRoot('manifest.json'), platform, { moddable: undefined });
    assert.deepEqual(result.errors, []);
    assert.ok(result.modules.has('hosts/moddable/main') && result.modules.has('hosts/moddable/board'));
    assert.ok(result.cFiles.has('random.c.o'));
    assert.ok(result.preloads.includes('src/mqtt/parser'));
  });
}

test('native AES-GCM on every platform, libopus and its binding where the board has audio', () => {
  const build = (platform: string) => checker.checkManifest(fromRoot('manifest.json'), platform, { moddable: undefined });
  const wrappers = ['celt', 'celt_encoder', 'celt_decoder', 'silk', 'silk_fixed', 'src'].map((part) => `ais_opus_${part}.c.o`);
  for (const platform of ['lin', 'mac', 'esp32/esp32s3']) {
    const { cFiles, modules } = build(platform);
    assert.deepEqual([...cFiles.keys()].filter((name) => name.startsWith('ais_opus_')).sort(), [...wrappers].sort(), platform);
    assert.ok(cFiles.has('opus-codec.c.o') && cFiles.has('ais_opus.c.o') && modules.has('hosts/moddable/opus-codec'), platform);
  }
  for (const platform of checker.PLATFORMS) {
    const { cFiles, modules } = build(platform);
    assert.ok(cFiles.has('gcm.c.o') && cFiles.has('aes_gcm.c.o') && cFiles.has('aes_gcm_check.c.o') && modules.has('hosts/moddable/gcm'), platform);
  }
  assert.ok(!build('zephyr/mimxrt1060_evk').cFiles.has('opus-codec.c.o'), 'no libopus where the board has no audio');
});

test('the board module differs by platform', () => {
  const board = (platform: string) => checker.checkManifest(fromRoot('manifest.json'), platform, { moddable: undefined }).modules.get('hosts/moddable/board')?.file;
  assert.match(board('lin') ?? '', /board-sim\.ts$/);
  assert.match(board('esp32/esp32s3') ?? '', /board-esp32\.ts$/);
  assert.match(board('zephyr/mimxrt1060_evk') ?? '', /board-generic\.ts$/);
});

for (const platform of checker.REFUSED) {
  test(`manifest.json refuses ${platform} with a reason`, () => {
    const { errors } = checker.checkManifest(fromRoot('manifest.json'), platform, { moddable: undefined });
    assert.ok(errors.some((e) => e.includes(`refuses platform ${platform}`) && e.includes('embedded:storage/files')), errors.join('\n'));
  });
}

test('platform blocks: the most specific one, "..." only when none matched', () => {
  const blocks = { esp32: {}, 'esp32/moddable_six': {}, 'esp32/*': {}, '*/m5stack': {}, '...': {} };
  assert.equal(checker.matchPlatform(blocks, 'esp32/moddable_six')?.name, 'esp32/moddable_six');
  // As mcmanifest.js matches, the first key that fits the full name wins: "esp32/*" before an exact board hides it.
  assert.equal(checker.matchPlatform({ 'esp32/*': {}, 'esp32/moddable_six': {} }, 'esp32/moddable_six')?.name, 'esp32/*');
  assert.equal(checker.matchPlatform(blocks, 'esp32/esp32s3')?.name, 'esp32/*');
  assert.equal(checker.matchPlatform({ esp32: {}, '...': {} }, 'esp32/esp32s3')?.name, 'esp32');
  assert.equal(checker.matchPlatform(blocks, 'lin/m5stack')?.name, '*/m5stack');
  assert.equal(checker.matchPlatform(blocks, 'lin')?.name, '...');
  assert.equal(checker.matchPlatform({ esp32: {} }, 'lin'), undefined);
});

/** A throwaway project: files (path -> text) and its manifest. */
function project(files: Record<string, string>, manifest: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

function errorsOf(files: Record<string, string>, manifest: object, platform = 'lin'): string[] {
  const dir = project(files, manifest);
  try {
    return checker.checkManifest(join(dir, 'manifest.json'), platform, { moddable: undefined }).errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = { creation: { main: 'main' } };
const files = { 'main.ts': 'export default 1;\n', 'lib/a.ts': 'export const a = 1;\n', 'lib/b.ts': 'export const b = 2;\n' };

test('a well-formed fixture passes (the negative cases below differ from it by one thing)', () => {
  assert.deepEqual(errorsOf(files, { ...base, modules: { '*': './main', 'lib/*': './lib/*' }, preload: ['lib/a'] }), []);
});

test('refuses a mapping to a missing file', () => {
  const errors = errorsOf(files, { ...base, modules: { '*': './main', 'lib/c': './lib/c' } });
  assert.deepEqual(errors, ['manifest.json: "lib/c": "./lib/c" matches no file']);
});

test('refuses a missing directory and a missing include', () => {
  const errors = errorsOf(files, { ...base, include: ['./sub/manifest.json'], modules: { '*': './main', 'x/*': './nowhere/*' } });
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0], /sub\/manifest\.json: not found \(included by manifest\.json\)/);
  assert.match(errors[1], /\.\/nowhere\/\*: directory not found/);
});

test('refuses a preload that names no module, and a wildcard preload of TypeScript', () => {
  const errors = errorsOf(files, { ...base, modules: { '*': './main', 'lib/*': './lib/*' }, preload: ['lib/c', 'lib/*'] });
  assert.deepEqual(errors, [
    'manifest.json: preload "lib/c" names no module of the build',
    'manifest.json: preload "lib/*" names no module of the build (a "*" preload only matches .js modules: name TypeScript modules exactly)',
  ]);
});

test('refuses a preload that makes a Map, Set, WeakMap or WeakSet at load (read-only once preloaded: the SDK 8.2.3 simulator threw "read-only WeakMap instance")', () => {
  const manifest = { ...base, modules: { '*': './main', 'lib/*': './lib/*' }, preload: ['lib/a'] };
  assert.deepEqual(errorsOf({ ...files, 'lib/a.ts': 'const cache = new WeakMap<object, string>();\nexport const a = (o: object) => cache.get(o);\n' }, manifest), [
    'manifest.json: preload "lib/a" makes a WeakMap at load (cache): preloaded, it is read-only and its first set() throws; make it at first use',
  ]);
  assert.deepEqual(errorsOf({ ...files, 'lib/a.ts': 'export const seen = new Set<string>();\n' }, manifest), [
    'manifest.json: preload "lib/a" makes a Set at load (seen): preloaded, it is read-only and its first add() throws; make it at first use',
  ]);
  // Made at first use, in a module variable: writable.
  assert.deepEqual(errorsOf({ ...files, 'lib/a.ts': 'let cache: WeakMap<object, string> | undefined;\nexport const a = (o: object) => (cache ??= new WeakMap()).get(o);\n' }, manifest), []);
  // Not preloaded: a module loaded at run time may make one.
  assert.deepEqual(errorsOf({ ...files, 'lib/b.ts': 'const cache = new Map<string, string>();\nexport const b = cache;\n' }, manifest), []);
});

test('refuses two C files of one name in the build', () => {
  const errors = errorsOf({ ...files, 'one/tcp.c': '', 'two/tcp.c': '' }, { ...base, modules: { '*': ['./main', './one/tcp', './two/tcp'] } });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^C file name tcp\.c used twice: two\/tcp\.c \(manifest\.json\) is dropped because one\/tcp\.c \(manifest\.json\) came first/);
});

test('refuses a module mapped twice: a default in the common modules shadows the platform one', () => {
  const errors = errorsOf({ ...files, 'board-sim.ts': '', 'board-null.ts': '' }, {
    ...base,
    modules: { '*': './main', board: './board-null' },
    platforms: { lin: { modules: { board: './board-sim' } } },
  });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^module "board" mapped twice: board-sim\.ts \(manifest\.json platforms\["lin"\]\) is ignored because board-null\.ts \(manifest\.json\) came first/);
  // The fix the message gives: the default in "...", which applies only when no block matched.
  assert.deepEqual(errorsOf({ ...files, 'board-sim.ts': '', 'board-null.ts': '' }, {
    ...base,
    modules: { '*': './main' },
    platforms: { lin: { modules: { board: './board-sim' } }, '...': { modules: { board: './board-null' } } },
  }), []);
});

test('refuses a chain without creation, and invalid JSON', () => {
  assert.deepEqual(errorsOf(files, { modules: { '*': './main' } }), ['no manifest of the chain has "creation" (mcconfig: "project manifest or included manifest must include creation")']);
  const dir = project(files, {});
  writeFileSync(join(dir, 'manifest.json'), '{ "modules": ');
  try {
    const { errors } = checker.checkManifest(join(dir, 'manifest.json'), 'lin', { moddable: undefined });
    assert.match(errors[0], /^manifest\.json: invalid JSON: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wildcards do not recurse into sub-folders', () => {
  const errors = errorsOf({ ...files, 'lib/deep/c.ts': '' }, { ...base, modules: { '*': './main', 'lib/*': './lib/*' }, preload: ['lib/deep/c'] });
  assert.deepEqual(errors, ['manifest.json: preload "lib/deep/c" names no module of the build']);
});

test('refuses a C file named as one the SDK compiles (known without a checkout)', () => {
  const errors = errorsOf({ ...files, 'net/tcp.c': '' }, { ...base, include: ['$(MODDABLE)/modules/io/manifest.json'], modules: { '*': ['./main', './net/tcp'] } });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^C file name tcp\.c used twice: net\/tcp\.c \(manifest\.json\) is dropped because \$\(MODDABLE\)\/modules\/io\/manifest\.json compiles a C file of that name first/);
});

test('refuses a C file whose quoted #include is in no include folder of the build', () => {
  const wrapper = { ...files, 'lib/opus/celt/bands.c': '', 'wrap/codec.c': '#include "xsmc.h"\n#include "local.h"\n#include "celt/bands.c"\n#include <stdio.h>\n', 'wrap/local.h': '' };
  // The wrapper's folder, the SDK's xsmc.h and <stdio.h> need nothing; celt/bands.c needs the folder above it.
  assert.deepEqual(errorsOf(wrapper, { ...base, modules: { '*': ['./main', './wrap/codec', './lib/opus/'] } }), []);
  const errors = errorsOf(wrapper, { ...base, modules: { '*': ['./main', './wrap/codec'] } });
  assert.deepEqual(errors, ['wrap/codec.c (manifest.json) includes "celt/bands.c", which is in no C include folder of the lin build: map its folder with a path ending in "/"']);
});

test('refuses an include folder that does not exist', () => {
  const errors = errorsOf(files, { ...base, modules: { '*': ['./main', './lib/opus/include/'] } });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /\.\/lib\/opus\/include\/: directory not found/);
});

// What the real mcconfig (SDK 8.2.3) rejected and the checker let through before: a declaration file of ours that
// declares an SDK module's names again, and bindings imported from a CommonJS file.
const sdkBase = { ...base, include: ['$(MODDABLE)/examples/manifest_base.json'] };

test('refuses a declaration file that declares again what the SDK\'s typings declare (mcconfig: TS2300)', () => {
  const timer = "declare module 'timer' {\n  const Timer: { set(callback: () => void, ms?: number): object };\n  export default Timer;\n}\n";
  const errors = errorsOf({ ...files, 'decl.d.ts': timer }, { ...sdkBase, modules: { '*': './main' }, typescript: { tsconfig: { compilerOptions: { types: ['./decl'] } } } });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^decl\.d\.ts \(typescript\.tsconfig\.compilerOptions\.types\) declares "default" of SDK module "timer" again: the SDK's typings\/timer\.d\.ts declares it/);
  // The same file referenced by a module of the build is read by mcconfig's tsc as well.
  const referenced = errorsOf({ ...files, 'decl.d.ts': timer, 'main.ts': '/// <reference path="./decl.d.ts" />\nexport default 1;\n' }, { ...sdkBase, modules: { '*': './main' } });
  assert.equal(referenced.length, 1, referenced.join('\n'));
  assert.match(referenced[0], /^decl\.d\.ts \(referenced by main\.ts \(module "main"\)\) declares "default" of SDK module "timer" again/);
});

test('accepts a declaration file that adds only what the SDK lacks, or declares modules the build has not', () => {
  const lacks = "declare module 'embedded:storage/files' {\n  const root: Directory;\n  export default root;\n}\n"
    + "declare module 'embedded:io/socket/tcp/tls' {\n  export default class TLSSocket {}\n}\n";
  const manifest = { ...sdkBase, include: [...sdkBase.include, '$(MODDABLE)/modules/io/files/manifest.json'], modules: { '*': './main' }, typescript: { tsconfig: { compilerOptions: { types: ['./decl'] } } } };
  assert.deepEqual(errorsOf({ ...files, 'decl.d.ts': lacks }, manifest), []);
});

test('refuses bindings imported from a CommonJS file, mapped as a module or listed in "commonjs"', () => {
  const cjs = { ...files, 'node_modules/cjs/index.js': 'module.exports = { a: 1 };\n', 'main.ts': "import cjs from 'cjs';\nexport default cjs;\n" };
  const modules = { '*': './main', cjs: './node_modules/cjs/index' };
  const mapped = errorsOf(cjs, { ...base, modules });
  assert.equal(mapped.length, 1, mapped.join('\n'));
  assert.match(mapped[0], /^main\.ts \(module "main"\) imports bindings from "cjs" \(node_modules\/cjs\/index\.js\), which is CommonJS with no ES exports/);
  const listed = errorsOf(cjs, { ...base, modules, commonjs: ['cjs'] });
  assert.equal(listed.length, 1, listed.join('\n'));
  assert.match(listed[0], /which is CommonJS in the "commonjs" list \(a plain script\) with no ES exports/);
  // A side-effect import of it (what hosts/moddable/tweetnacl.ts does) and an ES module are fine.
  assert.deepEqual(errorsOf({ ...cjs, 'main.ts': "import 'cjs';\nexport default 1;\n" }, { ...base, modules }), []);
  assert.deepEqual(errorsOf({ ...cjs, 'node_modules/cjs/index.js': 'export default { a: 1 };\n' }, { ...base, modules }), []);
});
