// The ports take certificates and keys as PEM text or DER bytes; Node's secure contexts take PEM only.
import { createPrivateKey, X509Certificate } from 'node:crypto';

function isPemBytes(value: Uint8Array): boolean {
  return Buffer.from(value.buffer, value.byteOffset, Math.min(value.length, 64)).toString('latin1').includes('-----BEGIN');
}

/** PEM of a certificate (or a PEM bundle) given as PEM text, PEM bytes or one DER certificate. */
export function pemCertificate(value: string | Uint8Array): string {
  if (typeof value === 'string') return value;
  if (isPemBytes(value)) return Buffer.from(value).toString('utf8');
  return new X509Certificate(value).toString();
}

/** PEM of a private key given as PEM text, PEM bytes or DER (PKCS#8, SEC1 or PKCS#1). */
export function pemKey(value: string | Uint8Array): string {
  if (typeof value === 'string') return value;
  if (isPemBytes(value)) return Buffer.from(value).toString('utf8');
  const der = Buffer.from(value);
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type }).export({ format: 'pem', type: 'pkcs8' }) as string;
    } catch {
      // not this encoding; try the next
    }
  }
  throw new TypeError(`private key is neither PEM nor DER PKCS#8, SEC1 or PKCS#1 (${value.length} bytes)`);
}
