// Device-side AIS registration (src/ais/registration.ts) against the emulator's LWA and registration endpoints
// over real sockets (HTTPS with the test PKI unless said otherwise): the Node host HttpClient, clock and folder
// storage, the portable crypto. The emulator derives its key with node:crypto, so equal keys check both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  MAX_REGISTRATION_RESPONSE_BYTES, REGISTRATION_KEY, REGISTRATION_PATH, RETRY_POLICY, Registrar, RegistrationError,
  deleteRegistration, loadRegistration, registerOnce, saveRegistration,
  type RegisterOptions, type Registration, type RegistrarOptions,
} from '../../src/ais/registration.js';
import { CodeBasedLinking, LINK_CREDENTIALS_KEY, loadLinkCredentials, saveLinkCredentials } from '../../src/ais/linking.js';
import { ENCRYPTION_ALGORITHMS, type EncryptionAlgorithm } from '../../src/ais/keys.js';
import { nodeHttpClient } from '../../hosts/node/http.js';
import { NodeClock } from '../../hosts/node/clock.js';
import { sendJson, type RouteHandler } from '../../emulator/http.js';
import { captureLogger } from '../support/log.js';
import { recordingClock } from '../support/clock.js';
import {
  AWS_ACCOUNT_ID, IOT_CLIENT_ID, IOT_ENDPOINT, LWA_CLIENT_ID, PRODUCT_ID, SERIAL, codePairForm, deviceCrypto, deviceStorage, postForm, sleep,
  startBench, type Bench,
} from '../support/account.js';

type Storage = ReturnType<typeof deviceStorage>;

/** A device storage holding a live refresh token from the emulated LWA (raw code-pair flow). */
async function linkedStorage(bench: Bench): Promise<{ storage: Storage; refreshToken: string }> {
  const pair = (await postForm(bench, '/auth/o2/create/codepair', codePairForm())).json;
  assert.equal(bench.lwa.approve(pair.user_code), true);
  await sleep(110);
  const tokens = await postForm(bench, '/auth/o2/token', { grant_type: 'device_code', device_code: pair.device_code, user_code: pair.user_code });
  assert.equal(tokens.status, 200, tokens.text);
  const storage = deviceStorage();
  saveLinkCredentials(storage, { refreshToken: tokens.json.refresh_token, clientId: LWA_CLIENT_ID });
  return { storage, refreshToken: tokens.json.refresh_token };
}

function options(bench: Bench, storage: Storage, overrides: Partial<RegisterOptions> = {}): RegisterOptions & { lines: string[] } {
  const { log, lines } = captureLogger('ais.registration');
  return {
    http: nodeHttpClient, crypto: deviceCrypto, storage, log, lines,
    baseUrl: bench.url, tls: bench.tls,
    awsAccountId: AWS_ACCOUNT_ID, iotClientId: IOT_CLIENT_ID, iotEndpoint: IOT_ENDPOINT,
    ...overrides,
  };
}

function registerOnceAsync(o: RegisterOptions): Promise<{ error?: RegistrationError; registration?: Registration; calls: number }> {
  return new Promise((resolve) => {
    let calls = 0;
    registerOnce(o, (error, registration) => {
      calls++;
      // A second call would land after this resolve: count it a moment later.
      setTimeout(() => resolve({ error, registration, calls }), 20);
    });
  });
}

function runRegistrar(o: RegistrarOptions): Promise<{ error?: RegistrationError; registration?: Registration; registrar: Registrar }> {
  return new Promise((resolve) => {
    const registrar: Registrar = new Registrar({
      ...o,
      onRegistered: (registration) => resolve({ registration, registrar }),
      onError: (error) => resolve({ error, registrar }),
    });
    registrar.start();
  });
}

function assertNoSecrets(lines: string[], secrets: string[]): void {
  assert.ok(lines.length > 0);
  for (const secret of secrets) {
    for (const line of lines) assert.ok(!line.includes(secret), `a secret of ${secret.length} chars leaked into: ${line}`);
  }
}

