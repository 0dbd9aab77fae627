// native/aes_gcm.c, the AES-GCM the XS hosts and the Cortex-M7 image run, built for this machine with cc and
// driven line by line (test/native/aes_gcm_cli.c): published vectors with and without AAD, the OpenSSL-made
// envelope vectors of test/vectors/, random inputs against node:crypto (OpenSSL) and @noble/ciphers, and every
// kind of tampering rejected with the output zeroed. The same C runs on XS and on the image under the portable
// suites (test/crypto, test/ais); this file is where AAD and AES-192, which the port does not use, are checked.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes, randomInt, type CipherGCMTypes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { gcm } from '@noble/ciphers/aes.js';
import { fromRoot } from '../support/paths.js';
import { build } from '../support/xs-tools.js';

const missing = build.toolchain().missing;
const skip = missing ? `no C compiler for native/: ${missing}` : false;
const CLI = 'build/native/aes_gcm_cli';

before(() => {
  if (skip) return;
  mkdirSync(fromRoot('build/native'), { recursive: true });
  const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c99', '-Inative', '-o', CLI,
    'test/native/aes_gcm_cli.c', 'native/aes_gcm.c'], { cwd: fromRoot(), encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
});

const hex = (b: Uint8Array) => (b.length ? Buffer.from(b).toString('hex') : '-');
const bytes = (s: string) => new Uint8Array(Buffer.from(s === '-' ? '' : s, 'hex'));

/** Runs the requests through one process of the driver; one answer line each. */
function drive(requests: string[]): string[] {
  const run = spawnSync(fromRoot(CLI), [], { input: requests.join('\n') + '\n', encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, requests.length);
  return lines;
}

const seal = (key: Uint8Array, iv: Uint8Array, aad: Uint8Array, p: Uint8Array) => `seal ${hex(key)} ${hex(iv)} ${hex(aad)} ${hex(p)}`;
const open = (key: Uint8Array, iv: Uint8Array, aad: Uint8Array, c: Uint8Array, tag: Uint8Array) =>
  `open ${hex(key)} ${hex(iv)} ${hex(aad)} ${hex(c)} ${hex(tag)}`;

function opensslSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, p: Uint8Array) {
  const cipher = createCipheriv(`aes-${key.length * 8}-gcm` as CipherGCMTypes, key, iv);
  if (aad.length) cipher.setAAD(aad);
  const c = Buffer.concat([cipher.update(p), cipher.final()]);
  return { c: new Uint8Array(c), tag: new Uint8Array(cipher.getAuthTag()) };
}

test('McGrew-Viega test cases 2, 4 (AAD), 10 (AES-192, AAD), 14 and 16 (AES-256, AAD): ciphertext, tag, and open', { skip }, () => {
  const p60 = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
  const aad = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
  const cases = [
    { key: '00'.repeat(16), iv: '00'.repeat(12), aad: '-', p: '00'.repeat(16), c: '0388dace60b6a392f328c2b971b2fe78', t: 'ab6e47d42cec13bdf53a67b21257bddf' },
    {
      key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', aad, p: p60,
      c: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
      t: '5bc94fbc3221a5db94fae95ae7121a47',
    },
    {
      key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c', iv: 'cafebabefacedbaddecaf888', aad, p: p60,
      c: '3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710',
      t: '2519498e80f1478f37ba55bd6d27618c',
    },
    { key: '00'.repeat(32), iv: '00'.repeat(12), aad: '-', p: '00'.repeat(16), c: 'cea7403d4d606b6e074ec5d3baf39d18', t: 'd0d1c8a799996bf0265b98b5d48ab919' },
    {
      key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', aad, p: p60,
      c: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
      t: '76fc6ece0f4e1768cddf8853bb2d551b',
    },
  ];
  const answers = drive(cases.flatMap((k) => [
    `seal ${k.key} ${k.iv} ${k.aad} ${k.p}`,
    `open ${k.key} ${k.iv} ${k.aad} ${k.c} ${k.t}`,
  ]));
  cases.forEach((k, i) => {
    assert.equal(answers[2 * i], `${k.c} ${k.t}`, `seal of case with key ${k.key}`);
    assert.equal(answers[2 * i + 1], `ok ${k.p}`);
  });
});

