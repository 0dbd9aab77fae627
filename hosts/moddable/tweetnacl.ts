// `tweetnacl` in a Moddable build. nacl-fast.js is CommonJS; the manifest maps it as a module of its own
// (tweetnacl/nacl-fast), so it runs after commonjs-module.ts (a module's imports run in order) and fills the
// global `module` that one sets. This module exports what it filled as tweetnacl's default export, as Node's
// CommonJS interop does, and removes the global. Not the manifest's "commonjs" list: mcconfig compiles those
// files as plain scripts (xsc -p), which XS ran before any module (the global was not set yet: self.nacl threw).
// Bare specifiers only: XS would resolve a relative one against this module's name, `tweetnacl`.
import 'hosts/moddable/commonjs-module';
import 'tweetnacl/nacl-fast';
import type * as Nacl from '../../node_modules/tweetnacl/nacl.js';

const global = globalThis as { module?: { exports: Partial<typeof Nacl> } };
const exports = global.module?.exports;
delete global.module;
if (!exports?.scalarMult) throw new Error('tweetnacl: nacl-fast.js did not fill module.exports (the manifest must map tweetnacl/nacl-fast as a module, not list it in "commonjs")');
export default exports as typeof Nacl;
