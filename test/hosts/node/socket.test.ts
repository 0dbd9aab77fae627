import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { createSocket, SocketError } from '../../../hosts/node/socket.js';
import type { Socket, SocketOptions, TlsOptions } from '../../../src/ports/socket.js';
import { createTestPki, type TestPki } from '../../support/pki.js';

// ---- helpers -------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Counts every callback of a socket and keeps what it read, so a test can assert exact sequences. */
class Recorder {
  readonly events: string[] = [];
  readonly errors: Error[] = [];
  readonly received: number[] = [];
  connects = 0;
  closes = 0;
  /** When set, onReadable reads everything with this reused buffer. */
  readBuffer: Uint8Array | undefined;
  socket!: Socket;

  options(host: string, port: number, tls?: TlsOptions): SocketOptions {
    return {
      host, port, tls,
      onConnect: () => { this.connects++; this.events.push('connect'); },
      onReadable: (count) => {
        this.events.push(`readable ${count}`);
        if (this.readBuffer) this.drain(this.readBuffer);
      },
      onError: (error) => { this.errors.push(error); this.events.push('error'); },
      onClose: () => { this.closes++; this.events.push('close'); },
    };
  }

  open(host: string, port: number, tls?: TlsOptions): Socket {
    this.socket = createSocket(this.options(host, port, tls));
    return this.socket;
  }

