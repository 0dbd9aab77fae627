// One HTTPS request (AIS registration, Login with Amazon). May be built on the socket port.

import type { TlsOptions } from './socket.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Absolute http:// or https:// URL. */
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  tls?: TlsOptions;
  timeoutMs?: number;
  /** Largest response body accepted; longer bodies end the request with an error. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Sends `request` and calls `callback` exactly once, with an error or the whole response. */
export type HttpClient = (request: HttpRequest, callback: (error: Error | undefined, response?: HttpResponse) => void) => void;
