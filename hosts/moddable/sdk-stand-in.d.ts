// Stand-ins for the Moddable SDK's typings of the modules the adapter imports, for type-checking hosts/moddable
// where the SDK is not installed (npm run build, CI). Our own narrow declarations in the shapes of the SDK's
// (typings/*.d.ts and xs/includes/xs.d.ts at 8.2.3, GPL-3.0, not copied); where those are wrong,
// sdk-lacks.d.ts adds to them in both builds. mcconfig never reads this file: the manifest's `types` list only
// sdk-lacks.d.ts, and the SDK's own typings take this file's place.

declare module 'embedded:io/socket/tcp' {
  export type Options = {
    address: string;
    port: number;
    nodelay?: boolean;
    format?: 'number' | 'buffer';
    onReadable?: (this: TCP, bytes: number) => void;
    onWritable?: (this: TCP, bytes: number) => void;
    onError?: (this: TCP) => void;
  };
  export default class TCP {
    constructor(options: Options);
    read(byteLength?: number): number | ArrayBuffer;
    read(buffer: ByteBuffer): void;
    write(value: number | ByteBuffer): void;
    close(): void;
  }
}

declare module 'embedded:storage/files' {
  export class Status {
    size: number;
    mode: number;
    isFile(): boolean;
    isDirectory(): boolean;
    isSymbolicLink(): boolean;
  }
  export class File {
    close(): void;
    read(count: number, position: number): ArrayBuffer;
    read(buffer: ByteBuffer, position: number): number;
    write(buffer: ByteBuffer, position: number): void;
    status(): Status;
    setSize(length: number): void;
    flush(): void;
  }
  export class Directory {
    close(): void;
    openFile(options: { path: string; mode?: 'r' | 'r+' | 'w' | 'w+' }): File;
    openDirectory(options: { path: string }): Directory;
    delete(path: string): boolean;
    move(from: string, to: string, toDirectory?: Directory): void;
    status(path: string, options?: { resolveTarget?: boolean }): Status;
    createDirectory(path: string): boolean;
    scan(path?: string): IterableIterator<string>;
  }
}

declare module 'embedded:io/audio/in' {
  interface AudioInOptions {
    bitsPerSample?: 8 | 16;
    channels?: 1 | 2;
    sampleRate?: number;
    audioType?: 'LPCM';
    format?: 'buffer';
  }
  class AudioIn {
    constructor(options: AudioInOptions & { onReadable?: (this: AudioIn, byteLength: number, sampleCount?: number) => void });
    read(byteLength?: number): ArrayBuffer;
    read(buffer: ByteBuffer): number;
    start(): void;
    stop(options?: { flush?: boolean }): void;
    close(): void;
    readonly bitsPerSample: 8 | 16;
    readonly channels: 1 | 2;
    readonly sampleRate: number;
  }
  export { AudioIn as default, type AudioInOptions };
}

declare module 'embedded:io/audio/out' {
  interface AudioOutOptions {
    bitsPerSample?: 8 | 16;
    channels?: 1 | 2;
    sampleRate?: number;
    audioType?: 'LPCM';
    format?: 'buffer';
  }
  class AudioOut {
    constructor(options?: AudioOutOptions & { onWritable?: (this: AudioOut, byteLength: number, sampleCount?: number) => void });
    write(buffer: ByteBuffer): void;
    start(): void;
    stop(options?: { flush?: boolean }): void;
    readonly sampleRate: number;
    volume: number;
  }
  export { AudioOut as default, type AudioOutOptions };
}

declare module 'timer' {
  class Timer {
    private constructor();
    static set: (callback: (timer: Timer) => void, interval?: number, repeat?: number) => Timer;
    static repeat: (callback: (timer: Timer) => void, interval: number) => Timer;
    static clear: (timer: Timer | undefined | null) => void;
    private brand: boolean;
  }
  export { Timer as default };
}

declare module 'time' {
  const Time: { ticks: number };
  export { Time as default };
}

declare module 'Resource' {
  interface ResourcePrototype extends HostBuffer {
    slice(begin: number, end?: number): ArrayBuffer;
  }
  const Resource: { new (path: string): ResourcePrototype; exists(path: string): boolean };
  export { Resource as default };
}

declare module 'mc/config' {
  const Config: Record<string, any>;
  export { Config as default };
}

// xs/includes/xs.d.ts: the globals of XS in a Moddable build.
/** Bytes the host owns (a resource in flash): not an ArrayBuffer, but XS takes one wherever an ArrayBuffer goes. */
declare class HostBuffer {
  readonly byteLength: number;
  private brand: boolean;
}
type ByteBuffer = ArrayBufferLike | HostBuffer | ArrayBufferView;
/** A class whose instances carry host data freed by the named C destructor (documentation/xs/XS in C.md). */
declare function Native(name: string): new (...args: any[]) => any;
/** The C function of that name, to call on an instance. */
declare function native(name: string): (...args: any[]) => any;
