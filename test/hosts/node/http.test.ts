import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { HttpError, nodeHttpClient } from '../../../hosts/node/http.js';
import type { HttpRequest, HttpResponse } from '../../../src/ports/http.js';
import { createTestPki } from '../../support/pki.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Outcome { calls: number; error: Error | undefined; response: HttpResponse | undefined }

/** Sends the request and resolves at the first callback; `calls` keeps counting afterwards. */
function send(request: HttpRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { calls: 0, error: undefined, response: undefined };
    nodeHttpClient(request, (error, response) => {
      outcome.calls++;
      if (outcome.calls === 1) {
        outcome.error = error;
        outcome.response = response;
        resolve(outcome);
      }
    });
  });
}

async function listen(t: { after(fn: () => Promise<void>): void }, server: Server): Promise<string> {
  const sockets = new Set<NetSocket>();
  server.on('connection', (socket: NetSocket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/hello' && req.method === 'GET') {
    res.setHeader('X-Custom', 'Value');
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.setHeader('Content-Type', 'text/plain');
    res.end('hello world');
  } else if (path === '/echo' && req.method === 'POST') {
    const body = await readBody(req);
    res.writeHead(201, {
      'Content-Type': 'application/octet-stream',
      'X-Request-Content-Type': req.headers['content-type'] ?? '',
      'X-Request-Content-Length': req.headers['content-length'] ?? '',
    });
    res.end(body);
  } else if (path === '/slow') {
    // never answers
  } else if (path === '/declared') {
    res.writeHead(200, { 'Content-Length': '5000' });
    res.end(Buffer.alloc(5000, 0x61));
  } else if (path === '/streamed') {
    res.writeHead(200); // chunked, no Content-Length: only counting the bytes can enforce the limit
    for (let i = 0; i < 4 && !res.destroyed; i++) {
      res.write(Buffer.alloc(1000, 0x62));
      await sleep(30);
    }
    res.end();
  } else if (path === '/exact') {
    res.end(Buffer.alloc(1000, 0x63));
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('no such thing');
  }
}

async function httpServer(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  return listen(t, createServer((req, res) => { void route(req, res); }));
}

test('a GET returns status, lower-cased headers (repeats joined) and the body as a plain Uint8Array, calling back once', async (t) => {
  const origin = await httpServer(t);
  const outcome = await send({ method: 'GET', url: `http://${origin}/hello` });
  await sleep(30);
  assert.equal(outcome.calls, 1);
  assert.equal(outcome.error, undefined);
  const response = outcome.response!;
  assert.equal(response.status, 200);
  assert.equal(response.headers['x-custom'], 'Value');
  assert.equal(response.headers['set-cookie'], 'a=1, b=2');
  assert.equal(response.headers['content-type'], 'text/plain');
  assert.equal(response.headers['content-length'], '11');
  assert.ok(Object.keys(response.headers).every((name) => name === name.toLowerCase()));
  assert.equal(Object.getPrototypeOf(response.body), Uint8Array.prototype);
  assert.deepEqual(response.body, new TextEncoder().encode('hello world'));
});

test('a POST sends its body and headers, with a Content-Length, and gets the answer', async (t) => {
  const origin = await httpServer(t);
  const body = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  const outcome = await send({ method: 'POST', url: `http://${origin}/echo`, headers: { 'Content-Type': 'application/json' }, body });
  assert.equal(outcome.error, undefined);
  const response = outcome.response!;
  assert.equal(response.status, 201);
  assert.equal(response.headers['x-request-content-type'], 'application/json');
  assert.equal(response.headers['x-request-content-length'], '3000');
  assert.deepEqual(response.body, body);
});

test('an error status is a response, not an error', async (t) => {
  const origin = await httpServer(t);
  const outcome = await send({ method: 'GET', url: `http://${origin}/missing` });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.response!.status, 404);
  assert.deepEqual(outcome.response!.body, new TextEncoder().encode('no such thing'));
});

