// The emulator's AIS registration endpoint over a real HTTPS socket, driven with raw JSON requests (the device's
// side is in test/ais/registration.test.ts). Device keys come from src/ (tweetnacl): the registry's AES key must
// equal what the device derives from the answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAILURE_STATUS, REGISTRY_FILE, RegistrationService } from '../../emulator/registration.js';
import { DEMO_AWS_ACCOUNT, DEMO_LWA_CLIENT, startCloud } from '../../emulator/cloud.js';
import { deriveAesKey, generateKeyPair, ENCRYPTION_ALGORITHMS } from '../../src/ais/keys.js';
import {
  AWS_ACCOUNT_ID, IOT_CLIENT_ID, IOT_ENDPOINT, LWA_CLIENT_ID, codePairForm, deviceCrypto, postForm, postRaw, sleep, startBench, type Bench,
} from '../support/account.js';

/** A live refresh token from the emulated LWA, by the code-pair flow. */
async function linkedToken(bench: Bench): Promise<string> {
  const pair = (await postForm(bench, '/auth/o2/create/codepair', codePairForm())).json;
  assert.equal(bench.lwa.approve(pair.user_code), true);
  await sleep(110);
  const tokens = await postForm(bench, '/auth/o2/token', { grant_type: 'device_code', device_code: pair.device_code, user_code: pair.user_code });
  assert.equal(tokens.status, 200, tokens.text);
  return tokens.json.refresh_token;
}

function requestBody(token: string, publicKey: Uint8Array, algorithm: string = 'ECDH_CURVE_25519_32_BYTE', clientId = IOT_CLIENT_ID) {
  return {
    authentication: { token, clientId: LWA_CLIENT_ID },
    encryption: { algorithm, publicKey: Buffer.from(publicKey).toString('base64') },
    iot: { awsAccountId: AWS_ACCOUNT_ID, clientId, endpoint: IOT_ENDPOINT },
  };
}

function register(bench: Bench, body: unknown) {
  return postRaw(bench, '/v1/ais/registration', typeof body === 'string' ? body : JSON.stringify(body));
}

test('a valid registration answers the service key, $aws/alexa and a device certificate for the client id, and the registry holds the key the device derives, for both algorithms', async () => {
  const bench = await startBench();
  try {
    const token = await linkedToken(bench);
    for (const algorithm of ENCRYPTION_ALGORITHMS) {
      const device = generateKeyPair(deviceCrypto);
      const clientId = `device-${algorithm.length}`;
      const answer = await register(bench, requestBody(token, device.publicKey, algorithm, clientId));
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(Object.keys(answer.json), ['encryption', 'iot', 'identity']);
      assert.deepEqual(answer.json.iot, { topicRoot: '$aws/alexa' });
      // The MQTT identity: a certificate for CN = the client id from the device CA, with the key that was sent.
      const { certificatePem, privateKey, mqttPassword } = answer.json.identity;
      const certificate = new X509Certificate(certificatePem);
      assert.match(certificate.subject, new RegExp(`^O=.+\nCN=${clientId}$`));
      assert.ok(certificate.verify(new X509Certificate(bench.registration.deviceCa.certificatePem).publicKey), 'signed by the device CA');
      assert.ok(certificate.checkPrivateKey(createPrivateKey(privateKey)), 'the key is the certificate\'s');
      assert.ok(Date.parse(certificate.validTo) > Date.now() + 300 * 24 * 3600_000, certificate.validTo);
      assert.equal(typeof mqttPassword, 'string');
      assert.ok(mqttPassword.length >= 32);
      assert.match(answer.json.encryption.publicKey, /^[A-Za-z0-9+/]{43}=$/);
      const deviceKey = deriveAesKey(deviceCrypto, algorithm, device.privateKey, new Uint8Array(Buffer.from(answer.json.encryption.publicKey, 'base64')));
      const entry = bench.registration.registry.get(clientId);
      assert.ok(entry, `registry entry for ${clientId}`);
      assert.equal(entry.aesKey.length, algorithm === 'ECDH_CURVE_25519_32_BYTE' ? 32 : 16);
      assert.deepEqual(new Uint8Array(entry.aesKey), deviceKey);
      assert.equal(entry.algorithm, algorithm);
      assert.equal(entry.awsAccountId, AWS_ACCOUNT_ID);
      assert.equal(entry.iotEndpoint, IOT_ENDPOINT);
      assert.equal(entry.lwaClientId, LWA_CLIENT_ID);
      assert.equal(entry.lwaRefreshToken, token);
      assert.ok(Math.abs(Date.parse(entry.registeredAt) - Date.now()) < 5000, entry.registeredAt);
      assert.equal(entry.certificateSha256, createHash('sha256').update(certificate.raw).digest('hex'));
      assert.equal(bench.registration.registry.proves(clientId, { certificateSha256: entry.certificateSha256! }), true);
      assert.equal(bench.registration.registry.proves(clientId, { password: Buffer.from(mqttPassword) }), true);
      assert.equal(bench.registration.registry.proves(clientId, { password: Buffer.from(mqttPassword + 'x') }), false);
    }
    assert.equal(bench.registration.registry.size, 2);
  } finally {
    await bench.close();
  }
});

