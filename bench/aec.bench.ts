// Echo canceller figures: native/dsp/aec.c (as WebAssembly, the Node host's build) against Debian
// libspeexdsp's canceller on the same signals in the same run: the assistant's synthetic speech through the
// simulated room (simulator/voice/room.ts), alone and with the user talking over it. ERLE after
// convergence, convergence time, near-end preservation during double talk; an SVG of ERLE over time.
// Prints figures and writes docs/figures/aec.md and docs/figures/aec-erle.svg; never passes or fails.
// Usage: node build/bench/aec.bench.js [--taps N] (default 1024: 64 ms of echo tail for both cancellers)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmEchoCanceller, dspMissingHint } from '../hosts/node/dsp.js';
import { SpeechSynthesizer } from '../simulator/voice/tts.js';
import { SAMPLE_RATE } from '../simulator/voice/pcm.js';
import { FRAME, cancel, convergenceS, doubleTalk, echoScenarios, erleFrom, erleSeries, type EchoScenario, type ErlePoint } from '../test/support/echo.js';
import { fromRoot } from '../test/support/paths.js';

const SPEEX_HINT = 'the anchor needs Debian libspeexdsp and gcc: apt-get install libspeexdsp-dev build-essential';
const tapsArg = process.argv.indexOf('--taps');
const TAPS = tapsArg > 0 ? Number(process.argv[tapsArg + 1]) : 1024;
const missing = dspMissingHint();
if (missing) {
  console.error(missing);
  process.exit(1);
}

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

