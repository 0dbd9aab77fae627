// What the Moddable SDK's own typings (typings/, xs/includes/xs.d.ts) do not give the adapter, declared as the
// SDK's code behaves. mcconfig adds the SDK's typings for every SDK module in the build, so this file declares no
// SDK module again (TS2300 "Duplicate identifier" in mcconfig's per-file tsc). files-default.d.ts adds the one
// export the SDK's typing of embedded:storage/files lacks. Checked at 8.2.3 (docs/moddable.md); without the SDK, sdk-stand-in.d.ts stands in for it.

// typings/embedded_io/socket/tls.d.ts declares this module, but examples/manifest_typings.json maps that file
// (its "embedded:io/socket/*" entry) to the specifier embedded:io/socket/tls, so tsc never reads it for
// embedded:io/socket/tcp/tls, which resolves to the example's tlssocket.js (no types). The options are those
// examples/io/tcp/tlssocket/tlssocket.js reads: `TCP.io` is the class it opens its transport with (it has no
// default), `secure` goes to ssl/session (modules/crypt/ssl/session_419.js).
declare module 'embedded:io/socket/tcp/tls' {
  import type TCP from 'embedded:io/socket/tcp';
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
  /** What TLSSocket hands the transport class: the caller's options with its own three callbacks. */
  export interface TransportOptions {
    address: string;
    port: number;
    onReadable(count: number): void;
    onWritable(count: number): void;
    onError(): void;
  }
  /** The transport TLSSocket opens (embedded:io/socket/tcp), as far as our adapter calls it too. */
  export interface Transport {
    read(buffer: Uint8Array): unknown;
    write(data: Uint8Array): unknown;
    close(): void;
  }
  export interface TLSSocketOptions {
    address: string;
    port: number;
    /** Server name: SNI and the name the certificate must carry (a one-certificate chain skips that check). */
    host: string;
    TCP: { io: typeof TCP | (new (options: TransportOptions) => Transport) };
    secure: SecureOptions;
    format?: 'buffer';
    onReadable?(this: TLSSocket, count: number): void;
    onWritable?(this: TLSSocket, count: number): void;
    /** Called without an argument, for the peer's close as for a failure. */
    onError?(this: TLSSocket): void;
  }
  export default class TLSSocket {
    constructor(options: TLSSocketOptions);
    read(buffer: ArrayBuffer | ArrayBufferView): number;
    read(count?: number): ArrayBuffer | undefined;
    write(data: ArrayBuffer | ArrayBufferView): number;
    close(): void;
  }
}