test('each failure code answers its documented status and a description of what was expected', async () => {
  const bench = await startBench({ registration: { awsAccountIds: [AWS_ACCOUNT_ID] } });
  try {
    const token = await linkedToken(bench);
    const good = requestBody(token, generateKeyPair(deviceCrypto).publicKey);
    const edit = (change: (body: any) => void) => {
      const body = structuredClone(good) as any;
      change(body);
      return body;
    };
    const cases: [string, unknown, number, string, string][] = [
      ['not JSON', '{"authentication":', 400, 'INVALID_REQUEST', 'the body is not JSON'],
      ['an array', '[]', 400, 'INVALID_REQUEST', 'the body expected a JSON object, got an array'],
      ['a section of another type', edit((b) => { b.iot = 'x'; }), 400, 'INVALID_REQUEST', 'iot expected an object, got string'],
      ['a field of another type', edit((b) => { b.encryption.publicKey = 42; }), 400, 'INVALID_REQUEST', 'encryption.publicKey expected a string, got number'],
      ['a client id with a topic separator', edit((b) => { b.iot.clientId = 'a/b'; }), 400, 'INVALID_REQUEST', 'iot.clientId expected 1-128 printable ASCII characters without + # /'],
      ['no authentication', edit((b) => { delete b.authentication; }), 400, 'MISSING_PARAM', 'authentication missing'],
      ['no token', edit((b) => { delete b.authentication.token; }), 400, 'MISSING_PARAM', 'authentication.token missing'],
      ['an empty endpoint', edit((b) => { b.iot.endpoint = ''; }), 400, 'MISSING_PARAM', 'iot.endpoint missing'],
      ['an unknown algorithm', edit((b) => { b.encryption.algorithm = 'ECDH_CURVE_448'; }), 400, 'INVALID_ENCRYPTION_ALGORITHM',
        'encryption.algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got "ECDH_CURVE_448"'],
      ['a 31-byte key', edit((b) => { b.encryption.publicKey = Buffer.alloc(31, 9).toString('base64'); }), 400, 'INVALID_ENCRYPTION_DATA',
        'encryption.publicKey expected base64 of a 32-byte X25519 key (44 characters), got 44 characters that are not'],
      ['a key that is not base64', edit((b) => { b.encryption.publicKey = '!'.repeat(43) + '='; }), 400, 'INVALID_ENCRYPTION_DATA',
        'encryption.publicKey expected base64 of a 32-byte X25519 key (44 characters), got 44 characters that are not'],
      ['an account not on the product', edit((b) => { b.iot.awsAccountId = '999999999999'; }), 403, 'INVALID_AWS_ACCOUNT', 'The AWS IoT account provided does not support AIS'],
      ['an account that is not 12 digits', edit((b) => { b.iot.awsAccountId = '12345'; }), 403, 'INVALID_AWS_ACCOUNT', 'The AWS IoT account provided does not support AIS'],
      ['another endpoint', edit((b) => { b.iot.endpoint = 'other-ats.iot.eu-west-1.amazonaws.com'; }), 400, 'INVALID_IOT_ENDPOINT',
        'iot.endpoint expected the AWS IoT endpoint of the account, got "other-ats.iot.eu-west-1.amazonaws.com"'],
      ['an unknown refresh token', edit((b) => { b.authentication.token = 'Atzr|forged'; }), 403, 'INVALID_AUTHENTICATION_CREDENTIALS',
        `authentication.token is not a live LWA refresh token of client "${LWA_CLIENT_ID}"`],
      ['a token of another client', edit((b) => { b.authentication.clientId = 'other-client'; }), 403, 'INVALID_AUTHENTICATION_CREDENTIALS',
        'authentication.token is not a live LWA refresh token of client "other-client"'],
    ];
    for (const [what, body, status, code, description] of cases) {
      const answer = await register(bench, body);
      assert.equal(answer.status, status, what);
      assert.deepEqual(answer.json, { code, description }, what);
      assert.equal(FAILURE_STATUS[code as keyof typeof FAILURE_STATUS], status, `${code} status matches the table`);
    }
    const lowOrder = await register(bench, edit((b) => { b.encryption.publicKey = Buffer.alloc(32).toString('base64'); }));
    assert.equal(lowOrder.status, 400);
    assert.equal(lowOrder.json.code, 'INVALID_ENCRYPTION_DATA');
    assert.match(lowOrder.json.description, /^encryption\.publicKey is unusable for X25519: /);
    const wrongType = await postRaw(bench, '/v1/ais/registration', JSON.stringify(good), 'text/plain');
    assert.deepEqual([wrongType.status, wrongType.json], [400, { code: 'INVALID_REQUEST', description: 'content-type application/json expected, got "text/plain"' }]);
    const get = await postRaw(bench, '/v1/ais/registration', '', 'application/json', 'GET');
    assert.deepEqual([get.status, get.json], [405, { code: 'INVALID_REQUEST', description: 'POST expected, got GET' }]);
    assert.equal(bench.registration.registry.size, 0, 'no refused request registered anything');
    assert.equal((await register(bench, good)).status, 200, 'the unedited request is valid');
  } finally {
    await bench.close();
  }
});

