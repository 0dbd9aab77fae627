#!/usr/bin/env node
// aec --ref REF.wav --mic MIC.wav --out OUT.wav [--plot erle.svg] [--suppressor]: the device's echo canceller
// (native/dsp/aec.c as WebAssembly, through the device's FrontEnd) over a recording of a board, 20 ms frames, no
// look-ahead, no delay hint: it finds the bulk delay itself. OUT is as long as MIC. On stderr: the attenuation per
// 5 s segment, a warning if the canceller diverged, a summary line; with --plot an SVG of the attenuation over time.
// --suppressor: the residual echo suppressor after the linear filter (off on the device by default).
import { writeFileSync } from 'node:fs';
import { WasmEchoCanceller } from '../dsp.js';
import { WAV_SAMPLE_RATE } from '../wav.js';
import { WavWriter } from '../wav-stream.js';
import { UsageError, parseArgs, runCommand } from './cli.js';
import { runCapture } from './capture.js';
import { AttenuationMeter, attenuationReport, bulkDelayText, openRecordings } from './recordings.js';
import { erlePlot } from './plot.js';

const USAGE = `aec --ref REF.wav --mic MIC.wav --out OUT.wav [--plot erle.svg] [--suppressor]
  --ref REF.wav    what the board played (16 kHz mono)
  --mic MIC.wav    what its microphone heard meanwhile
  --out OUT.wav    the microphone with the echo cancelled
  --plot erle.svg  the echo attenuation over time, as an SVG
  --suppressor     run the residual echo suppressor after the canceller (off by default)
  --help           this text`;

await runCommand('aec', USAGE, async () => {
  const args = parseArgs(process.argv.slice(2).filter((a) => a !== '--suppressor'), ['ref', 'mic', 'out', 'plot']);
  if (args.files.length > 0) throw new UsageError(`unexpected argument ${args.files[0]}`);
  const need = (name: string) => args.options.get(name) ?? (() => { throw new UsageError(`--${name} is required`); })();
  const [refPath, micPath, outPath] = [need('ref'), need('mic'), need('out')];
  const plotPath = args.options.get('plot');
  const { mic, ref } = openRecordings(micPath, refPath);
  const out = new WavWriter(outPath);
  const aec = new WasmEchoCanceller();
  aec.suppress = process.argv.includes('--suppressor');
  const meter = new AttenuationMeter(mic.samples);
  const speed = await runCapture({ mic, ref, out, echoCanceller: aec, onFrame: (m, r, o, n) => meter.add(m, r, o, n), label: 'aec' });
  out.close();
  mic.close();
  ref.close();
  if (plotPath) {
    writeFileSync(plotPath, erlePlot([{ title: `Echo attenuation over time (microphone over output power where the reference plays), ${micPath}`,
      lines: [{ name: `native/dsp/aec.c, ${aec.taps} taps, bulk delay found ${bulkDelayText(aec)}`, points: meter.points }] }]));
  }
  for (const line of attenuationReport('aec', meter, aec)) process.stderr.write(`${line}\n`);
  const half = meter.attenuationFrom(mic.samples / WAV_SAMPLE_RATE / 2);
  process.stderr.write(`aec: ${outPath}: ${(mic.samples / WAV_SAMPLE_RATE).toFixed(1)} s; bulk delay found ${bulkDelayText(aec)}; `
    + `echo attenuation ${half.db === undefined ? 'not measured (the reference hardly plays in the second half)' : `${half.db.toFixed(1)} dB over the second half where the reference plays (${half.seconds.toFixed(1)} s)`}; `
    + `${speed.toFixed(0)}× real time\n`);
});

