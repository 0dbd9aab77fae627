// `npm run device -- --host cortex-m` as a person runs it against the emulator: a separate process builds the
// device image, boots it on QEMU with the co-processor bridge, prints the image's log a line per event (the test
// approves the code it shows as the user would), and the image links, registers, connects and is ready; with
// pocketsphinx, --say makes a spoken turn over the link and --out holds the answer the speaker played when the
// process is stopped. Needs the firmware toolchain: skipped locally without it, a failure under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeWav } from '../../hosts/node/wav.js';
import { startCloud } from '../../emulator/cloud.js';
import { bestAlignment, concat, parseWav, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../emulator/voice/virtual-device.js';
import { until } from '../support/wait.js';
import { fromRoot } from '../support/paths.js';
import { pocketsphinxMissingHint } from '../../emulator/voice/asr.js';

const { firmwareToolchain } = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'build.mjs')).href);
const missing: string | undefined = firmwareToolchain().missing;
const main = fromRoot('build', 'hosts', 'node', 'main.js');

test('npm run device --host cortex-m refuses what the image cannot do in one line', () => {
  for (const flag of ['--provision', '--mic', '--play']) {
    const run = spawnSync(process.execPath, [main, '--host', 'cortex-m', '--cloud', 'https://127.0.0.1:1', '--mqtt-port', '1', flag], { encoding: 'utf8' });
    assert.equal(run.status, 2, `${flag}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, new RegExp(`${flag} is not supported on --host cortex-m`));
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
  // No arm-none-eabi-gcc, newlib or qemu-system-arm on PATH (only node): one line with the apt-get hint.
  const bin = mkdtempSync(join(tmpdir(), 'ais-no-toolchain-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  const run = spawnSync(process.execPath, [main, '--host', 'cortex-m', '--cloud', 'https://127.0.0.1:1', '--mqtt-port', '1'], { encoding: 'utf8', env: { ...process.env, PATH: bin } });
  rmSync(bin, { recursive: true, force: true });
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /--host cortex-m needs the firmware toolchain: no arm-none-eabi-gcc.*; install with: .*apt-get install .*qemu-system-arm/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
});

test('npm run device --host cortex-m --say q.wav --out played.wav: the image on QEMU links, connects, is ready and answers a spoken turn', async (t) => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return t.skip(missing);
  }
  const voice = pocketsphinxMissingHint();
  if (voice !== undefined && process.env.CI === 'true') throw new Error(voice);
  const dir = mkdtempSync(join(tmpdir(), 'ais-cortex-m-cli-'));
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const cloud = await startCloud({
    pollIntervalMs: 100,
    voice: { now: () => new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
  });
  const args = ['--host', 'cortex-m', '--cloud', cloud.httpUrl, '--mqtt-port', String(cloud.mqttPort), '--client-id', 'm7-cli'];
  if (voice === undefined) {
    const synthesizer = await SpeechSynthesizer.create();
    writeWav(join(dir, 'q.wav'), concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-male']), silence(12000)));
    args.push('--say', join(dir, 'q.wav'), '--out', join(dir, 'played.wav'));
  } else t.diagnostic(`spoken turn skipped: ${voice}`);
  let output = '';
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const tail = () => output.slice(-3000);
  try {
    await until('the code shown', () => /enter the code (\w+)/.test(output) || child.exitCode !== null, 300_000)
      .catch((error) => { throw new Error(`${(error as Error).message}\n${tail()}`); });
    assert.match(output, /building the device image/);
    assert.ok(cloud.lwa.approve(/enter the code (\w+)/.exec(output)![1]), tail());
    await until('the image ready', () => output.includes('[device] state ready') || child.exitCode !== null, 120_000)
      .catch((error) => { throw new Error(`${(error as Error).message}\n${tail()}`); });
    for (const state of ['linking', 'registering', 'connecting', 'ready']) assert.match(output, new RegExp(`INFO \\[device\\] state ${state}\\n`), tail());
    assert.match(output, /bridge: 127\.0\.0\.1:\d+ open on channel \d+ \(TLS in the co-processor\)/);
    assert.doesNotMatch(output, /^image-/m, 'the JSON reports are not shown');
    if (voice === undefined) {
      await until('the answer', () => answers.length === 1 || child.exitCode !== null, 120_000)
        .catch((error) => { throw new Error(`${(error as Error).message}: ${JSON.stringify(transcripts.map((e) => e.text))}\n${tail()}`); });
      assert.equal(transcripts[0].text, 'what time is it');
      assert.equal(answers[0].text, 'It is 2:05 PM.');
      await until('the answer played', () => /speaker: closed at/.test(output) || child.exitCode !== null, 60_000)
        .catch((error) => { throw new Error(`${(error as Error).message}\n${tail()}`); });
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `a clean exit on SIGTERM\n${tail()}`);
    assert.match(output, /# board: exit code=0/);
    if (voice === undefined) {
      assert.ok(existsSync(join(dir, 'played.wav')), `played.wav written on exit\n${tail()}`);
      const played = parseWav(readFileSync(join(dir, 'played.wav'))).samples;
      const start = played.findIndex((s) => Math.abs(s) > 300);
      assert.ok(start >= 0, 'the answer is in played.wav');
      const reference = answers[0].pcm.subarray(0, Math.min(answers[0].pcm.length, 16000));
      const { correlation } = bestAlignment(reference, played.subarray(Math.max(0, start - 1500)), 2000);
      assert.ok(correlation > 0.8, `the played answer correlates ${correlation.toFixed(3)} with the synthesised one`);
      t.diagnostic(`turn: heard ${JSON.stringify(transcripts[0].text)}, answered ${JSON.stringify(answers[0].text)}, played.wav correlates ${correlation.toFixed(3)}`);
    }
    t.diagnostic(`the command's lines: ${output.split('\n').filter((l) => /\[device\] state|bridge: HELLO|# board: exit|building|built/.test(l)).join(' | ')}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