test('a revoked refresh token no longer registers', async () => {
  const bench = await startBench();
  try {
    const token = await linkedToken(bench);
    assert.equal((await register(bench, requestBody(token, generateKeyPair(deviceCrypto).publicKey))).status, 200);
    bench.lwa.revoke(token);
    const answer = await register(bench, requestBody(token, generateKeyPair(deviceCrypto).publicKey));
    assert.equal(answer.status, 403);
    assert.equal(answer.json.code, 'INVALID_AUTHENTICATION_CREDENTIALS');
  } finally {
    await bench.close();
  }
});

test('INTERNAL_SERVER_ERROR 500 when the registry cannot be written, leaving the registry as it was', async () => {
  const bench = await startBench();
  try {
    const token = await linkedToken(bench);
    const first = generateKeyPair(deviceCrypto);
    assert.equal((await register(bench, requestBody(token, first.publicKey))).status, 200);
    const before = Buffer.from(bench.registration.registry.get(IOT_CLIENT_ID)!.aesKey);
    // A folder where the temporary file must go: the write fails with EISDIR, a real I/O failure.
    const blocker = join(bench.dataDir, `~${REGISTRY_FILE}.tmp`);
    mkdirSync(blocker);
    const answer = await register(bench, requestBody(token, generateKeyPair(deviceCrypto).publicKey));
    assert.deepEqual([answer.status, answer.json], [500, { code: 'INTERNAL_SERVER_ERROR', description: 'the registration could not be completed' }]);
    assert.deepEqual(bench.registration.registry.get(IOT_CLIENT_ID)!.aesKey, before);
    rmdirSync(blocker);

    bench.registration.failNextRegistrations(2);
    for (let i = 0; i < 2; i++) {
      const injected = await register(bench, requestBody(token, generateKeyPair(deviceCrypto).publicKey));
      assert.deepEqual([injected.status, injected.json], [500, { code: 'INTERNAL_SERVER_ERROR', description: 'injected failure (failNextRegistrations)' }]);
    }
    assert.equal((await register(bench, requestBody(token, generateKeyPair(deviceCrypto).publicKey))).status, 200);
    assert.throws(() => bench.registration.failNextRegistrations(-1), { name: 'RangeError', message: 'count expected an integer >= 0, got -1' });
  } finally {
    await bench.close();
  }
});

