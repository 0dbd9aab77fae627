// The Moddable ports on xsrun, component by component, as the device drives them per 20 ms frame (run by
// test/moddable/ports-xs.test.ts; not a test file): xsrun's ECMA-419 drivers (hosts/xs/io) under the adapters of
// hosts/moddable, in real time on xsrun's event loop. Argument: the port of a TCP echo server on 127.0.0.1.
//   capture: audio in (the WAV-file microphone's 31.25 ms periods) → 20 ms frames (Capture) → the front end
//            (native/dsp's canceller with the speaker's reference, the wake word)
//   speaker: audio out fed a frame per frame of room, its reference read per frame as the front end does
//   socket:  a repeating 20 ms timer (the microphone's publish tick) writes a 180-byte message from a reused
//            buffer; the echo comes back through read() into a reused buffer
// Each runs alone, 700 ms to settle, then a window of 1 s between two snapshots of xsrun.memory() (live heap,
// garbage included; no collection runs without an allocation). Prints, one line each:
//   alloc <component> <slots> <chunk bytes> <frames> <collections>   (the snapshot's own cost subtracted)
import { moddableAudioIn, moddableAudioOut } from '../../hosts/moddable/audio.js';
import { moddableClock as clock } from '../../hosts/moddable/clock.js';
import { moddableSocket } from '../../hosts/moddable/socket.js';
import { dspFrontEnd } from '../../hosts/moddable/frontend.js';
import { Capture } from '../../src/audio/capture.js';
import { FrontEnd } from '../../src/audio/frontend.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../src/audio/encoder.js';
import type { DspBinding } from '../../src/audio/native-dsp.js';
import { Logger } from '../../src/ports/log.js';
import AudioIn from 'embedded:io/audio/in';
import AudioOut from 'embedded:io/audio/out';

interface Memory { slots: { current: number }; chunks: { current: number }; gcCount: number }
declare const xsrun: { args: string[]; memory(): Memory; gc(): void };
declare const print: (...values: unknown[]) => void;
const natives = (globalThis as unknown as { natives: DspBinding }).natives;

const log = new Logger({ write: (level, component, message) => print(`${level} [${component}] ${message}`) }, 'ports');
const SETTLE_MS = 700; // a 31.25 ms period meets the 20 ms frames at all its offsets in 500 ms
const WINDOW_MS = 1000;
let frames = 0; // frames through the component running

xsrun.memory(); // the first call makes its result's keys
const a = xsrun.memory();
const b = xsrun.memory();
const cost = { slots: b.slots.current - a.slots.current, chunks: b.chunks.current - a.chunks.current };

/** Starts a component, measures its window, stops it, then the next one. */
function measure(name: string, start: () => () => void, next: () => void): void {
  const stop = start();
  let before = a;
  let firstFrame = 0;
  // Both timers set before the window opens, so their making is outside it.
  clock.setTimer(() => {
    xsrun.gc();
    before = xsrun.memory();
    firstFrame = frames;
  }, SETTLE_MS);
  clock.setTimer(() => {
    const after = xsrun.memory();
    print(`alloc ${name} ${after.slots.current - before.slots.current - cost.slots} ${after.chunks.current - before.chunks.current - cost.chunks} ${frames - firstFrame} ${after.gcCount - before.gcCount}`);
    stop();
    next();
  }, SETTLE_MS + WINDOW_MS);
}

function capture(): () => void {
  frames = 0;
  const { echoCanceller, wakeWord } = dspFrontEnd(natives, []);
  const silent = new Int16Array(FRAME_SAMPLES);
  const frontEnd = new FrontEnd({
    frameSamples: FRAME_SAMPLES, echoCanceller, wakeWord,
    reference: (frame) => { frame.set(silent); return true; },
    onFrame: () => { frames++; },
  });
  const port = new Capture({ audioIn: moddableAudioIn(AudioIn, { clock }), log, onFrame: (frame, timeMs) => frontEnd.push(frame, timeMs) });
  port.start();
  return () => port.close();
}

function speaker(): () => void {
  frames = 0;
  const frame = new Int16Array(FRAME_SAMPLES).fill(1000);
  const reference = new Int16Array(FRAME_SAMPLES);
  let room = 0, writing = false;
  const out = moddableAudioOut(AudioOut, { clock })({
    sampleRate: SAMPLE_RATE, frameSamples: FRAME_SAMPLES,
    onWritable(count) {
      // write() reports the room left through onWritable again: the loop runs in the outermost call only.
      room = count;
      if (writing) return;
      writing = true;
      for (; room > 0; room--) {
        frames++;
        out.reference(reference, clock.monotonicMs() - 40);
        out.write(frame);
      }
      writing = false;
    },
  });
  out.start();
  return () => out.close();
}

function socket(): () => void {
  frames = 0;
  const message = new Uint8Array(512).fill(7);
  const rx = new Uint8Array(4096);
  const io = moddableSocket({
    host: '127.0.0.1', port: Number(xsrun.args[0]),
    onConnect() {},
    onReadable() { while (io.read(rx) > 0); },
    onError(error) { print(`socket error ${error.message}`); },
  });
  const tick = clock.setTimer(() => { io.write(message, 180); frames++; }, 20, 20);
  return () => { clock.clearTimer(tick); io.close(); };
}

measure('idle', () => () => {}, () => measure('capture', capture, () => measure('speaker', speaker, () => measure('socket', socket, () => {}))));
