// The LWA emulator over a real HTTPS socket, driven with raw form requests (the device's side is in
// test/ais/linking.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LwaEmulator, LWA_STATE_FILE } from '../../emulator/lwa.js';
import { LWA_CLIENT_ID, PRODUCT_ID, codePairForm, postForm, postRaw, sleep, startBench, type Bench } from '../support/account.js';

async function codePair(bench: Bench): Promise<{ device_code: string; user_code: string; verification_uri: string; expires_in: number; interval: number }> {
  const answer = await postForm(bench, '/auth/o2/create/codepair', codePairForm());
  assert.equal(answer.status, 200, answer.text);
  return answer.json;
}

function poll(bench: Bench, pair: { device_code: string; user_code: string }) {
  return postForm(bench, '/auth/o2/token', { grant_type: 'device_code', device_code: pair.device_code, user_code: pair.user_code });
}

test('a code pair answers a device code, a 6-character user code, this server\'s /code page, expires_in and interval in seconds', async () => {
  const bench = await startBench({ lwa: { codeLifetimeMs: 800, pollIntervalMs: 100 } });
  try {
    const answer = await postForm(bench, '/auth/o2/create/codepair', codePairForm());
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(answer.json).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri']);
    assert.match(answer.json.device_code, /^[0-9a-f-]{36}$/);
    assert.match(answer.json.user_code, /^[A-HJ-NP-Z2-9]{6}$/);
    assert.equal(answer.json.verification_uri, `${bench.url}/code`);
    assert.equal(answer.json.expires_in, 0.8);
    assert.equal(answer.json.interval, 0.1);
    assert.deepEqual(bench.lwa.pendingUserCodes(), [answer.json.user_code]);
  } finally {
    await bench.close();
  }
});

test('code pair requests that LWA refuses get HTTP 400 with the error and a description', async () => {
  const bench = await startBench();
  try {
    const cases: [Record<string, string>, string, string][] = [
      [codePairForm({ client_id: 'amzn1.application-oa2-client.unknown' }), 'invalid_client', 'client_id "amzn1.application-oa2-client.unknown" is not a registered LWA client'],
      [codePairForm({ response_type: 'code' }), 'unsupported_response_type', 'response_type device_code expected, got "code"'],
      [codePairForm({ scope: 'profile' }), 'invalid_scope', 'scope alexa:all expected, got "profile"'],
      [codePairForm({ scope_data: '{"alexa:all":' }), 'invalid_request', 'scope_data expected JSON, got text that does not parse'],
      [codePairForm({ scope_data: JSON.stringify({ 'alexa:all': { productID: 'other', productInstanceAttributes: { deviceSerialNumber: 'x' } } }) }),
        'invalid_scope', `productID "other" is not a product of client ${LWA_CLIENT_ID}`],
      [codePairForm({ scope_data: JSON.stringify({ 'alexa:all': { productID: PRODUCT_ID } }) }),
        'invalid_request', 'scope_data["alexa:all"].productInstanceAttributes.deviceSerialNumber expected a non-empty string'],
      [{ response_type: 'device_code', scope: 'alexa:all' }, 'invalid_request', 'client_id parameter missing'],
    ];
    for (const [form, error, description] of cases) {
      const answer = await postForm(bench, '/auth/o2/create/codepair', form);
      assert.equal(answer.status, 400, description);
      assert.deepEqual(answer.json, { error, error_description: description });
    }
    const repeated = await postRaw(bench, '/auth/o2/create/codepair', new URLSearchParams(codePairForm()).toString() + '&scope=alexa:all', 'application/x-www-form-urlencoded');
    assert.deepEqual(repeated.json, { error: 'invalid_request', error_description: 'parameter scope given more than once' });
    const json = await postRaw(bench, '/auth/o2/create/codepair', JSON.stringify(codePairForm()));
    assert.deepEqual(json.json, { error: 'invalid_request', error_description: 'content-type application/x-www-form-urlencoded expected, got "application/json"' });
    const get = await postRaw(bench, '/auth/o2/token', '', 'text/plain', 'GET');
    assert.equal(get.status, 405);
    assert.deepEqual(get.json, { error: 'invalid_request', error_description: 'POST expected, got GET' });
    assert.deepEqual(bench.lwa.pendingUserCodes(), []);
  } finally {
    await bench.close();
  }
});