  drain(buffer: Uint8Array): void {
    for (let n = this.socket.read(buffer); n > 0; n = this.socket.read(buffer)) this.received.push(...buffer.subarray(0, n));
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server, peers: Set<NetSocket>): Promise<void> {
  for (const peer of peers) peer.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A TCP server on 127.0.0.1 that echoes by default; `onPeer` replaces the echo. */
async function tcpServer(t: { after(fn: () => Promise<void>): void }, onPeer?: (peer: NetSocket) => void): Promise<{ port: number; peers: Set<NetSocket> }> {
  const peers = new Set<NetSocket>();
  const server = createServer((peer) => {
    peers.add(peer);
    peer.on('error', () => {});
    if (onPeer) onPeer(peer); else peer.pipe(peer);
  });
  const port = await listen(server);
  t.after(() => closeServer(server, peers));
  return { port, peers };
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}

// ---- plain TCP -----------------------------------------------------------------------------------------

test('a TCP socket connects, and bytes written from one reused buffer come back in order through a reused read buffer', async (t) => {
  const { port } = await tcpServer(t);
  const r = new Recorder();
  r.readBuffer = new Uint8Array(7); // smaller than what arrives: every chunk is read in several parts
  r.open('127.0.0.1', port);
  await waitFor('connect', () => r.connects === 1);
  const out = new Uint8Array(100);
  const expected: number[] = [];
  for (let round = 0; round < 5; round++) {
    out.set(bytes(100, round)); // the same buffer, changed right after each write
    r.socket.write(out);
    expected.push(...bytes(100, round));
  }
  out.fill(0xee);
  await waitFor('500 echoed bytes', () => r.received.length >= 500);
  await sleep(20);
  assert.deepEqual(r.received, expected);
  assert.equal(r.connects, 1);
  assert.deepEqual(r.errors, []);
  assert.equal(r.events[0], 'connect');
  r.socket.close();
});

test('read() copies at most the buffer length, keeps the rest for the next read, and onReadable counts all buffered bytes', async (t) => {
  const { port } = await tcpServer(t, (peer) => {
    peer.write(Buffer.from('abcdefghij'));
    setTimeout(() => peer.write(Buffer.from('KLMNO')), 50);
  });
  const r = new Recorder();
  r.open('127.0.0.1', port);
  await waitFor('first chunk', () => r.events.includes('readable 10'));
  const small = new Uint8Array(4);
  assert.equal(r.socket.read(small), 4);
  assert.equal(Buffer.from(small).toString(), 'abcd');
  assert.equal(r.socket.read(small.subarray(0, 3)), 3);
  assert.equal(Buffer.from(small.subarray(0, 3)).toString(), 'efg');
  // Three bytes of the first chunk remain; the second chunk adds five: onReadable reports eight.
  await waitFor('second chunk', () => r.events.length === 3);
  assert.deepEqual(r.events, ['connect', 'readable 10', 'readable 8']);
  const big = new Uint8Array(64);
  assert.equal(r.socket.read(big), 8);
  assert.equal(Buffer.from(big.subarray(0, 8)).toString(), 'hijKLMNO');
  assert.equal(r.socket.read(big), 0);
  assert.equal(r.socket.read(new Uint8Array(0)), 0);
  r.socket.close();
});

test('a refused connection calls onError exactly once with ECONNREFUSED, and nothing else', async (t) => {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const r = new Recorder();
  r.open('127.0.0.1', port);
  await waitFor('error', () => r.errors.length > 0);
  await sleep(50);
  assert.deepEqual(r.events, ['error']);
  const error = r.errors[0] as SocketError;
  assert.ok(error instanceof SocketError);
  assert.equal(error.code, 'ECONNREFUSED');
  assert.equal(error.message, `TCP 127.0.0.1:${port}: connection failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  r.socket.close(); // after a failure, close is still safe
  t.diagnostic(error.message);
});

test('a peer that ends cleanly gives its last bytes, then onClose once; they stay readable after onClose', async (t) => {
  const { port } = await tcpServer(t, (peer) => peer.end(Buffer.from('bye')));
  const r = new Recorder();
  r.open('127.0.0.1', port);
  await waitFor('close', () => r.closes === 1);
  await sleep(30);
  assert.deepEqual(r.events, ['connect', 'readable 3', 'close']);
  const buffer = new Uint8Array(8);
  assert.equal(r.socket.read(buffer), 3);
  assert.equal(Buffer.from(buffer.subarray(0, 3)).toString(), 'bye');
  r.socket.write(Uint8Array.of(1)); // the connection is gone: dropped, no callback, no throw
  r.socket.close();
  await sleep(20);
  assert.equal(r.events.length, 3);
});

test('a connection reset by the peer calls onError exactly once with ECONNRESET', async (t) => {
  const { port } = await tcpServer(t, (peer) => {
    peer.once('data', () => peer.resetAndDestroy());
  });
  const r = new Recorder();
  r.open('127.0.0.1', port);
  await waitFor('connect', () => r.connects === 1);
  r.socket.write(Uint8Array.of(1, 2, 3));
  await waitFor('error', () => r.errors.length > 0);
  await sleep(50);
  assert.deepEqual(r.events, ['connect', 'error']);
  assert.equal((r.errors[0] as SocketError).code, 'ECONNRESET');
  assert.match(r.errors[0].message, /^TCP 127\.0\.0\.1:\d+: connection failed: read ECONNRESET$/);
});

test('close() is safe twice, sends what was written, and no callback runs after it even when the peer keeps talking', async (t) => {
  const serverReceived: Buffer[] = [];
  let serverSawEnd = false;
  const { port, peers } = await tcpServer(t, (peer) => {
    peer.on('data', (chunk) => serverReceived.push(chunk));
    peer.on('end', () => { serverSawEnd = true; });
  });
  const r = new Recorder();
  r.open('127.0.0.1', port);
  await waitFor('connect', () => r.connects === 1);
  r.socket.write(Uint8Array.of(0xe0, 0x00)); // an MQTT DISCONNECT, written right before close
  r.socket.close();
  r.socket.close();
  await waitFor('server end', () => serverSawEnd);
  assert.deepEqual(Buffer.concat(serverReceived), Buffer.from([0xe0, 0x00]));
  for (const peer of peers) {
    peer.write('late bytes');
    peer.end();
  }
  await sleep(50);
  assert.deepEqual(r.events, ['connect']);
  assert.equal(r.socket.read(new Uint8Array(16)), 0);
  r.socket.write(Uint8Array.of(1));
});

test('close() before the connection is made cancels it with no callback', async (t) => {
  let accepted = 0;
  const { port } = await tcpServer(t, () => { accepted++; });
  const r = new Recorder();
  r.open('127.0.0.1', port);
  r.socket.close();
  await sleep(50);
  assert.deepEqual(r.events, []);
  assert.ok(accepted <= 1);
});

test('bad options throw at once', () => {
  const r = new Recorder();
  assert.throws(() => createSocket(r.options('127.0.0.1', 0)), { name: 'RangeError', message: 'socket port must be an integer 1-65535, got 0' });
  assert.throws(() => createSocket(r.options('', 80)), { name: 'TypeError', message: 'socket host must be a non-empty string, got ""' });
  assert.throws(() => createSocket({ ...r.options('h', 80), onError: undefined as unknown as () => void }),
    { name: 'TypeError', message: 'socket onError must be a function, got undefined' });
  assert.throws(() => createSocket(r.options('127.0.0.1', 8883, { certificate: 'x' })),
    { name: 'TypeError', message: 'tls.certificate and tls.key go together for mutual TLS; got only one of them' });
});

// ---- TLS -----------------------------------------------------------------------------------------------

// The shared test PKI: a server certificate for 127.0.0.1 and localhost, a client 'device' from the test CA,
// and an untrusted CA with a client of its own.
const PKI_NAMES = { clientNames: ['device'], untrustedClientName: 'rogue-device' } as const;

let pki: TestPki | undefined;
function testPki(): TestPki {
  if (!pki) {
    const dir = mkdtempSync(join(tmpdir(), 'ais-socket-pki-'));
    try {
      pki = createTestPki({ dir, ...PKI_NAMES }); // PEM text is read into memory: the files are not needed afterwards
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return pki;
}

interface TlsPeer { cn: string | undefined; servername: string | false; alpn: string | false }

/** A mutual-TLS echo server that requires a client certificate from the test CA; records who connected. */
async function mutualTlsServer(t: { after(fn: () => Promise<void>): void }): Promise<{ port: number; peers: TlsPeer[] }> {
  const p = testPki();
  const peers: TlsPeer[] = [];
  const sockets = new Set<NetSocket>();
  const server = createTlsServer({
    key: p.server.keyPem, cert: p.server.certPem, ca: p.ca.certPem, requestCert: true, rejectUnauthorized: true,
    ALPNProtocols: ['x-amzn-mqtt-ca', 'mqtt'],
  }, (peer: TLSSocket) => {
    sockets.add(peer);
    peer.on('error', () => {});
    const cert = peer.getPeerCertificate();
    peers.push({ cn: cert.subject?.CN as string | undefined, servername: (peer as TLSSocket & { servername: string | false }).servername, alpn: peer.alpnProtocol ?? false });
    peer.pipe(peer);
  });
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  t.after(() => closeServer(server, sockets));
  return { port, peers };
}

test('mutual TLS with a client certificate connects after the handshake and echoes; ALPN and the client identity reach the server', async (t) => {
  const p = testPki();
  const { port, peers } = await mutualTlsServer(t);
  const r = new Recorder();
  r.readBuffer = new Uint8Array(5);
  r.open('127.0.0.1', port, { ca: p.ca.certPem, certificate: p.client('device').certPem, key: p.client('device').keyPem, protocols: ['x-amzn-mqtt-ca'] });
  await waitFor('connect', () => r.connects === 1 || r.errors.length > 0);
  assert.deepEqual(r.errors, []);
  const out = bytes(300, 9);
  r.socket.write(out);
  out.fill(0);
  await waitFor('echo', () => r.received.length >= 300);
  assert.deepEqual(r.received, [...bytes(300, 9)]);
  assert.deepEqual(peers, [{ cn: 'device', servername: false, alpn: 'x-amzn-mqtt-ca' }]); // no SNI for an IP address
  r.socket.close();
});

test('serverName is sent as SNI and checked against the server certificate', async (t) => {
  const p = testPki();
  const { port, peers } = await mutualTlsServer(t);
  const r = new Recorder();
  r.open('127.0.0.1', port, { ca: p.ca.certPem, certificate: p.client('device').certPem, key: p.client('device').keyPem, serverName: 'localhost' });
  await waitFor('connect', () => r.connects === 1 || r.errors.length > 0);
  assert.deepEqual(r.errors, []);
  await waitFor('server peer', () => peers.length === 1);
  assert.equal(peers[0].servername, 'localhost');
  r.socket.close();

  const wrong = new Recorder();
  wrong.open('127.0.0.1', port, { ca: p.ca.certPem, certificate: p.client('device').certPem, key: p.client('device').keyPem, serverName: 'broker.example' });
  await waitFor('error', () => wrong.errors.length > 0);
  await sleep(30);
  assert.deepEqual(wrong.events, ['error']);
  assert.equal((wrong.errors[0] as SocketError).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.equal(wrong.errors[0].message, `TLS 127.0.0.1:${port}: server certificate verification failed: `
    + 'Hostname/IP does not match certificate\'s altnames: Host: broker.example. is not in the cert\'s altnames: IP Address:127.0.0.1, DNS:localhost (ERR_TLS_CERT_ALTNAME_INVALID)');
});

test('certificates and keys given as DER bytes work like PEM', async (t) => {
  const p = testPki();
  const { port, peers } = await mutualTlsServer(t);
  const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
  const keyDer = new Uint8Array(createPrivateKey(p.client('device').keyPem).export({ format: 'der', type: 'pkcs8' }));
  const r = new Recorder();
  r.open('127.0.0.1', port, { ca: der(p.ca.certPem), certificate: der(p.client('device').certPem), key: keyDer });
  await waitFor('connect', () => r.connects === 1 || r.errors.length > 0);
  assert.deepEqual(r.errors, []);
  await waitFor('server peer', () => peers.length === 1);
  assert.equal(peers[0].cn, 'device');
  r.socket.close();
});

test('a server certificate from an untrusted CA fails with onError once, saying verification failed, and never connects', async (t) => {
  const p = testPki();
  const { port, peers } = await mutualTlsServer(t);
  const r = new Recorder();
  r.open('127.0.0.1', port, { ca: p.untrustedCa.certPem, certificate: p.client('device').certPem, key: p.client('device').keyPem });
  await waitFor('error', () => r.errors.length > 0);
  await sleep(50);
  assert.deepEqual(r.events, ['error']);
  const error = r.errors[0] as SocketError;
  // OpenSSL servers send their CA with the leaf when they have it: the chain ends at a CA we do not trust.
  assert.equal(error.code, 'SELF_SIGNED_CERT_IN_CHAIN');
  assert.equal(error.message, `TLS 127.0.0.1:${port}: server certificate verification failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)`);
  assert.deepEqual(peers, []);
});

// With TLS 1.3 the client finishes its handshake before the server has checked the client certificate, so a
// refused client may see onConnect first; the server's alert then arrives as the single onError.
test('without a client certificate the server refuses, and onError says so once', async (t) => {
  const p = testPki();
  const { port, peers } = await mutualTlsServer(t);
  const r = new Recorder();
  r.open('127.0.0.1', port, { ca: p.ca.certPem });
  await waitFor('error', () => r.errors.length > 0);
  await sleep(50);
  assert.equal(r.errors.length, 1);
  assert.deepEqual(r.events.filter((e) => e !== 'connect'), ['error']);
  assert.ok(r.connects <= 1);
  const error = r.errors[0] as SocketError;
  assert.equal(error.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  assert.equal(error.message, `TLS 127.0.0.1:${port}: TLS handshake refused by the server: the server requires a client certificate and got none `
    + '(tlsv13 alert certificate required, ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)');
  assert.deepEqual(peers, []);
  t.diagnostic(error.message);
});

/** `openssl s_server` requiring a client certificate from the test CA; the port it picked. */
async function opensslServer(t: { after(fn: () => void): void }, p: TestPki): Promise<number> {
  const server = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', p.server.certPath, '-key', p.server.keyPath, '-CAfile', p.ca.certPath,
    '-Verify', '1', '-verify_return_error', '-naccept', '1'], { cwd: p.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { server.kill(); });
  let output = '';
  return new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    server.on('error', reject);
    server.on('exit', (code) => reject(new Error(`openssl s_server exited with ${code} before listening: ${output}`)));
  });
}

// Node's own TLS server checks a client certificate in JavaScript after the handshake and drops a refused client
// without an alert, which a client can only see as a clean close. OpenSSL (like mosquitto and AWS IoT) sends the
// alert, so this test uses `openssl s_server`.
test('a client certificate from an untrusted CA is refused, and onError says so once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-socket-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = createTestPki({ dir, ...PKI_NAMES });
  const port = await opensslServer(t, p);
  const r = new Recorder();
  r.open('127.0.0.1', port, { ca: p.ca.certPem, certificate: p.untrustedClient.certPem, key: p.untrustedClient.keyPem });
  await waitFor('error', () => r.errors.length > 0);
  await sleep(50);
  assert.equal(r.errors.length, 1);
  assert.deepEqual(r.events.filter((e) => e !== 'connect'), ['error']);
  const error = r.errors[0] as SocketError;
  assert.equal(error.code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
  assert.equal(error.message, `TLS 127.0.0.1:${port}: TLS handshake refused by the server: the server does not trust the CA that issued our client certificate `
    + '(tlsv1 alert unknown ca, ERR_SSL_TLSV1_ALERT_UNKNOWN_CA)');
  t.diagnostic(error.message);
});
