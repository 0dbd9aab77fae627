// The XS runner itself (hosts/xs), from Node: error reporting, the parser-OOM guard, timer order, the
// test shims failing when they should, and the two precompiled paths (a bundle file with the parser off,
// and a bundle linked into the binary as a C array), with the bundle's symbol keys checked. Builds xsrun
// first (make is incremental); without a C compiler every test skips, which test/run.js turns into a
// failure under CI=true.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromRoot } from '../support/paths.js';
import { build, modules } from '../support/xs-tools.js';

const missing = build.toolchain().missing;
const skip = missing ? `no XS runner: ${missing}` : false;

const DIR = 'build/xs/selftest';
const write = (name: string, source: string) => {
  mkdirSync(fromRoot(DIR), { recursive: true });
  writeFileSync(fromRoot(DIR, name), source);
  return `${DIR}/${name}`;
};
const xsrun = (args: string[], binary = build.xsrunPath) => {
  const result = spawnSync(binary, args, { cwd: fromRoot(), encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
};

before(async () => {
  if (skip) return;
  rmSync(fromRoot(DIR), { recursive: true, force: true });
  await build.buildXsrun({ quiet: true });
});

test('a syntax error fails the import with file:line in the message', { skip }, () => {
  const bad = write('bad.js', 'const a = 1;\n\nconst b = ;\nexport { a, b };\n');
  const entry = write('imports-bad.js', "import { a } from './bad.js';\nconsole.log(a);\n");
  const run = xsrun([entry]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`^${bad}:3: error: missing expression$`, 'm'));
  assert.equal(run.stdout, '');
  const direct = xsrun([bad]);
  assert.equal(direct.code, 1);
  assert.match(direct.stderr, new RegExp(`SyntaxError: ${bad}:3: missing expression`));
});

test('a module that is not there is named with its importer', { skip }, () => {
  const entry = write('imports-missing.js', "import './nowhere.js';\n");
  const run = xsrun([entry]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`module ${DIR}/nowhere.js not found \\("./nowhere.js" imported by ${entry}\\)`));
});

test('a parse that runs out of memory is a clean RangeError, not a stack overflow (the parser-OOM guard)', { skip }, () => {
  let source = 'export const table = [\n';
  for (let i = 0; i < 3000; i++) source += `  { name: "entry${i}", value: ${i}, f: (x) => x + ${i} },\n`;
  const big = write('big.js', source + '];\n');
  const run = xsrun(['--heap-cap', '1000000', big]);
  assert.equal(run.signal, null, `killed by ${run.signal}`);
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`RangeError: ${big}: module rejected: .* \\(parser used \\d+ bytes, malloc cap 1000000\\)`));
  const roomy = xsrun([big]);
  assert.equal(roomy.code, 0, roomy.stderr);
});

test('timers, immediates and promise jobs run in the order Node runs them', { skip }, () => {
  const program = write('order.js', [
    "const log = [];",
    "setTimeout(() => log.push('timeout 10'), 10);",
    "setTimeout(() => { log.push('timeout 0'); Promise.resolve().then(() => log.push('micro in timeout')); }, 0);",
    "const cancelled = setTimeout(() => log.push('cancelled'), 5); clearTimeout(cancelled);",
    "let n = 0; const every = setInterval(() => { log.push(`interval ${++n}`); if (n === 3) clearInterval(every); }, 15);",
    "setTimeout(() => log.push('unref never keeps the loop alive'), 10_000).unref();",
    "Promise.resolve().then(() => log.push('microtask'));",
    "queueMicrotask(() => log.push('queueMicrotask'));",
    "await null;",
    "log.push('after top-level await');",
    "setTimeout(() => console.log(log.join('\\n')), 300);",
  ].join('\n'));
  const node = spawnSync(process.execPath, [program], { cwd: fromRoot(), encoding: 'utf8' });
  const xs = xsrun([program]);
  assert.equal(xs.code, 0, xs.stderr);
  assert.equal(xs.stdout, node.stdout);
  assert.match(xs.stdout, /^microtask\nqueueMicrotask\nafter top-level await\ntimeout 0\nmicro in timeout\ntimeout 10\ninterval 1\ninterval 2\ninterval 3\n$/);
});

test('an unhandled rejection and an exception in a timer fail the run', { skip }, () => {
  const rejection = xsrun([write('rejects.js', "Promise.reject(new Error('boom'));\n")]);
  assert.equal(rejection.code, 1);
  assert.match(rejection.stderr, /unhandled rejection: Error: boom/);
  const thrown = xsrun([write('throws-later.js', "setTimeout(() => { throw new TypeError('late'); }, 1);\n")]);
  assert.equal(thrown.code, 1);
  assert.match(thrown.stderr, /Uncaught TypeError: late/);
});

