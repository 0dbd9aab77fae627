// What the build and test scripts of the native hosts (hosts/xs, hosts/cortex-m) share: running make with a
// count of compiled files, number options, a small job pool, and the TAP tally of runs in child processes.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs make in the repository root. Resolves to { compiled, seconds }; rejects with make's exit code and its
 * stderr (on the error's `stderr`, and in the message unless it was already echoed).
 */
export function runMake(args, { quiet = false, echoStderr = false } = {}) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('make', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let compiled = 0;
    let errors = '';
    child.stdout.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        if (line.startsWith('  cc ')) compiled++;
        if (!quiet) console.log(line);
      }
    });
    child.stderr.on('data', (chunk) => {
      errors += chunk;
      if (echoStderr) process.stderr.write(chunk);
    });
    child.on('close', (code) => {
      if (code !== 0) {
        const error = new Error(`make failed (exit ${code})${echoStderr ? '' : `:\n${errors.trim()}`}`);
        error.stderr = errors;
        return reject(error);
      }
      resolve({ compiled, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The positive integer after `name` on the command line, or `fallback`. */
export function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} expects a positive number of bytes, got ${process.argv[i + 1]}`);
  return value;
}

/** Runs `jobs` (functions returning promises) `width` at a time; results in order. */
export async function pool(jobs, width) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  return results;
}

/** Whether a compiled test under build/ still has its TypeScript source: tsc never deletes a removed file's output. */
export const hasTestSource = (compiled) => existsSync(join(root, relative(join(root, 'build'), compiled)).replace(/\.js$/, '.ts'));

/** Every compiled portable test (`*.portable.test.js`) under `dir` whose source still exists, as absolute paths. */
export function findPortableTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findPortableTests(path);
    return name.endsWith('.portable.test.js') && hasTestSource(path) ? [path] : [];
  });
}

/** The number on a TAP summary line `# <name> N`, or NaN. */
export const tapCount = (text, name) => Number((text.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) || [])[1] ?? NaN);

/** Totals over runs of TAP-printing child processes, each reported as an indented subtest and one ok line. */
export class TapTally {
  tests = 0;
  pass = 0;
  fail = 0;
  skipped = 0;
  todo = 0;
  runs = 0;
  failedRuns = 0;
  number = 0;

  /**
   * Prints the run's TAP indented under `# Subtest: title`, its stderr as `# <stderrTag>:` lines, and
   * `ok|not ok N - <describe(tests)>`. A crash or a non-zero exit with every test passing is still a failure,
   * counted once. Returns whether the run passed.
   */
  report({ title, output, stderr, stderrTag, code, signal, describe }) {
    const pass = tapCount(output, 'pass');
    const fail = tapCount(output, 'fail');
    const tests = tapCount(output, 'tests');
    console.log(`# Subtest: ${title}`);
    process.stdout.write(output.split('\n').filter((l) => l && l !== 'TAP version 13').map((l) => `    ${l}`).join('\n') + '\n');
    if (stderr.trim()) process.stdout.write(stderr.trim().split('\n').map((l) => `    # ${stderrTag}: ${l}`).join('\n') + '\n');
    const finished = Number.isFinite(pass) && Number.isFinite(fail);
    const okay = finished && fail === 0 && code === 0;
    this.runs++;
    if (finished) {
      this.tests += tests;
      this.pass += pass;
      this.fail += fail;
      this.skipped += tapCount(output, 'skipped') || 0;
      this.todo += tapCount(output, 'todo') || 0;
    }
    if (!okay) {
      this.failedRuns++;
      if (!finished || fail === 0) this.fail++;
    }
    const why = okay ? '' : !finished ? ` # no summary: exit ${code ?? signal}` : code !== 0 && fail === 0 ? ` # exit ${code}` : '';
    console.log(`${okay ? 'ok' : 'not ok'} ${++this.number} - ${describe(finished ? tests : '?')}${why}`);
    return okay;
  }
}
