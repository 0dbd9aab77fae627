#!/usr/bin/env node
// frontend --ref REF.wav --mic MIC.wav [--out OUT.wav] [--threshold X]: the device's whole capture chain over a
// recording of a board while it plays (the barge-in case): the echo canceller, then the wake word, through the
// device's FrontEnd. Detections as `wake` prints them; on stderr the echo attenuation per 5 s segment, a warning if
// the canceller diverged, a summary line.
import { WasmEchoCanceller } from '../dsp.js';
import { WAV_SAMPLE_RATE } from '../wav.js';
import { WavWriter } from '../wav-stream.js';
import { UsageError, parseArgs, runCommand, thresholdOption } from './cli.js';
import { runCapture } from './capture.js';
import { wakeWordPrinter } from './detections.js';
import { AttenuationMeter, attenuationReport, bulkDelayText, openRecordings } from './recordings.js';

const USAGE = `frontend --ref REF.wav --mic MIC.wav [--out OUT.wav] [--threshold X]
  --ref REF.wav  what the board played (16 kHz mono)
  --mic MIC.wav  what its microphone heard meanwhile
  --out OUT.wav  the microphone after the echo canceller
  --threshold X  the wake-word score to report, between 0 and 1 (default the device's)
  --help         this text`;

await runCommand('frontend', USAGE, async () => {
  const args = parseArgs(process.argv.slice(2), ['ref', 'mic', 'out', 'threshold']);
  if (args.files.length > 0) throw new UsageError(`unexpected argument ${args.files[0]}`);
  const threshold = thresholdOption(args);
  const micPath = args.options.get('mic');
  const refPath = args.options.get('ref');
  if (!micPath || !refPath) throw new UsageError(`--${micPath ? 'ref' : 'mic'} is required`);
  const { mic, ref } = openRecordings(micPath, refPath);
  const outPath = args.options.get('out');
  const out = outPath ? new WavWriter(outPath) : undefined;
  const aec = new WasmEchoCanceller();
  const printer = wakeWordPrinter(micPath, threshold);
  const meter = new AttenuationMeter(mic.samples);
  const speed = await runCapture({ mic, ref, out, echoCanceller: aec, wakeWord: printer.wakeWord, onWakeWord: printer.onWakeWord, onFrame: (m, r, o, n) => meter.add(m, r, o, n), label: 'frontend' });
  out?.close();
  mic.close();
  ref.close();
  for (const line of attenuationReport('frontend', meter, aec)) process.stderr.write(`${line}\n`);
  process.stderr.write(`frontend: ${micPath}: ${(mic.samples / WAV_SAMPLE_RATE).toFixed(1)} s; bulk delay found ${bulkDelayText(aec)}; `
    + `${printer.count()} detection${printer.count() === 1 ? '' : 's'}; ${speed.toFixed(0)}× real time\n`);
});