test('polling answers authorization_pending, then after approve() the tokens once, then invalid_code_pair', async () => {
  const bench = await startBench();
  try {
    const pair = await codePair(bench);
    await sleep(110);
    const pending = await poll(bench, pair);
    assert.equal(pending.status, 400);
    assert.deepEqual(pending.json, { error: 'authorization_pending', error_description: 'the user has not entered the code yet' });
    assert.equal(bench.lwa.approve(pair.user_code.toLowerCase().slice(0, 3) + '-' + pair.user_code.slice(3)), true);
    assert.equal(bench.lwa.approve(pair.user_code), false, 'a code is decided once');
    await sleep(110);
    const tokens = await poll(bench, pair);
    assert.equal(tokens.status, 200);
    assert.deepEqual(Object.keys(tokens.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.match(tokens.json.access_token, /^Atza\|[A-Za-z0-9_-]{64}$/);
    assert.match(tokens.json.refresh_token, /^Atzr\|[A-Za-z0-9_-]{64}$/);
    assert.equal(tokens.json.token_type, 'bearer');
    assert.equal(tokens.json.expires_in, 3600);
    assert.equal(bench.lwa.validateRefreshToken(LWA_CLIENT_ID, tokens.json.refresh_token), true);
    assert.equal(bench.lwa.validateAccessToken(tokens.json.access_token), true);
    await sleep(110);
    const again = await poll(bench, pair);
    assert.deepEqual(again.json, { error: 'invalid_code_pair', error_description: 'the code pair was already exchanged for tokens' });
  } finally {
    await bench.close();
  }
});

test('a poll sooner than the interval after the code pair or the previous poll answers slow_down', async () => {
  const bench = await startBench({ lwa: { pollIntervalMs: 300 } });
  try {
    const pair = await codePair(bench);
    const early = await poll(bench, pair);
    assert.equal(early.status, 400);
    assert.equal(early.json.error, 'slow_down');
    assert.match(early.json.error_description, /^polled \d+ ms after the last request; interval is 300 ms$/);
    await sleep(310);
    assert.equal((await poll(bench, pair)).json.error, 'authorization_pending');
    assert.equal((await poll(bench, pair)).json.error, 'slow_down');
  } finally {
    await bench.close();
  }
});

test('deny() makes the next poll answer access_denied', async () => {
  const bench = await startBench();
  try {
    const pair = await codePair(bench);
    assert.equal(bench.lwa.deny(pair.user_code), true);
    await sleep(110);
    const answer = await poll(bench, pair);
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.json, { error: 'access_denied', error_description: 'the user denied the request' });
  } finally {
    await bench.close();
  }
});

test('an expired, unknown or mismatched code pair answers invalid_code_pair, and an expired code cannot be approved', async () => {
  const bench = await startBench({ lwa: { codeLifetimeMs: 200 } });
  try {
    const pair = await codePair(bench);
    const other = await codePair(bench);
    await sleep(110);
    assert.deepEqual((await poll(bench, { device_code: 'nope', user_code: pair.user_code })).json,
      { error: 'invalid_code_pair', error_description: 'unknown device_code' });
    assert.deepEqual((await poll(bench, { device_code: pair.device_code, user_code: other.user_code })).json,
      { error: 'invalid_code_pair', error_description: 'user_code is not the pair of this device_code' });
    await sleep(110);
    assert.equal(bench.lwa.approve(pair.user_code), false);
    assert.deepEqual((await poll(bench, pair)).json,
      { error: 'invalid_code_pair', error_description: 'the code pair has expired; request a new one' });
  } finally {
    await bench.close();
  }
});

test('the refresh grant gives a new access token for the same refresh token; invalid_grant for unknown, revoked or foreign tokens', async () => {
  const bench = await startBench({ lwa: { clients: [{ clientId: LWA_CLIENT_ID, productIds: [PRODUCT_ID] }, { clientId: 'other-client', productIds: [] }] } });
  try {
    const pair = await codePair(bench);
    bench.lwa.approve(pair.user_code);
    await sleep(110);
    const first = (await poll(bench, pair)).json;
    const refresh = await postForm(bench, '/auth/o2/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: LWA_CLIENT_ID });
    assert.equal(refresh.status, 200);
    assert.equal(refresh.json.refresh_token, first.refresh_token);
    assert.notEqual(refresh.json.access_token, first.access_token);
    assert.equal(bench.lwa.validateAccessToken(refresh.json.access_token), true);

    const refused = async (fields: Record<string, string>) => {
      const answer = await postForm(bench, '/auth/o2/token', { grant_type: 'refresh_token', ...fields });
      assert.equal(answer.status, 400);
      return answer.json;
    };
    assert.deepEqual(await refused({ refresh_token: 'Atzr|forged', client_id: LWA_CLIENT_ID }), { error: 'invalid_grant', error_description: 'unknown refresh_token' });
    assert.deepEqual(await refused({ refresh_token: first.refresh_token, client_id: 'other-client' }), { error: 'invalid_grant', error_description: 'the refresh_token was issued to another client' });
    assert.deepEqual(await refused({ refresh_token: first.refresh_token, client_id: 'nobody' }), { error: 'invalid_client', error_description: 'client_id "nobody" is not a registered LWA client' });
    assert.deepEqual(await refused({ refresh_token: first.refresh_token }), { error: 'invalid_request', error_description: 'client_id parameter missing' });
    assert.equal(bench.lwa.validateRefreshToken('other-client', first.refresh_token), false);

    assert.equal(bench.lwa.revoke(first.refresh_token), true);
    assert.equal(bench.lwa.revoke(first.refresh_token), false);
    assert.deepEqual(await refused({ refresh_token: first.refresh_token, client_id: LWA_CLIENT_ID }), { error: 'invalid_grant', error_description: 'the refresh_token was revoked' });
    assert.equal(bench.lwa.validateRefreshToken(LWA_CLIENT_ID, first.refresh_token), false);
    const unsupported = await postForm(bench, '/auth/o2/token', { grant_type: 'password' });
    assert.deepEqual(unsupported.json, { error: 'unsupported_grant_type', error_description: 'grant_type device_code or refresh_token expected, got "password"' });
  } finally {
    await bench.close();
  }
});

test('the /code page shows a form; posting it approves or denies, and an unknown code gets a 400 page with the input escaped', async () => {
  const bench = await startBench();
  try {
    const page = await postRaw(bench, '/code?user_code=%3Cb%3E', '', 'text/plain', 'GET');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.ok(page.text.includes('<form method="post" action="/code">'), page.text);
    assert.ok(page.text.includes('<input name="user_code" value="&#60;b&#62;" autocomplete="off" required>'), page.text);
    assert.ok(page.text.includes('<button type="submit" name="decision" value="approve">Allow</button>'));
    assert.ok(page.text.includes('<button type="submit" name="decision" value="deny">Deny</button>'));

    const pair = await codePair(bench);
    const approved = await postForm(bench, '/code', { user_code: pair.user_code.toLowerCase(), decision: 'approve' });
    assert.equal(approved.status, 200);
    assert.ok(approved.text.includes(`<p>Code ${pair.user_code} approved: the device is linked to your account.</p>`), approved.text);
    await sleep(110);
    assert.equal((await poll(bench, pair)).status, 200);

    const denied = await codePair(bench);
    const deniedPage = await postForm(bench, '/code', { user_code: denied.user_code, decision: 'deny' });
    assert.ok(deniedPage.text.includes(`<p>Code ${denied.user_code} denied: the device is not linked.</p>`));

    const unknown = await postForm(bench, '/code', { user_code: '<script>', decision: 'approve' });
    assert.equal(unknown.status, 400);
    assert.ok(unknown.text.includes('<p>The code &#60;script&#62; is unknown, expired or already used.</p>'), unknown.text);
    assert.ok(!unknown.text.includes('<script>'));
    const noDecision = await postForm(bench, '/code', { user_code: denied.user_code });
    assert.equal(noDecision.status, 400);
    assert.ok(noDecision.text.includes('<p>decision approve or deny expected, got null.</p>'), noDecision.text);
  } finally {
    await bench.close();
  }
});

test('state survives a restart: a new emulator on the same folder honours the refresh token and the pending code', async () => {
  const bench = await startBench({ lwa: { codeLifetimeMs: 5000 } });
  let refreshToken: string;
  let pending: { device_code: string; user_code: string };
  try {
    const pair = await codePair(bench);
    bench.lwa.approve(pair.user_code);
    await sleep(110);
    refreshToken = (await poll(bench, pair)).json.refresh_token;
    pending = await codePair(bench);
  } finally {
    await bench.close();
  }
  const file = JSON.parse(readFileSync(join(bench.dataDir, LWA_STATE_FILE), 'utf8'));
  assert.equal(file.version, 1);
  assert.equal(file.refreshTokens.length, 1);

  const again = await startBench({ dataDir: bench.dataDir, lwa: { codeLifetimeMs: 5000 } });
  try {
    assert.equal(again.lwa.validateRefreshToken(LWA_CLIENT_ID, refreshToken), true);
    assert.deepEqual(again.lwa.pendingUserCodes(), [pending.user_code]);
    assert.equal(again.lwa.approve(pending.user_code), true);
    const tokens = await poll(again, pending);
    assert.equal(tokens.status, 200, tokens.text);
  } finally {
    await again.close();
  }
});

test('constructor options are checked at once', () => {
  assert.throws(() => new LwaEmulator({} as never), { name: 'TypeError', message: 'LwaEmulator options expected {clients: [{clientId, productIds}], ...}' });
  assert.throws(() => new LwaEmulator({ clients: [{ clientId: 'c', productIds: [''] }] }),
    { name: 'TypeError', message: 'LWA client expected {clientId: string, productIds: string[]}, got {"clientId":"c","productIds":[""]}' });
  assert.throws(() => new LwaEmulator({ clients: [], pollIntervalMs: 0 }), { name: 'RangeError', message: 'pollIntervalMs expected a number of ms > 0, got 0' });
  assert.throws(() => new LwaEmulator({ clients: [] }).approve(42 as never), { name: 'TypeError', message: 'userCode expected a string, got number' });
});
