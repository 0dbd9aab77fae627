// TCP stream socket port, optionally with TLS, in the ECMA-419 (TC53) shape: one options object with
// callbacks inside it, `read()` into the caller's buffer, `close()` safe to call twice, and back-pressure:
// write() says how much room is left and onWritable says when room came back (ECMA-419's onWritable count).
// All callbacks run on the host's event loop and must not block.

export interface TlsOptions {
  /** PEM or DER trust anchors; when absent the host's defaults apply. */
  ca?: string | Uint8Array;
  /** Client certificate chain and key for mutual TLS (AWS IoT requires it). */
  certificate?: string | Uint8Array;
  key?: string | Uint8Array;
  /** Name checked against the server certificate (SNI); defaults to `host`. */
  serverName?: string;
  /** ALPN protocol list, e.g. ["x-amzn-mqtt-ca"] for AWS IoT on port 443. */
  protocols?: string[];
}

export interface SocketOptions {
  host: string;
  port: number;
  tls?: TlsOptions;
  /** Connected (and, with TLS, handshake done). */
  onConnect(): void;
  /** `count` bytes wait to be read with `read()`. */
  onReadable(count: number): void;
  /** The peer closed or the connection failed; no callback follows. */
  onError(error: Error): void;
  /** The connection ended cleanly from the peer side; no callback follows. */
  onClose?(): void;
  /**
   * After a write() that returned ≤ 0: the outgoing buffer drained and `count` bytes may be written again.
   * Called once per such write; a caller that keeps writing meanwhile is not refused, it only grows the buffer.
   */
  onWritable?(count: number): void;
}

export interface Socket {
  /** Copies up to `buffer.length` buffered bytes into `buffer`; returns how many. */
  read(buffer: Uint8Array): number;
  /**
   * Queues the first `length` bytes of `data` (default: all) for sending. The socket copies what it
   * keeps, so the caller may reuse `data` at once; `length` spares the caller a view per write.
   * Returns the bytes the socket still takes before its outgoing buffer is full: ≤ 0 means the link is not
   * keeping up, wait for onWritable before writing more.
   */
  write(data: Uint8Array, length?: number): number;
  /** Closes the connection; no callback runs after it. Safe to call twice. */
  close(): void;
}

export type SocketFactory = (options: SocketOptions) => Socket;
