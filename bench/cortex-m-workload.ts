// The workload behind docs/figures/firmware.md, run on the firmware image (QEMU's Cortex-M7) by
// bench/cortex-m-figures.ts. Portable: src/ only, loaded by dynamic import() so the heap can be read before
// and after each group of modules; the operations it shares with bench/xs-workload.ts are in
// bench/workload-operations.ts. Prints one line: `M7-FIGURES <json>`.
//
// Argument (the image's command line after the module): `memory` (XS heap after each phase) or
// `instructions` (per operation, under QEMU -icount shift=0, where one virtual nanosecond is one guest
// instruction: xsrun.now() is SysTick's millisecond, so instructions = ms x 1e6, read to 40 instructions).

import { KEY, loadBiquad, loadCodec, loadFraming, loadPublish, snapshot, type Operation, type XsHost } from './workload-operations.js';

const host = (globalThis as unknown as { xsrun: XsHost }).xsrun;
// Before any dynamic import: reset, machine creation, the prelude and this module's loading, in ms.
const reachedMs = host.now();
const mode = host.args[0] ?? 'memory';

/** The natives of the XS hosts (hosts/xs/xr_opus.c): the opus binding and its state sizes. */
type Natives = import('../src/audio/native-opus.js').OpusBinding & { opusEncoderBytes: number; opusDecoderBytes: number };
const natives = (globalThis as unknown as { natives: Natives }).natives;

/** One second of a voice-band test signal (a chirp under a slow tremolo), cut in 20 ms frames. */
function testFrames(): Int16Array[] {
  return Array.from({ length: 50 }, (_, f) => Int16Array.from({ length: 320 }, (_, i) => {
    const t = (f * 320 + i) / 16000;
    return Math.round(7000 * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t)) * Math.sin(2 * Math.PI * (200 * t + 1400 * t * t)));
  }));
}

/**
 * The native audio and crypto stages per 20 ms frame: the device's uplink encoder (OpusFrameEncoder, 64 kbps CBR,
 * 'voip') and the CELT-only one the port offers ('restricted-lowdelay'), a speaker decoder on 64 kbps frames, and
 * the envelope with the host's AES-GCM (native/aes_gcm.c on the image) on a 644-byte body, seal and open.
 */
async function loadNative() {
  const { nativeOpus } = await import('../src/audio/native-opus.js');
  const { OpusFrameEncoder } = await import('../src/audio/encoder.js');
  const { createPortableCrypto } = await import('../src/crypto/portable.js');
  const { Envelope } = await import('../src/ais/envelope.js');
  const opus = nativeOpus(natives);
  const frames = testFrames();
  const uplink = new Uint8Array(160);
  let next = 0;
  const encodeWith = (encoder: { encode(pcm: Int16Array, out: Uint8Array, at: number): void }): Operation => () => {
    encoder.encode(frames[next], uplink, 0);
    next = (next + 1) % frames.length;
  };
  const voip = new OpusFrameEncoder(opus, 64000);
  const celtEncoder = opus.createEncoder({ sampleRate: 16000, channels: 1, bitsPerSecond: 64000, application: 'restricted-lowdelay' });
  const celt = encodeWith({ encode: (pcm, out) => { celtEncoder.encode(pcm, out); } });
  // Speaker frames as the emulator makes them (64 kbps CBR, 'audio'), encoded here once.
  const speakerEncoder = opus.createEncoder({ sampleRate: 16000, channels: 1, bitsPerSecond: 64000, application: 'audio' });
  const packets = frames.map((frame) => { const p = new Uint8Array(160); speakerEncoder.encode(frame, p); return p; });
  speakerEncoder.close();
  const decoder = opus.createDecoder({ sampleRate: 16000, channels: 1 });
  const pcm = new Int16Array(320);
  let played = 0;
  const opusDecode: Operation = () => {
    if (decoder.decode(packets[played], pcm) !== 320) throw new Error('a speaker frame did not decode to 320 samples');
    played = (played + 1) % packets.length;
  };
  let iv = 0;
  const crypto = createPortableCrypto((out) => { out.fill(iv++ & 0xff); });
  const envelope = new Envelope({ crypto, maxMessageBytes: 36 + 644 });
  const body = new Uint8Array(644).map((_, i) => (i * 13) & 0xff);
  const sealed = new Uint8Array(envelope.maxMessageBytes);
  const received = sealed.subarray(0, envelope.sealedBytes(body.length));
  const sealAes: Operation = () => { envelope.seal(KEY, 7, body, sealed); };
  const openAes: Operation = () => { if (envelope.open(KEY, received).error) throw new Error('the envelope did not open'); };
  sealAes();
  openAes();
  const key16 = KEY.subarray(0, 16);
  const ivBytes = new Uint8Array(12);
  const tag = new Uint8Array(16);
  const ciphertext = new Uint8Array(644);
  const aes128: Operation = () => { crypto.aesGcmSeal(key16, ivBytes, body, ciphertext, tag); };
  return { opusEncode: encodeWith(voip), opusEncodeCelt: celt, opusDecode, sealAes, openAes, aes128 };
}

