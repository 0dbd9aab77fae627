// The slice of the WebAssembly JS API that hosts/node/dsp.ts uses: Node 20 has it, @types/node 20 does not
// declare it, and the DOM library would bring in far more than this.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