test('the OpenSSL-made AIS envelopes of test/vectors: the C seals each to the same IV, tag and ciphertext', { skip }, () => {
  const vectors = JSON.parse(readFileSync(fromRoot('test/vectors/ais-envelope.json'), 'utf8')) as {
    keys: Record<string, string>;
    messages: { name: string; algorithm: string; sequenceNumber: number; innerSequence: boolean; iv: string; body: string; envelope: string }[];
  };
  const requests: string[] = [];
  const expected: string[] = [];
  for (const m of vectors.messages) {
    // [u32 LE seq][IV 12][tag 16][AES-GCM of (u32 LE seq, when inner) + body] (docs/protocol.md §3.2)
    const envelope = bytes(m.envelope);
    const seq = envelope.subarray(0, 4);
    const plaintext = m.innerSequence ? new Uint8Array([...seq, ...bytes(m.body)]) : bytes(m.body);
    assert.equal(hex(envelope.subarray(4, 16)), m.iv);
    const key = bytes(vectors.keys[m.algorithm]);
    requests.push(seal(key, envelope.subarray(4, 16), new Uint8Array(0), plaintext));
    expected.push(`${hex(envelope.subarray(32))} ${hex(envelope.subarray(16, 32))}`);
    requests.push(open(key, envelope.subarray(4, 16), new Uint8Array(0), envelope.subarray(32), envelope.subarray(16, 32)));
    expected.push(`ok ${hex(plaintext)}`);
  }
  assert.deepEqual(drive(requests), expected);
});

test('600 random messages (keys of 16/24/32 bytes, 0..1100 bytes, AAD 0..40) seal as node:crypto and noble do, and open', { skip }, () => {
  const inputs = Array.from({ length: 600 }, (_, i) => {
    const key = randomBytes([16, 24, 32][i % 3]);
    // Block edges first, then any length.
    const length = i < 40 ? [0, 1, 15, 16, 17, 31, 32, 33, 640, 644][i % 10] : randomInt(0, 1101);
    return { key, iv: randomBytes(12), aad: randomBytes(i % 4 === 0 ? randomInt(0, 41) : 0), p: randomBytes(length) };
  });
  const answers = drive(inputs.flatMap(({ key, iv, aad, p }) => {
    const { c, tag } = opensslSeal(key, iv, aad, p);
    return [seal(key, iv, aad, p), open(key, iv, aad, c, tag)];
  }));
  inputs.forEach(({ key, iv, aad, p }, i) => {
    const { c, tag } = opensslSeal(key, iv, aad, p);
    const noble = gcm(key, iv, aad.length ? aad : undefined).encrypt(p);
    assert.equal(hex(noble), hex(new Uint8Array([...c, ...tag])), 'noble and node:crypto agree');
    assert.equal(answers[2 * i], `${hex(c)} ${hex(tag)}`, `message ${i}: ${key.length}-byte key, ${p.length} bytes, AAD ${aad.length}`);
    assert.equal(answers[2 * i + 1], `ok ${hex(p)}`);
  });
});

test('a flipped bit anywhere in the tag, the ciphertext, the AAD, the IV or the key is rejected with the output zeroed', { skip }, () => {
  const requests: string[] = [];
  const kinds: string[] = [];
  for (let i = 0; i < 200; i++) {
    const key = randomBytes([16, 32][i % 2]);
    const iv = randomBytes(12);
    const aad = randomBytes(randomInt(1, 30));
    const p = randomBytes(randomInt(1, 700));
    const { c, tag } = opensslSeal(key, iv, aad, p);
    const kind = ['tag', 'ciphertext', 'aad', 'iv', 'key'][i % 5];
    const target = { tag, ciphertext: c, aad, iv, key }[kind]!;
    const flipped = Uint8Array.from(target);
    flipped[randomInt(0, flipped.length)] ^= 1 << randomInt(0, 8);
    const args = { key, iv, aad, c, tag, [kind === 'ciphertext' ? 'c' : kind]: flipped };
    requests.push(open(args.key, args.iv, args.aad, args.c, args.tag));
    kinds.push(`${kind} ${'00'.repeat(p.length)}`);
  }
  drive(requests).forEach((answer, i) => assert.equal(answer, `bad-tag ${kinds[i].split(' ')[1]}`, kinds[i].split(' ')[0]));
});

test('a key that is not 16, 24 or 32 bytes is refused by seal and open', { skip }, () => {
  const iv = randomBytes(12);
  assert.deepEqual(drive([
    seal(randomBytes(15), iv, new Uint8Array(0), randomBytes(4)),
    seal(new Uint8Array(0), iv, new Uint8Array(0), randomBytes(4)),
    open(randomBytes(33), iv, new Uint8Array(0), randomBytes(4), randomBytes(16)),
  ]), ['bad-key', 'bad-key', 'bad-key']);
});