test('account linking end to end: code-based linking on the device, then registration; device and emulator hold the same key, for both algorithms', async () => {
  const emulatorLog = captureLogger('emulator');
  const bench = await startBench({ lwa: { log: emulatorLog.log.child('lwa') }, registration: { log: emulatorLog.log.child('registration') } });
  try {
    for (const algorithm of ENCRYPTION_ALGORITHMS) {
      const storage = deviceStorage();
      const { log, lines } = captureLogger('device');
      const clock = new NodeClock();
      const credentials = await new Promise<{ refreshToken: string }>((resolve, reject) => {
        new CodeBasedLinking({
          http: nodeHttpClient, clock, storage, log: log.child('linking'),
          clientId: LWA_CLIENT_ID, productId: PRODUCT_ID, deviceSerialNumber: SERIAL, lwaBaseUrl: bench.url, tls: bench.tls,
          onCode: (code) => { setTimeout(() => bench.lwa.approve(code.userCode), 150); },
          onLinked: resolve,
          onError: reject,
        }).start();
      });
      assert.ok(storage.get(LINK_CREDENTIALS_KEY), 'the refresh token is stored until registration');

      const iotClientId = `speaker-${algorithm.length}`;
      const { registration, error, registrar } = await runRegistrar({
        ...options(bench, storage), log: log.child('registration'), clock, algorithm, iotClientId,
        onRegistered() {}, onError() {},
      });
      assert.equal(error, undefined, error?.message);
      assert.equal(registrar.attemptCount, 1);
      assert.ok(registration);
      assert.equal(registration.algorithm, algorithm);
      assert.equal(registration.topicRoot, '$aws/alexa');
      assert.equal(registration.awsAccountId, AWS_ACCOUNT_ID);
      assert.equal(registration.iotClientId, iotClientId);
      assert.equal(registration.iotEndpoint, IOT_ENDPOINT);
      assert.equal(registration.aesKey.length, algorithm === 'ECDH_CURVE_25519_32_BYTE' ? 32 : 16);
      const entry = bench.registration.registry.get(iotClientId);
      assert.ok(entry);
      assert.deepEqual(registration.aesKey, new Uint8Array(entry.aesKey), 'device (tweetnacl, noble) and emulator (OpenSSL) derived the same key');
      assert.equal(entry.lwaRefreshToken, credentials.refreshToken);
      assert.deepEqual(loadRegistration(storage), registration);
      assert.equal(storage.get(LINK_CREDENTIALS_KEY), undefined, 'the refresh token is deleted after registration');
      assert.deepEqual(storage.keys(), [REGISTRATION_KEY]);
      // The MQTT identity the emulator issued, kept in the same record.
      const identity = registration.identity;
      assert.ok(identity, 'an identity with the registration');
      assert.match(identity.certificatePem, /^-----BEGIN CERTIFICATE-----\n/);
      assert.match(identity.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.equal(entry.certificateSha256, createHash('sha256').update(new X509Certificate(identity.certificatePem).raw).digest('hex'));
      const keyBase64 = Buffer.from(registration.aesKey).toString('base64');
      const privateKeyLines = identity.privateKey.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
      assertNoSecrets(lines, [credentials.refreshToken, keyBase64, Buffer.from(registration.aesKey).toString('hex'), identity.mqttPassword, ...privateKeyLines]);
      assertNoSecrets(emulatorLog.lines, [credentials.refreshToken, keyBase64, identity.mqttPassword, ...privateKeyLines]);
      assert.ok(lines.some((l) => l.startsWith(`INFO [registration] registered ${iotClientId}: topic root $aws/alexa, AES key <redacted ${registration.aesKey.length} bytes>, `
        + `a client certificate and its key <redacted ${identity.privateKey.length} chars> stored under ais.registration; refresh token deleted`)), lines.join('\n'));
    }
  } finally {
    await bench.close();
  }
});

test('registration works over plain HTTP and sends the legacy topicRoot when asked', async () => {
  let seenTopicRoot: unknown;
  let bench!: Bench;
  const tap: RouteHandler = (request, _response, body) => {
    if (request.url === REGISTRATION_PATH) seenTopicRoot = JSON.parse(body.toString()).iot.topicRoot;
    return false;
  };
  bench = await startBench({ https: false, before: [tap] });
  try {
    const { storage } = await linkedStorage(bench);
    const result = await registerOnceAsync(options(bench, storage, { requestTopicRoot: '$aws/alexa' }));
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.calls, 1);
    assert.equal(seenTopicRoot, '$aws/alexa');
    assert.deepEqual(result.registration!.aesKey, new Uint8Array(bench.registration.registry.get(IOT_CLIENT_ID)!.aesKey));
    assert.ok(bench.url.startsWith('http://'));
  } finally {
    await bench.close();
  }
});

