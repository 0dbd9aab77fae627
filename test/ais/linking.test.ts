// Device-side Code-Based Linking (src/ais/linking.ts) against the LWA emulator over real sockets: the Node host
// HttpClient, clock and folder storage on the device side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CodeBasedLinking, LINK_CREDENTIALS_KEY, LinkingError, deleteLinkCredentials, loadLinkCredentials, saveLinkCredentials,
  type CodeBasedLinkingOptions, type CodePair, type LinkCredentials,
} from '../../src/ais/linking.js';
import { nodeHttpClient } from '../../hosts/node/http.js';
import { NodeClock } from '../../hosts/node/clock.js';
import type { RouteHandler } from '../../emulator/http.js';
import { sendJson } from '../../emulator/http.js';
import { captureLogger } from '../support/log.js';
import { recordingClock } from '../support/clock.js';
import { LWA_CLIENT_ID, PRODUCT_ID, SERIAL, deviceStorage, postForm, sleep, startBench, type Bench } from '../support/account.js';

interface Run {
  codes: CodePair[];
  linked: LinkCredentials[];
  errors: LinkingError[];
  lines: string[];
  delays: number[];
  storage: ReturnType<typeof deviceStorage>;
  linking: CodeBasedLinking;
  /** Settles at the first onLinked or onError. */
  done: Promise<void>;
}

function link(bench: Bench, onCode: (code: CodePair, run: Run) => void, overrides: Partial<CodeBasedLinkingOptions> = {}): Run {
  const { log, lines } = captureLogger('ais.linking');
  const clock = recordingClock();
  const storage = deviceStorage();
  let settle!: () => void;
  const run = { codes: [], linked: [], errors: [], lines, delays: clock.delays, storage, done: new Promise<void>((r) => { settle = r; }) } as unknown as Run;
  run.linking = new CodeBasedLinking({
    http: nodeHttpClient, clock, storage, log,
    clientId: LWA_CLIENT_ID, productId: PRODUCT_ID, deviceSerialNumber: SERIAL,
    lwaBaseUrl: bench.url, tls: bench.tls,
    onCode: (code) => { run.codes.push(code); onCode(code, run); },
    onLinked: (credentials) => { run.linked.push(credentials); settle(); },
    onError: (error) => { run.errors.push(error); settle(); },
    ...overrides,
  });
  run.linking.start();
  return run;
}

/** No refresh token, access token or device code in any log line. */
function assertNoSecrets(lines: string[], secrets: string[]): void {
  for (const secret of secrets) {
    for (const line of lines) assert.ok(!line.includes(secret), `a secret of ${secret.length} chars leaked into: ${line}`);
  }
}

/** A handler that lets code-pair requests through and counts token polls, answering them itself when `answer` says so. */
function tokenTap(answer: (poll: number, response: ServerResponse) => boolean): RouteHandler & { polls: number } {
  const tap = ((request: IncomingMessage, response: ServerResponse) => {
    if (request.url !== '/auth/o2/token') return false;
    tap.polls++;
    return answer(tap.polls, response);
  }) as unknown as RouteHandler & { polls: number };
  tap.polls = 0;
  return tap;
}

test('the device links when the user approves: it shows the code, polls at the interval and stores the refresh token', async () => {
  const tap = tokenTap(() => false);
  const bench = await startBench({ before: [tap] });
  try {
    // Approved after three pending polls, counted rather than timed: a loaded machine polls late, not fewer times.
    const approveAfterPolls = (userCode: string): void => {
      if (tap.polls >= 3) assert.equal(bench.lwa.approve(userCode), true);
      else setTimeout(() => approveAfterPolls(userCode), 10);
    };
    const run = link(bench, (code) => approveAfterPolls(code.userCode));
    await run.done;
    assert.equal(run.errors.length, 0, run.errors[0]?.message);
    assert.equal(run.codes.length, 1);
    assert.match(run.codes[0].userCode, /^[A-HJ-NP-Z2-9]{6}$/);
    assert.equal(run.codes[0].verificationUri, `${bench.url}/code`);
    assert.equal(run.codes[0].expiresInMs, 1500);
    assert.equal(run.linked.length, 1);
    const { refreshToken, clientId } = run.linked[0];
    assert.equal(clientId, LWA_CLIENT_ID);
    assert.equal(bench.lwa.validateRefreshToken(LWA_CLIENT_ID, refreshToken), true);
    assert.deepEqual(loadLinkCredentials(run.storage), { refreshToken, clientId: LWA_CLIENT_ID });
    assert.deepEqual(JSON.parse(Buffer.from(run.storage.get(LINK_CREDENTIALS_KEY)!).toString()), { refreshToken, clientId: LWA_CLIENT_ID });
    assert.ok(tap.polls >= 3, `pending polls before the approval, got ${tap.polls} polls`);
    assert.deepEqual(run.delays, new Array(tap.polls).fill(100), 'one timer per poll, each the interval');
    assert.ok(run.lines.some((line) => line.startsWith(`INFO [ais.linking] linked after ${tap.polls} polls: refresh token <redacted ${refreshToken.length} chars> stored under ais.lwa`)), run.lines.join('\n'));
    assertNoSecrets(run.lines, [refreshToken]);
    await sleep(150);
    assert.equal(tap.polls, run.delays.length, 'no poll after linking');
  } finally {
    await bench.close();
  }
});

