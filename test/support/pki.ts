// A throw-away test PKI, made with the emulator's own certificate code (emulator/x509.ts, as the development PKI and
// the device CA are): a CA, a server certificate for 127.0.0.1 and localhost, client certificates whose CN is the
// MQTT client id, and a second, untrusted CA with one client of its own for negative tests. EC P-256 keys: a key
// costs about a millisecond, where an RSA 2048 key costs tens. Everything lands in the directory given (brokers
// such as mosquitto read files); nothing is cached elsewhere.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyAndCertificate, type CertificateRequest, type CertificateSigner } from '../../emulator/x509.js';

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

// A CN goes into file names.
const COMMON_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

function checkCommonName(commonName: string): void {
  if (typeof commonName !== 'string' || !COMMON_NAME.test(commonName)) {
    throw new RangeError(`common name of 1-64 characters [A-Za-z0-9._:-] expected, got ${JSON.stringify(commonName)}`);
  }
}

/** A certificate and key made now, valid from an hour back (clocks a little behind) for `days`, written as STEM.crt and STEM.key. */
function make(dir: string, stem: string, request: Omit<CertificateRequest, 'notBefore' | 'notAfter'>, days: number, signer?: CertificateSigner): CertificateFiles & CertificateSigner {
  const now = Date.now();
  const made = newKeyAndCertificate({ ...request, notBefore: new Date(now - 3600_000), notAfter: new Date(now + days * 86400_000) }, signer);
  const certPath = join(dir, `${stem}.crt`);
  const keyPath = join(dir, `${stem}.key`);
  writeFileSync(certPath, made.certificatePem);
  writeFileSync(keyPath, made.privateKeyPem);
  return { commonName: request.commonName, certPath, keyPath, certPem: made.certificatePem, keyPem: made.privateKeyPem, certificate: made.certificate, privateKey: made.privateKey };
}

/** Writes the whole PKI into `options.dir` and returns its paths and PEM text. Synchronous: a few milliseconds. */
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
  const ca = make(dir, 'ca', { commonName: 'ais-mcu test CA', profile: 'ca' }, days);
  const server = make(dir, 'server', { commonName: 'localhost', profile: 'server', names: { ip: ['127.0.0.1'], dns: ['localhost'] } }, days, ca);
  const untrustedCa = make(dir, 'untrusted-ca', { commonName: 'ais-mcu untrusted test CA', profile: 'ca' }, days);
  const untrustedClient = make(dir, `untrusted-client-${untrustedName}`, { commonName: untrustedName, profile: 'client' }, days, untrustedCa);

  const clients = new Map<string, CertificateFiles>();
  const issueClient = (commonName: string): CertificateFiles => {
    checkCommonName(commonName);
    const issued = make(dir, `client-${commonName}`, { commonName, profile: 'client' }, days, ca);
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