test('each failure code, provoked by a real bad request, is reported with the service\'s description and the policy\'s action', async () => {
  let tamper: ((body: any) => unknown) | undefined;
  let bench!: Bench;
  const proxy: RouteHandler = (request, response, body) => {
    if (request.url !== REGISTRATION_PATH || tamper === undefined) return false;
    const changed = tamper(JSON.parse(body.toString()));
    return bench.registration.handle(request, response, Buffer.from(typeof changed === 'string' ? changed : JSON.stringify(changed)));
  };
  bench = await startBench({ before: [proxy] });
  try {
    const cases: [string, (b: any) => unknown, Partial<RegisterOptions>, string, number, string][] = [
      ['INVALID_REQUEST', () => '{"authentication":', {}, 'INVALID_REQUEST', 400, 'the body is not JSON'],
      ['MISSING_PARAM', (b) => { delete b.iot.endpoint; return b; }, {}, 'MISSING_PARAM', 400, 'iot.endpoint missing'],
      ['INVALID_ENCRYPTION_ALGORITHM', (b) => { b.encryption.algorithm = 'ECDH_CURVE_448'; return b; }, {}, 'INVALID_ENCRYPTION_ALGORITHM', 400,
        'encryption.algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got "ECDH_CURVE_448"'],
      ['INVALID_ENCRYPTION_DATA', (b) => { b.encryption.publicKey = b.encryption.publicKey.slice(4); return b; }, {}, 'INVALID_ENCRYPTION_DATA', 400,
        'encryption.publicKey expected base64 of a 32-byte X25519 key (44 characters), got 40 characters that are not'],
      ['INVALID_AWS_ACCOUNT', (b) => b, { awsAccountId: '210987654321' }, 'INVALID_AWS_ACCOUNT', 403, 'The AWS IoT account provided does not support AIS'],
      ['INVALID_IOT_ENDPOINT', (b) => b, { iotEndpoint: 'wrong-ats.iot.eu-west-1.amazonaws.com' }, 'INVALID_IOT_ENDPOINT', 400,
        'iot.endpoint expected the AWS IoT endpoint of the account, got "wrong-ats.iot.eu-west-1.amazonaws.com"'],
    ];
    const { storage, refreshToken } = await linkedStorage(bench);
    for (const [what, change, overrides, code, status, description] of cases) {
      tamper = change;
      const o = options(bench, storage, overrides);
      const { error, registration, calls } = await registerOnceAsync(o);
      assert.equal(calls, 1);
      assert.equal(registration, undefined, what);
      assert.ok(error instanceof RegistrationError, what);
      assert.equal(error.code, code, what);
      assert.equal(error.status, status, what);
      assert.equal(error.action, 'stop', what);
      assert.equal(error.message, `AIS registration failed: ${code} (HTTP ${status}): ${description}; not retried; fix the configuration or firmware`);
      assert.ok(o.lines.includes(`ERROR [ais.registration] ${error.message}`), what);
      assert.deepEqual(loadLinkCredentials(storage), { refreshToken, clientId: LWA_CLIENT_ID }, `${what}: the token stays for a fixed configuration`);
      assert.equal(loadRegistration(storage), undefined);
      assertNoSecrets(o.lines, [refreshToken]);
    }

    tamper = (b) => b;
    bench.registration.failNextRegistrations(1);
    const internal = await registerOnceAsync(options(bench, storage));
    assert.equal(internal.error?.code, 'INTERNAL_SERVER_ERROR');
    assert.equal(internal.error?.action, 'retry');
    assert.equal(internal.error?.message, 'AIS registration failed: INTERNAL_SERVER_ERROR (HTTP 500): injected failure (failNextRegistrations); will retry');
    assert.ok(loadLinkCredentials(storage));

    tamper = (b) => { b.authentication.token = 'Atzr|forged'; return b; };
    const o = options(bench, storage);
    const refused = await registerOnceAsync(o);
    assert.equal(refused.error?.code, 'INVALID_AUTHENTICATION_CREDENTIALS');
    assert.equal(refused.error?.status, 403);
    assert.equal(refused.error?.action, 'relink');
    assert.equal(refused.error?.message, `AIS registration failed: INVALID_AUTHENTICATION_CREDENTIALS (HTTP 403): authentication.token is not a live LWA refresh token of client "${LWA_CLIENT_ID}"; the refresh token is dropped; link the account again`);
    assert.equal(loadLinkCredentials(storage), undefined, 'relink drops the stored refresh token');

    tamper = undefined;
    const none = await registerOnceAsync(options(bench, storage));
    assert.equal(none.error?.code, 'NO_CREDENTIALS');
    assert.equal(none.error?.action, 'relink');
    assert.equal(none.error?.message, 'AIS registration failed: NO_CREDENTIALS: no LWA refresh token stored; link the account (code-based linking or companion app) first; the refresh token is dropped; link the account again');
    assert.equal(bench.registration.registry.size, 0);
  } finally {
    await bench.close();
  }
});