test('re-registration replaces the entry with a new key; a new service on the same folder reloads the registry, rotated keys included', async () => {
  const bench = await startBench();
  let second: Uint8Array;
  try {
    const token = await linkedToken(bench);
    const a = generateKeyPair(deviceCrypto);
    const first = (await register(bench, requestBody(token, a.publicKey, 'ECDH_CURVE_25519_32_BYTE'))).json;
    const firstKey = Buffer.from(bench.registration.registry.get(IOT_CLIENT_ID)!.aesKey);
    const b = generateKeyPair(deviceCrypto);
    const answer = (await register(bench, requestBody(token, b.publicKey, 'ECDH_CURVE_25519_16_BYTE_SHA256'))).json;
    assert.notEqual(answer.encryption.publicKey, first.encryption.publicKey, 'a new service key pair per registration');
    const entry = bench.registration.registry.get(IOT_CLIENT_ID)!;
    assert.equal(bench.registration.registry.size, 1);
    assert.equal(entry.algorithm, 'ECDH_CURVE_25519_16_BYTE_SHA256');
    assert.notDeepEqual(entry.aesKey, firstKey);
    second = deriveAesKey(deviceCrypto, 'ECDH_CURVE_25519_16_BYTE_SHA256', b.privateKey, new Uint8Array(Buffer.from(answer.encryption.publicKey, 'base64')));
    assert.deepEqual(new Uint8Array(entry.aesKey), second);
  } finally {
    await bench.close();
  }
  assert.deepEqual(readdirSync(bench.dataDir).filter((name) => name.endsWith('.tmp')), [], 'no temporary file left');
  const onDisk = JSON.parse(readFileSync(join(bench.dataDir, REGISTRY_FILE), 'utf8'));
  assert.deepEqual(Object.keys(onDisk.devices), [IOT_CLIENT_ID]);
  const reloaded = new RegistrationService({ lwa: bench.lwa, awsAccountIds: [AWS_ACCOUNT_ID], iotEndpoint: IOT_ENDPOINT, dataDir: bench.dataDir });
  const entry = reloaded.registry.get(IOT_CLIENT_ID)!;
  assert.deepEqual(new Uint8Array(entry.aesKey), second);
  assert.equal(entry.algorithm, 'ECDH_CURVE_25519_16_BYTE_SHA256');
  assert.equal(reloaded.registry.get('unknown'), undefined);

  // The AIS service's DeviceDirectory view: lookup() for Connect, updateKey() after a secret rotation.
  assert.deepEqual(reloaded.registry.lookup(IOT_CLIENT_ID), { awsAccountId: AWS_ACCOUNT_ID, key: entry.aesKey });
  assert.equal(reloaded.registry.lookup('unknown'), undefined);
  const rotated = new Uint8Array(16).fill(0xab);
  reloaded.registry.updateKey(IOT_CLIENT_ID, rotated);
  assert.throws(() => reloaded.registry.updateKey(IOT_CLIENT_ID, new Uint8Array(32)),
    { name: 'RangeError', message: 'updateKey: a 16-byte key expected for ECDH_CURVE_25519_16_BYTE_SHA256, got 32' });
  assert.throws(() => reloaded.registry.updateKey('unknown', rotated), { name: 'RangeError', message: 'updateKey: a registered client id expected, got "unknown"' });
  const third = new RegistrationService({ lwa: bench.lwa, awsAccountIds: [AWS_ACCOUNT_ID], iotEndpoint: IOT_ENDPOINT, dataDir: bench.dataDir });
  assert.deepEqual(new Uint8Array(third.registry.get(IOT_CLIENT_ID)!.aesKey), rotated);
});

