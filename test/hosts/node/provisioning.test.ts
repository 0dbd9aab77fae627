// The companion-app provisioning endpoint of the Node host over real sockets, and registration with what it stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROVISIONING_CODE_HEADER, newProvisioningCode, showCodePair, startProvisioningServer, type ProvisioningServerOptions } from '../../../hosts/node/provisioning.js';
import { LINK_CREDENTIALS_KEY, loadLinkCredentials } from '../../../src/ais/linking.js';
import { registerOnce, loadRegistration } from '../../../src/ais/registration.js';
import type { LinkCredentials } from '../../../src/ais/linking.js';
import { nodeHttpClient } from '../../../hosts/node/http.js';
import { captureLogger } from '../../support/log.js';
import {
  AWS_ACCOUNT_ID, IOT_CLIENT_ID, IOT_ENDPOINT, LWA_CLIENT_ID, codePairForm, deviceCrypto, deviceStorage, postForm, send, sleep, startBench, testPki,
} from '../../support/account.js';

const CODE = 'K7QX2MPW9R';

async function start(overrides: Partial<ProvisioningServerOptions> = {}) {
  const { log, lines } = captureLogger('provisioning');
  const storage = deviceStorage();
  const shown: string[] = [];
  const provisioned: LinkCredentials[] = [];
  const server = await startProvisioningServer({
    storage, log, host: '127.0.0.1', code: CODE,
    showCode: (code, url) => shown.push(`${code} ${url}`),
    onProvisioned: (credentials) => provisioned.push(credentials),
    ...overrides,
  });
  const post = async (body: unknown, headers: Record<string, string> = { [PROVISIONING_CODE_HEADER]: CODE }, path = '/provision', method: 'GET' | 'POST' = 'POST') => {
    const response = await send({
      method,
      url: server.url.replace('/provision', path),
      headers: { 'content-type': 'application/json', ...headers },
      body: method === 'GET' ? undefined : new Uint8Array(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))),
      tls: overrides.tls ? { ca: testPki().ca.certPem } : undefined,
    });
    return { status: response.status, json: JSON.parse(Buffer.from(response.body).toString()) };
  };
  return { server, storage, lines, shown, provisioned, post };
}

test('the code is shown at startup; a POST presenting it stores the credentials once, over HTTPS, and registration then uses and deletes them', async () => {
  const bench = await startBench();
  const pki = testPki();
  const device = await start({ tls: { cert: pki.server.certPem, key: pki.server.keyPem } });
  try {
    assert.deepEqual(device.shown, [`${CODE} https://127.0.0.1:${device.server.port}/provision`]);
    // The companion app's side: it linked the user's account with LWA and got a refresh token.
    const pair = (await postForm(bench, '/auth/o2/create/codepair', codePairForm())).json;
    bench.lwa.approve(pair.user_code);
    await sleep(110);
    const refreshToken = (await postForm(bench, '/auth/o2/token', { grant_type: 'device_code', device_code: pair.device_code, user_code: pair.user_code })).json.refresh_token;

    const answer = await device.post({ refreshToken, clientId: LWA_CLIENT_ID });
    assert.deepEqual(answer, { status: 200, json: { status: 'provisioned' } });
    assert.deepEqual(device.provisioned, [{ refreshToken, clientId: LWA_CLIENT_ID }]);
    assert.deepEqual(loadLinkCredentials(device.storage), { refreshToken, clientId: LWA_CLIENT_ID });

    const replay = await device.post({ refreshToken: 'Atzr|attacker', clientId: LWA_CLIENT_ID });
    assert.deepEqual(replay, { status: 410, json: { error: 'already_provisioned', description: 'the provisioning code was used; restart the device to provision again' } });
    assert.equal(loadLinkCredentials(device.storage)!.refreshToken, refreshToken, 'the used code cannot replace the token');
    assert.equal(device.provisioned.length, 1);

    const { log } = captureLogger('registration');
    const registration = await new Promise((resolve, reject) => registerOnce({
      http: nodeHttpClient, crypto: deviceCrypto, storage: device.storage, log, baseUrl: bench.url, tls: bench.tls,
      awsAccountId: AWS_ACCOUNT_ID, iotClientId: IOT_CLIENT_ID, iotEndpoint: IOT_ENDPOINT,
    }, (error, result) => (error ? reject(error) : resolve(result))));
    assert.deepEqual(loadRegistration(device.storage), registration);
    assert.equal(device.storage.get(LINK_CREDENTIALS_KEY), undefined);
    for (const line of device.lines) assert.ok(!line.includes(refreshToken) && !line.includes(CODE), `secret in: ${line}`);
    assert.ok(device.lines.some((l) => l.startsWith('INFO [provisioning] provisioned by 127.0.0.1: LWA client') && l.includes(`refresh token <redacted ${refreshToken.length} chars>`)), device.lines.join('\n'));
  } finally {
    await device.server.close();
    await bench.close();
  }
});

