// The emulator's HTTP(S) front: one server, several route handlers (LWA, AIS registration, dashboard).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Handles the request and returns true, or returns false to let the next handler try. `body` is the whole request body. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => boolean;

export interface HttpServerOptions {
  port?: number;                       // 0 (default): a free port
  host?: string;                       // default 127.0.0.1
  /** HTTPS with this certificate and key (PEM); plain HTTP when absent (local development only). */
  tls?: { cert: string; key: string };
  handlers: RouteHandler[];
  /** Largest request body accepted; longer requests get 413. Default 64 KiB. */
  maxBodyBytes?: number;
}

export interface RunningHttpServer {
  url: string;                         // e.g. https://127.0.0.1:4433
  port: number;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 65536;
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        sendJson(response, 413, { code: 'INVALID_REQUEST', description: `request body over ${maxBodyBytes} bytes` });
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.headersSent) return;
      const body = Buffer.concat(chunks);
      for (const handler of options.handlers) if (handler(request, response, body)) return;
      sendJson(response, 404, { code: 'NOT_FOUND', description: `no route for ${request.method} ${request.url}` });
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
