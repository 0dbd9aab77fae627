#!/usr/bin/env node
// wake [--threshold X] FILE.wav…: streams each recording through the device's wake-word detector (native/dsp/kws.c
// as WebAssembly behind the device's WakeWordGate, through the device's FrontEnd) and prints one JSON line per
// detection as it is made. Every file is checked before the first is run.
import { WAV_SAMPLE_RATE } from '../wav.js';
import { WavReader } from '../wav-stream.js';
import { UsageError, parseArgs, runCommand, thresholdOption } from './cli.js';
import { runCapture } from './capture.js';
import { wakeWordPrinter } from './detections.js';

const USAGE = `wake [--threshold X] FILE.wav…
  --threshold X  the detector's score to report, between 0 and 1 (default the device's)
  FILE.wav       16 kHz mono recordings, run one after the other
  --help         this text`;

await runCommand('wake', USAGE, async () => {
  const args = parseArgs(process.argv.slice(2), ['threshold']);
  const threshold = thresholdOption(args);
  if (args.files.length === 0) throw new UsageError('no WAV file given');
  for (const path of args.files) new WavReader(path).close();
  let total = 0;
  let seconds = 0;
  for (const path of args.files) {
    const mic = new WavReader(path);
    const printer = wakeWordPrinter(path, threshold);
    await runCapture({ mic, wakeWord: printer.wakeWord, onWakeWord: printer.onWakeWord, label: `wake ${path}` });
    mic.close();
    total += printer.count();
    seconds += mic.samples / WAV_SAMPLE_RATE;
  }
  process.stderr.write(`wake: ${total} detection${total === 1 ? '' : 's'} in ${args.files.length} file${args.files.length === 1 ? '' : 's'} (${seconds.toFixed(1)} s)\n`);
});
