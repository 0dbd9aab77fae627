// The emulator's device CA and its certificates (emulator/device-ca.ts, emulator/x509.ts), read back by
// OpenSSL through node:crypto: a CA kept per data folder, client certificates it signs for a client id, dates on
// both sides of 2050 (UTCTime, then GeneralizedTime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_CA_FILE, DeviceCa } from '../../emulator/device-ca.js';

test('the device CA is made once per data folder, kept with mode 0600, and the same after a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-device-ca-'));
  try {
    const first = new DeviceCa(dir);
    assert.equal(statSync(join(dir, DEVICE_CA_FILE)).mode & 0o777, 0o600);
    const again = new DeviceCa(dir);
    assert.equal(again.certificatePem, first.certificatePem);
    assert.notEqual(new DeviceCa(undefined).certificatePem, first.certificatePem, 'a CA in memory is a new one');
    const ca = new X509Certificate(first.certificatePem);
    assert.ok(ca.ca, 'basicConstraints CA:TRUE');
    assert.ok(ca.verify(ca.publicKey), 'self-signed');
    // A certificate the restarted CA signs chains to the first one's certificate.
    assert.ok(new X509Certificate(again.issue('dev-1', 'default').certificatePem).checkIssued(ca));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a device certificate names the client id and account, is for TLS clients, signed by the CA, with its own key', () => {
  const deviceCa = new DeviceCa(undefined);
  const ca = new X509Certificate(deviceCa.certificatePem);
  const issued = deviceCa.issue('kitchen-1', 'alice');
  const certificate = new X509Certificate(issued.certificatePem);
  assert.equal(certificate.subject, 'O=alice\nCN=kitchen-1');
  assert.equal(certificate.issuer, ca.subject);
  assert.ok(certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
  assert.ok(!certificate.ca);
  assert.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'extended key usage clientAuth');
  assert.ok(certificate.checkPrivateKey(createPrivateKey(issued.privateKeyPem)));
  assert.equal(issued.sha256, certificate.fingerprint256.replace(/:/g, '').toLowerCase());
  assert.notEqual(deviceCa.issue('kitchen-1', 'alice').sha256, issued.sha256, 'each issue a new key and serial');
});

test('validity dates before and after 2050 read back exactly', () => {
  const deviceCa = new DeviceCa(undefined);
  const notBefore = new Date('2049-12-31T23:59:58Z');
  const notAfter = new Date('2051-03-04T05:06:07Z');
  const certificate = new X509Certificate(deviceCa.issue('dev-2050', 'default', { notBefore, notAfter }).certificatePem);
  assert.equal(Date.parse(certificate.validFrom), notBefore.getTime());
  assert.equal(Date.parse(certificate.validTo), notAfter.getTime());
  assert.throws(() => deviceCa.issue('dev-x', 'default', { notBefore: notAfter, notAfter: notBefore }), { name: 'RangeError', message: 'notBefore must come before notAfter' });
});
