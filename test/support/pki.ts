// A throw-away test PKI made with the `openssl` CLI: a CA, a server certificate for 127.0.0.1 and
// localhost, client certificates whose CN is the MQTT client id, and a second, untrusted CA with one
// client of its own for negative tests. EC P-256 keys: a key costs about a millisecond, where an
// RSA 2048 key costs tens. Everything lands in the directory given; nothing is cached elsewhere.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and, for leaf certificates and CAs alike, its private key: paths and PEM text. */
export interface CertificateFiles {
  commonName: string;
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export interface TestPkiOptions {
  /** Directory to write into; created if missing. The caller owns it and removes it. */
  dir: string;
  /** CNs of the client certificates to issue from the trusted CA, e.g. ['device-1', 'ais-service']. */
  clientNames?: readonly string[];
  /** CN of the client certificate issued by the untrusted CA. Default 'device-1', a name the broker would accept. */
  untrustedClientName?: string;
  /** Validity of every certificate. Default 2 days: long enough for a test run across midnight. */
  validDays?: number;
}

export interface TestPki {
  dir: string;
  ca: CertificateFiles;
  server: CertificateFiles;
  /** Client certificates from the trusted CA, by CN. */
  clients: Map<string, CertificateFiles>;
  /** A CA the broker does not know, and a client certificate it signed. */
  untrustedCa: CertificateFiles;
  untrustedClient: CertificateFiles;
  /** Issues one more client certificate from the trusted CA (and records it in `clients`). */
  issueClient(commonName: string): CertificateFiles;
  /** Returns the client certificate for a CN; throws RangeError naming the CNs on hand if absent. */
  client(commonName: string): CertificateFiles;
}

// Our own config, so neither the system openssl.cnf nor its default extensions play a part
// (OpenSSL 3 `req -x509` adds the v3_ca section of the system file, and `-addext` of the same
// extension then fails as a duplicate).
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no

[dn]

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

// A CN goes into `-subj /CN=...`, where `/`, `=`, `+` and `\` have meaning, and into file names.
const COMMON_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl not found on PATH; install it with: apt-get install openssl');
    const stderr = e.stderr ? e.stderr.toString().trim() : '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr || e.message}`);
  }
}

function checkCommonName(commonName: string): void {
  if (typeof commonName !== 'string' || !COMMON_NAME.test(commonName)) {
    throw new RangeError(`common name of 1-64 characters [A-Za-z0-9._:-] expected, got ${JSON.stringify(commonName)}`);
  }
}

/** A random positive serial: unique per CA without a serial file. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return '0x' + bytes.toString('hex');
}

function files(dir: string, stem: string, commonName: string): CertificateFiles {
  const certPath = join(dir, `${stem}.crt`);
  const keyPath = join(dir, `${stem}.key`);
  return {
    commonName,
    certPath,
    keyPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPem: readFileSync(keyPath, 'utf8'),
  };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, config: string, stem: string, commonName: string, days: number): CertificateFiles {
  openssl(['req', '-config', config, '-x509', ...EC_KEY, '-keyout', `${stem}.key`, '-out', `${stem}.crt`,
    '-subj', `/CN=${commonName}`, '-days', String(days), '-set_serial', serial(), '-extensions', 'ca', '-sha256'], dir);
  return files(dir, stem, commonName);
}

function makeLeaf(dir: string, config: string, ca: CertificateFiles, stem: string, commonName: string,
  section: 'server' | 'client', days: number): CertificateFiles {
  const csr = `${stem}.csr`;
  openssl(['req', '-config', config, '-new', ...EC_KEY, '-keyout', `${stem}.key`, '-out', csr, '-subj', `/CN=${commonName}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', serial(),
    '-days', String(days), '-sha256', '-extfile', config, '-extensions', section, '-out', `${stem}.crt`], dir);
  rmSync(join(dir, csr));
  return files(dir, stem, commonName);
}

/** Writes the whole PKI into `options.dir` and returns its paths and PEM text. Synchronous: about 15 openssl runs. */
export function createTestPki(options: TestPkiOptions): TestPki {
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new TypeError(`options.dir (a directory path) expected, got ${JSON.stringify(options?.dir)}`);
  }
  const days = options.validDays ?? 2;
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`validDays of a positive integer expected, got ${days}`);
  const clientNames = options.clientNames ?? [];
  const untrustedName = options.untrustedClientName ?? 'device-1';
  for (const name of [...clientNames, untrustedName]) checkCommonName(name);

  const dir = options.dir;
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, OPENSSL_CONFIG);

  const ca = makeCa(dir, config, 'ca', 'ais-mcu test CA', days);
  const server = makeLeaf(dir, config, ca, 'server', 'localhost', 'server', days);
  const untrustedCa = makeCa(dir, config, 'untrusted-ca', 'ais-mcu untrusted test CA', days);
  const untrustedClient = makeLeaf(dir, config, untrustedCa, `untrusted-client-${untrustedName}`, untrustedName, 'client', days);

  const clients = new Map<string, CertificateFiles>();
  const issueClient = (commonName: string): CertificateFiles => {
    checkCommonName(commonName);
    const issued = makeLeaf(dir, config, ca, `client-${commonName}`, commonName, 'client', days);
    clients.set(commonName, issued);
    return issued;
  };
  for (const name of clientNames) issueClient(name);

  return {
    dir, ca, server, clients, untrustedCa, untrustedClient, issueClient,
    client(commonName: string): CertificateFiles {
      const found = clients.get(commonName);
      if (!found) throw new RangeError(`client certificate for one of ${[...clients.keys()].join(', ') || '(none)'} expected, got ${commonName}`);
      return found;
    },
  };
}
