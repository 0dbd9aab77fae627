// The device's capture path over WAV files: every 20 ms frame of the microphone recording, with the speaker
// reference of the same time, goes through src/audio/frontend.ts's FrontEnd (the canceller, then the wake
// word), exactly as Device feeds it from the audio-in port, with no look-ahead. Streams: memory does not grow
// with the recording's length.
import type { EchoCanceller, WakeWordDetector } from '../../../src/audio/hooks.js';
import { FrontEnd } from '../../../src/audio/frontend.js';
import { DSP_FRAME_SAMPLES as FRAME_SAMPLES } from '../../../src/audio/native-dsp.js';
import { WAV_SAMPLE_RATE } from '../wav.js';
import type { WavReader, WavWriter } from '../wav-stream.js';
import { Progress } from './cli.js';

const FRAME_MS = 20;

export interface CaptureRun {
  mic: WavReader;
  /** The loudspeaker's signal, sample-aligned with the microphone recording's start; shorter means it stopped. */
  ref?: WavReader;
  /** The front end's output, as long as the microphone recording. */
  out?: WavWriter;
  echoCanceller?: EchoCanceller;
  wakeWord?: WakeWordDetector;
  /** A detection: its span and when it was made, in samples of the recording. */
  onWakeWord?(beginSample: number, endSample: number, atSample: number): void;
  /** Every frame: the microphone, the reference (zeros when none) and the output; `samples` of them are the file's. */
  onFrame?(mic: Int16Array, ref: Int16Array, out: Int16Array, samples: number): void;
  /** Progress label on a terminal. */
  label: string;
}

/** Runs the recording through; returns its speed in audio seconds per wall-clock second. */
export async function runCapture(run: CaptureRun): Promise<number> {
  const mic = new Int16Array(FRAME_SAMPLES);
  const ref = new Int16Array(FRAME_SAMPLES);
  let refPlays = false;
  let samples = 0;
  const front = new FrontEnd({
    frameSamples: FRAME_SAMPLES,
    echoCanceller: run.echoCanceller,
    wakeWord: run.wakeWord,
    // The frame the speaker played at the capture time: the recordings are aligned, so it is the same frame.
    reference: (frame) => {
      if (refPlays) frame.set(ref);
      return refPlays;
    },
    onFrame: (out) => {
      run.out?.write(samples === FRAME_SAMPLES ? out : out.subarray(0, samples));
      run.onFrame?.(mic, ref, out, samples);
    },
    onWakeWord: (begin, end) => run.onWakeWord?.(begin, end, front.capturedSamples),
  });
  const totalS = run.mic.samples / WAV_SAMPLE_RATE;
  const progress = new Progress(run.label, totalS);
  for (let frame = 0; ; frame++) {
    samples = run.mic.read(mic);
    if (samples === 0) break;
    mic.fill(0, samples);
    const got = run.ref ? run.ref.read(ref) : 0;
    ref.fill(0, got);
    refPlays = got > 0;
    front.push(mic, frame * FRAME_MS);
    if (frame % 500 === 499) {
      progress.update(front.capturedSamples / WAV_SAMPLE_RATE);
      // Lets detections already written reach a pipe while a long file runs.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  progress.done();
  return progress.speed(totalS);
}
