// The audio ports in the browser, on WebAudio at the core's 16 kHz (the AudioContext resamples the microphone and
// the output): a ScriptProcessor cuts the microphone into 20 ms frames and plays the speaker's queued frames.
// Frames are copied into preallocated rings, so the per-frame path allocates nothing.
import type { AudioInFactory, AudioInOptions, AudioOutFactory, AudioOutOptions } from '../../src/ports/audio.js';

const BLOCK = 1024;
/** Microphone frames held for the core: 2 s. */
const RING_FRAMES = 100;
/**
 * Speaker frames queued ahead of playback: 200 ms, a few blocks. More would drain the core's jitter buffer into
 * this queue at once and leave it reporting underruns while the answer still plays.
 */
const OUT_FRAMES = 10;

/** What the page shows of the audio: the last microphone frame's peak and the frames played (0..1, count). */
export interface AudioMeters {
  micPeak: number;
  playedFrames: number;
}

export function webAudio(context: AudioContext, meters: AudioMeters): { audioIn: AudioInFactory; audioOut: AudioOutFactory } {
  const audioIn: AudioInFactory = (options: AudioInOptions) => {
    const n = options.frameSamples;
    const ring = new Int16Array(n * RING_FRAMES);
    const times = new Float64Array(RING_FRAMES);
    let readAt = 0;
    let count = 0;
    let filling = 0;
    let processor: ScriptProcessorNode | undefined;
    let stream: MediaStream | undefined;
    let wanted = false;
    const onBlock = (event: AudioProcessingEvent) => {
      const input = event.inputBuffer.getChannelData(0);
      let peak = 0;
      for (let i = 0; i < input.length; i++) {
        const slot = (readAt + count) % RING_FRAMES;
        const v = Math.max(-1, Math.min(1, input[i]));
        peak = Math.max(peak, Math.abs(v));
        ring[slot * n + filling++] = Math.round(v * 32767);
        if (filling === n) {
          filling = 0;
          times[slot] = performance.now();
          if (count === RING_FRAMES) readAt = (readAt + 1) % RING_FRAMES; // the oldest is dropped: the core is not reading
          else count++;
        }
      }
      meters.micPeak = peak;
      if (count > 0) options.onReadable(count);
    };
    return {
      read(frame: Int16Array): number {
        if (count === 0) return -1;
        for (let i = 0, at = readAt * n; i < n; i++) frame[i] = ring[at + i];
        const time = times[readAt];
        readAt = (readAt + 1) % RING_FRAMES;
        count--;
        return time;
      },
      start(): void {
        wanted = true;
        if (processor) return;
        const opening = navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: false } });
        opening.then((media) => {
          if (!wanted) return media.getTracks().forEach((t) => t.stop());
          stream = media;
          processor = context.createScriptProcessor(BLOCK, 1, 1);
          processor.onaudioprocess = onBlock;
          context.createMediaStreamSource(media).connect(processor);
          processor.connect(context.destination); // a ScriptProcessor runs only while connected
        }, (error: Error) => options.onError?.(new Error(`microphone: ${error.message}`)));
      },
      stop(): void {
        wanted = false;
        processor?.disconnect();
        processor = undefined;
        stream?.getTracks().forEach((t) => t.stop());
        stream = undefined;
      },
      close(): void {
        this.stop();
      },
    };
  };

  const audioOut: AudioOutFactory = (options: AudioOutOptions) => {
    const n = options.frameSamples;
    const ring = new Int16Array(n * OUT_FRAMES);
    let readAt = 0;
    let count = 0;
    let offset = 0;
    let processor: ScriptProcessorNode | undefined;
    const onBlock = (event: AudioProcessingEvent) => {
      const out = event.outputBuffer.getChannelData(0);
      const before = count;
      for (let i = 0; i < out.length; i++) {
        if (count === 0) { out[i] = 0; continue; }
        out[i] = ring[readAt * n + offset++] / 32768;
        if (offset === n) {
          offset = 0;
          readAt = (readAt + 1) % OUT_FRAMES;
          count--;
          meters.playedFrames++;
        }
      }
      if (count < before) options.onWritable(OUT_FRAMES - count);
    };
    return {
      write(frame: Int16Array): void {
        if (count === OUT_FRAMES) return; // full: the core waits for onWritable, so this is a caller's bug; dropped
        ring.set(frame, ((readAt + count) % OUT_FRAMES) * n);
        count++;
      },
      reference: () => false,
      start(): void {
        if (processor) return;
        processor = context.createScriptProcessor(BLOCK, 1, 1);
        processor.onaudioprocess = onBlock;
        processor.connect(context.destination);
        options.onWritable(OUT_FRAMES - count);
      },
      stop(): void {
        processor?.disconnect();
        processor = undefined;
        count = 0;
        offset = 0;
      },
      close(): void {
        this.stop();
      },
    };
  };

  return { audioIn, audioOut };
}
