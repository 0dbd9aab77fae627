// typings/embedded/storage/files.d.ts (SDK 8.2.3) has no default export, but the module's default export is the
// files root, a Directory (modules/io/files/posix/files.js, its last line). Added by declaration merging, and read
// only by the modules that import the files root (storage.ts, wav-out.ts: a /// reference before their first
// import): merged into the SDK's declaration it needs that declaration in the same program, and mcconfig's tsc
// adds the SDK's file only for a module that imports embedded:storage/files.
declare module 'embedded:storage/files' {
  const root: Directory;
  export default root;
}
