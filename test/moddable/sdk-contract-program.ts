// Child program of test/moddable/sdk-contract.test.ts, on xsrun: what the device relies on from the Moddable SDK's
// ECMA-419 modules, exercised on xsrun's (hosts/xs/io) through the adapters of hosts/moddable. Prints one line per
// result, `result <name> <JSON>`, and `done` at the end.
// Arguments: a scratch folder (absolute), the port of a TLS server with the development certificate, a port
// where nothing listens, the development CA and the server's own certificate (PEM, base64 of their text).
import root from 'embedded:storage/files';
import TLSSocket from 'embedded:io/socket/tcp/tls';
import { filesOf } from '../../hosts/moddable/storage.js';
import { moddableSocket } from '../../hosts/moddable/socket.js';
import { fromBase64 } from '../../src/encoding/base64.js';
import { decodeUtf8 } from '../../src/encoding/utf8.js';

declare const xsrun: { args: string[] };
declare const print: (...values: unknown[]) => void;

const [scratch, tlsPort, closedPort, caBase64, leafBase64] = xsrun.args;
const folder = scratch.replace(/^\/+/, ''); // paths below the files root ("/" on xsrun)
const text = (base64: string) => { const bytes = fromBase64(base64)!; return decodeUtf8(bytes, 0, bytes.length)!; };
const ca = text(caBase64);
const leaf = text(leafBase64);
const report = (name: string, value: unknown) => print(`result ${name} ${JSON.stringify(value)}`);
const attempt = (run: () => unknown) => {
  try {
    return { value: run() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
};

// Files: a missing path's status, createDirectory's argument.
const missing = root.status(`${folder}/nothing-here`);
report('status-missing', { mode: missing.mode, hasSize: 'size' in missing, isFile: missing.isFile(), isDirectory: missing.isDirectory() });
report('create-string', [root.createDirectory(`${folder}/made`), root.createDirectory(`${folder}/made`), root.status(`${folder}/made`).isDirectory()]);
report('create-object', attempt(() => root.createDirectory({ path: `${folder}/object` } as unknown as string)));
// The storage adapter over them: nested folders made where none were (exists() reads mode 0), then listed.
const files = filesOf();
files.makeDirectory(`${folder}/store/a/b`);
report('storage-list', files.list(`${folder}/store/a`));

// The TLS socket without its transport class, as Moddable's TLSSocket refuses it.
report('tls-without-TCP', attempt(() => new (TLSSocket as unknown as new (o: object) => object)({ address: '127.0.0.1', port: Number(tlsPort), host: 'localhost', secure: {} })));

// Failures reach onError, and the machine goes on: TLS through the adapter to a server it must refuse (the trust
// anchor is the server's own certificate, not its CA: the handshake fails), then to the same server trusted
// (connects: the adapter passes TCP.io), then TCP to a port where nothing listens.
const steps: Array<() => void> = [
  () => connect('tls-untrusted', { tls: { ca: leaf } }, Number(tlsPort)),
  () => connect('tls-trusted', { tls: { ca } }, Number(tlsPort)),
  () => connect('tcp-refused', {}, Number(closedPort)),
  () => print('done'),
];
function next(): void { steps.shift()?.(); }
function connect(name: string, extra: object, port: number): void {
  const socket = moddableSocket({
    host: '127.0.0.1', port, ...extra,
    onConnect() { report(name, { connected: true }); socket.close(); next(); },
    onReadable() {},
    onError(error: Error) { report(name, { error: error.message }); next(); },
    onClose() {},
  } as Parameters<typeof moddableSocket>[0]);
}
next();