test('the device links when the user approves on the emulator\'s /code page, over plain HTTP too', async () => {
  for (const https of [true, false]) {
    const bench = await startBench({ https });
    try {
      const pages: number[] = [];
      const run = link(bench, (code) => {
        void postForm(bench, '/code', { user_code: code.userCode, decision: 'approve' }).then((page) => pages.push(page.status));
      });
      await run.done;
      assert.equal(run.errors.length, 0, run.errors[0]?.message);
      assert.deepEqual(pages, [200]);
      assert.equal(run.codes[0].verificationUri, `${https ? 'https' : 'http'}://127.0.0.1:${new URL(bench.url).port}/code`);
      assert.equal(bench.lwa.validateRefreshToken(LWA_CLIENT_ID, run.linked[0].refreshToken), true);
    } finally {
      await bench.close();
    }
  }
});

test('a denial ends linking with access_denied and stores nothing', async () => {
  const bench = await startBench();
  try {
    const run = link(bench, (code) => bench.lwa.deny(code.userCode));
    await run.done;
    assert.equal(run.linked.length, 0);
    assert.equal(run.errors.length, 1);
    assert.equal(run.errors[0].code, 'access_denied');
    assert.equal(run.errors[0].status, 400);
    assert.equal(run.errors[0].message, 'the user denied the link: access_denied (the user denied the request) (HTTP 400)');
    assert.equal(loadLinkCredentials(run.storage), undefined);
    assert.ok(run.lines.includes('ERROR [ais.linking] the user denied the link: access_denied (the user denied the request) (HTTP 400)'));
  } finally {
    await bench.close();
  }
});

test('an expired code pair ends linking with invalid_code_pair when no restart is allowed', async () => {
  const bench = await startBench({ lwa: { codeLifetimeMs: 300 } });
  try {
    const started = Date.now();
    const run = link(bench, () => {});
    await run.done;
    assert.equal(run.errors.length, 1);
    assert.equal(run.errors[0].code, 'invalid_code_pair');
    assert.equal(run.errors[0].message, 'LWA ended the code pair: invalid_code_pair (the code pair has expired; request a new one) (HTTP 400); the code expired or is unknown, link again');
    assert.ok(Date.now() - started >= 300, 'not before expiry');
    assert.equal(run.codes.length, 1);
    assert.equal(loadLinkCredentials(run.storage), undefined);
  } finally {
    await bench.close();
  }
});

test('with a restart allowed, an expired code pair is replaced by a new one, which the user approves', async () => {
  const bench = await startBench({ lwa: { codeLifetimeMs: 300 } });
  try {
    const run = link(bench, (code, r) => { if (r.codes.length === 2) bench.lwa.approve(code.userCode); }, { restartsOnInvalidCodePair: 1 });
    await run.done;
    assert.equal(run.errors.length, 0, run.errors[0]?.message);
    assert.equal(run.codes.length, 2);
    assert.notEqual(run.codes[0].userCode, run.codes[1].userCode);
    assert.equal(run.linked.length, 1);
    assert.ok(run.lines.some((l) => l.startsWith('WARN [ais.linking] LWA ended the code pair: invalid_code_pair') && l.endsWith('asking for a new code pair (0 restarts left after this one)')), run.lines.join('\n'));
  } finally {
    await bench.close();
  }
});

