// The dashboard's door and its actions over plain HTTP, without a browser: nothing but the page without the
// operator password, a wrong one refused and logged without the guess, a session cookie the browser keeps to
// itself, actions checked (a clear refusal for bad input) and each one logged on one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud } from '../../emulator/cloud.js';
import { waveform } from '../../emulator/dashboard/monitor.js';
import { captureLogger } from '../support/log.js';

test('dashboard access: the password is required, wrong ones are refused, actions are checked', async () => {
  const log = captureLogger('cloud', 'info');
  const cloud = await startCloud({ voice: false, log: log.log, mqttWebSocketPort: 0, dashboard: { password: 'right-password' } });
  const url = cloud.dashboard!.url;
  try {
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="dashboard.js">/);
    assert.equal((await fetch(`${url}api/events`)).status, 401);
    const unsigned = await fetch(`${url}api/action`, { method: 'POST', body: JSON.stringify({ action: 'rotate', id: 'x' }) });
    assert.equal(unsigned.status, 401);

    const wrong = await fetch(`${url}api/login`, { method: 'POST', body: JSON.stringify({ password: 'guess-123' }) });
    assert.equal(wrong.status, 401);
    assert.ok(log.lines.some((l) => /dashboard: wrong operator password from 127\.0\.0\.1$/.test(l)), log.lines.join('\n'));
    assert.ok(!log.lines.some((l) => l.includes('guess-123') || l.includes('right-password')));

    const login = await fetch(`${url}api/login`, { method: 'POST', body: JSON.stringify({ password: 'right-password' }) });
    assert.equal(login.status, 204);
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^ais_dashboard=[\w-]{32}; HttpOnly; SameSite=Strict; Path=\/$/);
    const cookie = setCookie.split(';')[0];
    const act = async (body: unknown) => {
      const response = await fetch(`${url}api/action`, { method: 'POST', headers: { cookie }, body: JSON.stringify(body) });
      return { status: response.status, reply: await response.json() as { ok: boolean; message: string } };
    };
    assert.deepEqual(await act({ action: 'explode' }), { status: 400, reply: { ok: false, message: 'unknown action "explode" (approve, deny, rotate, timer, cancel, disconnect, say, notify)' } });
    assert.deepEqual(await act({ action: 'approve', code: 'NOPE12' }), { status: 400, reply: { ok: false, message: 'no pending code NOPE12' } });
    assert.deepEqual(await act({ action: 'timer', id: 'nobody', seconds: 5 }), { status: 400, reply: { ok: false, message: 'no device nobody' } });
    assert.deepEqual(await act({ action: 'say', id: 'nobody', text: 'hello' }), { status: 400, reply: { ok: false, message: 'voice is off (pocketsphinx not found)' } });
    assert.deepEqual(await act({ action: 'notify', id: 'nobody', text: 'hello' }), { status: 400, reply: { ok: false, message: 'no device nobody' } });
    assert.deepEqual((await act('not an object')).status, 400);
    assert.ok(log.lines.some((l) => l.endsWith('dashboard: refused: no pending code NOPE12')), log.lines.join('\n'));

    // The device in the browser: its modules and config, nothing outside the folders it may read.
    assert.equal((await fetch(`${url}device/build/src/app/device.js`)).status, 200);
    assert.equal((await fetch(`${url}device/build/src/%2e%2e/%2e%2e/emulator/main.js`)).status, 404);
    assert.equal((await fetch(`${url}device/build/src/app/device.d.ts`)).status, 404);
    assert.equal((await fetch(`${url}device/config.json?id=no%20spaces`)).status, 400);
    const config = await (await fetch(`${url}device/config.json?id=browser-1`)).json() as { device: { iotClientId: string; lwa: { baseUrl: string } }; mqttWebSocketUrl: string };
    assert.equal(config.device.iotClientId, 'browser-1');
    assert.equal(`${config.device.lwa.baseUrl}/`, url);
    assert.equal(config.mqttWebSocketUrl, cloud.mqttWebSocketUrl);

  } finally {
    await cloud.close();
  }
});

test('waveform: the peak of each slice, 0..1000, at most the asked number of points', () => {
  const pcm = new Int16Array(1000);
  pcm[10] = -32768;
  pcm[990] = 16384;
  const peaks = waveform(pcm, 10);
  assert.deepEqual(peaks, [1000, 0, 0, 0, 0, 0, 0, 0, 0, 500]);
  assert.deepEqual(waveform(new Int16Array(3), 10), [0, 0, 0]);
  assert.deepEqual(waveform(new Int16Array(0)), []);
});
