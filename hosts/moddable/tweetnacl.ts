// `tweetnacl` in a Moddable build: nacl-fast.js is CommonJS and the SDK runs it as a plain script, so its
// exports land in the global `module` that commonjs-module.ts sets just before (ES modules run their imports in
// order); this module exports them as tweetnacl's default export, as Node's CommonJS interop does, and removes
// the global. Bare specifiers only: XS would resolve a relative one against this module's name, `tweetnacl`.
import 'hosts/moddable/commonjs-module';
import 'tweetnacl/nacl-fast';
import type * as Nacl from '../../node_modules/tweetnacl/nacl.js';

const global = globalThis as { module?: { exports: Partial<typeof Nacl> } };
const exports = global.module?.exports;
delete global.module;
if (!exports?.scalarMult) throw new Error('tweetnacl: nacl-fast.js did not fill module.exports (is it in the manifest\'s "commonjs" list, after hosts/moddable/commonjs-module?)');
export default exports as typeof Nacl;
