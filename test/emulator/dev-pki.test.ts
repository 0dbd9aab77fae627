// `npm run dev-pki` (emulator/make-dev-pki.ts) makes a development PKI that serves TLS as the committed one does:
// a client trusting only its CA reaches a server with its chain by 127.0.0.1 and by localhost, and the CA carries
// the Authority Key Identifier Moddable's TLS looks its issuer up by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, SubjectKeyIdentifier, id_ce_authorityKeyIdentifier, id_ce_subjectKeyIdentifier, Certificate } from '@peculiar/asn1-x509';
import { fromRoot } from '../support/paths.js';

function keyIdentifiers(certificate: X509Certificate): { subject: string; authority: string } {
  const extensions = AsnConvert.parse(certificate.raw, Certificate).tbsCertificate.extensions ?? [];
  const value = (id: string) => extensions.find((e) => e.extnID === id)?.extnValue.buffer;
  const ski = value(id_ce_subjectKeyIdentifier);
  const aki = value(id_ce_authorityKeyIdentifier);
  assert.ok(ski && aki, 'both key identifiers');
  return {
    subject: Buffer.from(AsnConvert.parse(ski, SubjectKeyIdentifier).buffer).toString('hex'),
    authority: Buffer.from(AsnConvert.parse(aki, AuthorityKeyIdentifier).keyIdentifier!.buffer).toString('hex'),
  };
}

async function handshake(server: Server, ca: string, host: string): Promise<string> {
  const { port } = server.address() as { port: number };
  const socket = connect({ host: '127.0.0.1', port, ca, ...(host === '127.0.0.1' ? {} : { servername: host }) }); // the name checked: servername, else host
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate().subject.CN as string;
  } finally {
    socket.destroy();
  }
}

test('npm run dev-pki writes a CA and a server chain that a client trusting the CA accepts for 127.0.0.1 and localhost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ais-dev-pki-'));
  try {
    const made = spawnSync(process.execPath, [fromRoot('build/emulator/make-dev-pki.js'), '--out', dir], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    assert.equal(made.stdout, `dev-pki: wrote ca.pem, ca.key, server.pem, server.key to ${dir}\n`);
    const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const chain = readFileSync(join(dir, 'server.pem'), 'utf8');
    const ca = new X509Certificate(caPem);
    assert.ok(ca.ca && ca.verify(ca.publicKey), 'a self-signed CA');
    const caIds = keyIdentifiers(ca);
    assert.equal(caIds.authority, caIds.subject, 'the CA names itself as its authority');
    assert.equal(chain.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2, 'server.pem: the server certificate, then the CA');
    assert.ok(chain.endsWith(caPem));
    const leaf = new X509Certificate(chain);
    assert.equal(leaf.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
    assert.equal(keyIdentifiers(leaf).authority, caIds.subject);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage serverAuth');

    const server = createServer({ cert: chain, key: readFileSync(join(dir, 'server.key')) }, (socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      assert.equal(await handshake(server, caPem, '127.0.0.1'), 'localhost');
      assert.equal(await handshake(server, caPem, 'localhost'), 'localhost');
      await assert.rejects(handshake(server, caPem, 'example.com'), /altnames/, 'the name is checked');
      // Not any CA: the committed development CA did not sign this server.
      await assert.rejects(handshake(server, readFileSync(fromRoot('emulator', 'dev-pki', 'ca.pem'), 'utf8'), 'localhost'), /certificate/);
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
