// `npm run device` with voice, as a person runs it against the emulator: a separate process links (the test
// approves its code as the user would), registers, connects, says two WAV files one turn each (--say), and writes
// what its speaker played to a WAV file when stopped (--out). The emulator hears both and the played answers
// are there in the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../../../hosts/node/wav.js';
import { startCloud } from '../../../emulator/cloud.js';
import { bestAlignment, concat, parseWav, silence } from '../../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../../emulator/voice/virtual-device.js';
import { until } from '../../support/ais.js';
import { captureLogger } from '../../support/log.js';
import { fromRoot } from '../../support/paths.js';
import { requirePocketsphinx } from '../../emulator/voice/tools.js';

test('npm run device --say a.wav --say b.wav --out played.wav: two spoken turns from files, the answers written out on stop', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ais-device-cli-'));
  const synthesizer = await SpeechSynthesizer.create();
  const utterance = (text: string) => concat(silence(4000), synthesizer.synthesize(text, USER_VOICES['us-female']), silence(8000));
  writeWav(join(dir, 'a.wav'), utterance('what day is it'));
  writeWav(join(dir, 'b.wav'), utterance("what's your name"));
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const cloudLog = captureLogger('cloud', 'info');
  const cloud = await startCloud({
    pollIntervalMs: 100, log: cloudLog.log,
    voice: { now: () => new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
  });
  let output = '';
  const child = spawn(process.execPath, [fromRoot('build/hosts/node/main.js'),
    '--cloud', cloud.httpUrl, '--mqtt-port', String(cloud.mqttPort), '--client-id', 'cli-1', '--data-dir', join(dir, 'data'),
    '--say', join(dir, 'a.wav'), '--say', join(dir, 'b.wav'), '--out', join(dir, 'played.wav')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  try {
    await until('the code shown', () => /enter the code (\w+)/.test(output), 15_000);
    assert.ok(cloud.lwa.approve(/enter the code (\w+)/.exec(output)![1]));
    await until('both answers', () => answers.length === 2, 60_000);
    assert.deepEqual(transcripts.map((e) => e.text), ['what day is it', "what's your name"]);
    assert.deepEqual(answers.map((a) => a.intent), ['date', 'name']);
    await until('the second answer played', () => (output.match(/LED \w+ → IDLE/g) ?? []).length >= 2, 30_000);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(existsSync(join(dir, 'played.wav')), `played.wav written on stop\n${output.slice(-2000)}`);
    const played = parseWav(readFileSync(join(dir, 'played.wav'))).samples;
    // The speaker plays only while open: the answers follow one another in the file, each where the last ended.
    let at = 0;
    for (const answer of answers) {
      const reference = answer.pcm.subarray(0, Math.min(answer.pcm.length, 16000));
      const { correlation } = bestAlignment(reference, played.subarray(at), 2000);
      assert.ok(correlation > 0.8, `${answer.intent} answer at sample ${at} of played.wav (correlation ${correlation.toFixed(3)})`);
      at += answer.opusFrames.length * 320;
    }
    assert.match(output, /LED IDLE → LISTENING/);
  } catch (error) {
    if (process.env.DUMP_OUTPUT) console.error(`${output}\n${cloudLog.lines.join('\n')}`);
    throw error;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
