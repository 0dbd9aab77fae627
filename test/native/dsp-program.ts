// native/dsp through the XS hosts' binding (hosts/xs/xr_dsp.c) and src/audio/native-dsp.ts, run on xsrun and on the
// Cortex-M7 image by test/native/dsp.test.ts and bench/dsp-m7.ts (not a test file). Arguments: [mode] [frames] [taps].
//   check (default): DspSignal's frames through the canceller and the wake word; prints, one line each:
//     frame <i> <hash of the canceller's output> <the wake word's score as float32 bits>   (hex)
//     energy <microphone> <output> (second half) | state <canceller bytes> <detector bytes>
//     alloc <slots> <chunk bytes> for nothing, then for 20 frames of both hooks (xsrun.memory(): no collection
//       runs without an allocation)
//     refused <error name>: <message>, for each bad call (a short frame, a detector's state given as a canceller's,
//       a filter longer than the C was built for)
//   time: the same frames, timed per hook call with xsrun.now(); prints `time <JSON>` of ms per frame (mean, max).
import { NativeEchoCanceller, NativeWakeWord, type DspBinding } from '../../src/audio/native-dsp.js';
import { runDsp } from '../support/dsp-signal.js';

interface Memory { slots: { current: number }; chunks: { current: number } }
declare const xsrun: { args: string[]; now(): number; memory(): Memory; gc(): void };
declare const print: (...values: unknown[]) => void;
const natives = (globalThis as unknown as { natives: DspBinding & { aecStateBytes: number; kwsStateBytes: number } }).natives;

const [mode = 'check', framesArg = '150', tapsArg = '1024'] = xsrun.args;
const aec = new NativeEchoCanceller(natives, { taps: Number(tapsArg) });
const kws = new NativeWakeWord(natives);

if (mode === 'time') {
  print(`time ${JSON.stringify(runDsp(aec, kws, Number(framesArg), () => xsrun.now()).time)}`);
} else {
  const run = runDsp(aec, kws, Number(framesArg));
  for (let i = 0; i < run.aec.length; i++) print(`frame ${i} ${run.aec[i].toString(16)} ${run.kws[i].toString(16)}`);
  print(`energy ${run.micEnergy} ${run.outEnergy}`);
  print(`state ${natives.aecStateBytes} ${natives.kwsStateBytes}`);
  const mic = new Int16Array(320).fill(1000), reference = new Int16Array(320).fill(-1000), out = new Int16Array(320);
  const detection = { beginSample: 0, endSample: 0 };
  const frames = () => {
    for (let f = 0; f < 20; f++) {
      aec.process(mic, reference, out);
      kws.process(out, f * 320, detection);
    }
  };
  const allocation = (work: () => void) => {
    // A collection first, so none falls inside the window (one there would hide allocation as freed slots).
    xsrun.gc();
    const before = xsrun.memory();
    work();
    const after = xsrun.memory();
    return `${after.slots.current - before.slots.current} ${after.chunks.current - before.chunks.current}`;
  };
  frames();
  allocation(() => {});
  print(`alloc ${allocation(() => {})} ${allocation(frames)}`);
  const detector = natives.kwsCreate();
  for (const bad of [() => aec.process(mic, reference.subarray(1), out), () => natives.aecProcess(detector, mic, reference, out),
    () => natives.aecCreate(320, 64 * 64)]) {
    try {
      bad();
      print('refused nothing');
    } catch (error) {
      print(`refused ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
}