test('a server that does not answer within timeoutMs ends the request with one timeout error that leaves out the query', async (t) => {
  const origin = await httpServer(t);
  const started = Date.now();
  const outcome = await send({ method: 'GET', url: `http://${origin}/slow?token=secret`, timeoutMs: 100 });
  const elapsed = Date.now() - started;
  await sleep(100);
  assert.equal(outcome.calls, 1);
  assert.equal(outcome.response, undefined);
  assert.ok(outcome.error instanceof HttpError);
  assert.equal(outcome.error.message, `HTTP GET http://${origin}/slow timed out after 100 ms`);
  assert.equal((outcome.error as HttpError).code, 'ETIMEDOUT');
  assert.ok(elapsed >= 99 && elapsed < 2000, `timed out after ${elapsed} ms`);
});

test('a declared body longer than maxResponseBytes is refused before it is read', async (t) => {
  const origin = await httpServer(t);
  const outcome = await send({ method: 'GET', url: `http://${origin}/declared`, maxResponseBytes: 1000 });
  await sleep(30);
  assert.equal(outcome.calls, 1);
  assert.equal(outcome.error?.message, `HTTP GET http://${origin}/declared: response body of 5000 bytes exceeds maxResponseBytes 1000`);
  assert.equal((outcome.error as HttpError).code, 'ERR_RESPONSE_TOO_LARGE');
});

test('a streamed body is cut off as soon as it passes maxResponseBytes', async (t) => {
  const origin = await httpServer(t);
  const outcome = await send({ method: 'GET', url: `http://${origin}/streamed`, maxResponseBytes: 1500 });
  await sleep(150);
  assert.equal(outcome.calls, 1);
  assert.equal(outcome.response, undefined);
  assert.equal(outcome.error?.message, `HTTP GET http://${origin}/streamed: response body exceeds maxResponseBytes 1500 (2000 bytes received so far)`);
});

test('a body of exactly maxResponseBytes is accepted', async (t) => {
  const origin = await httpServer(t);
  const outcome = await send({ method: 'GET', url: `http://${origin}/exact`, maxResponseBytes: 1000 });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.response!.body.length, 1000);
});

test('a refused connection calls back once with an error naming the request', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const outcome = await send({ method: 'POST', url: `http://127.0.0.1:${port}/register`, body: Uint8Array.of(1) });
  await sleep(30);
  assert.equal(outcome.calls, 1);
  assert.equal(outcome.error?.message, `HTTP POST http://127.0.0.1:${port}/register: connection failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  assert.equal((outcome.error as HttpError).code, 'ECONNREFUSED');
});

test('misuse throws at once and never calls back', () => {
  let calls = 0;
  const callback = () => { calls++; };
  assert.throws(() => nodeHttpClient({ method: 'PUT' as 'GET', url: 'http://127.0.0.1/' }, callback), { name: 'TypeError', message: 'HTTP method must be GET or POST, got "PUT"' });
  assert.throws(() => nodeHttpClient({ method: 'GET', url: '/relative' }, callback), { name: 'TypeError', message: 'HTTP url must be an absolute http:// or https:// URL, got "/relative"' });
  assert.throws(() => nodeHttpClient({ method: 'GET', url: 'ftp://host/' }, callback), { name: 'TypeError', message: 'HTTP url must be an absolute http:// or https:// URL, got "ftp://host/"' });
  assert.throws(() => nodeHttpClient({ method: 'GET', url: 'http://h/', timeoutMs: -1 }, callback), { name: 'RangeError', message: 'HTTP timeoutMs must be a finite number >= 0, got -1' });
  assert.equal(calls, 0);
});

// ---- HTTPS with a private CA and a client certificate ---------------------------------------------------

test('HTTPS trusts the given CA and presents the client certificate; without the CA it fails verification', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-http-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = createTestPki({ dir, clientNames: ['client'] }); // the server greets the client by its CN
  const client = pki.client('client');
  const server = createHttpsServer({ key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const cert = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`hello ${String(cert.subject?.CN)}`);
  });
  const origin = await listen(t, server);
  const outcome = await send({ method: 'GET', url: `https://${origin}/`, tls: { ca: pki.ca.certPem, certificate: client.certPem, key: client.keyPem } });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.response!.status, 200);
  assert.deepEqual(outcome.response!.body, new TextEncoder().encode('hello client'));

  const untrusted = await send({ method: 'GET', url: `https://${origin}/`, tls: { certificate: client.certPem, key: client.keyPem } });
  assert.equal(untrusted.error?.message, `HTTP GET https://${origin}/: server certificate verification failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)`);
});
