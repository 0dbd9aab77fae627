// The few Moddable / ECMA-419 modules this adapter uses, declared as their implementations behave (our own
// narrow declarations: the SDK's typings are GPL-3.0 and disagree with the code in places, see
// ../shared/spec/moddable-notes.md §2). xsrun serves the same specifiers from hosts/xs/io.

declare module 'embedded:io/socket/tcp' {
  export interface TCPOptions {
    address: string;
    port: number;
    nodelay?: boolean;
    format?: 'buffer';
    onReadable?(this: TCP, count: number): void;
    onWritable?(this: TCP, count: number): void;
    /** Moddable calls it without an argument; xsrun passes an Error saying what failed. */
    onError?(this: TCP, error?: Error): void;
  }
  export default class TCP {
    constructor(options: TCPOptions);
    /** Exactly `buffer.byteLength` bytes, at most what onReadable reported; returns that count. */
    read(buffer: ArrayBuffer | ArrayBufferView): number;
    read(count?: number): ArrayBuffer | undefined;
    /** All or nothing: throws "would block" beyond the writable count. */
    write(data: ArrayBuffer | ArrayBufferView): number | void;
    close(): void;
  }
}

declare module 'embedded:io/socket/tcp/tls' {
  import type TCP from 'embedded:io/socket/tcp';
  import type { TCPOptions } from 'embedded:io/socket/tcp';
  export interface SecureOptions {
    /** Trust anchor, DER. */
    certificate?: ArrayBuffer;
    clientCertificates?: ArrayBuffer[];
    /** PKCS#8 DER. */
    clientKey?: ArrayBuffer;
    applicationLayerProtocolNegotiation?: string[];
    serverName?: string;
    verify?: boolean;
  }
  export interface TLSSocketOptions extends TCPOptions {
    /** Server name: SNI and the name the certificate must carry. */
    host: string;
    TCP?: { io: typeof TCP };
    secure: SecureOptions;
  }
  export default class TLSSocket extends TCP {
    constructor(options: TLSSocketOptions);
  }
}

declare module 'embedded:storage/files' {
  export interface Status {
    size: number;
    isFile(): boolean;
    isDirectory(): boolean;
  }
  export class File {
    read(buffer: ArrayBuffer | ArrayBufferView, position?: number): number;
    read(count: number, position?: number): ArrayBuffer;
    write(data: ArrayBuffer | ArrayBufferView, position?: number): void;
    /** fsync */
    flush(): void;
    status(): Status;
    close(): void;
  }
  export class Directory {
    openFile(options: { path: string; mode?: 'r' | 'r+' | 'w' | 'w+' }): File;
    openDirectory(options: { path: string }): Directory;
    createDirectory(options: { path: string }): void;
    delete(path: string): boolean;
    move(from: string, to: string): void;
    status(path: string): Status;
    scan(): IterableIterator<string>;
    /** xsrun only (fsync of the directory); absent from Moddable's Directory. */
    flush?(): void;
    close(): void;
  }
  const root: Directory;
  export default root;
}

declare module 'timer' {
  type TimerID = object;
  const Timer: {
    set(callback: (id: TimerID) => void, delay?: number, repeat?: number): TimerID;
    repeat(callback: (id: TimerID) => void, interval: number): TimerID;
    clear(id: TimerID | undefined): void;
  };
  export default Timer;
}

declare module 'time' {
  const Time: { readonly ticks: number };
  export default Time;
}

// ECMA-419 audio, as modules/io/audioin/lin/audioin.js and modules/io/audioout/lin/audioout_.js behave:
// onReadable/onWritable(byteLength, frames); read/write stay within the reported byte count ("invalid size"
// beyond it); start() of a started output throws "already started"; both have close() (absent from the SDK's
// typings of audio out). ESP32 takes its pins from the manifest's defines (MODDEF_AUDIOIN_I2S_*), not options.
declare module 'embedded:io/audio/in' {
  export interface AudioInOptions {
    sampleRate: number;
    bitsPerSample?: 8 | 16;
    channels?: 1 | 2;
    audioType?: 'LPCM';
    format?: 'buffer';
    /** Linux only: buffers in the queue (default 8). */
    queueLength?: number;
    onReadable?(this: AudioIn, byteLength: number, frames: number): void;
  }
  export default class AudioIn {
    constructor(options: AudioInOptions);
    /** Fills the buffer (returns its byte length) or returns a new ArrayBuffer of `byteLength` bytes. */
    read(buffer: ArrayBuffer | ArrayBufferView): number;
    read(byteLength?: number): ArrayBuffer;
    start(): void;
    stop(): void;
    close(): void;
    readonly sampleRate: number;
    readonly bitsPerSample: number;
    readonly channels: number;
  }
}

declare module 'embedded:io/audio/out' {
  export interface AudioOutOptions {
    sampleRate: number;
    bitsPerSample?: 8 | 16;
    channels?: 1 | 2;
    audioType?: 'LPCM';
    format?: 'buffer';
    queueLength?: number;
    onWritable?(this: AudioOut, byteLength: number, frames: number): void;
  }
  export default class AudioOut {
    constructor(options: AudioOutOptions);
    /** Copies the samples; returns their byte length; "invalid size" beyond the writable count. */
    write(samples: ArrayBuffer | ArrayBufferView): number;
    start(): void;
    stop(): void;
    close(): void;
    /** 0 to 1 (Linux: scaled by 256 in C). */
    volume: number;
    readonly sampleRate: number;
  }
}

// The manifest's "config" object, frozen (documentation/tools/manifest.md).
declare module 'mc/config' {
  const config: Readonly<Record<string, unknown>>;
  export default config;
}

// A resource of the manifest's "data"/"resources" (modules/files/resource): read-only bytes in flash.
declare module 'Resource' {
  export default class Resource extends ArrayBuffer {
    constructor(path: string);
    static exists(path: string): boolean;
  }
}