test('the legacy iot.topicRoot in the request is accepted, and onRegistered reports each registration', async () => {
  const seen: string[] = [];
  const bench = await startBench({ registration: { onRegistered: (entry) => seen.push(`${entry.iotClientId} ${entry.algorithm}`) } });
  try {
    const token = await linkedToken(bench);
    const body = requestBody(token, generateKeyPair(deviceCrypto).publicKey) as any;
    body.iot.topicRoot = '$aws/alexa';
    assert.equal((await register(bench, body)).status, 200);
    assert.deepEqual(seen, [`${IOT_CLIENT_ID} ECDH_CURVE_25519_32_BYTE`]);
  } finally {
    await bench.close();
  }
});

test('constructor options are checked at once', () => {
  const lwa = { validateRefreshToken: () => true };
  assert.throws(() => new RegistrationService({ lwa: {} as never, awsAccountIds: [], iotEndpoint: 'x' }),
    { name: 'TypeError', message: 'options.lwa expected an object with validateRefreshToken(clientId, refreshToken)' });
  assert.throws(() => new RegistrationService({ lwa, awsAccountIds: ['1234'], iotEndpoint: 'x' }),
    { name: 'RangeError', message: 'options.awsAccountIds expected an array of 12-digit strings, got ["1234"]' });
  assert.throws(() => new RegistrationService({ lwa, awsAccountIds: [], iotEndpoint: '' }),
    { name: 'TypeError', message: 'options.iotEndpoint expected a host name, got ""' });
});

test('the emulator takes iot.endpoint by any name its broker certificate has (127.0.0.1, localhost: Amazon\'s C client over mbedTLS 2 verifies DNS names only), no other; a provisioned thing gets AIS\'s own answer', async () => {
  const cloud = await startCloud({ pollIntervalMs: 100 });
  try {
    const http = { url: cloud.httpUrl, tls: cloud.httpTrust };
    const pair = (await postForm(http, '/auth/o2/create/codepair', codePairForm({
      client_id: DEMO_LWA_CLIENT.clientId,
      scope_data: JSON.stringify({ 'alexa:all': { productID: DEMO_LWA_CLIENT.productIds[0], productInstanceAttributes: { deviceSerialNumber: 'SN-aia' } } }),
    }))).json;
    assert.equal(cloud.lwa.approve(pair.user_code), true);
    await sleep(110);
    const token = (await postForm(http, '/auth/o2/token', { grant_type: 'device_code', device_code: pair.device_code, user_code: pair.user_code })).json.refresh_token;
    const body = (endpoint: string, clientId = 'aia-thing-1') => JSON.stringify({
      authentication: { token, clientId: DEMO_LWA_CLIENT.clientId },
      encryption: { algorithm: 'ECDH_CURVE_25519_32_BYTE', publicKey: Buffer.from(generateKeyPair(deviceCrypto).publicKey).toString('base64') },
      iot: { awsAccountId: DEMO_AWS_ACCOUNT, clientId, endpoint },
    });
    for (const endpoint of ['127.0.0.1', 'localhost', 'LOCALHOST']) {
      const answer = await postRaw(http, '/v1/ais/registration', body(endpoint));
      assert.equal(answer.status, 200, `${endpoint}: ${answer.text}`);
    }
    const other = await postRaw(http, '/v1/ais/registration', body('example.com'));
    assert.equal(other.status, 400);
    assert.equal(other.json.code, 'INVALID_IOT_ENDPOINT');
    // A thing AWS IoT provisioned gets AIS's own answer, which fits the 250 bytes Amazon's C client reads.
    cloud.registration.provision('aia-thing-2', 'default');
    const provisioned = await postRaw(http, '/v1/ais/registration', body('localhost', 'aia-thing-2'));
    assert.equal(provisioned.status, 200, provisioned.text);
    assert.deepEqual(Object.keys(provisioned.json), ['encryption', 'iot']);
    assert.ok(provisioned.text.length <= 250, `${provisioned.text.length} bytes`);
  } finally {
    await cloud.close();
  }
});
