// Issue 24 items 3 and 6 against the emulator's LWA and registration over real HTTPS: a client id stays with the
// account that registered it, code pairs and /code guesses are rate-limited and bounded, field lengths checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/ais/keys.js';
import { FIELD_LIMITS } from '../../emulator/lwa.js';
import { captureLogger } from '../support/log.js';
import {
  AWS_ACCOUNT_ID, IOT_ENDPOINT, LWA_CLIENT_ID, SERIAL, codePairForm, deviceCrypto, postForm, postRaw, sleep, startBench, type Bench,
} from '../support/account.js';

/** A refresh token linked by `account` through the /code page, as a user in a browser does. */
async function linkedBy(bench: Bench, account: string | undefined, serial = SERIAL): Promise<string> {
  const pair = (await postForm(bench, '/auth/o2/create/codepair', codePairForm({ scope_data: JSON.stringify({ 'alexa:all': { productID: 'ais_test_speaker', productInstanceAttributes: { deviceSerialNumber: serial } } }) }))).json;
  const page = await postForm(bench, '/code', { user_code: pair.user_code, decision: 'approve', ...(account ? { account } : {}) });
  assert.equal(page.status, 200, page.text);
  await sleep(110);
  const tokens = await postForm(bench, '/auth/o2/token', { grant_type: 'device_code', device_code: pair.device_code, user_code: pair.user_code });
  assert.equal(tokens.status, 200, tokens.text);
  return tokens.json.refresh_token;
}

function register(bench: Bench, token: string, clientId: string) {
  const body = {
    authentication: { token, clientId: LWA_CLIENT_ID },
    encryption: { algorithm: 'ECDH_CURVE_25519_32_BYTE', publicKey: Buffer.from(generateKeyPair(deviceCrypto).publicKey).toString('base64') },
    iot: { awsAccountId: AWS_ACCOUNT_ID, clientId, endpoint: IOT_ENDPOINT },
  };
  return postRaw(bench, '/v1/ais/registration', JSON.stringify(body));
}

test('a client id stays bound to the account that registered it: another account gets 403 and a log line, the owner may re-register', async () => {
  const { log, lines } = captureLogger('registration');
  const bench = await startBench({ registration: { log } });
  try {
    const alice = await linkedBy(bench, 'alice@example.com');
    assert.equal((await register(bench, alice, 'dev-b')).status, 200);
    const keyBefore = Buffer.from(bench.registration.registry.get('dev-b')!.aesKey);

    const mallory = await linkedBy(bench, 'mallory@example.com', 'SN-other');
    const hijack = await register(bench, mallory, 'dev-b');
    assert.equal(hijack.status, 403, hijack.text);
    assert.deepEqual(hijack.json, { code: 'INVALID_AUTHENTICATION_CREDENTIALS', description: 'iot.clientId dev-b is registered to another account' });
    assert.deepEqual(Buffer.from(bench.registration.registry.get('dev-b')!.aesKey), keyBefore, 'the owner\'s key is untouched');
    assert.ok(lines.includes('WARN [registration] registration of dev-b by account mallory@example.com refused: the client id belongs to account alice@example.com'), lines.join('\n'));
    assert.equal((await register(bench, mallory, 'dev-m')).status, 200, 'mallory registers her own devices');

    // The owner re-links (a new token of the same account) and re-registers: allowed, a new key.
    const aliceAgain = await linkedBy(bench, 'alice@example.com');
    assert.equal((await register(bench, aliceAgain, 'dev-b')).status, 200);
    assert.notDeepEqual(Buffer.from(bench.registration.registry.get('dev-b')!.aesKey), keyBefore);
  } finally {
    await bench.close();
  }
});

test('code pairs are rate-limited per address and bounded; the /code page refuses bulk guessing; over-long fields are refused', async () => {
  const bench = await startBench({ lwa: { codePairsPerMinute: 5, maxLiveCodePairs: 7, codeAttemptsPerMinute: 10 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await postForm(bench, '/auth/o2/create/codepair', codePairForm())).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    const refused = await postForm(bench, '/auth/o2/create/codepair', codePairForm());
    assert.equal(refused.json.error, 'rate_limited');

    const guesses: number[] = [];
    for (let i = 0; i < 14; i++) guesses.push((await postForm(bench, '/code', { user_code: `ZZZZ${String(i).padStart(2, '2')}`, decision: 'approve' })).status);
    assert.deepEqual(guesses, [...Array(10).fill(400), ...Array(4).fill(429)]);

    const long = await postForm(bench, '/auth/o2/token', { grant_type: 'device_code', device_code: 'd'.repeat(FIELD_LIMITS.device_code + 1), user_code: 'ABCDEF' });
    assert.equal(long.status, 400);
    assert.deepEqual(long.json, { error: 'invalid_request', error_description: `device_code expected at most ${FIELD_LIMITS.device_code} characters, got ${FIELD_LIMITS.device_code + 1}` });
  } finally {
    await bench.close();
  }
  const bounded = await startBench({ lwa: { codePairsPerMinute: 100, maxLiveCodePairs: 3 } });
  try {
    const serial = 'S'.repeat(60_000);
    const huge = await postForm(bounded, '/auth/o2/create/codepair', codePairForm({ scope_data: JSON.stringify({ 'alexa:all': { productID: 'ais_test_speaker', productInstanceAttributes: { deviceSerialNumber: serial } } }) }));
    assert.equal(huge.status, 400);
    assert.equal(huge.json.error, 'invalid_request');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postForm(bounded, '/auth/o2/create/codepair', codePairForm())).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429], 'at most 3 live at once');
    await sleep(1600); // the bench's code lifetime is 1.5 s: expired pairs make room
    assert.equal((await postForm(bounded, '/auth/o2/create/codepair', codePairForm())).status, 200);
  } finally {
    await bounded.close();
  }
});
