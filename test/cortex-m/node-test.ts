// node:test on the firmware image: the XS shim (test/xs/node-test.ts) with the tests of EXCLUDED_TESTS
// registered as skipped, with their reason, so a suite still runs on a part too small for one of its tests.
// hosts/cortex-m/run-tests.mjs maps node:test here and checks that every excluded name was seen.
import * as shim from '../xs/node-test.js';
import { EXCLUDED_TESTS } from './exclusions.js';

export { TestContext, before, after, describe } from '../xs/node-test.js';

type Register = (name: unknown, options?: unknown, body?: unknown) => Promise<void>;

function excluding(register: Register): Register {
  return (name, options, body) => {
    const reason = typeof name === 'string' ? EXCLUDED_TESTS[name] : undefined;
    if (reason === undefined) return register(name, options, body);
    const fn = typeof options === 'function' ? options : body;
    const given = typeof options === 'object' && options !== null ? options : {};
    return register(name, { ...given, skip: `on the firmware image: ${reason}` }, fn);
  };
}

const base = shim.test as unknown as Register & { skip: Register; todo: Register; only: Register };
export const test = Object.assign(excluding(base), {
  skip: base.skip,
  todo: base.todo,
  only: excluding(base.only),
}) as unknown as typeof shim.test;
export const it = test;
export default test;
