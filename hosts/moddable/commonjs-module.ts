// A CommonJS `module` for the next CommonJS file the build runs as a script (the manifest's "commonjs" list:
// tweetnacl's nacl-fast.js). xsc compiles such a file as a plain script, with neither `module` nor `exports`:
// it fills the global `module.exports` this sets, and tweetnacl.ts takes it from there.
(globalThis as { module?: { exports: object } }).module = { exports: {} };
export {};