test('a revoked refresh token is refused by the real check and dropped on the device', async () => {
  const bench = await startBench();
  try {
    const { storage, refreshToken } = await linkedStorage(bench);
    bench.lwa.revoke(refreshToken);
    const { error } = await registerOnceAsync(options(bench, storage));
    assert.equal(error?.code, 'INVALID_AUTHENTICATION_CREDENTIALS');
    assert.equal(error?.action, 'relink');
    assert.equal(storage.get(LINK_CREDENTIALS_KEY), undefined);
  } finally {
    await bench.close();
  }
});

test('the Registrar retries INTERNAL_SERVER_ERROR with doubling backoff and a new key pair each time, then registers', async () => {
  const publicKeys: string[] = [];
  const tap: RouteHandler = (request, _response, body) => {
    if (request.url === REGISTRATION_PATH) publicKeys.push(JSON.parse(body.toString()).encryption.publicKey);
    return false;
  };
  const bench = await startBench({ before: [tap] });
  try {
    const { storage } = await linkedStorage(bench);
    bench.registration.failNextRegistrations(2);
    const clock = recordingClock();
    const o = options(bench, storage);
    const { registration, error, registrar } = await runRegistrar({
      ...o, clock, retryMinDelayMs: 50, retryMaxDelayMs: 400, random: () => 0.999, onRegistered() {}, onError() {},
    });
    assert.equal(error, undefined, error?.message);
    assert.equal(registrar.attemptCount, 3);
    assert.deepEqual(clock.delays, [50, 100]);
    assert.equal(new Set(publicKeys).size, 3, 'a fresh key pair per attempt');
    assert.deepEqual(registration!.aesKey, new Uint8Array(bench.registration.registry.get(IOT_CLIENT_ID)!.aesKey));
    assert.deepEqual(o.lines.filter((l) => l.startsWith('WARN [ais.registration] registration attempt')), [
      'WARN [ais.registration] registration attempt 1 of 10 failed (INTERNAL_SERVER_ERROR); next in 50 ms',
      'WARN [ais.registration] registration attempt 2 of 10 failed (INTERNAL_SERVER_ERROR); next in 100 ms',
    ]);
  } finally {
    await bench.close();
  }
});

