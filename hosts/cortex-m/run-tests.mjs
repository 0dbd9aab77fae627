#!/usr/bin/env node
// Runs the self-test image on QEMU's emulated Cortex-M7 (npm run test:firmware): builds it, boots it once
// per suite (each portable suite the image holds, then the board's own), and checks that each RAM budget
// overrun fails loudly (link, heap, C stack). Prints each run's TAP indented, one `ok`/`not ok` line per
// run, then `# pass N` / `# fail N` over all tests; the exit status is the result.
//
// Usage: node hosts/cortex-m/run-tests.mjs [--ram-size bytes] [--stack-size bytes] [filters...]
// Without the toolchain it prints the apt-get line and skips (exit 0), or fails under CI=true.
import { availableParallelism } from 'node:os';
import { BOARD_SUITES, DEFAULT_RAM_SIZE, DEFAULT_STACK_SIZE, OVERRUN_FIXTURE, buildSelfTest, firmwareToolchain, link } from './build.mjs';
import { boot } from './qemu.mjs';
import { option, pool, TapTally } from '../script-tools.mjs';

// The JS stack of hosts/xs/run-tests.mjs: the test runner's async frames need more than the MCU's 512 slots.
const MACHINE = ['--stack', '1024'];
async function main() {
  const started = Date.now();
  const tools = firmwareToolchain();
  if (tools.missing) {
    console.log(`# SKIP firmware tests: ${tools.missing}`);
    process.exit(process.env.CI === 'true' ? 1 : 0);
  }
  const ramSize = option('--ram-size', DEFAULT_RAM_SIZE);
  const stackSize = option('--stack-size', DEFAULT_STACK_SIZE);
  const filters = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const built = await buildSelfTest({ ramSize, stackSize, quiet: true });
  const buildSeconds = (Date.now() - started) / 1000;
  const { report, plan } = built;
  console.log('TAP version 13');
  console.log(`# ${built.elf}: flash ${report.flash} B, RAM_SIZE ${report.ram.size} B (heap ${report.ram.heap}, C stack ${report.ram.stack}); `
    + `built in ${buildSeconds.toFixed(1)} s; ${tools.qemu}`);
  for (const { file, reason } of plan.excluded) console.log(`# left out: ${file}: ${reason}`);

  const suites = [...plan.suites, ...BOARD_SUITES].filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
  const width = Math.max(1, Math.min(availableParallelism(), 4));
  const runs = await pool(suites.map((file) => () => boot(built.elf, ['--embedded', ...MACHINE, file])), width);

  const totals = new TapTally();
  const seenExclusions = new Set();
  const undeclaredSkips = [];
  suites.forEach((file, i) => {
    const result = runs[i];
    const output = result.output;
    for (const line of output.split('\n')) {
      const skip = line.match(/^ok \d+ - (.*) # SKIP (.*)$/);
      if (!skip) continue;
      const name = skip[1].replace(/\\#/g, '#').replace(/\\\\/g, '\\');
      if (name in plan.excludedTests) seenExclusions.add(name);
      else undeclaredSkips.push(`${file}: ${name}`);
    }
    const heap = result.board ? `, heap peak ${result.board.heap_peak} B, C stack peak ${result.board.stack_peak} B` : '';
    totals.report({
      title: `${file} (Cortex-M7)`, output, stderr: result.stderr, stderrTag: 'qemu', code: result.code, signal: result.signal,
      describe: (tests) => `${file} (Cortex-M7, ${tests} tests${heap}, ${(result.ms / 1000).toFixed(1)} s)`,
    });
  });

  // Budget overruns: each must stop the image with its own message and status, never pass or hang.
  const checks = filters.length ? [] : [
    {
      name: 'the link fails when .data + .bss + stacks leave too little heap in RAM_SIZE',
      run: async () => {
        try {
          await link({ name: 'overrun', bundleC: built.bundle.bundleC, ramSize: 64 * 1024, stackSize, quiet: true });
          return 'the link succeeded with RAM_SIZE 64 KB';
        } catch (error) {
          return /RAM budget overrun/.test(error.stderr ?? '') ? undefined : `the link failed without the RAM budget message:\n${error.message}`;
        }
      },
    },
    {
      name: 'a full heap ends the run with XS\'s memory-full report (exit 2)',
      run: async () => expectExit(await boot(built.elf, ['--embedded', OVERRUN_FIXTURE, 'heap']), 2, /XS abort: memory full/, (b) => b.heap_refused > 0),
    },
    {
      name: 'deep C recursion stops at the engine\'s C stack check (exit 2)',
      run: async () => expectExit(await boot(built.elf, ['--embedded', OVERRUN_FIXTURE, 'c-stack']), 2, /XS abort: stack overflow/),
    },
    {
      name: 'past the engine\'s check, the MPU guard under the C stack stops it with a fault report (exit 3)',
      run: async () => expectExit(await boot(built.elf, ['--embedded', '--c-stack', '1048576', OVERRUN_FIXTURE, 'c-stack']), 3, /MemManage fault: C stack overflow/),
    },
  ];
  for (const check of checks) {
    const checkStarted = Date.now();
    const problem = await check.run();
    totals.tests++;
    if (problem) {
      totals.fail++;
      totals.failedRuns++;
      console.log(`not ok ${++totals.number} - ${check.name}`);
      console.log(problem.split('\n').map((l) => `    # ${l}`).join('\n'));
    } else {
      totals.pass++;
      console.log(`ok ${++totals.number} - ${check.name} (${((Date.now() - checkStarted) / 1000).toFixed(1)} s)`);
    }
  }

  // Every declared exclusion must still name a test: a renamed test would otherwise run, or vanish silently.
  const stale = filters.length ? [] : Object.keys(plan.excludedTests).filter((name) => !seenExclusions.has(name));
  for (const name of stale) console.log(`# stale exclusion (no such test ran): ${name}`);
  for (const name of undeclaredSkips) console.log(`# skipped without a declared reason: ${name}`);
  console.log(`1..${totals.number}`);
  console.log(`# tests ${totals.tests}`);
  console.log(`# pass ${totals.pass}`);
  console.log(`# fail ${totals.fail}`);
  console.log(`# skipped ${totals.skipped} (${seenExclusions.size} declared in test/cortex-m/exclusions.ts)`);
  console.log(`# todo ${totals.todo}`);
  console.log(`# left out ${plan.excluded.length} suites (they load noble's AES)`);
  console.log(`# duration_ms ${Date.now() - started}`);
  const failed = totals.fail > 0 || totals.failedRuns > 0 || stale.length > 0
    || (process.env.CI === 'true' && (undeclaredSkips.length > 0 || totals.todo > 0));
  process.exit(failed ? 1 : 0);
}

function expectExit(result, code, pattern, boardCheck) {
  const where = `exit ${result.code ?? result.signal}; output:\n${result.output.trim().split('\n').slice(-6).join('\n')}${result.stderr.trim() ? `\nqemu: ${result.stderr.trim()}` : ''}`;
  if (result.code !== code) return `expected exit ${code}, got ${where}`;
  if (!pattern.test(result.output)) return `expected ${pattern} in the output, got ${where}`;
  if (!result.board) return `no board exit line; ${where}`;
  if (boardCheck && !boardCheck(result.board)) return `the board's exit line does not show it: ${where}`;
  return undefined;
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
