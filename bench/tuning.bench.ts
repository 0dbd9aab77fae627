// Speed and memory of the tuning commands (hosts/node/tuning/) as a board maker runs them: a generated recording
// of 1 and 10 minutes (the assistant's voice repeated through a sparse echo path with a 40 ms bulk delay, and
// microphone noise), each command spawned on it; audio seconds per wall-clock second and the process's peak RSS
// (read by the command's own process at exit, through NODE_OPTIONS' --import of a one-line reporter).
// Prints figures and writes docs/figures/tuning.md; never passes or fails.
// Usage: node build/bench/tuning.bench.js
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dspMissingHint } from '../hosts/node/dsp.js';
import { WavWriter } from '../hosts/node/wav-stream.js';
import { ASSISTANT_VOICE, SpeechSynthesizer } from '../emulator/voice/tts.js';
import { concat, silence, whiteNoise } from '../emulator/voice/pcm.js';
import { fromRoot } from '../test/support/paths.js';

const missing = dspMissingHint();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const RATE = 16000;
const work = mkdtempSync(join(tmpdir(), 'tuning-bench-'));
const reporter = join(work, 'rss.mjs');
writeFileSync(reporter, "process.on('exit', () => process.stderr.write(`maxrss=${process.resourceUsage().maxRSS}\\n`));\n");

const tts = await SpeechSynthesizer.create();
const voice = concat(tts.synthesize('Here is the weather for today. Expect sunny skies in the morning, with clouds moving in by the afternoon.', ASSISTANT_VOICE), silence(RATE));
const PATH: [number, number][] = [[640, 0.6], [677, -0.25], [830, 0.12], [1251, -0.05]];

/** Writes `minutes` of the reference and the microphone, a block at a time (the bench itself stays small). */
function record(minutes: number): { ref: string; mic: string } {
  const ref = join(work, `ref-${minutes}.wav`);
  const mic = join(work, `mic-${minutes}.wav`);
  const refOut = new WavWriter(ref);
  const micOut = new WavWriter(mic);
  const total = minutes * 60 * RATE;
  const history = new Float64Array(2048);
  const block = new Int16Array(RATE);
  const micBlock = new Int16Array(RATE);
  for (let at = 0; at < total; at += RATE) {
    const noise = whiteNoise(RATE, 20, at);
    for (let i = 0; i < RATE; i++) {
      const n = at + i;
      block[i] = voice[n % voice.length];
      history[n % 2048] = block[i];
      let v = noise[i];
      for (const [lag, gain] of PATH) if (n >= lag) v += gain * history[(n - lag) % 2048];
      micBlock[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
    }
    refOut.write(block);
    micOut.write(micBlock);
  }
  refOut.close();
  micOut.close();
  return { ref, mic };
}

interface Row { command: string; minutes: number; speed: number; rssMb: number; summary: string }
const rows: Row[] = [];
for (const minutes of [1, 10]) {
  const { ref, mic } = record(minutes);
  const commands: [string, string[]][] = [
    ['aec', ['--ref', ref, '--mic', mic, '--out', join(work, 'out.wav'), '--plot', join(work, 'erle.svg')]],
    ['wake', [mic]],
    ['frontend', ['--ref', ref, '--mic', mic]],
  ];
  for (const [command, args] of commands) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [fromRoot('build', 'hosts', 'node', 'tuning', `${command}.js`), ...args], {
      encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--import=${reporter}` },
    });
    const wallS = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
    const rss = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]) / 1024;
    const summary = r.stderr.split('\n').find((l) => l.startsWith(`${command}:`)) ?? '';
    rows.push({ command, minutes, speed: (minutes * 60) / wallS, rssMb: rss, summary });
    console.log(`${command}, ${minutes} min: ${((minutes * 60) / wallS).toFixed(0)}× real time (process start included), peak RSS ${rss.toFixed(0)} MB; ${summary}`);
  }
}
rmSync(work, { recursive: true, force: true });

const md = [
  '# Tuning tools figures',
  '',
  `Measured by bench/tuning.bench.ts on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, on a shared 2-core machine (nice 10). `
  + 'A generated recording (the assistant\'s eSpeak NG voice repeated, through a sparse echo path with a 40 ms bulk delay, plus noise) of 1 and '
  + '10 minutes; each command spawned on it as a user runs it. Speed is audio seconds per wall-clock second including the process\'s start and '
  + 'the WAV reading and writing; peak RSS is the process\'s own (the same for 1 and 10 minutes: the recordings are streamed). The issue asks '
  + 'for at least 20× real time.',
  '',
  '| command | recording | speed | peak RSS | its summary line |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.command} | ${r.minutes} min | ${r.speed.toFixed(0)}× real time | ${r.rssMb.toFixed(0)} MB | ${r.summary.replace(/\|/g, '\\|').replace(work, '…')} |`),
  '',
];
writeFileSync(fromRoot('docs', 'figures', 'tuning.md'), md.join('\n'));
console.log('wrote docs/figures/tuning.md');
