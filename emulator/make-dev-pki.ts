// `npm run dev-pki`: makes the emulator's DEVELOPMENT PKI (emulator/dev-pki/), the CA and server certificate for
// 127.0.0.1 / localhost with which the emulator serves HTTPS and MQTT by default, with the same certificate code
// as the device CA and the tests' PKI (x509.ts). These keys are public, in the repository: they protect nothing.
// Run again to renew (10 years). What each TLS client checks (docs/moddable.md): Moddable's TLS checks the server's
// name only when the server sends a chain, then finds the issuer by the Authority Key Identifier of the chain's last
// certificate, so server.pem is the chain and the CA has that identifier too; mbedTLS and Node check the names.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine } from '../hosts/node/command-line.js';
import { newKeyAndCertificate } from './x509.js';

const SPEC = {
  command: 'npm run dev-pki --',
  summary: 'Makes the emulator\'s development CA and server certificate (public keys, for 127.0.0.1 and localhost only):\n'
    + 'ca.pem and ca.key, server.pem (the server certificate, then the CA) and server.key.',
  options: {
    out: { type: 'string', value: 'DIR', help: 'write into DIR', default: 'emulator/dev-pki' },
  },
} as const;
const { values } = commandLine(SPEC);

const YEARS_MS = 10 * 365 * 24 * 3600_000;
const now = Date.now();
const validity = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + YEARS_MS) };
const ca = newKeyAndCertificate({ commonName: 'ais-mcu emulator DEVELOPMENT CA (public key, not secret)', profile: 'ca', ...validity });
const server = newKeyAndCertificate({ commonName: 'localhost', profile: 'server', names: { ip: ['127.0.0.1'], dns: ['localhost'] }, ...validity }, ca);

// The default is the repository's folder wherever the command is run from; --out is taken as given.
const out = values.out === SPEC.options.out.default ? fileURLToPath(new URL('../../emulator/dev-pki/', import.meta.url)) : values.out;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'ca.pem'), ca.certificatePem);
writeFileSync(join(out, 'ca.key'), ca.privateKeyPem);
writeFileSync(join(out, 'server.pem'), server.certificatePem + ca.certificatePem);
writeFileSync(join(out, 'server.key'), server.privateKeyPem);
process.stdout.write(`dev-pki: wrote ca.pem, ca.key, server.pem, server.key to ${out}\n`);
