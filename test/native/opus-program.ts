// The Opus check run on xsrun and on the Cortex-M7 image, driven by test/native/opus.test.ts (not a test file):
// the device's uplink encoder (OpusFrameEncoder: 64 kbps CBR, 'voip', src/audio/encoder.ts) and a speaker
// decoder (16 kHz mono, as src/ais/speaker.ts makes it), both over the native opus port, on the data module
// named by the first argument. Prints, one line each:
//   uplink <frame> <packet hex> | speaker <frame> <PCM hex, 16-bit little-endian>
//   alloc <slots> <chunk bytes> for nothing, for the encode loop, for the decode loop (xsrun.memory(): live
//     heap, garbage included; no collection runs without an allocation)
//   state <encoder bytes> <decoder bytes> (libopus's own allocations, outside the XS heap)
import { nativeOpus, type OpusBinding } from '../../src/audio/native-opus.js';
import { FRAME_SAMPLES, OpusFrameEncoder } from '../../src/audio/encoder.js';

interface Memory { slots: { current: number }; chunks: { current: number } }
declare const xsrun: { args: string[]; memory(): Memory; gc(): void };
declare const print: (...values: unknown[]) => void;
const natives = (globalThis as unknown as { natives: OpusBinding & { opusEncoderBytes: number; opusDecoderBytes: number } }).natives;

// Hex strings of one frame each: the parser's buffer (4 KB) bounds a string literal.
const data = await import(xsrun.args[0]) as { pcm: string[]; speaker: string[] };
const HEX = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));
const bytesOf = (hex: string) => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
};
const hexOf = (bytes: Uint8Array) => {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i++) parts.push(HEX[bytes[i]]);
  return parts.join('');
};

const pcmBytes = bytesOf(data.pcm.join(''));
const pcm = new Int16Array(pcmBytes.buffer, 0, pcmBytes.length >> 1);
const frames = pcm.length / FRAME_SAMPLES;
const packets = data.speaker.map(bytesOf);

const opus = nativeOpus(natives);
const encoder = new OpusFrameEncoder(opus, 64000);
const decoder = opus.createDecoder({ sampleRate: 16000, channels: 1 });
const uplink = new Uint8Array(frames * encoder.frameBytes);
const frame = new Int16Array(FRAME_SAMPLES);
const decoded = new Int16Array(packets.length * FRAME_SAMPLES);
const decodedFrame = new Int16Array(FRAME_SAMPLES);

function encodeFrame(i: number): void {
  for (let j = 0, k = i * FRAME_SAMPLES; j < FRAME_SAMPLES; j++, k++) frame[j] = pcm[k];
  encoder.encode(frame, uplink, i * encoder.frameBytes);
}

function decodeFrame(i: number): void {
  const n = decoder.decode(packets[i], decodedFrame);
  for (let j = 0, k = i * FRAME_SAMPLES; j < n; j++, k++) decoded[k] = decodedFrame[j];
}

function allocation(run: () => void): string {
  // A collection first, so none falls inside the window (one there would hide allocation as freed slots).
  xsrun.gc();
  const before = xsrun.memory();
  run();
  const after = xsrun.memory();
  return `${after.slots.current - before.slots.current} ${after.chunks.current - before.chunks.current}`;
}

// The first frame of each outside the windows: a first call may settle lazily built engine state.
// The first call of allocation() itself settles too (memory()'s result object makes its keys).
encodeFrame(0);
decodeFrame(0);
allocation(() => {});
const nothing = allocation(() => {});
const encoding = allocation(() => { for (let i = 1; i < frames; i++) encodeFrame(i); });
const decoding = allocation(() => { for (let i = 1; i < packets.length; i++) decodeFrame(i); });
for (let i = 0; i < frames; i++) print(`uplink ${i} ${hexOf(uplink.subarray(i * encoder.frameBytes, (i + 1) * encoder.frameBytes))}`);
const decodedBytes = new Uint8Array(decoded.buffer);
for (let i = 0; i < packets.length; i++) print(`speaker ${i} ${hexOf(decodedBytes.subarray(i * 2 * FRAME_SAMPLES, (i + 1) * 2 * FRAME_SAMPLES))}`);
print(`alloc ${nothing} ${encoding} ${decoding}`);
print(`state ${natives.opusEncoderBytes} ${natives.opusDecoderBytes}`);
encoder.close();
decoder.close();
