// The canceller never makes the microphone louder, whatever the loudspeaker plays: swept sines (the classic trap of
// a normalised adaptive filter, whose per-bin step outruns the reference's power as the tone moves on), pure
// tones, DC, clipped waves, level steps and silence, each through the simulated room. Every 250 ms window of the
// output is at most 1 dB above the microphone's. Through the WebAssembly build, as the Node host runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEchoCanceller, dspMissingHint } from '../../hosts/node/dsp.js';
import { recordInRoom } from '../../emulator/voice/room.js';
import { SAMPLE_RATE, concat, silence } from '../../emulator/voice/pcm.js';

const skip = dspMissingHint();
const RATE = SAMPLE_RATE;
const clip = (v: number) => Math.max(-32767, Math.min(32767, Math.round(v)));

function logSweep(f0: number, f1: number, sweepS: number, seconds: number, level: number): Int16Array {
  const k = Math.log(f1 / f0);
  const m = Math.round(sweepS * RATE);
  return Int16Array.from({ length: Math.round(seconds * RATE) }, (_, i) => {
    const t = (i % m) / RATE;
    return clip(level * 32767 * Math.sin(((2 * Math.PI * f0 * sweepS) / k) * (Math.exp((t * k) / sweepS) - 1)));
  });
}

const tone = (hz: number, seconds: number, level: number) =>
  Int16Array.from({ length: Math.round(seconds * RATE) }, (_, i) => clip(level * 32767 * Math.sin((2 * Math.PI * hz * i) / RATE)));

/** The loudest 250 ms window of the output over the microphone's (where the microphone is above RMS 10), in dB. */
function worstOverMic(played: Int16Array): { worst: number; at: number } {
  const whole = played.subarray(0, played.length - (played.length % 320));
  const { mic } = recordInRoom(whole, undefined, { rt60Ms: 200 });
  const aec = new WasmEchoCanceller();
  const out = new Int16Array(whole.length);
  for (let at = 0; at < whole.length; at += 320) aec.process(mic.subarray(at, at + 320), whole.subarray(at, at + 320), out.subarray(at, at + 320));
  let worst = -Infinity;
  let when = 0;
  const w = RATE / 4;
  for (let at = 0; at + w <= out.length; at += w) {
    let m = 0;
    let o = 0;
    for (let i = at; i < at + w; i++) {
      m += mic[i] ** 2;
      o += out[i] ** 2;
    }
    if (m / w < 100) continue;
    const db = 10 * Math.log10(Math.max(o, 1) / m);
    if (db > worst) [worst, when] = [db, at / RATE];
  }
  return { worst, at: when };
}

const references: [string, () => Int16Array][] = [
  ['a log sweep 100–7,000 Hz, 2 s, repeated', () => concat(silence(RATE / 2), logSweep(100, 7000, 2, 12, 0.5))],
  ['a fast log sweep 50–7,900 Hz, 0.5 s, repeated, near full scale', () => concat(silence(RATE / 2), logSweep(50, 7900, 0.5, 8, 0.9))],
  ['pure tones at level steps', () => concat(silence(RATE / 2), tone(1000, 3, 0.3), tone(1000, 2, 0.02), tone(3000, 3, 0.6), tone(250, 3, 0.1))],
  ['DC, a clipped square-ish wave, silence, then a burst', () => concat(silence(RATE / 2), new Int16Array(2 * RATE).fill(8000), tone(300, 3, 3), silence(2 * RATE), tone(700, 1, 1.5))],
];

for (const [name, make] of references) {
  test(`the output never rises more than 1 dB over the microphone: ${name}`, { skip }, () => {
    const { worst, at } = worstOverMic(make());
    assert.ok(worst <= 1, `output ${worst.toFixed(1)} dB over the microphone at ${at.toFixed(2)} s`);
  });
}