test('on slow_down the device adds the increment to its interval for every later poll', async () => {
  const tap = tokenTap((poll, response) => {
    if (poll !== 1) return false;
    sendJson(response, 400, { error: 'slow_down', error_description: 'injected' });
    return true;
  });
  const bench = await startBench({ before: [tap] });
  try {
    const run = link(bench, (code) => { setTimeout(() => bench.lwa.approve(code.userCode), 400); }, { slowDownIncrementMs: 150 });
    await run.done;
    assert.equal(run.errors.length, 0, run.errors[0]?.message);
    assert.equal(run.delays[0], 100);
    assert.ok(run.delays.length >= 3, `polls: ${run.delays.join(', ')}`);
    assert.deepEqual(run.delays.slice(1), new Array(run.delays.length - 1).fill(250));
    assert.deepEqual(run.lines.filter((l) => l.includes('slow down')), ['WARN [ais.linking] LWA asks to slow down: polling every 250 ms'],
      'the emulator, which enforces the interval, never had to ask');
  } finally {
    await bench.close();
  }
});

test('the default slow_down increment is LWA\'s 5 s', async () => {
  const tap = tokenTap((_poll, response) => {
    sendJson(response, 400, { error: 'slow_down', error_description: 'injected' });
    return true;
  });
  const bench = await startBench({ before: [tap] });
  try {
    const run = link(bench, () => {});
    while (run.delays.length < 2) await sleep(20);
    run.linking.close();
    assert.deepEqual(run.delays, [100, 5100]);
  } finally {
    await bench.close();
  }
});

test('5xx answers and bodies that are not LWA\'s are transient; the local deadline then ends linking with expired', async () => {
  const tap = tokenTap((poll, response) => {
    if (poll % 2 === 1) sendJson(response, 503, { message: 'unavailable' });
    else {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html>bad gateway</html>');
    }
    return true;
  });
  const bench = await startBench({ before: [tap], lwa: { codeLifetimeMs: 300 } });
  try {
    const run = link(bench, () => {});
    await run.done;
    assert.equal(run.errors.length, 1);
    assert.equal(run.errors[0].code, 'expired');
    assert.equal(run.errors[0].message, `code pair expired: no token from LWA within expires_in plus one interval (${tap.polls} polls)`);
    assert.ok(tap.polls >= 3, `polls ${tap.polls}`);
    assert.ok(run.lines.includes('WARN [ais.linking] token poll 1: HTTP 503 without an LWA error body, polling on'), run.lines.join('\n'));
    assert.ok(run.lines.includes('WARN [ais.linking] token poll 2: HTTP 502 without an LWA error body, polling on'));
  } finally {
    await bench.close();
  }
});

test('code pair failures end linking at once: invalid_client from LWA, a network error, a malformed answer', async () => {
  const bench = await startBench();
  try {
    const unknown = link(bench, () => {}, { clientId: 'amzn1.application-oa2-client.nobody' });
    await unknown.done;
    assert.equal(unknown.errors[0].code, 'invalid_client');
    assert.equal(unknown.errors[0].message, 'LWA refused the code pair request: invalid_client (client_id "amzn1.application-oa2-client.nobody" is not a registered LWA client) (HTTP 400)');
  } finally {
    await bench.close();
  }
  const closed = link(bench, () => {});
  await closed.done;
  assert.equal(closed.errors[0].code, 'network');
  assert.match(closed.errors[0].message, /^LWA code pair request failed: HTTP POST https:\/\/127\.0\.0\.1:\d+\/auth\/o2\/create\/codepair\b.*ECONNREFUSED/);

  const malformed = await startBench({
    before: [(request, response) => {
      if (request.url !== '/auth/o2/create/codepair') return false;
      sendJson(response, 200, { device_code: 'd', user_code: 'U', verification_uri: 'https://x/code', expires_in: '600', interval: 5 });
      return true;
    }],
  });
  try {
    const run = link(malformed, () => {});
    await run.done;
    assert.equal(run.errors[0].code, 'malformed_response');
    assert.equal(run.errors[0].message, 'LWA code pair response: expires_in (seconds, > 0 and <= 86400) expected, got a string of 3 chars');
    assert.equal(run.codes.length, 0);
  } finally {
    await malformed.close();
  }
});

