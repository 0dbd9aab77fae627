#!/usr/bin/env node
// Runs every portable test file on XS: build/test/**/*.portable.test.js (compiled by npm run build).
// A portable test imports only node:test, node:assert/strict, src/ and test/support/ helpers that import
// only src/ and each other (checked here); it runs on Node through test/run.js like any test, and here on
// xsrun with the node:test/assert shims of test/xs/.
//
// Each file runs as its own xsrun process, by default twice: from precompiled bytecode with the parser
// disabled (the device path) and from source parsed by the machine. Prints each file's TAP indented,
// one `ok`/`not ok` line per file and mode, then `# pass N` / `# fail N` over all tests.
//
// Usage: node hosts/xs/run-tests.mjs [--bytecode | --source] [--utf8] [filters...]
//   --utf8: on build/xs/utf8/xsrun, the XS string mode of a default Moddable device build (code points,
//   not UTF-16 code units; hosts/xs/Makefile STRINGS=utf8) instead of ECMAScript's.
// Without a C compiler the run is skipped (and fails under CI=true, like a skipped suite in test/run.js).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildXsrun, root, toolchain } from './build.mjs';
import { importsOf, moduleGraph, SHIMS, writeMap } from './modules.mjs';
import { findPortableTests, TapTally } from '../script-tools.mjs';

const FILE_TIMEOUT_MS = 300_000;
// The MCU creation settings of xsrun, except the JS stack: noble's AES-GCM and tweetnacl under the test
// runner peak at 515 slots (measured), over the 512 an MCU build starts with. docs/xs-host.md.
const MACHINE = ['--stack', '1024'];
const utf8 = process.argv.includes('--utf8');
const MAP = 'build/xs/tests.map';
const BUNDLE = utf8 ? 'build/xs/utf8/tests.xsb' : 'build/xs/tests.xsb';

const args = process.argv.slice(2);
const modes = args.includes('--bytecode') ? ['bytecode'] : args.includes('--source') ? ['source'] : ['bytecode', 'source'];
const filters = args.filter((a) => !a.startsWith('--'));


const SRC = join(root, 'build', 'src');
const SUPPORT = join(root, 'build', 'test', 'support');
const within = (dir, target) => /^[^.]/.test(relative(dir, target));

/**
 * The convention: a portable test imports node:test, node:assert(/strict), src/ and helpers of test/support/;
 * such a helper imports only src/ and other helpers of test/support/ (checked here, transitively), so that
 * it is as portable as the tests that use it. moduleGraph loads the helpers like any relative import.
 */
export function conventionProblems(key, source, seen = new Set()) {
  const helper = within(SUPPORT, join(root, key));
  const problems = [];
  for (const specifier of importsOf(source)) {
    if (!helper && specifier in SHIMS) continue;
    const target = specifier.startsWith('.') ? join(root, key, '..', specifier) : '';
    if (target && within(SRC, target)) continue;
    if (target && within(SUPPORT, target)) {
      const next = relative(root, target).split('\\').join('/');
      if (!seen.has(next) && existsSync(target)) {
        seen.add(next);
        problems.push(...conventionProblems(next, readFileSync(target, 'utf8'), seen));
      }
      continue;
    }
    problems.push(helper
      ? `${key} imports ${specifier}: a test/support helper of a portable test may import only src/ and test/support/`
      : `${key} imports ${specifier}: a portable test may import only node:test, node:assert/strict, src/ and test/support/`);
  }
  return problems;
}

function run(command, commandArgs, { timeoutMs = FILE_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { stderr += `\nkilled after ${timeoutMs} ms`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}


async function main() {
  const started = Date.now();
  const tools = toolchain();
  if (tools.missing) {
    console.log(`# SKIP XS tests: ${tools.missing}`);
    process.exit(process.env.CI === 'true' ? 1 : 0);
  }
  const runner = utf8 ? await buildXsrun({ quiet: true, variables: { STRINGS: 'utf8' } }) : await buildXsrun({ quiet: true });

  const files = findPortableTests(join(root, 'build', 'test'))
    .map((f) => relative(root, f).split('\\').join('/'))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort();
  if (files.length === 0) {
    console.error(`no portable tests under build/test match ${filters.join(' ') || '*'}: run npm run build first`);
    process.exit(1);
  }
  const problems = files.flatMap((f) => conventionProblems(f, readFileSync(join(root, f), 'utf8')));
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }

  const graph = moduleGraph(files);
  writeMap(join(root, MAP), graph.aliases);
  if (modes.includes('bytecode')) {
    const compiled = await run(runner, ['--map', MAP, '--compile', BUNDLE, ...graph.keys]);
    if (compiled.code !== 0) {
      console.error(`precompiling failed:\n${compiled.stderr}`);
      process.exit(1);
    }
  }

  console.log('TAP version 13');
  const totals = new TapTally();
  for (const file of files) {
    for (const mode of modes) {
      const xsArgs = [...MACHINE, ...(mode === 'bytecode' ? ['--bundle', BUNDLE] : ['--map', MAP]), file];
      const fileStarted = Date.now();
      const result = await run(runner, xsArgs);
      const seconds = ((Date.now() - fileStarted) / 1000).toFixed(1);
      totals.report({
        title: `${file} (${mode}${utf8 ? ', UTF-8 strings' : ''})`, output: result.stdout, stderr: result.stderr, stderrTag: 'stderr',
        code: result.code, signal: result.signal, describe: (tests) => `${file} (${mode}, ${tests} tests, ${seconds} s)`,
      });
    }
  }
  console.log(`1..${totals.number}`);
  console.log(`# files ${totals.runs}`);
  console.log(`# tests ${totals.tests}`);
  console.log(`# pass ${totals.pass}`);
  console.log(`# fail ${totals.fail}`);
  console.log(`# skipped ${totals.skipped}`);
  console.log(`# todo ${totals.todo}`);
  console.log(`# duration_ms ${Date.now() - started}`);
  const skipped = totals.skipped + totals.todo;
  if (process.env.CI === 'true' && skipped > 0) {
    console.error(`CI: ${skipped} XS test(s) skipped or todo; every suite must run in CI`);
    process.exit(1);
  }
  process.exit(totals.fail > 0 || totals.failedRuns > 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
