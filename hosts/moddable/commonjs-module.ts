// A CommonJS `module` for tweetnacl's nacl-fast.js, which tweetnacl.ts imports next. nacl-fast.js is CommonJS: it
// fills `module.exports` when there is a `module`, else it assigns `self.nacl` (a ReferenceError on XS). xsc
// compiles it as an ES module without exports, whose free `module` is this global.
(globalThis as { module?: { exports: object } }).module = { exports: {} };
export {};