test('the Registrar gives up after maxAttempts retryable failures and does not retry stop or relink failures', async () => {
  const bench = await startBench();
  try {
    const { storage } = await linkedStorage(bench);
    bench.registration.failNextRegistrations(5);
    const clock = recordingClock();
    const spent = await runRegistrar({ ...options(bench, storage), clock, maxAttempts: 3, retryMinDelayMs: 20, retryMaxDelayMs: 30, random: () => 0.999, onRegistered() {}, onError() {} });
    assert.equal(spent.error?.code, 'INTERNAL_SERVER_ERROR');
    assert.equal(spent.registrar.attemptCount, 3);
    assert.deepEqual(clock.delays, [20, 30]);

    bench.registration.failNextRegistrations(0);
    const stopClock = recordingClock();
    const stopped = await runRegistrar({ ...options(bench, storage, { iotEndpoint: 'elsewhere.example' }), clock: stopClock, onRegistered() {}, onError() {} });
    assert.equal(stopped.error?.code, 'INVALID_IOT_ENDPOINT');
    assert.equal(stopped.registrar.attemptCount, 1);
    assert.deepEqual(stopClock.delays, []);
  } finally {
    await bench.close();
  }
});

test('an unreachable service is a NETWORK failure, retried', async () => {
  const bench = await startBench();
  const { storage } = await linkedStorage(bench);
  await bench.close();
  const clock = recordingClock();
  const { error, registrar } = await runRegistrar({ ...options(bench, storage), clock, maxAttempts: 2, retryMinDelayMs: 10, retryMaxDelayMs: 10, random: () => 0.999, onRegistered() {}, onError() {} });
  assert.equal(error?.code, 'NETWORK');
  assert.equal(error?.action, 'retry');
  assert.match(error!.message, /^AIS registration failed: NETWORK: POST https:\/\/127\.0\.0\.1:\d+\/v1\/ais\/registration: .*ECONNREFUSED.*; will retry$/);
  assert.equal(registrar.attemptCount, 2);
  assert.ok(loadLinkCredentials(storage), 'the token stays for the next try');
});

