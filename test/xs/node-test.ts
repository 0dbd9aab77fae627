// node:test for the XS runner: the subset our portable tests use. test(name, [options], fn) with sync and
// async bodies, run one at a time in registration order; t.plan(n) counted over t.assert.* like Node;
// t.after, t.diagnostic, t.skip, t.todo; test.skip/todo/only; top-level before/after. Output is TAP in
// Node's shape, ending with `# pass N` / `# fail N`; the exit code is 1 when a test failed.
//
// xsrun maps `node:test` here (hosts/xs/modules.mjs). It needs the prelude's xsrun.on('beforeExit') to
// know when the program is done, which is also how a test whose promise can never settle is caught: the
// loop empties while it is pending, and it fails instead of hanging. Plain ES2020: no Node API.
import { AssertionError, inspect, makeAssert, type Assert } from './node-assert.js';

interface Host {
  now(): number;
  write(text: string): void;
  exitCode: number;
  on(event: 'beforeExit' | 'uncaughtException', fn: (error?: unknown) => void): void;
}

type Body = (t: TestContext) => unknown;
interface Options { skip?: boolean | string; todo?: boolean | string; only?: boolean; timeout?: number; concurrency?: number }

interface Entry {
  name: string;
  body?: Body;
  skip?: string;
  todo?: string;
  uncaught?: unknown;
  done: boolean;
  resolve: () => void;
}

const maybeHost = (globalThis as unknown as { xsrun?: Host }).xsrun;
if (!maybeHost || typeof maybeHost.on !== 'function') throw new Error('node:test shim: run under xsrun with its prelude (hosts/xs/prelude.js)');
const host: Host = maybeHost;

const queue: Entry[] = [];
const beforeAll: (() => unknown)[] = [];
const afterAll: (() => unknown)[] = [];
const started = host.now();
let header = false;
let draining = false;
let summarized = false;
let running: Entry | undefined;
let count = 0;
const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };

const print = (text: string) => host.write(text + '\n');
const escapeName = (name: string) => name.replace(/\\/g, '\\\\').replace(/#/g, '\\#').replace(/\n/g, ' ');
const indentBlock = (text: string, pad: string) => text.split('\n').map((l) => pad + l).join('\n');

export class TestContext {
  readonly assert: Assert;
  planned: number | undefined;
  asserted = 0;
  skipped: string | undefined;
  todoReason: string | undefined;
  private readonly cleanups: (() => unknown)[] = [];
  constructor(readonly name: string) {
    this.assert = makeAssert(() => { this.asserted++; });
  }
  plan(count: number): void {
    if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`plan expected a non-negative integer, got ${count}`);
    this.planned = count;
  }
  after(fn: () => unknown): void { this.cleanups.push(fn); }
  diagnostic(message: string): void { print(`# ${message}`); }
  skip(message = ''): void { this.skipped = message; }
  todo(message = ''): void { this.todoReason = message; }
  test(): never { throw new Error('subtests (t.test) are not supported by the XS node:test shim'); }
  async runCleanups(): Promise<void> {
    for (const fn of this.cleanups.splice(0)) await fn();
  }
}

function reason(value: boolean | string | undefined): string | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? '' : value;
}

function register(name: unknown, options?: unknown, body?: unknown, forced: Options = {}): Promise<void> {
  if (typeof name === 'function') { body = name; name = (name as Body).name || '<anonymous>'; options = undefined; }
  if (typeof options === 'function') { body = options; options = undefined; }
  const opts = { ...(options as Options | undefined), ...forced };
  let resolve!: () => void;
  const finished = new Promise<void>((r) => { resolve = r; });
  queue.push({ name: String(name), body: body as Body | undefined, skip: reason(opts.skip), todo: reason(opts.todo), done: false, resolve });
  if (!header) { header = true; print('TAP version 13'); }
  if (!draining) { draining = true; Promise.resolve().then(drain); }
  return finished;
}

export function test(name: string | Body, options?: Options | Body, body?: Body): Promise<void> {
  return register(name, options, body);
}
test.skip = (name: string | Body, options?: Options | Body, body?: Body) => register(name, options, body, { skip: true });
test.todo = (name: string | Body, options?: Options | Body, body?: Body) => register(name, options, body, { todo: true });
test.only = (name: string | Body, options?: Options | Body, body?: Body) => register(name, options, body);
export const it = test;
export function before(fn: () => unknown): void { beforeAll.push(fn); }
export function after(fn: () => unknown): void { afterAll.push(fn); }
export function describe(): never { throw new Error('describe() is not supported by the XS node:test shim; use test()'); }

