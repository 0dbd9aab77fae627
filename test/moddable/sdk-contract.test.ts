// xsrun's ECMA-419 modules (hosts/xs/io) behave like the Moddable SDK's wherever the device relies on them, run
// through the adapters of hosts/moddable (test/moddable/sdk-contract-program.ts on xsrun). Each test names the SDK
// file, at SDK 8.2.3 (commit 48ee02d), whose behaviour it encodes; docs/moddable.md has the session in the SDK's
// own simulator that found them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_CA_PEM, DEV_SERVER_TLS } from '../../emulator/dev-pki.js';
import { build, modules, runOnDeviceMachine } from '../support/xs-tools.js';
import { fromRoot } from '../support/paths.js';

const PROGRAM = 'build/test/moddable/sdk-contract-program.js';
const MAP = 'build/test/moddable/sdk-contract.map';
const missing = build.toolchain().missing;
const results = new Map<string, unknown>();
let output = '';

before(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  await build.buildXsrun({ quiet: true });
  modules.writeMap(fromRoot(MAP), modules.moduleGraph([PROGRAM]).aliases);
  const scratch = mkdtempSync(join(tmpdir(), 'ais-sdk-contract-'));
  // A TLS server with the development certificate chain; it answers nothing, the handshake is the test.
  const server: Server = createServer({ ...DEV_SERVER_TLS }, (peer) => peer.on('error', () => {}));
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A port where nothing listens: bound, then closed.
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const leaf = DEV_SERVER_TLS.cert.slice(0, DEV_SERVER_TLS.cert.indexOf('-----END CERTIFICATE-----') + 25);
  try {
    const run = await runOnDeviceMachine(['--map', MAP, PROGRAM, scratch, String((server.address() as AddressInfo).port), String(closedPort),
      Buffer.from(DEV_CA_PEM).toString('base64'), Buffer.from(leaf).toString('base64')]);
    output = run.output;
    const code = run.code;
    assert.equal(code, 0, output);
  } finally {
    server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const line of output.split('\n')) {
    const match = /^result (\S+) (.*)$/.exec(line.trim());
    if (match) results.set(match[1], JSON.parse(match[2]));
  }
  assert.match(output, /^done$/m, `the program stopped before its end:\n${output}`);
});

test('status() of a missing path is a Status of mode 0, no throw (modules/io/files/posix/files-posix.c, xs_directoryposix_status)', () => {
  assert.deepEqual(results.get('status-missing'), { mode: 0, hasSize: false, isFile: false, isDirectory: false }, output);
});

test('createDirectory() takes a path string: true, then false for a folder already there (files-posix.c, xs_directoryposix_createDirectory)', () => {
  assert.deepEqual(results.get('create-string'), [true, false, true], output);
  // The SDK turns an object into the folder "[object Object]"; xsrun refuses it so that the mistake shows.
  assert.deepEqual(results.get('create-object'), { error: 'TypeError: createDirectory takes a path string, got object' }, output);
});

test('the storage adapter makes nested folders where none were, then lists them (hosts/moddable/storage.ts over files-posix.c)', () => {
  assert.deepEqual(results.get('storage-list'), ['b'], output);
});

test('the TLS socket requires TCP: {io: TCP} (examples/io/tcp/tlssocket/tlssocket.js opens its transport with it)', () => {
  assert.deepEqual(results.get('tls-without-TCP'), { error: 'TypeError: TCP: {io: TCP} is required (the class Moddable\'s TLSSocket opens its transport with)' }, output);
});

test('failures reach the adapter\'s onError and the machine goes on: a refused certificate, then a good one, then a refused port (tlssocket.js #onError, modules/io/socket/lin/tcp.c)', () => {
  const untrusted = results.get('tls-untrusted') as { error?: string } | undefined;
  assert.ok(untrusted?.error, `the handshake against an untrusted chain ends in onError: ${output}`);
  assert.deepEqual(results.get('tls-trusted'), { connected: true }, output);
  const refused = results.get('tcp-refused') as { error?: string } | undefined;
  assert.ok(refused?.error, `a refused TCP connection ends in onError: ${output}`);
});

test('the development CA carries an Authority Key Identifier and the server sends its chain (modules/crypt/ssl/ssl_cert.js verify())', () => {
  const ca = new X509Certificate(readFileSync(fromRoot('emulator', 'dev-pki', 'ca.pem')));
  // id-ce-authorityKeyIdentifier, 2.5.29.35, as DER: ssl_cert.js reads it from the chain's last certificate.
  assert.ok(ca.raw.includes(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23])), 'the CA has an Authority Key Identifier');
  const blocks = DEV_SERVER_TLS.cert.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(blocks.length, 2, 'server.pem: the server certificate, then the CA');
  const server = new X509Certificate(DEV_SERVER_TLS.cert);
  assert.equal(server.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
  assert.ok(server.verify(ca.publicKey), 'the CA signed the server certificate');
});
