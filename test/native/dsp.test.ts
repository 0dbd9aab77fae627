// native/dsp through its three builds gives the same output bit for bit: WebAssembly on Node (hosts/node/dsp.ts,
// clang), xsrun (hosts/xs/xr_dsp.c, the host's cc) and the Cortex-M7 image (arm-none-eabi-gcc, FPv5), all without
// fused multiply-add (native/native.mk). test/native/dsp-program.ts runs DspSignal's frames through the canceller and
// the wake word on XS; here the same frames go through the same wrapper (src/audio/native-dsp.ts) over the wasm
// binding, and every frame's output hash and every score's float32 bits are compared.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dspMissingHint, wasmDsp } from '../../hosts/node/dsp.js';
import { NativeEchoCanceller, NativeWakeWord } from '../../src/audio/native-dsp.js';
import { runDsp, type DspRun } from '../support/dsp-signal.js';
import { fromRoot } from '../support/paths.js';
import { bootOnImage } from '../support/image-program.js';
import { build, modules } from '../support/xs-tools.js';

const FRAMES = 150;
const missing = build.toolchain().missing ?? dspMissingHint();
const skip = missing ? (process.env.CI === 'true' ? false : missing) : false;
const PROGRAM = 'build/test/native/dsp-program.js';
const MAP = 'build/test/native/dsp.map';

interface XsRun { run: DspRun; alloc: number[]; state: number[]; refused: string[] }

function parse(output: string): XsRun {
  const run: DspRun = { aec: [], kws: [], micEnergy: NaN, outEnergy: NaN };
  let alloc: number[] = [];
  let state: number[] = [];
  const refused: string[] = [];
  for (const line of output.split('\n')) {
    const [kind, ...fields] = line.trim().split(' ');
    if (kind === 'frame') {
      run.aec[Number(fields[0])] = parseInt(fields[1], 16);
      run.kws[Number(fields[0])] = parseInt(fields[2], 16);
    } else if (kind === 'energy') [run.micEnergy, run.outEnergy] = fields.map(Number);
    else if (kind === 'alloc') alloc = fields.map(Number);
    else if (kind === 'state') state = fields.map(Number);
    else if (kind === 'refused') refused.push(fields.join(' '));
  }
  return { run, alloc, state, refused };
}

/** The first frame where two runs differ, or -1. */
function firstDifference(a: DspRun, b: DspRun): number {
  for (let i = 0; i < Math.max(a.aec.length, b.aec.length); i++) if (a.aec[i] !== b.aec[i] || a.kws[i] !== b.kws[i]) return i;
  return -1;
}

let wasm: DspRun;
let xs: XsRun;

before(async () => {
  if (skip) return;
  if (missing) throw new Error(missing);
  wasm = runDsp(new NativeEchoCanceller(wasmDsp), new NativeWakeWord(wasmDsp), FRAMES);
  mkdirSync(fromRoot('build/test/native'), { recursive: true });
  await build.buildXsrun({ quiet: true });
  modules.writeMap(fromRoot(MAP), modules.moduleGraph([PROGRAM]).aliases);
  const run = spawnSync(build.xsrunPath, ['--map', MAP, PROGRAM, 'check', String(FRAMES)], { cwd: fromRoot(), encoding: 'utf8', maxBuffer: 16 << 20, timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  xs = parse(run.stdout);
});

test('the signal exercises the C: the canceller cancels, the scores move', { skip }, (t) => {
  const erle = 10 * Math.log10(wasm.micEnergy / wasm.outEnergy);
  t.diagnostic(`wasm: ERLE over the second half (double talk included) ${erle.toFixed(1)} dB, ${new Set(wasm.kws).size} distinct scores`);
  assert.ok(erle > 6, `ERLE ${erle}`);
  assert.ok(new Set(wasm.aec).size === FRAMES, 'every output frame differs');
  assert.ok(new Set(wasm.kws).size > FRAMES / 2, 'the scores change from frame to frame');
});

test('xsrun gives the WebAssembly build\'s output bit for bit', { skip }, () => {
  assert.equal(xs.run.aec.length, FRAMES);
  assert.equal(firstDifference(xs.run, wasm), -1, `first differing frame ${firstDifference(xs.run, wasm)}`);
  assert.deepEqual([xs.run.micEnergy, xs.run.outEnergy], [wasm.micEnergy, wasm.outEnergy]);
});

test('the XS binding allocates nothing on the XS heap per frame; the C states are what the header says', { skip }, () => {
  assert.equal(xs.alloc.length, 4);
  assert.deepEqual(xs.alloc.slice(2), xs.alloc.slice(0, 2), '20 frames through both hooks');
  assert.ok(xs.state[0] > 50_000 && xs.state[1] > 20_000, `states ${xs.state}`);
});

test('the XS binding refuses a short frame, a detector given as a canceller and a filter too long, with a clear error', { skip }, () => {
  assert.deepEqual(xs.refused, [
    'RangeError: echo canceller reference expected 320 samples, got 319',
    // xsGetHostDataValidate: each kind of state has its own destructor, so the C never reads a detector as a canceller.
    'SyntaxError: C: xsGetHostData: invalid',
    'RangeError: echo canceller: frameSamples 320 must be a multiple of 64, taps 4096 a multiple of 64 up to 2048',
  ]);
});

test('the Cortex-M7 image gives the same output bit for bit', { skip }, async (t) => {
  const boot1 = await bootOnImage(t, 'dsp-check', [PROGRAM], ['check', String(FRAMES)]);
  if (!boot1) return;
  assert.equal(boot1.code, 0, `${boot1.output.slice(-2000)}\n${boot1.stderr}`);
  const m7 = parse(boot1.output);
  t.diagnostic(`M7: canceller state ${m7.state[0]} B (1,024 taps), detector ${m7.state[1]} B; heap peak ${boot1.board.heap_peak} B, C stack peak ${boot1.board.stack_peak} B`);
  assert.equal(m7.run.aec.length, FRAMES);
  assert.equal(firstDifference(m7.run, wasm), -1, `first differing frame ${firstDifference(m7.run, wasm)}`);
  assert.deepEqual(m7.alloc.slice(2), m7.alloc.slice(0, 2));
  assert.equal(m7.refused[2], 'RangeError: echo canceller: frameSamples 320 must be a multiple of 64, taps 4096 a multiple of 64 up to 1024', 'the image\'s canceller is built for 1,024 taps');
});