/** Median instructions per call over 5 batches of `count` (virtual ms x 1e6 under -icount shift=0). */
function instructions(op: Operation, count: number): number {
  for (let i = 0; i < 3; i++) op();
  const samples: number[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const start = host.now();
    for (let i = 0; i < count; i++) op();
    samples.push(((host.now() - start) * 1e6) / count);
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[2]);
}

/** The most instructions one call took over `count` calls in a row (a codec's cost moves with the signal). */
function worst(op: Operation, count: number): number {
  let most = 0;
  for (let i = 0; i < count; i++) {
    const start = host.now();
    op();
    most = Math.max(most, (host.now() - start) * 1e6);
  }
  return Math.round(most);
}

async function main() {
  const result: Record<string, unknown> = { mode, reachedMs };
  if (mode === 'memory') {
    const phases: Record<string, unknown> = {};
    phases.machine = snapshot(host, true);
    host.resetPeaks();
    const biquad = loadBiquad();
    const { codec } = await loadCodec();
    const publish = await loadPublish();
    phases.mqtt = snapshot(host, true);
    host.resetPeaks();
    const { framing } = await loadFraming();
    await import('../src/app/device.js');
    phases.app = snapshot(host, true);
    host.resetPeaks();
    const native = await loadNative();
    for (let i = 0; i < 50; i++) { native.opusEncode(); native.opusDecode(); native.sealAes(); native.openAes(); }
    phases.native = snapshot(host, true);
    result.opusState = { encoder: natives.opusEncoderBytes, decoder: natives.opusDecoderBytes };
    host.resetPeaks();
    const gcBefore = host.memory().gcCount;
    for (let i = 0; i < 1000; i++) publish();
    for (let i = 0; i < 1000; i++) codec();
    for (let i = 0; i < 1000; i++) framing();
    for (let i = 0; i < 50; i++) biquad();
    result.gcInWorkload = host.memory().gcCount - gcBefore;
    phases.workload = snapshot(host, false);
    phases.workloadLive = snapshot(host, true);
    result.phases = phases;
  } else if (mode === 'instructions') {
    const appStart = host.now();
    await import('../src/app/device.js');
    result.appLoad = Math.round((host.now() - appStart) * 1e6);
    const biquad = loadBiquad();
    const { codec, encode, decode } = await loadCodec();
    const publish = await loadPublish();
    const { framing, seal, open } = await loadFraming();
    const native = await loadNative();
    result.perCall = {
      opusEncode: instructions(native.opusEncode, 10),
      opusEncodeCelt: instructions(native.opusEncodeCelt, 10),
      opusDecode: instructions(native.opusDecode, 10),
      sealAes: instructions(native.sealAes, 10),
      openAes: instructions(native.openAes, 10),
      aes128: instructions(native.aes128, 10),
    };
    result.worstCall = {
      opusEncode: worst(native.opusEncode, 50),
      opusEncodeCelt: worst(native.opusEncodeCelt, 50),
      opusDecode: worst(native.opusDecode, 50),
    };
    result.perCall = {
      ...result.perCall as Record<string, number>,
      codec: instructions(codec, 20),
      encode: instructions(encode, 20),
      decode: instructions(decode, 20),
      publish: instructions(publish, 20),
      framing: instructions(framing, 20),
      seal: instructions(seal, 20),
      open: instructions(open, 20),
      biquad: instructions(biquad, 4),
    };
  } else throw new RangeError(`cortex-m-workload: expected memory or instructions, got ${mode}`);
  print(`M7-FIGURES ${JSON.stringify(result)}`);
}

declare function print(...values: unknown[]): void;

main().catch((error) => {
  print(`M7-FIGURES-ERROR ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  throw error;
});