test('a 200 token answer without a refresh token, or cut short, ends linking with malformed_response and quotes no token', async () => {
  let truncated = false;
  const tap = tokenTap((_poll, response) => {
    if (!truncated) sendJson(response, 200, { access_token: 'Atza|x', token_type: 'bearer', expires_in: 3600 });
    else {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"access_token":"Atza|leak","refresh_token":"Atzr|leak');
    }
    return true;
  });
  const bench = await startBench({ before: [tap] });
  try {
    const run = link(bench, () => {});
    await run.done;
    assert.equal(run.errors[0].code, 'malformed_response');
    assert.equal(run.errors[0].message, 'LWA token response: refresh_token (a string of 1-4096 chars) expected, got nothing');
    assert.equal(loadLinkCredentials(run.storage), undefined);

    truncated = true;
    const cut = link(bench, () => {});
    await cut.done;
    assert.equal(cut.errors[0].message, 'LWA token response: JSON expected, got 54 bytes that are not');
    assertNoSecrets(cut.lines, ['leak']);
  } finally {
    await bench.close();
  }
});

test('close() during polling stops it: no poll and no callback afterwards', async () => {
  const bench = await startBench();
  try {
    const run = link(bench, (code, r) => { setTimeout(() => { r.linking.close(); bench.lwa.approve(code.userCode); }, 150); });
    await sleep(450);
    const polls = run.delays.length;
    assert.ok(polls >= 1 && polls <= 2, `polls before close: ${polls}`);
    await sleep(250);
    assert.equal(run.delays.length, polls);
    assert.equal(run.linked.length + run.errors.length, 0);
    run.linking.close(); // twice is safe
  } finally {
    await bench.close();
  }
});

test('options are checked at once and start() runs once', () => {
  const { log } = captureLogger('ais.linking');
  const base: CodeBasedLinkingOptions = {
    http: nodeHttpClient, clock: new NodeClock(), storage: deviceStorage(), log,
    clientId: LWA_CLIENT_ID, productId: PRODUCT_ID, deviceSerialNumber: SERIAL,
    onCode() {}, onLinked() {}, onError() {},
  };
  assert.throws(() => new CodeBasedLinking({ ...base, onCode: undefined as never }), { name: 'TypeError', message: 'options.onCode expected a function, got undefined' });
  assert.throws(() => new CodeBasedLinking({ ...base, clientId: '' }), { name: 'RangeError', message: 'options.clientId expected 1-512 characters, got 0' });
  assert.throws(() => new CodeBasedLinking({ ...base, productId: 7 as never }), { name: 'TypeError', message: 'options.productId expected a string, got number' });
  assert.throws(() => new CodeBasedLinking({ ...base, lwaBaseUrl: 'ftp://x' }), { name: 'TypeError', message: 'options.lwaBaseUrl expected an http:// or https:// URL without query, got "ftp://x"' });
  assert.throws(() => new CodeBasedLinking({ ...base, slowDownIncrementMs: -1 }), { name: 'RangeError', message: 'options.slowDownIncrementMs expected an integer >= 0, got -1' });
  assert.throws(() => new CodeBasedLinking({ ...base, restartsOnInvalidCodePair: 0.5 }), { name: 'RangeError', message: 'options.restartsOnInvalidCodePair expected an integer >= 0, got 0.5' });
  const linking = new CodeBasedLinking({ ...base, lwaBaseUrl: 'http://127.0.0.1:9' });
  linking.start();
  assert.throws(() => linking.start(), { name: 'Error', message: 'CodeBasedLinking.start() called twice; make a new instance to link again' });
  linking.close();
});

test('link credentials round-trip through storage; a damaged record is an error naming the key', () => {
  const storage = deviceStorage();
  assert.equal(loadLinkCredentials(storage), undefined);
  saveLinkCredentials(storage, { refreshToken: 'Atzr|abc', clientId: 'client' });
  assert.deepEqual(loadLinkCredentials(storage), { refreshToken: 'Atzr|abc', clientId: 'client' });
  deleteLinkCredentials(storage);
  assert.equal(loadLinkCredentials(storage), undefined);
  storage.set(LINK_CREDENTIALS_KEY, new Uint8Array(Buffer.from('{"refreshToken":1}')));
  assert.throws(() => loadLinkCredentials(storage), { message: 'stored link credentials "ais.lwa" are malformed: {refreshToken, clientId} strings expected' });
  storage.set(LINK_CREDENTIALS_KEY, new Uint8Array(Buffer.from('{"refreshToken":"Atzr|secret')));
  assert.throws(() => loadLinkCredentials(storage), { message: 'stored link credentials "ais.lwa" are malformed: not UTF-8 JSON (28 bytes)' });
  assert.throws(() => saveLinkCredentials(storage, { refreshToken: '', clientId: 'c' }), { name: 'RangeError', message: 'refreshToken expected 1-4096 characters, got 0' });
});
