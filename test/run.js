#!/usr/bin/env node
// Runs every compiled test file with node:test and prints its TAP summary (`# pass N`, `# fail N`, ...).
// Under CI=true a skipped or todo test fails the run: CI must not pass on suites that did not run.
// Usage: node test/run.js [substring filter...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { hasTestSource } from '../hosts/script-tools.mjs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'build', 'test');

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = find(testDir).filter(hasTestSource).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error(`no test files under ${relative(root, testDir)} match ${filters.join(' ') || '*'}; run npm run build first`);
  process.exit(1);
}

// Not --test-force-exit: on Node 20 it can end a file's process while its tests still run, dropping them
// silently (seen: 56 of 57). A handle a failed test leaves open (a timer, a socket) would hang the run instead,
// so the whole run has a deadline that fails loudly.
const DEADLINE_MS = Number(process.env.TEST_DEADLINE_MS) || 30 * 60_000;
const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
setTimeout(() => {
  console.error(`test run still going after ${DEADLINE_MS / 60_000} min: a test left a timer or socket open; killed`);
  child.kill('SIGKILL');
  process.exit(1);
}, DEADLINE_MS).unref();
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  const count = (name) => Number((tail.match(new RegExp(`^# ${name} (\\d+)`, 'm')) || [])[1] || 0);
  const skipped = count('skipped') + count('todo');
  if (process.env.CI === 'true' && skipped > 0) {
    console.error(`CI: ${skipped} test(s) skipped or todo; every suite must run in CI`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
