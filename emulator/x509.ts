// X.509 v3 certificates for EC P-256 keys, DER-encoded by hand: node:crypto signs and parses certificates but
// cannot make one, and the emulator issues one per device registration (device-ca.ts) where spawning the
// openssl CLI per device would cost a process each. Only what a CA and a TLS client certificate need: a
// one-attribute subject (CN, optionally O), validity, basic constraints, key usage, extended key usage and the
// key identifiers (Moddable's TLS finds an issuer by its Authority Key Identifier).
import { createHash, sign, X509Certificate, type KeyObject } from 'node:crypto';

export interface CertificateRequest {
  /** Subject CN (the MQTT client id for a device). */
  commonName: string;
  /** Subject O, when given (the account that registered the device). */
  organization?: string;
  /** The subject's public key. */
  publicKey: KeyObject;
  /** Positive, at most 20 bytes (RFC 5280 §4.1.2.2). */
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** 'ca' may sign certificates; 'client' authenticates a TLS client. */
  profile: 'ca' | 'client';
}

/** The signer: its own certificate's subject CN and key identifier (absent: self-signed), and private key. */
export interface CertificateSigner {
  commonName: string;
  keyIdentifier: Uint8Array;
  privateKey: KeyObject;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** The DER of a certificate for `request`, signed by `signer` (or by the request's own key when self-signed). */
export function issueCertificate(request: CertificateRequest, signer: CertificateSigner | { selfSigned: KeyObject }): Uint8Array {
  if (request.publicKey.asymmetricKeyType !== 'ec' || request.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('issueCertificate: an EC P-256 public key expected');
  }
  if (request.serial.length === 0 || request.serial.length > 20) throw new RangeError(`serial of 1-20 bytes expected, got ${request.serial.length}`);
  if (!(request.notBefore < request.notAfter)) throw new RangeError('notBefore must come before notAfter');
  const spki = new Uint8Array(request.publicKey.export({ type: 'spki', format: 'der' }));
  const keyIdentifier = subjectKeyIdentifier(request.publicKey);
  const issuer = 'selfSigned' in signer
    ? { name: name(request.commonName, request.organization), keyIdentifier, privateKey: signer.selfSigned }
    : { name: name(signer.commonName), keyIdentifier: signer.keyIdentifier, privateKey: signer.privateKey };
  const extensions = request.profile === 'ca'
    ? [
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      extension(OID.keyUsage, true, bitString(0x06, 1)), // keyCertSign, cRLSign
    ]
    : [
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, bitString(0x80, 7)), // digitalSignature
      extension(OID.extendedKeyUsage, false, sequence(oid(OID.clientAuth))),
    ];
  extensions.push(extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier)));
  extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, issuer.keyIdentifier))));
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    tlv(0xa0, integer(Uint8Array.of(2))), // v3
    integer(request.serial),
    algorithm,
    issuer.name,
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.commonName, request.organization),
    spki,
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = new Uint8Array(sign('sha256', tbs, issuer.privateKey));
  return sequence(tbs, algorithm, bitString(signature));
}

/** SHA-1 of the subject public key bits, RFC 5280 §4.2.1.2 method (1). */
export function subjectKeyIdentifier(publicKey: KeyObject): Uint8Array {
  const point = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(point.x as string, 'base64url');
  const y = Buffer.from(point.y as string, 'base64url');
  return new Uint8Array(createHash('sha1').update(Uint8Array.of(4)).update(x).update(y).digest());
}

/** PEM text of a DER certificate (node:crypto writes it, as OpenSSL does). */
export function certificatePem(der: Uint8Array): string {
  return new X509Certificate(der).toString();
}

function name(commonName: string, organization?: string): Uint8Array {
  const attribute = (type: string, value: string) => set(sequence(oid(type), tlv(0x0c, new TextEncoder().encode(value))));
  return organization === undefined
    ? sequence(attribute(OID.commonName, commonName))
    : sequence(attribute(OID.organization, organization), attribute(OID.commonName, commonName));
}

function extension(type: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(type), boolean(true), octetString(value)) : sequence(oid(type), octetString(value));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`a certificate date in 1950-9999 expected, got ${iso}`);
  return year < 2050 ? tlv(0x17, ascii(digits.slice(2))) : tlv(0x18, ascii(digits));
}

function integer(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && bytes[start + 1] < 0x80) start++;
  const value = bytes.subarray(start);
  return tlv(0x02, value[0] >= 0x80 ? concat(Uint8Array.of(0), value) : value);
}

function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const bytes = [40 * parts[0] + parts[1]];
  for (const part of parts.slice(2)) {
    const chunk = [part & 0x7f];
    for (let rest = Math.floor(part / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

function bitString(bytes: Uint8Array | number, unusedBits = 0): Uint8Array {
  const body = typeof bytes === 'number' ? Uint8Array.of(bytes) : bytes;
  return tlv(0x03, concat(Uint8Array.of(unusedBits), body));
}

const boolean = (value: boolean) => tlv(0x01, Uint8Array.of(value ? 0xff : 0));
const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
const sequence = (...items: Uint8Array[]) => tlv(0x30, concat(...items));
const set = (...items: Uint8Array[]) => tlv(0x31, concat(...items));
const ascii = (text: string) => new TextEncoder().encode(text);

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const length = body.length;
  const header = length < 0x80 ? [tag, length]
    : length < 0x100 ? [tag, 0x81, length]
      : length < 0x10000 ? [tag, 0x82, length >> 8, length & 0xff]
        : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  return concat(Uint8Array.from(header), body);
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
