// The emulator's device CA: it signs the client certificate each device gets at AIS registration (AWS IoT's
// CreateKeysAndCertificate: the cloud makes the key pair, returns the private key once and keeps only the
// certificate), and the broker trusts client certificates from it alone. It is made per data folder and kept
// there (device-ca.json, mode 0600), never in the repository: the development PKI's CA key is public, and a
// CA anyone can sign with would let anyone mint a certificate for any client id.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { readJsonFile, writeJsonFileAtomic } from './json-file.js';
import { newKeyAndCertificate, type CertificateSigner } from './x509.js';

export const DEVICE_CA_FILE = 'device-ca.json';
const CA_NAME = 'ais-mcu emulator device CA';
const CA_YEARS = 10;
/** Device certificates: a year, as a product would renew them; an hour back for clocks a little behind. */
const DEVICE_VALIDITY_MS = 365 * 24 * 3600_000;
const CLOCK_SKEW_MS = 3600_000;

/** What a device is given: its certificate and private key (PEM), and the certificate's SHA-256 (hex) the broker checks. */
export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  sha256: string;
}

export class DeviceCa {
  readonly certificatePem: string;
  private readonly signer: CertificateSigner;

  /** The CA kept in `dataDir`, made there on first use; in memory only without a folder. */
  constructor(dataDir: string | undefined) {
    const path = dataDir === undefined ? undefined : join(dataDir, DEVICE_CA_FILE);
    const stored = path === undefined ? undefined : readJsonFile(path) as { certificatePem?: unknown; privateKeyPem?: unknown } | undefined;
    if (stored !== undefined) {
      if (typeof stored !== 'object' || stored === null || typeof stored.certificatePem !== 'string' || typeof stored.privateKeyPem !== 'string') {
        throw new Error(`${path}: a device CA {certificatePem, privateKeyPem} expected`);
      }
      this.certificatePem = stored.certificatePem;
      this.signer = { certificate: new X509Certificate(stored.certificatePem).raw, privateKey: createPrivateKey(stored.privateKeyPem) };
    } else {
      const now = Date.now();
      const ca = newKeyAndCertificate({
        commonName: CA_NAME, profile: 'ca',
        notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + CA_YEARS * 365 * 24 * 3600_000),
      });
      this.certificatePem = ca.certificatePem;
      this.signer = ca;
      if (path !== undefined) writeJsonFileAtomic(path, { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem });
    }
  }

  /**
   * A new key pair and a client certificate for it: CN the client id, O the account that registered it.
   * `validity` (tests) overrides the usual year.
   */
  issue(clientId: string, account: string, validity?: { notBefore: Date; notAfter: Date }): IssuedCertificate {
    const now = Date.now();
    const issued = newKeyAndCertificate({
      commonName: clientId, organization: account, profile: 'client',
      notBefore: validity?.notBefore ?? new Date(now - CLOCK_SKEW_MS), notAfter: validity?.notAfter ?? new Date(now + DEVICE_VALIDITY_MS),
    }, this.signer);
    return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, sha256: certificateSha256(issued.certificate) };
  }
}

/** The hex SHA-256 of a certificate's DER: how the registry names the one certificate a client id may use. */
export function certificateSha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}
