// `npm start` tells the demo as a person would: one line per thing said or done on stdout, each with the LED ring
// as it is then, the dashboard's URL first; without --trace no protocol trace and no component chatter at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fromRoot } from '../support/paths.js';
import { requirePocketsphinx } from './voice/tools.js';

test('npm start: the conversation told line by line with the ring, the dashboard URL, no trace without --trace', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const child = spawn(process.execPath, [fromRoot('build/emulator/demo.js')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  const lines = stdout.trimEnd().split('\n');
  for (const line of lines) assert.match(line, /^\[(○ idle|● listening|◐ thinking|◉ speaking|◎ alerting) *\] \S/, line);
  assert.match(lines[0], /Watch it on the dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(operator password \S{16}\)$/);
  const story = lines.map((line) => line.replace(/^\[.*?\] /, ''));
  for (const expected of [
    'The user says: "Alexa, what time is it?" (the wake word opens the microphone)',
    'Alexa heard "what\'s your name"',
    'Alexa answers: "My name is Alexa. I am the voice of this emulator."',
    'The lamp\'s GPIO goes high: the lamp is on (100 %)',
  ]) assert.ok(story.includes(expected), `${expected}\n${stdout}`);
  // The ring's lines carry the state they announce.
  assert.ok(lines.some((line) => /^\[● listening\] The ring lights cyan/.test(line)), stdout);
  assert.ok(lines.some((line) => /^\[◉ speaking \] The ring pulses blue/.test(line)), stdout);
  assert.doesNotMatch(stdout + stderr, /connection\/fromclient|directive #\d/);
  assert.doesNotMatch(stderr, / INFO /);
});
