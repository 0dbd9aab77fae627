// xsrun prelude: the host globals a bare XS machine lacks and tests expect from a JavaScript host (console,
// setTimeout/setInterval/setImmediate and their clear*, queueMicrotask, performance.now), written over the
// runner's natives (globalThis.xsrun, xr_host.c). Imported before the program, or precompiled with it.
//
// Timer order follows Node: due timers fire by deadline then by creation, one per call of the driver, and
// the C loop drains promise jobs between two calls. An unref'd timer does not keep the loop alive.
// The portable core (src/) never uses these: it gets time through the Clock port.

const host = globalThis.xsrun;

// console

function describe(value, depth) {
  switch (typeof value) {
    case 'string': return depth ? `'${value}'` : value;
    case 'bigint': return `${value}n`;
    case 'symbol': return value.toString();
    case 'function': return `[Function: ${value.name || '(anonymous)'}]`;
    case 'object': break;
    default: return String(value);
  }
  if (value === null) return 'null';
  if (value instanceof Error) return value.stack && depth === 0 ? String(value.stack) : `${value.name}: ${value.message}`;
  if (depth > 2) return Array.isArray(value) ? '[Array]' : '[Object]';
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.prototype.slice.call(value, 0, 32).map(String);
    if (value.length > 32) items.push(`... ${value.length - 32} more`);
    return `${value.constructor.name}(${value.length}) [ ${items.join(', ')} ]`;
  }
  if (Array.isArray(value)) return `[ ${value.map((v) => describe(v, depth + 1)).join(', ')} ]`;
  if (value instanceof Map) return `Map(${value.size}) { ${[...value].map(([k, v]) => `${describe(k, depth + 1)} => ${describe(v, depth + 1)}`).join(', ')} }`;
  if (value instanceof Set) return `Set(${value.size}) { ${[...value].map((v) => describe(v, depth + 1)).join(', ')} }`;
  const keys = Object.keys(value);
  if (keys.length === 0) return '{}';
  return `{ ${keys.map((k) => `${k}: ${describe(value[k], depth + 1)}`).join(', ')} }`;
}

function line(args) {
  return args.map((a) => describe(a, 0)).join(' ') + '\n';
}

const out = (...args) => host.write(line(args));
const err = (...args) => host.writeError(line(args));
globalThis.console = { log: out, info: out, debug: out, warn: err, error: err, trace: err };

// performance

const origin = host.now();
globalThis.performance = { timeOrigin: origin, now: () => host.now() - origin };

// process-like hooks for a test runner: host.on('beforeExit' | 'uncaughtException', fn)

const listeners = { beforeExit: [], uncaughtException: [] };
host.on = (event, fn) => {
  if (!listeners[event]) throw new TypeError(`xsrun.on: unknown event ${event}`);
  listeners[event].push(fn);
};

function uncaught(error) {
  if (listeners.uncaughtException.length === 0) {
    host.writeError(`Uncaught ${describe(error, 0)}\n`);
    host.exit(1);
  }
  for (const fn of listeners.uncaughtException) fn(error);
}

// timers

const MAX_DELAY_MS = 2147483647;
let sequence = 0;
let referenced = 0;
/** Pending timers, ordered by deadline, then by when they were scheduled. */
const timers = [];
const immediates = [];
let activity = false;

class Timeout {
  constructor(callback, delayMs, args, repeat) {
    if (typeof callback !== 'function') throw new TypeError(`The "callback" argument must be of type function. Received ${describe(callback, 1)}`);
    delayMs = Number(delayMs);
    if (!(delayMs >= 1 && delayMs <= MAX_DELAY_MS)) delayMs = 1;
    this.id = ++sequence;
    this.callback = callback;
    this.args = args;
    this.delayMs = delayMs;
    this.repeat = repeat;
    this.referenced = true;
    this.pending = false;
    this.when = 0;
    referenced++;
    schedule(this);
  }
  ref() {
    if (!this.referenced && this.pending) referenced++;
    this.referenced = true;
    return this;
  }
  unref() {
    if (this.referenced && this.pending) referenced--;
    this.referenced = false;
    return this;
  }
  hasRef() { return this.referenced; }
  refresh() {
    if (this.pending) {
      remove(this);
      if (this.referenced) referenced++;
      schedule(this);
    }
    return this;
  }
  close() { clear(this); return this; }
  [Symbol.toPrimitive]() { return this.id; }
}

function schedule(timer) {
  timer.when = host.now() + timer.delayMs;
  timer.pending = true;
  // Shifted into place by hand: splice() would make an array of what it removed at every (re)schedule, and a
  // repeating timer is rescheduled at every fire (the microphone's, every 20 ms).
  let i = timers.length;
  timers.push(timer);
  for (; i > 0 && timers[i - 1].when > timer.when; i--) timers[i] = timers[i - 1];
  timers[i] = timer;
  activity = true;
}

function remove(timer) {
  const i = timers.indexOf(timer);
  if (i >= 0) { // not splice(): no array of the removed one
    timers.copyWithin(i, i + 1);
    timers.length--;
  }
  if (timer.pending && timer.referenced) referenced--;
  timer.pending = false;
}

function clear(handle) {
  if (handle === undefined || handle === null) return;
  const timer = handle instanceof Timeout ? handle : timers.find((t) => t.id === Number(handle));
  if (timer) remove(timer);
}

globalThis.setTimeout = (callback, delayMs, ...args) => new Timeout(callback, delayMs, args, false);
globalThis.setInterval = (callback, delayMs, ...args) => new Timeout(callback, delayMs, args, true);
globalThis.clearTimeout = clear;
globalThis.clearInterval = clear;

globalThis.setImmediate = (callback, ...args) => {
  if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function');
  const immediate = { callback, args, cleared: false };
  immediates.push(immediate);
  activity = true;
  return immediate;
};
globalThis.clearImmediate = (immediate) => {
  if (immediate) immediate.cleared = true;
};

globalThis.queueMicrotask = (callback) => {
  if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function');
  Promise.resolve().then(() => {
    try { callback(); } catch (error) { uncaught(error); }
  });
};

function run(callback, args) {
  // Without arguments (the usual timer), no spread: spreading iterates the array, an iterator per call.
  try { if (args.length === 0) callback(); else callback(...args); } catch (error) { uncaught(error); }
}

/**
 * Called by the C loop after it drained the promise jobs: fires one due timer or immediate (returns 0),
 * else returns the ms until the next timer, or -1 when nothing keeps the loop alive.
 */
function drive(jobsRan) {
  if (jobsRan) activity = true;
  const now = host.now();
  if (timers.length > 0 && timers[0].when <= now) {
    const timer = timers.shift();
    timer.pending = false;
    if (timer.referenced) referenced--;
    if (timer.repeat) {
      if (timer.referenced) referenced++;
      schedule(timer);
    }
    activity = true;
    run(timer.callback, timer.args);
    return 0;
  }
  while (immediates.length > 0) {
    const immediate = immediates.shift();
    if (immediate.cleared) continue;
    activity = true;
    run(immediate.callback, immediate.args);
    return 0;
  }
  if (referenced > 0) return Math.max(0, timers[0].when - now);
  if (activity && listeners.beforeExit.length > 0) {
    activity = false;
    for (const fn of listeners.beforeExit) run(fn, []);
    return 0;
  }
  return -1;
}

host.setDriver(drive);
