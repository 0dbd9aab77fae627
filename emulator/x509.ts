// X.509 v3 certificates for the emulator's CAs, its servers and its devices, encoded with the RFC 5280 schema of
// @peculiar/asn1-x509 and signed with node:crypto (which signs and parses certificates but cannot make one).
// Synchronous: the emulator issues one per device registration, inside the request, and the tests make their
// PKI at load. One profile per use: a CA, a TLS server for the names given, a TLS client. Every certificate has
// both key identifiers, a CA's own too: Moddable's TLS finds an issuer by its Authority Key Identifier.
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, AuthorityKeyIdentifier, BasicConstraints, Certificate,
  ExtendedKeyUsage, Extension, Extensions, GeneralName, id_ce_authorityKeyIdentifier, id_ce_basicConstraints,
  id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName, id_ce_subjectKeyIdentifier, id_kp_clientAuth,
  id_kp_serverAuth, KeyIdentifier, KeyUsage, KeyUsageFlags, Name, RelativeDistinguishedName, SubjectAlternativeName,
  SubjectKeyIdentifier, SubjectPublicKeyInfo, TBSCertificate, Validity, Version,
} from '@peculiar/asn1-x509';
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

export interface CertificateRequest {
  /** Subject CN (the MQTT client id for a device). */
  commonName: string;
  /** Subject O, when given (the account that registered a device). */
  organization?: string;
  notBefore: Date;
  notAfter: Date;
  /** 'ca' signs certificates; 'server' serves TLS on `names`; 'client' authenticates a TLS client. */
  profile: 'ca' | 'server' | 'client';
  /** The subjectAltName of a server: IP addresses and DNS names. */
  names?: { ip: readonly string[]; dns: readonly string[] };
}

/** A CA that signs: its certificate (DER) and private key. */
export interface CertificateSigner {
  certificate: Uint8Array;
  privateKey: KeyObject;
}

/** A new key pair and its certificate, DER and PEM (the key as PKCS#8). */
export interface KeyAndCertificate extends CertificateSigner {
  certificatePem: string;
  privateKeyPem: string;
}

const OID = { ecdsaWithSha256: '1.2.840.10045.4.3.2', commonName: '2.5.4.3', organization: '2.5.4.10' };

/** A new P-256 key pair and a certificate for it with a random serial, signed by `signer` (absent: self-signed). */
export function newKeyAndCertificate(request: CertificateRequest, signer?: CertificateSigner): KeyAndCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificate = issueCertificate(request, publicKey, signer ?? { privateKey });
  return { certificate, certificatePem: new X509Certificate(certificate).toString(), privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function issueCertificate(request: CertificateRequest, publicKey: KeyObject, signer: CertificateSigner | { privateKey: KeyObject }): Uint8Array {
  if (signer.privateKey.asymmetricKeyType !== 'ec' || signer.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new TypeError('issueCertificate: a CA with an EC P-256 key expected');
  if (!(request.notBefore < request.notAfter)) throw new RangeError('notBefore must come before notAfter');
  if ((request.profile === 'server') !== (request.names !== undefined)) throw new TypeError('issueCertificate: names are for a server certificate, and a server needs them');
  const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const keyIdentifier = subjectKeyIdentifier(publicKey);
  const subject = name(request.commonName, request.organization);
  const issuer = 'certificate' in signer
    ? { name: AsnConvert.parse(signer.certificate, Certificate).tbsCertificate.subject, keyIdentifier: subjectKeyIdentifier(new X509Certificate(signer.certificate).publicKey) }
    : { name: subject, keyIdentifier };
  const extensions = profileExtensions(request);
  extensions.push(extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier)));
  extensions.push(extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(issuer.keyIdentifier) })));
  const algorithm = new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 });
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial(),
    signature: algorithm,
    issuer: issuer.name,
    validity: new Validity({ notBefore: request.notBefore, notAfter: request.notAfter }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  const signature = sign('sha256', new Uint8Array(AsnConvert.serialize(tbsCertificate)), signer.privateKey);
  return new Uint8Array(AsnConvert.serialize(new Certificate({ tbsCertificate, signatureAlgorithm: algorithm, signatureValue: toArrayBuffer(signature) })));
}

/** SHA-1 of the subject public key's bits, RFC 5280 §4.2.1.2 method (1), as OpenSSL's `subjectKeyIdentifier = hash`. */
function subjectKeyIdentifier(publicKey: KeyObject): Uint8Array {
  const { subjectPublicKey } = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(subjectPublicKey)).digest());
}

function profileExtensions(request: CertificateRequest): Extension[] {
  if (request.profile === 'ca') {
    return [
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
    ];
  }
  const leaf = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
    extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
    extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([request.profile === 'server' ? id_kp_serverAuth : id_kp_clientAuth])),
  ];
  if (request.names !== undefined) {
    const names = [...request.names.ip.map((iPAddress) => new GeneralName({ iPAddress })), ...request.names.dns.map((dNSName) => new GeneralName({ dNSName }))];
    leaf.push(extension(id_ce_subjectAltName, false, new SubjectAlternativeName(names)));
  }
  return leaf;
}

/** O then CN, each a UTF8String in an RDN of its own. */
function name(commonName: string, organization?: string): Name {
  const rdn = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name(organization === undefined ? [rdn(OID.commonName, commonName)] : [rdn(OID.organization, organization), rdn(OID.commonName, commonName)]);
}

function extension(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** 16 random bytes, positive (RFC 5280 §4.1.2.2): unique without a serial file. */
function serial(): ArrayBuffer {
  const bytes = new Uint8Array(randomBytes(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.buffer;
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;