function errorReport(error: unknown): string {
  const lines: string[] = [];
  const e = error as Partial<AssertionError> & { stack?: unknown };
  const message = error instanceof Error ? error.message : inspect(error);
  lines.push('failureType: \'testCodeFailure\'');
  lines.push(`error: |-\n${indentBlock(message, '  ')}`);
  if (error instanceof Error) {
    if (e.code) lines.push(`code: '${e.code}'`);
    lines.push(`name: '${error.name}'`);
    if (error instanceof AssertionError) {
      lines.push(`expected: ${inspect(e.expected)}`);
      lines.push(`actual: ${inspect(e.actual)}`);
      lines.push(`operator: '${e.operator}'`);
    }
    if (typeof e.stack === 'string' && e.stack.trim()) lines.push(`stack: |-\n${indentBlock(e.stack.trim(), '  ')}`);
  }
  return lines.join('\n');
}

function report(number: number, entry: Entry, error: unknown, durationMs: number, directive = ''): void {
  const okay = error === undefined;
  print(`${okay ? 'ok' : 'not ok'} ${number} - ${escapeName(entry.name)}${directive}`);
  print('  ---');
  print(`  duration_ms: ${durationMs.toFixed(3)}`);
  if (!okay) print(indentBlock(errorReport(error), '  '));
  print('  ...');
}

async function runOne(entry: Entry): Promise<void> {
  const number = ++count;
  running = entry;
  const start = host.now();
  if (entry.skip !== undefined || !entry.body) {
    totals.skipped++;
    report(number, entry, undefined, 0, ` # SKIP${entry.skip ? ` ${entry.skip}` : ''}`);
  } else {
    const context = new TestContext(entry.name);
    let error: unknown;
    try {
      await entry.body(context);
    } catch (thrown) {
      error = thrown ?? new Error(`test threw ${inspect(thrown)}`);
    }
    try {
      await context.runCleanups();
    } catch (thrown) {
      if (error === undefined) error = thrown;
    }
    if (error === undefined && entry.uncaught !== undefined) error = entry.uncaught;
    if (error === undefined && context.planned !== undefined && context.planned !== context.asserted) {
      error = new Error(`plan expected ${context.planned} assertions but received ${context.asserted}`);
    }
    if (entry.done) return; // already reported as unfinished by the exit check
    const todo = entry.todo ?? context.todoReason;
    const directive = todo !== undefined ? ` # TODO${todo ? ` ${todo}` : ''}` : context.skipped !== undefined ? ` # SKIP${context.skipped ? ` ${context.skipped}` : ''}` : '';
    if (todo !== undefined) totals.todo++;
    else if (context.skipped !== undefined) totals.skipped++;
    else if (error === undefined) totals.pass++;
    else totals.fail++;
    report(number, entry, error, host.now() - start, directive);
  }
  entry.done = true;
  running = undefined;
  entry.resolve();
}

async function drain(): Promise<void> {
  try {
    for (const fn of beforeAll.splice(0)) await fn();
    while (queue.length > 0) await runOne(queue.shift()!);
  } catch (error) {
    totals.fail++;
    print(`not ok ${++count} - a before() hook failed`);
    print(indentBlock(`---\n${errorReport(error)}\n...`, '  '));
  }
  draining = false;
}

host.on('uncaughtException', (error) => {
  if (running && !running.done) {
    if (running.uncaught === undefined) running.uncaught = error;
    return;
  }
  totals.fail++;
  print(`not ok ${++count} - an exception outside any test`);
  print(indentBlock(`---\n${errorReport(error)}\n...`, '  '));
});

host.on('beforeExit', () => {
  if (running && !running.done) {
    // Nothing is scheduled and the test's promise is still pending: it can never finish.
    const entry = running;
    entry.done = true;
    running = undefined;
    totals.fail++;
    report(count, entry, new Error('test did not finish: its promise is still pending and nothing is left to run (the event loop emptied)'), host.now() - started);
    entry.resolve();
    draining = true;
    Promise.resolve().then(drain);
    return;
  }
  if (draining || queue.length > 0 || summarized) return;
  summarized = true;
  Promise.resolve().then(async () => {
    for (const fn of afterAll.splice(0)) {
      try { await fn(); } catch (error) { totals.fail++; print(`# an after() hook failed: ${inspect(error)}`); }
    }
    print(`1..${count}`);
    print(`# tests ${count}`);
    print('# suites 0');
    print(`# pass ${totals.pass}`);
    print(`# fail ${totals.fail}`);
    print(`# cancelled ${totals.cancelled}`);
    print(`# skipped ${totals.skipped}`);
    print(`# todo ${totals.todo}`);
    print(`# duration_ms ${(host.now() - started).toFixed(3)}`);
    if (totals.fail > 0) host.exitCode = 1;
  });
});

export default test;