test('the node:test shim reports failed assertions, thrown errors, unmet plans and unfinished tests, and exits 1', { skip }, () => {
  const file = write('shim.portable.js', [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "test('passes', () => { assert.deepEqual({ a: [1, new Uint8Array([2])] }, { a: [1, new Uint8Array([2])] }); });",
    "test('fails an equal', () => { assert.equal(1, 2); });",
    "test('throws the wrong error', () => { assert.throws(() => { throw new TypeError('x'); }, RangeError); });",
    "test('plans two, makes one', (t) => { t.plan(2); t.assert.ok(true); });",
    "test('async failure', async () => { await new Promise((r) => setTimeout(r, 5)); assert.match('abc', /^b/); });",
    "test('never settles', () => new Promise(() => {}));",
    "test('still runs after it', () => { assert.notEqual(1, 2); });",
    "test.skip('skipped', () => { assert.fail('must not run'); });",
  ].join('\n'));
  const graph = modules.moduleGraph([file]);
  modules.writeMap(fromRoot(DIR, 'shim.map'), graph.aliases);
  const run = xsrun(['--map', `${DIR}/shim.map`, file]);
  assert.equal(run.code, 1, run.stderr);
  const verdicts = run.stdout.split('\n').filter((l) => /^(not )?ok \d/.test(l));
  assert.deepEqual(verdicts, [
    'ok 1 - passes', 'not ok 2 - fails an equal', 'not ok 3 - throws the wrong error', 'not ok 4 - plans two, makes one',
    'not ok 5 - async failure', 'not ok 6 - never settles', 'ok 7 - still runs after it', 'ok 8 - skipped # SKIP',
  ]);
  assert.match(run.stdout, /1 !== 2/);
  assert.match(run.stdout, /plan expected 2 assertions but received 1/);
  assert.match(run.stdout, /test did not finish/);
  assert.match(run.stdout, /^# pass 2$/m);
  assert.match(run.stdout, /^# fail 5$/m);
  assert.match(run.stdout, /^# skipped 1$/m);
});

test('precompiled bytecode runs with the parser off, which refuses eval', { skip }, () => {
  const helper = write('helper.js', "export const twice = (x) => x * 2;\n");
  const entry = write('bytecode.js', [
    "import { twice } from './helper.js';",
    "let refused = 'no';",
    "try { eval('1 + 1'); } catch (error) { refused = error.name; }",
    "console.log(twice(21), refused, xsrun.bytecode, xsrun.memory().parser.count);",
  ].join('\n'));
  const bundle = `${DIR}/selftest.xsb`;
  const compiled = xsrun(['--compile', bundle, 'hosts/xs/prelude.js', helper, entry]);
  assert.equal(compiled.code, 0, compiled.stderr);
  assert.match(compiled.stdout, new RegExp(`^${entry}\\tcode \\d+\\tsymbols \\d+$`, 'm'));
  const run = xsrun(['--bundle', bundle, entry]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, '42 SyntaxError true 0\n');
  assert.match(run.stderr, /parser disabled/);
  const source = xsrun([entry]);
  assert.equal(source.stdout, '42 no false 4\n', 'from source: prelude, entry, helper and the eval parsed');
  const notBundled = xsrun(['--bundle', bundle, write('other.js', 'export {};\n')]);
  assert.match(notBundled.stderr, /module build\/xs\/selftest\/other.js not found in the bundle/);
  const garbage = write('garbage.xsb', 'not bytecode at all');
  assert.equal(xsrun(['--bundle', garbage, entry]).code, 65);
});

test('a bundle whose symbols would get other keys on this machine is refused, naming the first', { skip }, () => {
  const entry = write('keys.js', "export const answer = { fortyTwo: 42 };\nconsole.log(answer.fortyTwo);\n");
  const bundle = `${DIR}/keys.xsb`;
  assert.equal(xsrun(['--compile', bundle, 'hosts/xs/prelude.js', entry]).code, 0);
  assert.equal(xsrun(['--bundle', bundle, entry]).stdout, '42\n');
  // The symbol table record (hosts/xs/xr_bundle.h): u32 bytes, u8 kind 3, ..., u32 count, u32 first key ID.
  const bytes = readFileSync(fromRoot(bundle));
  let at = 20;
  while (bytes[at + 4] !== 3) at += bytes.readUInt32LE(at);
  bytes.writeUInt32LE(bytes.readUInt32LE(at + 12) + 1, at + 12);
  const shifted = `${DIR}/keys-shifted.xsb`;
  writeFileSync(fromRoot(shifted), bytes);
  const run = xsrun(['--bundle', shifted, entry]);
  assert.equal(run.code, 65);
  assert.match(run.stderr, /^xsrun: the bundle's symbol "\S+" is key (\d+) on this machine but (\d+) where it was compiled/m);
  assert.equal(run.stdout, '');
});

test('a bundle linked into the binary as a C array runs with nothing on disk (the device path)', { skip }, async () => {
  const entry = write('embedded.js', "import { twice } from './embedded-helper.js';\nconsole.log('embedded', twice(4), xsrun.bytecode);\n");
  const helper = write('embedded-helper.js', 'export const twice = (x) => x * 2;\n');
  const compiled = xsrun(['--compile', `${DIR}/embedded.xsb`, '--c-array', `${DIR}/embedded.c`, 'hosts/xs/prelude.js', helper, entry]);
  assert.equal(compiled.code, 0, compiled.stderr);
  const binary = await build.buildXsrun({ quiet: true, targets: ['embedded'], variables: { BUNDLE_C: `${DIR}/embedded.c` } });
  rmSync(fromRoot(entry));
  rmSync(fromRoot(helper));
  const run = xsrun(['--embedded', entry], binary);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'embedded 8 true\n');
  assert.equal(xsrun(['--embedded', entry]).code, 64, 'the plain runner has no bundle linked in');
  rmSync(join(fromRoot(DIR), 'embedded.c'));
});
