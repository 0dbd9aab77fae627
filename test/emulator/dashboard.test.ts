// The emulator's web dashboard in headless chromium, through the real page: the operator signs in with the
// password, a device (`npm run device`, a separate process) asks to be linked and the operator approves its code on
// the page; the page shows it connected with its ring, then a spoken turn (a WAV said by the device): what the
// cloud heard, its answer, the latency and both waveforms, and the protocol trace, filterable and with no secret
// in it. The operator's actions: a text said on its speaker, a secret rotation, a timer with its countdown and card, a
// notification with its indicator; the device's connected endpoints. UPDATE_SCREENSHOTS=1 writes docs/figures/dashboard.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../../hosts/node/wav.js';
import { startCloud } from '../../emulator/cloud.js';
import { concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import { captureLogger } from '../support/log.js';
import { fromRoot } from '../support/paths.js';
import { requirePocketsphinx } from './voice/tools.js';
import { launchChromium, requireChromium } from '../support/chromium.js';
import type { Page } from 'playwright-core';

test('dashboard: sign in, approve a device\'s code on the page, see it connect and a spoken turn with waveforms and its trace', async (t) => {
  const browserPath = requireChromium(t);
  if (!browserPath || !requirePocketsphinx(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ais-dashboard-'));
  const synthesizer = await SpeechSynthesizer.create();
  writeWav(join(dir, 'ask.wav'), concat(silence(4000), synthesizer.synthesize("what's your name", USER_VOICES['us-female']), silence(8000)));
  const cloudLog = captureLogger('cloud', 'info');
  const cloud = await startCloud({ pollIntervalMs: 100, log: cloudLog.log, dashboard: { password: 'operator-test-password' } });
  const browser = await launchChromium(browserPath);
  let output = '';
  let page: Page | undefined;
  const child = spawn(process.execPath, [fromRoot('build/hosts/node/main.js'),
    '--cloud', cloud.httpUrl, '--mqtt-port', String(cloud.mqttPort), '--client-id', 'kitchen-1', '--data-dir', join(dir, 'data'),
    '--say', join(dir, 'ask.wav')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  try {
    page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    page.on('pageerror', (error) => { output += `page error: ${error.message}\n`; });
    await page.goto(cloud.dashboard!.url);
    // Nothing without the password: the event stream refuses, the page asks for it.
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#password', 'not-the-password');
    await page.click('#login button');
    await page.locator('#login-error', { hasText: 'wrong operator password' }).waitFor();
    await page.fill('#password', 'operator-test-password');
    await page.click('#login button');
    await page.locator('#status', { hasText: 'live' }).waitFor();

    // The device shows its code; the operator approves it on the page.
    const code = /enter the code (\w+)/;
    const deadline = Date.now() + 15_000;
    while (!code.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const userCode = code.exec(output)?.[1];
    assert.ok(userCode, `the device shows a code\n${output}`);
    await page.locator(`#codes li[data-code="${userCode}"] button`).click();
    const card = page.locator('article.device[data-device="kitchen-1"]');
    await card.locator('.connection', { hasText: 'connected' }).waitFor({ timeout: 20_000 });
    assert.match(await card.locator('.details').textContent() ?? '', /locale en-US · endpoint 127\.0\.0\.1/);

    // The spoken turn: heard, answered, latency, both waveforms; the ring went through LISTENING on the way.
    const states = new Set<string>();
    const watch = setInterval(() => void card.getAttribute('data-attention').then((s) => s && states.add(s), () => undefined), 50);
    const turn = card.locator('.turns li.turn').first();
    await turn.locator('.latency').waitFor({ timeout: 60_000 });
    await page.locator('article.device[data-device="kitchen-1"][data-attention="IDLE"]').waitFor({ timeout: 30_000 });
    clearInterval(watch);
    assert.equal(await turn.locator('.heard').textContent(), 'heard: "what\'s your name"');
    assert.match(await turn.locator('.answer').textContent() ?? '', /^answer: ".+" \(name\)$/);
    assert.match(await turn.locator('.latency').textContent() ?? '', /^end of speech → first audio: \d+ ms$/);
    assert.equal(await turn.locator('svg.wave.uplink path').count(), 1);
    assert.equal(await turn.locator('svg.wave.speaker path').count(), 1);
    for (const state of ['LISTENING', 'SPEAKING']) assert.ok(states.has(state), `the ring showed ${state} (saw ${[...states].join(', ')})`);

    // The trace: both directions, filterable, no secret in it.
    const trace = card.locator('pre.trace');
    const all = await trace.textContent() ?? '';
    assert.match(all, /← connection\/fromclient Connect/);
    assert.match(all, /→ directive #\d+ SetAttentionState/);
    assert.doesNotMatch(all, /lwaRefreshToken|aesKey|"newSecret":"[^<]/);
    await card.locator('select.direction').selectOption('→');
    await card.locator('input.filter').fill('OpenSpeaker');
    const filtered = (await trace.textContent() ?? '').split('\n');
    assert.ok(filtered.length >= 1 && filtered.every((line) => /→ directive #\d+ .*OpenSpeaker/.test(line)), filtered.join('\n'));
    await card.locator('select.direction').selectOption('');
    await card.locator('input.filter').fill('');

    // Operator actions: a text said on the device's speaker (listed as a turn, played: the ring speaks), a secret
    // rotation the device confirms, and a timer shown with its countdown.
    await card.locator('input.say-text').fill('hello from the operator');
    await card.locator('button[data-action="say"]').click();
    await card.locator('.turns li.turn .said', { hasText: 'operator had it say "hello from the operator"' }).waitFor();
    await page.locator('article.device[data-device="kitchen-1"][data-attention="SPEAKING"]').waitFor({ timeout: 20_000 });
    await page.locator('article.device[data-device="kitchen-1"][data-attention="IDLE"]').waitFor({ timeout: 20_000 });
    await card.locator('button[data-action="rotate"]').click();
    await page.locator('#action-result', { hasText: 'RotateSecret sent to kitchen-1' }).waitFor();
    await card.locator('pre.trace', { hasText: /SecretRotated/ }).waitFor({ timeout: 10_000 });
    assert.match(await card.locator('pre.trace').textContent() ?? '', /RotateSecret \{.*"newSecret":"<redacted \d+ chars>"/);

    await card.locator('input.seconds').fill('120');
    await card.locator('button[data-action="timer"]').click();
    await page.locator('#action-result', { hasText: 'timer' }).waitFor();
    await card.locator('.alerts li', { hasText: /TIMER 120 second \(\w{8}\): in 1[12]\d s/ }).waitFor();
    // The device's card (now the timer's), its connected endpoints, and a notification with its indicator.
    await card.locator('.card-line', { hasText: /^card: \[Timer\] 120 second, due \d\d:\d\d:\d\d UTC$/ }).waitFor();
    await card.locator('.endpoints li[data-endpoint="lamp"]', { hasText: 'lamp: off, 100 %' }).waitFor();
    await card.locator('.endpoints li[data-endpoint="light ring"]', { hasText: 'light ring: on, 100 %' }).waitFor();
    await card.locator('input.notify-text').fill('Your parcel has arrived');
    await card.locator('button[data-action="notify"]').click();
    await page.locator('#action-result', { hasText: 'notification for kitchen-1: 1 unread' }).waitFor();
    await card.locator('.endpoints li.notifications', { hasText: '1 unread notification(s): Your parcel has arrived' }).waitFor();
    await page.locator('article.device[data-device="kitchen-1"][data-attention="NOTIFICATION_AVAILABLE"]').waitFor({ timeout: 10_000 });
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: fromRoot('docs/figures/dashboard.png'), fullPage: true });
  } catch (error) {
    if (process.env.DUMP_OUTPUT) console.error(`${output}\n${cloudLog.lines.join('\n')}\n${await page?.content()}`);
    throw error;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await browser.close();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
