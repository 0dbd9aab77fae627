// node:assert/strict for the XS runner: the subset our portable tests use, with Node's strict semantics
// (equal is Object.is, deepEqual is deepStrictEqual: same prototypes, own enumerable keys, typed array
// contents, Map/Set members, Error name and message). xsrun maps `node:assert/strict` and `node:assert`
// here (hosts/xs/modules.mjs); on Node the real module runs. Plain ES2020: no Node API.

export class AssertionError extends Error {
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  readonly code = 'ERR_ASSERTION';
  readonly generatedMessage: boolean;
  constructor(options: { message?: string | Error; actual?: unknown; expected?: unknown; operator: string; generated: string }) {
    const own = typeof options.message === 'string' ? options.message : undefined;
    super(own ?? options.generated);
    this.name = 'AssertionError';
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator;
    this.generatedMessage = own === undefined;
  }
}

/** A short, Node-like rendering of a value for failure messages. */
export function inspect(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'string': return `'${value.replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
    case 'bigint': return `${value}n`;
    case 'symbol': return value.toString();
    case 'function': return `[Function: ${value.name || '(anonymous)'}]`;
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'object': break;
    default: return String(value);
  }
  if (value === null) return 'null';
  if (depth > 3) return Array.isArray(value) ? '[Array]' : '[Object]';
  if (value instanceof Error) {
    const extra = Object.keys(value).filter((k) => k !== 'name' && k !== 'message');
    return `${value.name}: ${value.message}${extra.length ? ` { ${extra.map((k) => `${k}: ${inspect((value as any)[k], depth + 1)}`).join(', ')} }` : ''}`;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const view = value as unknown as ArrayLike<number | bigint>;
    const items: string[] = [];
    for (let i = 0; i < Math.min(view.length, 48); i++) items.push(String(view[i]));
    if (view.length > 48) items.push(`... ${view.length - 48} more items`);
    return `${value.constructor.name}(${view.length}) [${items.length ? ` ${items.join(', ')} ` : ''}]`;
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, 48).map((v) => inspect(v, depth + 1));
    if (value.length > 48) items.push(`... ${value.length - 48} more items`);
    return `[${items.length ? ` ${items.join(', ')} ` : ''}]`;
  }
  if (value instanceof Map) return `Map(${value.size}) { ${[...value].map(([k, v]) => `${inspect(k, depth + 1)} => ${inspect(v, depth + 1)}`).join(', ')} }`;
  if (value instanceof Set) return `Set(${value.size}) { ${[...value].map((v) => inspect(v, depth + 1)).join(', ')} }`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof RegExp) return String(value);
  const keys = Object.keys(value as object);
  const name = Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null ? '' : `${(value as object).constructor?.name ?? ''} `;
  if (keys.length === 0) return `${name}{}`;
  return `${name}{ ${keys.map((k) => `${k}: ${inspect((value as any)[k], depth + 1)}`).join(', ')} }`;
}

const tagOf = (value: object) => Object.prototype.toString.call(value);

function isDeepStrictEqual(a: unknown, b: unknown, memo: Map<object, object>): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (tagOf(a) !== tagOf(b)) return false;
  if (memo.get(a) === b) return true;
  memo.set(a, b);
  if (a instanceof Date) return a.getTime() === (b as Date).getTime() && sameOwnKeys(a, b, memo);
  if (a instanceof RegExp) {
    const r = b as RegExp;
    if (a.source !== r.source || a.flags !== r.flags || a.lastIndex !== r.lastIndex) return false;
  }
  if (a instanceof Error) {
    const e = b as Error;
    if (a.name !== e.name || a.message !== e.message) return false;
  }
  if (a instanceof ArrayBuffer) {
    if (!sameBytes(new Uint8Array(a), new Uint8Array(b as ArrayBuffer))) return false;
  } else if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (a instanceof DataView) {
      if (!sameBytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array((b as DataView).buffer, (b as DataView).byteOffset, (b as DataView).byteLength))) return false;
    } else {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    }
    // Named properties on typed arrays are not compared: listing the keys of a 2 MB array would make
    // two million index strings, minutes on XS.
    return true;
  }
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) {
      if ((i in a) !== (i in y)) return false;
      if (!isDeepStrictEqual(a[i], y[i], memo)) return false;
    }
    return sameOwnKeys(a, b, memo, true);
  }
  if (a instanceof Map) {
    const y = b as Map<unknown, unknown>;
    if (a.size !== y.size) return false;
    const unmatched = [...y];
    for (const [key, value] of a) {
      if (typeof key !== 'object' || key === null) {
        if (!y.has(key) || !isDeepStrictEqual(value, y.get(key), memo)) return false;
        const at = unmatched.findIndex(([k]) => Object.is(k, key));
        unmatched.splice(at, 1);
      } else {
        const at = unmatched.findIndex(([k, v]) => isDeepStrictEqual(key, k, memo) && isDeepStrictEqual(value, v, memo));
        if (at < 0) return false;
        unmatched.splice(at, 1);
      }
    }
    return sameOwnKeys(a, b, memo);
  }
  if (a instanceof Set) {
    const y = b as Set<unknown>;
    if (a.size !== y.size) return false;
    const unmatched = [...y];
    for (const value of a) {
      const at = typeof value !== 'object' || value === null
        ? unmatched.findIndex((v) => Object.is(v, value))
        : unmatched.findIndex((v) => isDeepStrictEqual(value, v, memo));
      if (at < 0) return false;
      unmatched.splice(at, 1);
    }
    return sameOwnKeys(a, b, memo);
  }
  if (typeof (a as { valueOf(): unknown }).valueOf === 'function' && (a instanceof Number || a instanceof String || a instanceof Boolean)) {
    if (!Object.is(a.valueOf(), (b as object).valueOf())) return false;
  }
  return sameOwnKeys(a, b, memo);
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Own enumerable string and symbol keys match and their values are deep-strict-equal (indices skipped for arrays). */
function sameOwnKeys(a: object, b: object, memo: Map<object, object>, skipIndices = false): boolean {
  let ka = Object.keys(a);
  let kb = Object.keys(b);
  if (skipIndices) {
    // A dense array without named properties has exactly `length` keys: nothing left to compare.
    const la = (a as unknown[]).length;
    const lb = (b as unknown[]).length;
    if (ka.length === la && kb.length === lb) ka = kb = [];
    else {
      const named = (k: string) => !/^(0|[1-9][0-9]*)$/.test(k);
      ka = ka.filter(named);
      kb = kb.filter(named);
    }
  }
  if (ka.length !== kb.length) return false;
  for (const key of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, key) || !Object.prototype.propertyIsEnumerable.call(b, key)) return false;
    if (!isDeepStrictEqual((a as any)[key], (b as any)[key], memo)) return false;
  }
  const sa = Object.getOwnPropertySymbols(a).filter((s) => Object.prototype.propertyIsEnumerable.call(a, s));
  const sb = Object.getOwnPropertySymbols(b).filter((s) => Object.prototype.propertyIsEnumerable.call(b, s));
  if (sa.length !== sb.length) return false;
  for (const symbol of sa) {
    if (!Object.prototype.propertyIsEnumerable.call(b, symbol)) return false;
    if (!isDeepStrictEqual((a as any)[symbol], (b as any)[symbol], memo)) return false;
  }
  return true;
}

export function isDeepEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b, new Map());
}

function raise(message: string | Error | undefined, generated: string, actual: unknown, expected: unknown, operator: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, generated, actual, expected, operator });
}

export function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) raise(message, `The expression evaluated to a falsy value:\n\n  assert.ok(${inspect(value)})\n`, value, true, '==');
}

export function equal<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  if (!Object.is(actual, expected)) {
    raise(message, `Expected values to be strictly equal:\n\n${inspect(actual)} !== ${inspect(expected)}\n`, actual, expected, 'strictEqual');
  }
}

export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) raise(message, `Expected "actual" to be strictly unequal to: ${inspect(expected)}`, actual, expected, 'notStrictEqual');
}

export function deepEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  if (!isDeepEqual(actual, expected)) {
    raise(message, `Expected values to be strictly deep-equal:\n+ actual - expected\n\n+ ${inspect(actual)}\n- ${inspect(expected)}\n`, actual, expected, 'deepStrictEqual');
  }
}

export function notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (isDeepEqual(actual, expected)) raise(message, `Expected "actual" not to be strictly deep-equal to: ${inspect(expected)}`, actual, expected, 'notDeepStrictEqual');
}

export function match(actual: string, expected: RegExp, message?: string | Error): void {
  if (!(expected instanceof RegExp)) throw new TypeError('The "regexp" argument must be an instance of RegExp');
  if (typeof actual !== 'string' || !expected.test(actual)) {
    raise(message, typeof actual !== 'string'
      ? `The "string" argument must be of type string. Received ${inspect(actual)}`
      : `The input did not match the regular expression ${String(expected)}. Input:\n\n${inspect(actual)}\n`, actual, expected, 'match');
  }
}

export function doesNotMatch(actual: string, expected: RegExp, message?: string | Error): void {
  if (typeof actual !== 'string' || expected.test(actual)) {
    raise(message, `The input was expected to not match the regular expression ${String(expected)}. Input:\n\n${inspect(actual)}\n`, actual, expected, 'doesNotMatch');
  }
}

type Expected = RegExp | (new (...args: any[]) => unknown) | ((error: unknown) => boolean) | object;

/** Node's rules for the `expected` of throws/rejects: a RegExp, a class, a validation function or an object of properties. */
function checkThrown(error: unknown, expected: Expected | undefined, message: string | Error | undefined, operator: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(error))) {
      raise(message, `The input did not match the regular expression ${String(expected)}. Input:\n\n${inspect(String(error))}\n`, error, expected, operator);
    }
    return;
  }
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && error instanceof (expected as new () => unknown)) return;
    if (Error.isPrototypeOf(expected) || expected === Error) {
      raise(message, `The error is expected to be an instance of "${expected.name}". Received ${inspect(error)}`, error, expected, operator);
    }
    const verdict = (expected as (e: unknown) => unknown).call({}, error);
    if (verdict !== true) {
      raise(message, `The ${expected.name ? `"${expected.name}" validation function` : 'validation function'} is expected to return "true". Received ${inspect(verdict)}\n\nCaught error:\n\n${inspect(error)}`, error, expected, operator);
    }
    return;
  }
  if (typeof expected !== 'object' || expected === null) throw new TypeError(`The "expected" argument must be a RegExp, a function or an object. Received ${inspect(expected)}`);
  const keys = Object.keys(expected);
  if (expected instanceof Error) keys.push('name', 'message');
  for (const key of keys) {
    const want = (expected as any)[key];
    const got = typeof error === 'object' && error !== null ? (error as any)[key] : undefined;
    const same = want instanceof RegExp && typeof got === 'string' ? want.test(got) : isDeepEqual(got, want);
    if (!same) {
      raise(message, `Expected values to be strictly deep-equal:\n+ actual - expected\n\n  Comparison {\n+   ${key}: ${inspect(got)}\n-   ${key}: ${inspect(want)}\n  }\n`, error, expected, operator);
    }
  }
}

function splitArguments(expected: Expected | string | undefined, message: string | Error | undefined): [Expected | undefined, string | Error | undefined] {
  return typeof expected === 'string' ? [undefined, expected] : [expected, message];
}

export function throws(fn: () => unknown, expected?: Expected | string, message?: string | Error): void {
  if (typeof fn !== 'function') throw new TypeError(`The "fn" argument must be of type function. Received ${inspect(fn)}`);
  const [want, text] = splitArguments(expected, message);
  let thrown: unknown;
  let threw = false;
  try { fn(); } catch (error) { threw = true; thrown = error; }
  if (!threw) raise(text, `Missing expected exception${want && typeof want === 'function' && want.name ? ` (${want.name})` : ''}.`, undefined, want, 'throws');
  checkThrown(thrown, want, text, 'throws');
}

export function doesNotThrow(fn: () => unknown, message?: string | Error): void {
  try { fn(); } catch (error) { raise(message, `Got unwanted exception.\nActual message: "${error instanceof Error ? error.message : String(error)}"`, error, undefined, 'doesNotThrow'); }
}

export async function rejects(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), expected?: Expected | string, message?: string | Error): Promise<void> {
  const [want, text] = splitArguments(expected, message);
  let rejected = false;
  let reason: unknown;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    rejected = true;
    reason = error;
  }
  if (!rejected) raise(text, `Missing expected rejection${want && typeof want === 'function' && want.name ? ` (${want.name})` : ''}.`, undefined, want, 'rejects');
  checkThrown(reason, want, text, 'rejects');
}

export async function doesNotReject(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), message?: string | Error): Promise<void> {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    raise(message, `Got unwanted rejection.\nActual message: "${error instanceof Error ? error.message : String(error)}"`, error, undefined, 'doesNotReject');
  }
}

function failNow(message?: string | Error): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, generated: 'Failed', operator: 'fail' });
}

export interface Assert {
  (value: unknown, message?: string | Error): asserts value;
  ok: typeof ok;
  equal: typeof equal;
  strictEqual: typeof equal;
  notEqual: typeof notEqual;
  notStrictEqual: typeof notEqual;
  deepEqual: typeof deepEqual;
  deepStrictEqual: typeof deepEqual;
  notDeepEqual: typeof notDeepEqual;
  notDeepStrictEqual: typeof notDeepEqual;
  match: typeof match;
  doesNotMatch: typeof doesNotMatch;
  throws: typeof throws;
  doesNotThrow: typeof doesNotThrow;
  rejects: typeof rejects;
  doesNotReject: typeof doesNotReject;
  fail: typeof failNow;
  AssertionError: typeof AssertionError;
  strict: Assert;
}

/** The callable module object, built around `check` so a test context can count calls (t.plan). */
export function makeAssert(onCall?: () => void): Assert {
  const counted = <F extends (...args: any[]) => any>(fn: F): F => (onCall ? ((...args: any[]) => { onCall(); return fn(...args); }) as F : fn);
  const assert = counted(((value: unknown, message?: string | Error) => ok(value, message)) as Assert) as Assert;
  Object.assign(assert, {
    ok: counted(ok), equal: counted(equal), strictEqual: counted(equal), notEqual: counted(notEqual), notStrictEqual: counted(notEqual),
    deepEqual: counted(deepEqual), deepStrictEqual: counted(deepEqual), notDeepEqual: counted(notDeepEqual), notDeepStrictEqual: counted(notDeepEqual),
    match: counted(match), doesNotMatch: counted(doesNotMatch), throws: counted(throws), doesNotThrow: counted(doesNotThrow),
    rejects: counted(rejects), doesNotReject: counted(doesNotReject), fail: counted(failNow), AssertionError,
  });
  assert.strict = assert;
  return assert;
}

const assert = makeAssert();
export default assert;
export { equal as strictEqual, notEqual as notStrictEqual, deepEqual as deepStrictEqual, notDeepEqual as notDeepStrictEqual, failNow as fail };
