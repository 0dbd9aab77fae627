// The microphone and reference recordings of a board, opened and checked together, and the echo attenuation
// measured from them where the reference plays (the microphone's power over the output's: ERLE when only the
// loudspeaker is heard, less while someone talks).
import type { WasmEchoCanceller } from '../dsp.js';
import { WavFormatError, WAV_SAMPLE_RATE } from '../wav.js';
import { WavReader, wavHeader } from '../wav-stream.js';
import type { ErlePoint } from './plot.js';

/** Both files' headers first (a rate mismatch names both), then each is checked and opened. */
export function openRecordings(micPath: string, refPath: string): { mic: WavReader; ref: WavReader } {
  const micRate = wavHeader(micPath).format.rate;
  const refRate = wavHeader(refPath).format.rate;
  if (micRate !== refRate) throw new WavFormatError(refPath, `${refRate} Hz against ${micPath}'s ${micRate} Hz, the rates must match`);
  const mic = new WavReader(micPath);
  try {
    return { mic, ref: new WavReader(refPath) };
  } catch (error) {
    mic.close();
    throw error;
  }
}

const REFERENCE_RMS = 100;          // the reference plays: above ~ -50 dBFS
const MAX_POINTS = 1000;            // a plot of an hour is still small

interface Window extends ErlePoint { mic: number; out: number; seconds: number }

export class AttenuationMeter {
  readonly points: Window[] = [];
  private readonly windowSamples: number;
  private mic = 0;
  private out = 0;
  private ref = 0;
  private samples = 0;
  private done = 0;

  constructor(totalSamples: number) {
    this.windowSamples = Math.max(WAV_SAMPLE_RATE / 4, Math.ceil(totalSamples / MAX_POINTS / 320) * 320);
  }

  add(mic: Int16Array, ref: Int16Array, out: Int16Array, samples: number): void {
    for (let i = 0; i < samples; i++) {
      this.mic += mic[i] * mic[i];
      this.out += out[i] * out[i];
      this.ref += ref[i] * ref[i];
    }
    this.samples += samples;
    if (this.samples >= this.windowSamples) this.flush();
  }

  /** Attenuation over the windows from `fromS` on (a ratio of sums) and the seconds they cover. */
  attenuationFrom(fromS: number): { db: number | undefined; seconds: number } {
    this.flush();
    let mic = 0, out = 0, seconds = 0;
    for (const p of this.points) {
      if (p.tS < fromS) continue;
      mic += p.mic;
      out += p.out;
      seconds += p.seconds;
    }
    return { db: seconds > 0 ? 10 * Math.log10(mic / Math.max(out, 1)) : undefined, seconds };
  }

  private flush(): void {
    if (this.samples === 0) return;
    if (this.ref / this.samples >= REFERENCE_RMS ** 2) {
      const tS = (this.done + this.samples / 2) / WAV_SAMPLE_RATE;
      this.points.push({ tS, erleDb: 10 * Math.log10(this.mic / Math.max(this.out, 1)), mic: this.mic, out: this.out, seconds: this.samples / WAV_SAMPLE_RATE });
    }
    this.done += this.samples;
    this.mic = this.out = this.ref = this.samples = 0;
  }
}

const SEGMENT_S = 5;

/**
 * Lines for stderr: the attenuation per 5 s segment where the reference plays, and a warning when the canceller
 * diverged (restarted its filters: its output would have been louder than the microphone) or any window of the
 * output came out more than 1 dB louder than the microphone's.
 */
export function attenuationReport(label: string, meter: AttenuationMeter, aec: WasmEchoCanceller): string[] {
  meter.attenuationFrom(0);
  const lines: string[] = [];
  const last = meter.points.length ? meter.points[meter.points.length - 1].tS : 0;
  for (let from = 0; from < last; from += SEGMENT_S) {
    const inside = meter.points.filter((p) => p.tS >= from && p.tS < from + SEGMENT_S);
    const mic = inside.reduce((s, p) => s + p.mic, 0);
    const out = inside.reduce((s, p) => s + p.out, 0);
    const seconds = inside.reduce((s, p) => s + p.seconds, 0);
    lines.push(`${label}: ${from}–${from + SEGMENT_S} s: ${seconds > 0 ? `echo attenuation ${(10 * Math.log10(mic / Math.max(out, 1))).toFixed(1)} dB over ${seconds.toFixed(1)} s where the reference plays` : 'the reference hardly plays'}`);
  }
  const louder = meter.points.filter((p) => p.out > p.mic * 10 ** 0.1);
  if (aec.resets > 0 || louder.length > 0) {
    lines.push(`${label}: warning: the canceller diverged: ${aec.resets} restart${aec.resets === 1 ? '' : 's'} of its filters (its output would have been louder than the microphone)`
      + `${louder.length ? `; the output was louder than the microphone in ${louder.length} window${louder.length === 1 ? '' : 's'}, first at ${louder[0].tS.toFixed(1)} s` : ''}`);
  }
  if (aec.pathChanges > 0) lines.push(`${label}: the echo path changed ${aec.pathChanges} time${aec.pathChanges === 1 ? '' : 's'} (the canceller relearnt fast)`);
  return lines;
}

/** The bulk delay the canceller found and how clearly, for a summary line: "40 ms (r² 0.71)" or "none yet (r² 0.05)". */
export function bulkDelayText(aec: WasmEchoCanceller): string {
  const samples = aec.bulkDelaySamples;
  return `${samples < 0 ? 'none yet' : `${samples / (WAV_SAMPLE_RATE / 1000)} ms`} (r² ${aec.bulkDelayConfidence.toFixed(2)})`;
}
