#!/usr/bin/env node
// Builds xsrun (build/xs/xsrun) with make and the C compiler from the XS sources in node_modules.
// Usage: node hosts/xs/build.mjs [--quiet]   (npm run build:xs)
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { root, runMake } from '../script-tools.mjs';

export { root };
export const xsrunPath = join(root, 'build', 'xs', 'xsrun');

/** The C compiler and make, or a sentence saying what is missing. */
export function toolchain() {
  const cc = process.env.CC || 'cc';
  const compiler = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (compiler.error || compiler.status !== 0) return { missing: `no C compiler (${cc})` };
  const make = spawnSync('make', ['--version'], { encoding: 'utf8' });
  if (make.error || make.status !== 0) return { missing: 'no make' };
  return { cc, version: compiler.stdout.split('\n')[0] };
}

/** Runs make; resolves to the binary's path. `targets` defaults to xsrun; extra variables go to make. */
export function buildXsrun({ quiet = false, targets = [], variables = {} } = {}) {
  const tools = toolchain();
  if (tools.missing) return Promise.reject(new Error(`cannot build xsrun: ${tools.missing}`));
  const jobs = Math.max(1, Math.min(availableParallelism(), 8));
  const args = ['-f', 'hosts/xs/Makefile', `-j${jobs}`, `CC=${tools.cc}`,
    ...Object.entries(variables).map(([k, v]) => `${k}=${v}`), ...targets];
  if (!quiet) console.log(`xsrun: make ${args.join(' ')}  (${tools.version})`);
  return runMake(args, { quiet, echoStderr: !quiet }).then(({ compiled, seconds }) => {
    const out = variables.STRINGS === 'utf8' ? join(root, 'build', 'xs', 'utf8') : join(root, 'build', 'xs');
    const binary = join(out, targets.includes('embedded') ? 'xsrun-embedded' : 'xsrun');
    if (!quiet) {
      const size = existsSync(binary) ? statSync(binary).size : 0;
      console.log(`xsrun: ${compiled ? `${compiled} files compiled` : 'up to date'} in ${seconds.toFixed(1)} s: ${relative(root, binary)} (${size} bytes)`);
    }
    return binary;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildXsrun({ quiet: process.argv.includes('--quiet') }).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