function raw(x: Int16Array): Buffer {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

function speex(s: EchoScenario, frame: number): Int16Array {
  writeFileSync(join(work, 'mic.raw'), raw(s.capture.mic));
  writeFileSync(join(work, 'ref.raw'), raw(s.played));
  execFileSync(speexBin, [String(frame), String(TAPS), String(SAMPLE_RATE), join(work, 'mic.raw'), join(work, 'ref.raw'), join(work, 'out.raw')]);
  const bytes = readFileSync(join(work, 'out.raw'));
  const out = new Int16Array(s.played.length);
  out.set(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
  return out;
}

const tts = await SpeechSynthesizer.create();
const scenarios = echoScenarios(tts);
const [farOnly, dt] = scenarios;
const seconds = farOnly.played.length / SAMPLE_RATE;
console.log(`signals: ${seconds.toFixed(1)} s of far-end speech; user talks ${(dt.nearStart / SAMPLE_RATE).toFixed(2)}–${(dt.nearEnd / SAMPLE_RATE).toFixed(2)} s in the double-talk run`);

interface Canceller { name: string; run(s: EchoScenario): Int16Array }
let oursMsPerFrame = 0;
const cancellers: Canceller[] = [
  {
    name: `ours (native/dsp/aec.c, ${TAPS} taps, WebAssembly)`,
    run: (s) => {
      const aec = new WasmEchoCanceller({ taps: TAPS });
      const t0 = performance.now();
      const out = cancel((m, r, o) => aec.process(m, r, o), s);
      oursMsPerFrame = (performance.now() - t0) / (out.length / FRAME);
      return out;
    },
  },
  ...[320, 160].map((frame) => ({ name: `libspeexdsp ${speexVersion} (${TAPS} taps, ${frame}-sample frames)`, run: (s: EchoScenario) => speex(s, frame) })),
  { name: 'none (the microphone as is)', run: (s: EchoScenario) => s.capture.mic.slice() },
];

interface Row { name: string; steady: number; late: number; conv10: number; conv20: number; convSteady: number; after: number; dt: ReturnType<typeof doubleTalk>; series: ErlePoint[]; dtSeries: ErlePoint[] }
const rows: Row[] = [];
const steadyFrom = seconds / 2;
for (const c of cancellers) {
  const a = c.run(farOnly);
  const b = c.run(dt);
  const series = erleSeries(farOnly, a);
  const steady = erleFrom(farOnly, a, steadyFrom);
  const row: Row = {
    name: c.name, series, dtSeries: erleSeries(dt, b), steady,
    late: erleFrom(farOnly, a, seconds - 2),
    conv10: convergenceS(series, 10), conv20: convergenceS(series, 20), convSteady: convergenceS(series, steady - 3),
    after: erleFrom(dt, b, dt.nearEnd / SAMPLE_RATE, dt.nearEnd / SAMPLE_RATE + 2),
    dt: doubleTalk(dt, b),
  };
  rows.push(row);
  console.log(`${c.name}: ERLE ${steady.toFixed(1)} dB from ${steadyFrom.toFixed(1)} s (last 2 s ${row.late.toFixed(1)}), 10 dB after ${row.conv10.toFixed(2)} s, 20 dB after ${row.conv20.toFixed(2)} s; `
    + `double talk: near-end SDR ${row.dt.nearSdrDb.toFixed(1)} dB (mic ${row.dt.micSdrDb.toFixed(1)}), echo suppressed ${row.dt.erleDb.toFixed(1)} dB, ERLE 2 s after it ${row.after.toFixed(1)} dB`);
}
console.log(`ours on Node (WebAssembly): ${(oursMsPerFrame * 1000).toFixed(0)} µs per 20 ms frame`);
rmSync(work, { recursive: true, force: true });

// ---- docs ----
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'never');
const secs = (r: Row, x: number) => (r.name.startsWith('none') ? '—' : Number.isFinite(x) ? `${x.toFixed(2)} s` : 'never');
const svg = plot([
  { title: 'far end only', lines: rows.filter((r) => !r.name.startsWith('none')).map((r) => ({ name: r.name, points: r.series })) },
  { title: `double talk (user talks ${f(dt.nearStart / SAMPLE_RATE, 2)}–${f(dt.nearEnd / SAMPLE_RATE, 2)} s, not measured there)`, lines: rows.filter((r) => !r.name.startsWith('none')).map((r) => ({ name: r.name, points: r.dtSeries })), shade: [dt.nearStart / SAMPLE_RATE, dt.nearEnd / SAMPLE_RATE] },
]);
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'aec-erle.svg'), svg);
const md = [
  '# Echo canceller figures',
  '',
  `Measured by bench/aec.bench.ts on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}. Signals (test/support/echo.ts, simulator/voice/room.ts): ${f(seconds)} s of the assistant's `
  + 'eSpeak NG voice at 0.7 of full scale through a slightly non-linear loudspeaker (tanh soft clip) and a room (8 ms bulk delay, '
  + 'RT60 150 ms, 300 ms response), plus white noise at RMS 20 (−64 dBFS); in the double-talk run a user (another eSpeak voice, '
  + 'another response) speaks at about the echo\'s level. Both cancellers get the same frames and the same filter length; neither '
  + 'has a residual echo suppressor or noise suppressor after it (speexdsp\'s preprocessor is off), so the figures are the linear canceller\'s.',
  '',
  `| canceller | ERLE from ${f(steadyFrom)} s | ERLE last 2 s | to 10 dB | to 20 dB | to within 3 dB of its ERLE | near-end SDR in double talk | echo suppressed in double talk | ERLE 2 s after double talk |`,
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${f(r.steady)} dB | ${f(r.late)} dB | ${secs(r, r.conv10)} | ${secs(r, r.conv20)} | ${secs(r, r.convSteady)} | ${f(r.dt.nearSdrDb)} dB | ${f(r.dt.erleDb)} dB | ${f(r.after)} dB |`),
  '',
  'ERLE: microphone power over output power in 250 ms windows where the echo is above RMS 100 and the user is silent (a ratio of sums over '
  + 'the windows in the range). Convergence: from the first such window. Near-end SDR: the user\'s voice as heard against everything else in '
  + 'the output while the user talks (residual echo, noise, distortion); the microphone\'s own figure is in the last row. Echo suppressed in '
  + 'double talk: echo power over (output − user − noise); exact for our canceller, which only subtracts; speexdsp also high-passes the '
  + 'microphone (a DC notch), which counts against it there.',
  '',
  `Our canceller on Node (WebAssembly): ${(oursMsPerFrame * 1000).toFixed(0)} µs per 20 ms frame. The Cortex-M7 cost is in dsp-m7.md.`,
  '',
  '![ERLE over time](aec-erle.svg)',
  '',
];
writeFileSync(fromRoot('docs', 'figures', 'aec.md'), md.join('\n'));
console.log('wrote docs/figures/aec.md and docs/figures/aec-erle.svg');

interface Panel { title: string; lines: { name: string; points: ErlePoint[] }[]; shade?: [number, number] }
function plot(panels: Panel[]): string {
  const W = 760, H = 260, left = 50, right = 20, top = 30, bottom = 40;
  const colours = ['#1f77b4', '#d62728', '#ff7f0e', '#2ca02c'];
  const maxT = Math.max(...panels.flatMap((p) => p.lines.flatMap((l) => l.points.map((q) => q.tS))), 1);
  const maxDb = 40;
  const x = (t: number) => left + ((W - left - right) * t) / maxT;
  const y = (d: number) => top + (H - top - bottom) * (1 - Math.max(-5, Math.min(maxDb, d)) / maxDb);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * panels.length + 30 * panels[0].lines.length}" font-family="sans-serif" font-size="11">`];
  panels.forEach((p, n) => {
    const g: string[] = [`<g transform="translate(0,${n * H})">`, `<text x="${left}" y="18" font-size="13">ERLE over time, ${p.title}</text>`];
    if (p.shade) g.push(`<rect x="${x(p.shade[0])}" y="${top}" width="${x(p.shade[1]) - x(p.shade[0])}" height="${H - top - bottom}" fill="#eee"/>`);
    for (let d = 0; d <= maxDb; d += 10) g.push(`<line x1="${left}" x2="${W - right}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/><text x="${left - 6}" y="${y(d) + 4}" text-anchor="end">${d} dB</text>`);
    for (let t = 0; t <= maxT; t += 2) g.push(`<text x="${x(t)}" y="${H - bottom + 15}" text-anchor="middle">${t} s</text>`);
    p.lines.forEach((l, i) => {
      const d = l.points.map((q, k) => {
        const gap = k > 0 && q.tS - l.points[k - 1].tS > 0.3;
        return `${k === 0 || gap ? 'M' : 'L'}${x(q.tS).toFixed(1)},${y(q.erleDb).toFixed(1)}`;
      }).join(' ');
      g.push(`<path d="${d}" fill="none" stroke="${colours[i % colours.length]}" stroke-width="1.5"/>`);
    });
    g.push('</g>');
    parts.push(...g);
  });
  panels[0].lines.forEach((l, i) => parts.push(`<line x1="${left}" x2="${left + 30}" y1="${H * panels.length + 10 + 20 * i}" y2="${H * panels.length + 10 + 20 * i}" stroke="${colours[i % colours.length]}" stroke-width="2"/><text x="${left + 36}" y="${H * panels.length + 14 + 20 * i}">${l.name}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}
