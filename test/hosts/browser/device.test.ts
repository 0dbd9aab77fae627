// The device in the browser (hosts/browser) in headless chromium: the same src/ as on the MCU, served by the
// emulator as ES modules, links with the code it shows (approved as the user would), registers, connects over MQTT
// over WebSocket and, tapped, completes a spoken turn from a WAV chromium feeds as its microphone
// (--use-file-for-fake-audio-capture, looped), then plays the answer. UPDATE_SCREENSHOTS=1 writes
// docs/figures/browser-device.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { writeWav } from '../../../hosts/node/wav.js';
import { startCloud } from '../../../emulator/cloud.js';
import { concat, silence } from '../../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../../emulator/voice/virtual-device.js';
import { captureLogger } from '../../support/log.js';
import { fromRoot } from '../../support/paths.js';
import { until } from '../../support/wait.js';
import { launchChromium, requireChromium } from '../../support/chromium.js';
import { requirePocketsphinx } from '../../emulator/voice/tools.js';

test('browser device: links, connects over MQTT over WebSocket, and completes a spoken turn from the fake microphone', async (t) => {
  const browserPath = requireChromium(t);
  if (!browserPath || !requirePocketsphinx(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ais-browser-device-'));
  const synthesizer = await SpeechSynthesizer.create();
  // The file loops: the question, then 3 s of silence in which the test taps.
  const wav = join(dir, 'mic.wav');
  writeWav(wav, concat(synthesizer.synthesize("what's your name", USER_VOICES['us-female']), silence(48000)));
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const cloudLog = captureLogger('cloud', 'info');
  const cloud = await startCloud({
    pollIntervalMs: 100, log: cloudLog.log, mqttWebSocketPort: 0, dashboard: { password: 'unused-here' },
    voice: { onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
  });
  const browser = await launchChromium(browserPath, [`--use-file-for-fake-audio-capture=${wav}`]);
  let output = '';
  let page: Page | undefined;
  try {
    page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    page.on('console', (m) => { output += `${m.text()}\n`; });
    page.on('pageerror', (error) => { output += `page error: ${error.message}\n`; });
    await page.goto(cloud.dashboard!.deviceUrl!);
    await page.click('#start');
    const code = page.locator('#code');
    await code.filter({ hasText: /\w{6}/ }).waitFor({ timeout: 20_000 });
    assert.ok(cloud.lwa.approve((await code.textContent())!));
    await page.locator('body[data-state="ready"]').waitFor({ timeout: 20_000 });
    const id = (await page.locator('#id').textContent())!;
    assert.match(id, /^browser-[0-9a-f]{8}$/);
    assert.ok(cloud.service.isConnected(id));

    // Tap in the silence after the question, so the next round of the file is the whole question.
    const peak = async () => Number(await page!.locator('body').getAttribute('data-mic-peak'));
    const deadline = Date.now() + 15_000;
    while (await peak() < 0.05 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    while (await peak() >= 0.01 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await page.click('#talk');
    await until('the answer', () => answers.length > 0, 30_000);
    assert.equal(transcripts[0].text, "what's your name");
    assert.equal(answers[0].intent, 'name');
    // The answer plays on the page's speaker, then the ring goes back to IDLE.
    await page.locator('body[data-attention="SPEAKING"]').waitFor({ timeout: 20_000 });
    await page.locator('body[data-attention="IDLE"]').waitFor({ timeout: 30_000 });
    // IDLE comes when the last frame went to the audio port; the port's queue (up to 2 s) plays on after it.
    const played = async () => Number(await page!.locator('body').getAttribute('data-played-frames'));
    const frames = answers[0].opusFrames.length;
    const end = Date.now() + 10_000;
    while (await played() < frames && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await played() >= frames, `${await played()} frames played of the answer's ${frames}`);
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: fromRoot('docs/figures/browser-device.png') });
  } catch (error) {
    if (process.env.DUMP_OUTPUT) console.error(`${output}\n${cloudLog.lines.join('\n')}`);
    throw error;
  } finally {
    await browser.close();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
