// Echo canceller figures on generated rooms (test/support/aec-scenarios.ts): native/dsp/aec.c (as WebAssembly, the Node
// host's build) beside Debian libspeexdsp's canceller, alone and with its preprocessor (residual echo suppression),
// all on the same signals in the same run. The scenarios come in two halves split by whole rooms and sources: the
// canceller is tuned on the tuning half only (--half tune prints its figures and writes nothing), and the docs get
// the held-out test half only (the default). Per scenario: ERLE after 2 s, the worst 250 ms window's output over
// microphone (a canceller that diverges makes the echo louder), the time back to within 3 dB of the converged ERLE
// after an echo-path change, the user's SDR in double talk and when alone; an SVG of ERLE over time per scenario.
// Prints figures and writes docs/figures/aec.md and docs/figures/aec-erle.svg; never passes or fails.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmEchoCanceller, dspMissingHint } from '../hosts/node/dsp.js';
import { erlePlot } from '../hosts/node/tuning/plot.js';
import { SpeechSynthesizer } from '../emulator/voice/tts.js';
import { cancel, doubleTalk, erleFrom, erleSeries, pathChangeRecovery, type ErlePoint } from '../test/support/echo.js';
import { fromRoot } from '../test/support/paths.js';
import { commandLine, usageError } from '../hosts/node/command-line.js';
import { RATE, scenarios, type Half, type Scenario } from '../test/support/aec-scenarios.js';

const spec = {
  command: 'npm run bench:aec --',
  summary: 'The echo canceller against speexdsp and speexdsp + its preprocessor over generated rooms: ERLE over time, path-change recovery, double talk; the held-out half writes docs/figures/aec.md and aec-erle.svg.',
  options: {
    half: { type: 'string', value: 'test|tune', help: 'the held-out test half (writes docs) or the tuning half (prints only)', default: 'test' },
    taps: { type: 'string', value: 'N', help: 'filter length for both cancellers, a multiple of 64', default: '1024' },
    only: { type: 'string', value: 'NAME', help: 'run only the scenarios whose name contains NAME (prints only)' },
  },
} as const;
const { values } = commandLine(spec);
const half = values.half as Half;
const TAPS = Number(values.taps);
const only = values.only;
if (half !== 'test' && half !== 'tune') usageError(spec, `--half must be test or tune, got ${half}`);
if (!Number.isInteger(TAPS) || TAPS <= 0 || TAPS % 64) usageError(spec, `--taps must be a positive multiple of 64, got ${values.taps}`);
const writeDocs = half === 'test' && only === undefined;
const missing = dspMissingHint();
if (missing) {
  console.error(missing);
  process.exit(1);
}

const SPEEX_HINT = 'the anchor needs Debian libspeexdsp and gcc: apt-get install libspeexdsp-dev build-essential';
const work = mkdtempSync(join(tmpdir(), 'aec-bench-'));
const speexBin = join(work, 'speex-aec');
try {
  execFileSync('gcc', ['-O2', fromRoot('bench', 'native', 'speex-aec.c'), '-lspeexdsp', '-o', speexBin], { stdio: ['ignore', 'inherit', 'inherit'] });
} catch {
  console.error(SPEEX_HINT);
  process.exit(1);
}
const speexVersion = (() => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libspeexdsp-dev'], { encoding: 'utf8' });
  } catch {
    return 'unknown version';
  }
})();