test('malformed and oversized answers are clear errors and leave the token stored', async () => {
  let answer: (response: ServerResponse) => void = () => {};
  const fake: RouteHandler = (request: IncomingMessage, response) => {
    if (request.url !== REGISTRATION_PATH) return false;
    answer(response);
    return true;
  };
  const bench = await startBench({ before: [fake] });
  try {
    const { storage } = await linkedStorage(bench);
    const key31 = Buffer.alloc(31, 7).toString('base64');
    const key32 = Buffer.alloc(32, 9).toString('base64');
    const text = (status: number, body: string, type = 'application/json') => (response: ServerResponse) => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    const cases: [string, (response: ServerResponse) => void, string, string][] = [
      ['not JSON', text(200, '<html>welcome to the hotel wifi</html>', 'text/html'), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): body is not JSON: '],
      ['an array', (r) => sendJson(r, 200, []), 'MALFORMED_RESPONSE', 'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): a JSON object expected, got an array; will retry'],
      ['no public key', (r) => sendJson(r, 200, { iot: { topicRoot: '$aws/alexa' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): encryption.publicKey (base64) expected, got nothing; will retry'],
      ['a 31-byte key', (r) => sendJson(r, 200, { encryption: { publicKey: key31 }, iot: { topicRoot: '$aws/alexa' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): encryption.publicKey expected 32 bytes, got 31; will retry'],
      ['a key that is not base64', (r) => sendJson(r, 200, { encryption: { publicKey: '%%%' }, iot: { topicRoot: '$aws/alexa' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): encryption.publicKey expected base64, got a string of 3 chars that is not; will retry'],
      ['a low-order key', (r) => sendJson(r, 200, { encryption: { publicKey: Buffer.alloc(32).toString('base64') }, iot: { topicRoot: '$aws/alexa' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): encryption.publicKey unusable: X25519 shared secret expected non-zero, got all zero bytes (low-order service public key); will retry'],
      ['no topic root', (r) => sendJson(r, 200, { encryption: { publicKey: key32 } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): iot.topicRoot expected a topic of 1-128 chars without wildcards or a trailing /, got nothing; will retry'],
      ['a wildcard topic root', (r) => sendJson(r, 200, { encryption: { publicKey: key32 }, iot: { topicRoot: '$aws/#' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): iot.topicRoot expected a topic of 1-128 chars without wildcards or a trailing /, got "$aws/#"; will retry'],
      ['an identity whose key is not PEM', (r) => sendJson(r, 200, { encryption: { publicKey: key32 }, iot: { topicRoot: '$aws/alexa' }, identity: { certificatePem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n', privateKey: 'secret-key-material', mqttPassword: 'pw' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): identity.privateKey expected PEM (PRIVATE KEY) of at most 8192 characters, got 19 characters that are not; will retry'],
      ['an identity without a password', (r) => sendJson(r, 200, { encryption: { publicKey: key32 }, iot: { topicRoot: '$aws/alexa' }, identity: { certificatePem: '-----BEGIN CERTIFICATE-----\n', privateKey: '-----BEGIN PRIVATE KEY-----\n' } }), 'MALFORMED_RESPONSE',
        'AIS registration failed: MALFORMED_RESPONSE (HTTP 200): identity.mqttPassword expected 1-256 characters, got nothing; will retry'],
      ['503 without a code', text(503, 'upstream down', 'text/plain'), 'HTTP_STATUS', 'AIS registration failed: HTTP_STATUS (HTTP 503): no failure code in the body; will retry'],
      ['429 without a code', (r) => sendJson(r, 429, { message: 'Too Many Requests' }), 'HTTP_STATUS', 'AIS registration failed: HTTP_STATUS (HTTP 429): no failure code in the body; will retry'],
      ['an unknown code', (r) => sendJson(r, 400, { code: 'NEW_CODE', description: 'something new' }), 'HTTP_STATUS',
        'AIS registration failed: HTTP_STATUS (HTTP 400): unknown failure code "NEW_CODE": something new; not retried; fix the configuration or firmware'],
      ['404', (r) => sendJson(r, 404, { message: 'not here' }), 'HTTP_STATUS', 'AIS registration failed: HTTP_STATUS (HTTP 404): no failure code in the body; not retried; fix the configuration or firmware'],
    ];
    for (const [what, respond, code, message] of cases) {
      answer = respond;
      const { error } = await registerOnceAsync(options(bench, storage));
      assert.equal(error?.code, code, what);
      if (message.endsWith(': ')) assert.ok(error!.message.startsWith(message) && error!.message.endsWith('; will retry'), `${what}: ${error!.message}`);
      else assert.equal(error?.message, message, what);
    }
    answer = (r) => sendJson(r, 200, { encryption: { publicKey: key32 }, iot: { topicRoot: '$aws/alexa' }, pad: 'x'.repeat(MAX_REGISTRATION_RESPONSE_BYTES) });
    const { error } = await registerOnceAsync(options(bench, storage));
    assert.equal(error?.code, 'NETWORK');
    assert.equal(error?.action, 'retry');
    assert.match(error!.message, /exceeds maxResponseBytes 4096/);
    assert.ok(loadLinkCredentials(storage), 'the token stays after every failed attempt');
    assert.equal(loadRegistration(storage), undefined);
  } finally {
    await bench.close();
  }
});

test('redirects are followed with the same POST, but not from https to http nor more than three times', async () => {
  let location = '';
  let redirects = 0;
  const redirect: RouteHandler = (request, response) => {
    if (!request.url?.startsWith('/moved')) return false;
    redirects++;
    response.writeHead(request.url === '/moved/loop/v1/ais/registration' ? 307 : 308, { location });
    response.end();
    return true;
  };
  const bench = await startBench({ before: [redirect] });
  try {
    const { storage } = await linkedStorage(bench);
    location = REGISTRATION_PATH;
    const moved = await registerOnceAsync(options(bench, storage, { baseUrl: `${bench.url}/moved` }));
    assert.equal(moved.error, undefined, moved.error?.message);
    assert.equal(redirects, 1);
    assert.deepEqual(moved.registration!.aesKey, new Uint8Array(bench.registration.registry.get(IOT_CLIENT_ID)!.aesKey));

    saveLinkCredentials(storage, { refreshToken: bench.registration.registry.get(IOT_CLIENT_ID)!.lwaRefreshToken, clientId: LWA_CLIENT_ID });
    location = `http://127.0.0.1:1${REGISTRATION_PATH}`;
    const downgrade = await registerOnceAsync(options(bench, storage, { baseUrl: `${bench.url}/moved` }));
    assert.equal(downgrade.error?.code, 'HTTP_STATUS');
    assert.equal(downgrade.error?.action, 'stop');
    assert.equal(downgrade.error?.message, `AIS registration failed: HTTP_STATUS (HTTP 308): POST ${bench.url}/moved${REGISTRATION_PATH}: redirect from https to http refused: the body holds the refresh token; not retried; fix the configuration or firmware`);

    redirects = 0;
    location = '/moved/loop/v1/ais/registration';
    const loop = await registerOnceAsync(options(bench, storage, { baseUrl: `${bench.url}/moved/loop` }));
    assert.equal(redirects, 4);
    assert.equal(loop.error?.message, `AIS registration failed: HTTP_STATUS (HTTP 307): POST ${bench.url}/moved/loop${REGISTRATION_PATH}: more than 3 redirects; not retried; fix the configuration or firmware`);
  } finally {
    await bench.close();
  }
});

test('a damaged stored token is dropped and reported as NO_CREDENTIALS', async () => {
  const storage = deviceStorage();
  storage.set(LINK_CREDENTIALS_KEY, new Uint8Array(Buffer.from('{"refreshToken":"Atzr|secret-part')));
  const bench = { url: 'https://127.0.0.1:9', tls: undefined } as unknown as Bench;
  const { error, calls } = await registerOnceAsync(options(bench, storage));
  assert.equal(calls, 1);
  assert.equal(error?.code, 'NO_CREDENTIALS');
  assert.equal(error?.message, 'AIS registration failed: NO_CREDENTIALS: stored link credentials "ais.lwa" are malformed: not UTF-8 JSON (33 bytes); deleted it; the refresh token is dropped; link the account again');
  assert.ok(!error!.message.includes('secret'), 'the parser\'s message, which quotes the input, is not passed on');
  assert.equal(storage.get(LINK_CREDENTIALS_KEY), undefined);
});

test('the registration record round-trips through storage, and a damaged one is an error naming the fault', () => {
  const storage = deviceStorage();
  assert.equal(loadRegistration(storage), undefined);
  const registration: Registration = {
    topicRoot: '$aws/alexa', algorithm: 'ECDH_CURVE_25519_16_BYTE_SHA256', aesKey: new Uint8Array(16).fill(5),
    awsAccountId: AWS_ACCOUNT_ID, iotClientId: IOT_CLIENT_ID, iotEndpoint: IOT_ENDPOINT,
  };
  saveRegistration(storage, registration);
  assert.deepEqual(loadRegistration(storage), registration);
  assert.deepEqual(JSON.parse(Buffer.from(storage.get(REGISTRATION_KEY)!).toString()), {
    version: 1, topicRoot: '$aws/alexa', algorithm: 'ECDH_CURVE_25519_16_BYTE_SHA256', aesKey: 'BQUFBQUFBQUFBQUFBQUFBQ==',
    awsAccountId: AWS_ACCOUNT_ID, iotClientId: IOT_CLIENT_ID, iotEndpoint: IOT_ENDPOINT,
  });
  assert.throws(() => saveRegistration(storage, { ...registration, aesKey: new Uint8Array(32) }),
    { name: 'TypeError', message: 'registration record invalid: aesKey expected 16 bytes for ECDH_CURVE_25519_16_BYTE_SHA256, got 32 bytes' });
  storage.set(REGISTRATION_KEY, new Uint8Array(Buffer.from(JSON.stringify({ version: 1, topicRoot: '$aws/alexa', algorithm: 'ECDH_CURVE_25519_32_BYTE', aesKey: 'AAAA' }))));
  assert.throws(() => loadRegistration(storage), { message: 'registration record "ais.registration" is damaged: awsAccountId expected a non-empty string, got nothing' });
  const identity = { certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', privateKey: '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n', mqttPassword: 'pw' };
  saveRegistration(storage, { ...registration, identity });
  assert.deepEqual(loadRegistration(storage), { ...registration, identity }, 'the identity is kept with the registration');
  const stored = JSON.parse(Buffer.from(storage.get(REGISTRATION_KEY)!).toString());
  storage.set(REGISTRATION_KEY, new Uint8Array(Buffer.from(JSON.stringify({ ...stored, identity: { ...identity, privateKey: 'MIGH' } }))));
  assert.throws(() => loadRegistration(storage), { message: 'registration record "ais.registration" is damaged: identity.privateKey expected PEM (PRIVATE KEY) of at most 8192 characters, got 4 characters that are not' });
  storage.set(REGISTRATION_KEY, new Uint8Array(Buffer.from(JSON.stringify({ version: 2 }))));
  assert.throws(() => loadRegistration(storage), { message: 'registration record "ais.registration": version 1 expected, got 2' });
  deleteRegistration(storage);
  assert.equal(loadRegistration(storage), undefined);
});

test('the retry policy table gives every code an action', () => {
  assert.deepEqual(Object.entries(RETRY_POLICY).filter(([, action]) => action === 'retry').map(([code]) => code).sort(),
    ['INTERNAL_SERVER_ERROR', 'MALFORMED_RESPONSE', 'NETWORK']);
  assert.deepEqual(Object.entries(RETRY_POLICY).filter(([, action]) => action === 'relink').map(([code]) => code).sort(),
    ['INVALID_AUTHENTICATION_CREDENTIALS', 'NO_CREDENTIALS']);
  assert.equal(new RegistrationError('HTTP_STATUS', 'x', 502).action, 'retry');
  assert.equal(new RegistrationError('HTTP_STATUS', 'x', 418).action, 'stop');
});

test('options are checked at once', () => {
  const storage = deviceStorage();
  const bench = { url: 'https://127.0.0.1:9', tls: undefined } as unknown as Bench;
  const base = options(bench, storage);
  const noop = () => {};
  assert.throws(() => registerOnce({ ...base, awsAccountId: '12345' }, noop), { name: 'RangeError', message: 'options.awsAccountId expected 12 digits, got "12345"' });
  assert.throws(() => registerOnce({ ...base, iotClientId: 'a/b' }, noop), { name: 'RangeError', message: 'options.iotClientId expected 1-128 printable ASCII chars without + # /, got "a/b"' });
  assert.throws(() => registerOnce({ ...base, iotEndpoint: 'https://x' }, noop), { name: 'RangeError', message: 'options.iotEndpoint expected a host name, got "https://x"' });
  assert.throws(() => registerOnce({ ...base, algorithm: 'ECDH_CURVE_448' as EncryptionAlgorithm }, noop),
    { name: 'RangeError', message: 'options.algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got ECDH_CURVE_448' });
  assert.throws(() => registerOnce({ ...base, baseUrl: 'api.amazonalexa.com' }, noop), { name: 'TypeError', message: 'options.baseUrl expected an http:// or https:// URL without query, got "api.amazonalexa.com"' });
  assert.throws(() => registerOnce(base, undefined as never), { name: 'TypeError', message: 'callback expected a function, got undefined' });
  assert.throws(() => new Registrar({ ...base, clock: new NodeClock(), onRegistered: noop, onError: noop, retryMinDelayMs: 10, retryMaxDelayMs: 5 }),
    { name: 'RangeError', message: 'options.retryMaxDelayMs expected an integer >= 10, got 5' });
  assert.throws(() => new Registrar({ ...base, clock: new NodeClock(), onRegistered: noop } as never), { name: 'TypeError', message: 'options.onError expected a function, got undefined' });
  const registrar = new Registrar({ ...base, clock: new NodeClock(), onRegistered: noop, onError: noop });
  registrar.start();
  assert.throws(() => registrar.start(), { name: 'Error', message: 'Registrar.start() called twice; make a new instance to register again' });
  registrar.close();
});
