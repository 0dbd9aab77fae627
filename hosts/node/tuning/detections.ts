// Wake-word detections as the tuning commands print them: one JSON line on stdout per detection, when it is made.
import { WasmWakeWord } from '../dsp.js';
import { WAV_SAMPLE_RATE } from '../wav.js';

const seconds = (samples: number) => Math.round((samples / WAV_SAMPLE_RATE) * 1000) / 1000;

/** The device's detector (its defaults; `threshold` overrides) and the printer of its detections in `file`. */
export function wakeWordPrinter(file: string, threshold: number | undefined): { wakeWord: WasmWakeWord; onWakeWord(begin: number, end: number, at: number): void; count(): number } {
  const wakeWord = new WasmWakeWord(threshold === undefined ? {} : { threshold });
  let detections = 0;
  return {
    wakeWord,
    onWakeWord(begin, end, at) {
      detections++;
      process.stdout.write(`${JSON.stringify({ file, t: seconds(at), start: seconds(begin), end: seconds(end), score: Math.round(wakeWord.score * 1000) / 1000 })}\n`);
    },
    count: () => detections,
  };
}