function speex(s: Scenario, preprocess: boolean): Int16Array {
  const raw = (x: Int16Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  writeFileSync(join(work, 'mic.raw'), raw(s.capture.mic));
  writeFileSync(join(work, 'ref.raw'), raw(s.played));
  execFileSync(speexBin, ['320', String(TAPS), String(RATE), join(work, 'mic.raw'), join(work, 'ref.raw'), join(work, 'out.raw'), ...(preprocess ? ['pp'] : [])]);
  const bytes = readFileSync(join(work, 'out.raw'));
  const out = new Int16Array(s.played.length);
  out.set(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
  return out;
}

interface Canceller { name: string; short: string; run(s: Scenario): Int16Array }
const ours = (suppress: boolean): Canceller => ({
  name: `ours (native/dsp/aec.c, ${TAPS} taps, WebAssembly${suppress ? ', its residual echo suppressor on' : ', suppressor off: the default'})`,
  short: suppress ? 'ours + suppressor' : 'ours',
  run: (s) => {
    const aec = new WasmEchoCanceller({ taps: TAPS });
    aec.suppress = suppress;
    const out = cancel((m, r, o) => aec.process(m, r, o), s);
    if (suppress) events.push(`${s.name} ${aec.resets}/${aec.pathChanges}`);
    return out;
  },
});
const events: string[] = [];
const cancellers: Canceller[] = [
  ours(false),
  ours(true),
  { name: `libspeexdsp ${speexVersion} (${TAPS} taps asked, 320-sample frames)`, short: 'speexdsp', run: (s) => speex(s, false) },
  { name: `libspeexdsp ${speexVersion} + its preprocessor (residual echo suppression, its default noise suppression)`, short: 'speexdsp + preprocessor', run: (s) => speex(s, true) },
];

const db = (num: number, den: number) => 10 * Math.log10(Math.max(num, 1e-9) / Math.max(den, 1e-9));

/** The loudest 250 ms window of the output against the microphone's, where the microphone is above RMS 10. */
function worstOverMic(s: Scenario, out: Int16Array): number {
  const w = RATE / 4;
  let worst = -Infinity;
  for (let at = 0; at + w <= out.length; at += w) {
    let m = 0;
    let o = 0;
    for (let i = at; i < at + w; i++) {
      m += s.capture.mic[i] ** 2;
      o += out[i] ** 2;
    }
    if (m / w > 100) worst = Math.max(worst, db(o, m));
  }
  return worst;
}

/** The user alone (the far end silent): the output against the microphone while the user talks. */
function alone(s: Scenario, out: Int16Array): number {
  let m = 0;
  let d = 0;
  for (let i = s.nearStart; i < s.nearEnd; i++) {
    m += s.capture.mic[i] ** 2;
    d += (out[i] - s.capture.mic[i]) ** 2;
  }
  return db(m, d);
}

interface Cell { erle: number; worst: number; series: ErlePoint[]; recovery?: ReturnType<typeof pathChangeRecovery>; nearSdr?: number; aloneSdr?: number }
const tts = await SpeechSynthesizer.create();
const list = scenarios(tts, half, only);
const table: { s: Scenario; cells: Cell[] }[] = [];
for (const s of list) {
  const cells = cancellers.map((c): Cell => {
    const out = c.run(s);
    const cell: Cell = { erle: erleFrom(s, out, 2), worst: worstOverMic(s, out), series: erleSeries(s, out) };
    if (s.changeAt > 0) cell.recovery = pathChangeRecovery(s, out, s.changeAt);
    if (s.nearStart >= 0 && s.measured) cell.nearSdr = doubleTalk(s, out).nearSdrDb;
    if (!s.measured && s.nearStart >= 0) cell.aloneSdr = alone(s, out);
    return cell;
  });
  table.push({ s, cells });
  console.log(`${half} ${s.name} (${s.about}):`);
  cancellers.forEach((c, n) => {
    const x = cells[n];
    console.log(`  ${c.short}: ${s.measured ? `ERLE after 2 s ${x.erle.toFixed(1)} dB, ` : ''}worst window ${x.worst.toFixed(1)} dB over the microphone`
      + (x.recovery ? `; path change ${x.recovery.before.toFixed(1)} → ${x.recovery.dip.toFixed(1)} dB, back within 3 dB ${after(x.recovery.seconds)}` : '')
      + (x.nearSdr !== undefined ? `; near-end SDR in double talk ${x.nearSdr.toFixed(1)} dB` : '')
      + (x.aloneSdr !== undefined ? `; user alone passes at SDR ${x.aloneSdr.toFixed(1)} dB` : ''));
  });
}
rmSync(work, { recursive: true, force: true });

function after(seconds: number): string {
  return Number.isFinite(seconds) ? `after ${seconds.toFixed(2)} s` : 'never (to the end)';
}
function f(x: number, d = 1): string {
  return Number.isFinite(x) ? x.toFixed(d) : 'never';
}
const measuredRows = table.filter((r) => r.s.measured);
const mean = (n: number) => measuredRows.reduce((sum, r) => sum + r.cells[n].erle, 0) / measuredRows.length;
const summary = cancellers.map((c, n) => `${c.short}: mean ERLE after 2 s ${f(mean(n))} dB, lowest ${f(Math.min(...measuredRows.map((r) => r.cells[n].erle)))} dB, `
  + `worst window ${f(Math.max(...table.map((r) => r.cells[n].worst)))} dB over the microphone`);
console.log(summary.join('\n'));
console.log(`ours + suppressor, restarts after a divergence / path changes detected: ${events.join(', ')}`);
if (!writeDocs) process.exit(0);

// ---- docs ----
const svg = erlePlot(measuredRows.map((r) => ({
  title: `${r.s.name}: ERLE over time${r.s.changeAt > 0 ? ` (path changes at ${r.s.changeAt / RATE} s)` : ''}${r.s.nearStart >= 0 ? ' (user talks in the shaded span, not measured there)' : ''}`,
  lines: cancellers.map((c, n) => ({ name: c.name, points: r.cells[n].series })),
  shade: r.s.nearStart >= 0 ? [r.s.nearStart / RATE, r.s.nearEnd / RATE] as [number, number] : undefined,
})));
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'aec-erle.svg'), svg);
const cols = cancellers.map((c) => c.short);
/** Issue 19's goals against this run (ours, then ours + suppressor), met or not, with the number. */
function goals(): string[] {
  const lowest = (n: number) => Math.min(...measuredRows.map((r) => r.cells[n].erle));
  const within = (n: number) => Math.max(...table.filter((r) => r.s.changeAt > 0).map((r) => r.cells[n].recovery!.seconds));
  const sdr = (n: number) => Math.min(...table.filter((r) => r.cells[n].nearSdr !== undefined).map((r) => r.cells[n].nearSdr!));
  const aloneSdr = Math.min(...table.filter((r) => r.cells[0].aloneSdr !== undefined).map((r) => r.cells[0].aloneSdr!));
  const row = (goal: string, met: boolean, got: string) => `| ${goal} | ${got} | ${met ? 'met' : '**not met**'} |`;
  return [
    'Against the goals of issue 19 (this run, held-out half):',
    '',
    '| goal | measured | |',
    '|---|---|---|',
    row('ERLE after 2 s ≥ 25 dB mean, without the suppressor', mean(0) >= 25, `${f(mean(0))} dB`),
    row('... and ≥ 20 dB on every scenario', lowest(0) >= 20, `lowest ${f(lowest(0))} dB`),
    row('≥ 35 dB mean with the suppressor', mean(1) >= 35, `${f(mean(1))} dB`),
    row('back within 3 dB ≤ 2 s after an echo-path change', within(0) <= 2, `${after(within(0))} (with the suppressor ${after(within(1))})`),
    row('double-talk near-end SDR ≥ 15 dB', sdr(0) >= 15, `${f(sdr(0))} dB (with the suppressor ${f(sdr(1))} dB)`),
    row('the user alone passes unchanged (SDR ≥ 35 dB)', aloneSdr >= 35, `${f(aloneSdr)} dB`),
    row('never louder than the microphone', Math.max(...table.map((r) => r.cells[0].worst)) <= 0.5, `worst window ${f(Math.max(...table.map((r) => r.cells[0].worst)))} dB over it`),
  ];
}
const md = [
  '# Echo canceller figures (held-out scenarios)',
  '',
  `Measured by bench/aec.bench.ts on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, on the **test half** of test/support/aec-scenarios.ts: `
  + 'rooms, voices, texts, music and sweep ranges that the canceller was never tuned on (the tuning half, `--half tune`, has its own four rooms and sources; '
  + 'neither half shares a room or a source with the other). Every canceller gets the same 20 ms frames in the same run, with no delay hint; '
  + `${TAPS} taps asked of each (speexdsp rounds up to whole frames: ${Math.ceil(TAPS / 320) * 320} modelled).`,
  '',
  ...cancellers.map((c) => `- ${c.short}: ${c.name}`),
  '',
  `| scenario | what is hard | ${cols.map((c) => `${c}: ERLE after 2 s`).join(' | ')} | ${cols.map((c) => `${c}: worst window over mic`).join(' | ')} |`,
  `|---|---|${cols.map(() => '---:').join('|')}|${cols.map(() => '---:').join('|')}|`,
  ...table.map((r) => `| ${r.s.name} | ${r.s.about} | ${r.cells.map((x) => (r.s.measured ? `${f(x.erle)} dB` : '—')).join(' | ')} | ${r.cells.map((x) => `${f(x.worst)} dB`).join(' | ')} |`),
  `| **mean of the ${measuredRows.length} measured** | | ${cols.map((_, n) => `**${f(mean(n))} dB**`).join(' | ')} | ${cols.map((_, n) => `${f(Math.max(...table.map((r) => r.cells[n].worst)))} dB`).join(' | ')} |`,
  '',
  ...table.filter((r) => r.s.changeAt > 0).map((r) => `Echo-path change (${r.s.name}): ${r.cells.map((x, n) => `${cols[n]} ${f(x.recovery!.before)} → ${f(x.recovery!.dip)} dB, back within 3 dB ${after(x.recovery!.seconds)}`).join('; ')}.`),
  '',
  ...table.filter((r) => r.cells[0].nearSdr !== undefined).map((r) => `Double talk (${r.s.name}): the user's SDR in the output ${r.cells.map((x, n) => `${cols[n]} ${f(x.nearSdr!)} dB`).join(', ')} (microphone ${f(doubleTalk(r.s, r.s.capture.mic).nearSdrDb)} dB).`),
  '',
  ...table.filter((r) => r.cells[0].aloneSdr !== undefined).map((r) => `User alone (${r.s.name}): the output against the microphone while the user talks, ${r.cells.map((x, n) => `${cols[n]} ${f(x.aloneSdr!)} dB`).join(', ')} (unchanged is ∞).`),
  '',
  ...goals(),
  '',
  'ERLE: microphone power over output power, summed over 250 ms windows from 2 s on where the echo is above RMS 100 and the user is silent. '
  + 'Worst window over mic: the loudest 250 ms window of output against microphone (microphone above RMS 10), every scenario; above 0 dB the canceller added sound. '
  + 'Near-end SDR: the user\'s voice as heard against everything else in the output while the user talks. Comfort noise and noise suppression count as they are heard.',
  '',
  `Our canceller (with the suppressor) restarted its filters after a divergence / detected an echo-path change, per scenario: ${events.join(', ')}.`,
  '',
  '![ERLE over time, per held-out scenario](aec-erle.svg)',
  '',
];
writeFileSync(fromRoot('docs', 'figures', 'aec.md'), md.join('\n'));
console.log('wrote docs/figures/aec.md and docs/figures/aec-erle.svg');