test('the code may come as the provisioningCode field instead of the header', async () => {
  const device = await start();
  try {
    const answer = await device.post({ refreshToken: 'Atzr|t', clientId: 'c', provisioningCode: CODE }, {});
    assert.equal(answer.status, 200);
    assert.deepEqual(loadLinkCredentials(device.storage), { refreshToken: 'Atzr|t', clientId: 'c' });
  } finally {
    await device.server.close();
  }
});

test('a missing or wrong code gets 401 and stores nothing; after maxAttempts wrong codes even the right one gets 429', async () => {
  const device = await start({ maxAttempts: 3 });
  try {
    const invalid = { status: 401, json: { error: 'invalid_code', description: `the provisioning code shown on the device expected in header ${PROVISIONING_CODE_HEADER} or field provisioningCode` } };
    assert.deepEqual(await device.post({ refreshToken: 'Atzr|t', clientId: 'c' }, {}), invalid);
    assert.deepEqual(await device.post({ refreshToken: 'Atzr|t', clientId: 'c' }, { [PROVISIONING_CODE_HEADER]: CODE.slice(0, 9) + 'X' }), invalid);
    assert.deepEqual(await device.post({ refreshToken: 'Atzr|t', clientId: 'c' }, { [PROVISIONING_CODE_HEADER]: CODE + CODE }), invalid);
    const locked = await device.post({ refreshToken: 'Atzr|t', clientId: 'c' });
    assert.deepEqual(locked, { status: 429, json: { error: 'locked', description: '3 wrong provisioning codes; restart the device to try again' } });
    assert.equal(device.storage.get(LINK_CREDENTIALS_KEY), undefined);
    assert.deepEqual(device.provisioned, []);
    assert.deepEqual(device.lines.filter((l) => l.startsWith('WARN')).map((l) => l.replace(/from \S+ /, 'from X ')), [
      'WARN [provisioning] provisioning from X refused: no code (1 of 3)',
      'WARN [provisioning] provisioning from X refused: wrong code (2 of 3)',
      'WARN [provisioning] provisioning from X refused: wrong code (3 of 3)',
    ]);
    assert.ok(device.lines.includes('ERROR [provisioning] provisioning locked after 3 wrong codes'));
  } finally {
    await device.server.close();
  }
});

test('bodies that are not the expected JSON, other routes and methods are refused with a named error', async () => {
  const device = await start();
  try {
    assert.deepEqual(await device.post('{"refreshToken":'), { status: 400, json: { error: 'bad_request', description: 'the body is not JSON' } });
    assert.deepEqual(await device.post({ clientId: 'c' }), { status: 400, json: { error: 'bad_request', description: 'refreshToken expected a string of 1-4096 characters' } });
    assert.deepEqual(await device.post({ refreshToken: 'Atzr|t', clientId: 5 }), { status: 400, json: { error: 'bad_request', description: 'clientId expected a string of 1-512 characters' } });
    assert.deepEqual(await device.post('x', { [PROVISIONING_CODE_HEADER]: CODE, 'content-type': 'text/plain' }),
      { status: 415, json: { error: 'unsupported_media_type', description: 'content-type application/json expected, got "text/plain"' } });
    assert.deepEqual(await device.post({}, undefined, '/other'), { status: 404, json: { error: 'not_found', description: 'POST /provision is the only route' } });
    assert.deepEqual(await device.post({}, undefined, '/provision', 'GET'), { status: 405, json: { error: 'method_not_allowed', description: 'POST expected, got GET' } });
    assert.deepEqual(await device.post({ refreshToken: 'x'.repeat(9000), clientId: 'c' }), { status: 413, json: { error: 'too_large', description: 'request body over 8192 bytes' } });
    assert.equal(device.storage.get(LINK_CREDENTIALS_KEY), undefined);
    assert.equal((await device.post({ refreshToken: 'Atzr|t', clientId: 'c' })).status, 200, 'the code was not consumed by the refusals');
  } finally {
    await device.server.close();
  }
});

test('generated codes are 10 characters without look-alikes, and options are checked at once', async () => {
  const codes = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const code = newProvisioningCode();
    assert.match(code, /^[A-HJ-NP-Z2-9]{10}$/);
    codes.add(code);
  }
  assert.equal(codes.size, 200);
  const { log } = captureLogger('provisioning');
  await assert.rejects(startProvisioningServer({ storage: deviceStorage(), log, code: 'short' }), { name: 'RangeError', message: 'options.code expected at least 8 characters, got 5' });
  await assert.rejects(startProvisioningServer({ storage: deviceStorage(), log: {} as never }), { name: 'TypeError', message: 'options.log expected a Logger' });
  await assert.rejects(startProvisioningServer({ storage: deviceStorage(), log, maxAttempts: 0 }), { name: 'RangeError', message: 'options.maxAttempts expected an integer >= 1, got 0' });
});

test('showCodePair prints one line with the verification URI, the user code and its lifetime', () => {
  const lines: string[] = [];
  showCodePair({ userCode: 'AB3DE7', verificationUri: 'https://amazon.com/us/code', expiresInMs: 600_000 }, (line) => lines.push(line));
  assert.deepEqual(lines, ['To link this device to your Amazon account, open https://amazon.com/us/code and enter the code AB3DE7 (valid for 600 s)\n']);
});
