// The workload behind docs/figures/firmware.md, run on the firmware image (QEMU's Cortex-M7) by
// bench/cortex-m-figures.ts. Portable: src/ only, loaded by dynamic import() so the heap can be read before
// and after each group of modules. Prints one line: `M7-FIGURES <json>`.
//
// Argument (the image's command line after the module): `memory` (XS heap after each phase) or
// `instructions` (per operation, under QEMU -icount shift=0, where one virtual nanosecond is one guest
// instruction: xsrun.now() is SysTick's millisecond, so instructions = ms x 1e6, read to 40 instructions).

interface XsMemory {
  malloc: { current: number; peak: number };
  chunks: { current: number; peak: number; reserved: number };
  slots: { current: number; peak: number; reserved: number; bytes: number };
  stack: { peak: number; size: number };
  gcCount: number;
  keys: number;
  modules: number;
}
interface XsHost {
  now(): number;
  gc(): void;
  memory(): XsMemory;
  resetPeaks(): void;
  args: string[];
}

const host = (globalThis as unknown as { xsrun: XsHost }).xsrun;
// Before any import: reset, machine creation, the prelude and this module's loading, in SysTick ms.
const reachedMs = host.now();
const mode = host.args[0] ?? 'memory';

const TOPIC = '$aws/alexa/ais/v1/device-0123456789/microphone';
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 0xff);

type Operation = () => void;

/** Q14 Direct Form I biquad over a frame, state carried across frames: bench/xs-workload.ts's, for the same figure. */
function biquadQ14(input: Int16Array, output: Int16Array, coefficients: Int16Array, state: Int32Array): void {
  const b0 = coefficients[0], b1 = coefficients[1], b2 = coefficients[2], a1 = coefficients[3], a2 = coefficients[4];
  let x1 = state[0], x2 = state[1], y1 = state[2], y2 = state[3];
  for (let i = 0; i < input.length; i++) {
    const x0 = input[i];
    let y0 = (b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) >> 14;
    if (y0 > 32767) y0 = 32767;
    else if (y0 < -32768) y0 = -32768;
    output[i] = y0;
    x2 = x1; x1 = x0;
    y2 = y1; y1 = y0;
  }
  state[0] = x1; state[1] = x2; state[2] = y1; state[3] = y2;
}

function loadBiquad(): Operation {
  const input = new Int16Array(320).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
  const output = new Int16Array(320);
  // 1 kHz low-pass at 16 kHz, Q 0.707, in Q14
  const coefficients = Int16Array.from([552, 1104, 552, -25479, 11303]);
  const state = new Int32Array(4);
  return () => biquadQ14(input, output, coefficients, state);
}

/** writePublish of a 640-byte payload into a reused buffer, then MqttParser.push of those bytes; and each alone. */
async function loadCodec(): Promise<{ codec: Operation; encode: Operation; decode: Operation }> {
  const { writePublish } = await import('../src/mqtt/generate.js');
  const { MqttParser } = await import('../src/mqtt/parser.js');
  const { encodeUtf8 } = await import('../src/mqtt/utf8.js');
  const topic = encodeUtf8(TOPIC);
  const payload = new Uint8Array(640).map((_, i) => (i * 7) & 0xff);
  const wire = new Uint8Array(1024);
  let received = 0;
  const parser = new MqttParser({ maxPacketBytes: 4096, onPacket: (p) => { received += p.cmd === 'publish' ? p.payload.length : 0; }, onError: (e) => { throw e; } });
  let length = 0;
  const encode: Operation = () => { length = writePublish(wire, topic, payload, 640, 0, 0, false, false); };
  const decode: Operation = () => { parser.push(wire, length); };
  const codec: Operation = () => { encode(); decode(); };
  codec();
  if (received !== 640) throw new Error(`codec workload delivered ${received} bytes`);
  return { codec, encode, decode };
}

/** A QoS 0 MqttClient.publish of 640 bytes on a connected session whose socket only counts bytes. */
async function loadPublish(): Promise<Operation> {
  const { MqttClient } = await import('../src/mqtt/client.js');
  const { generate } = await import('../src/mqtt/generate.js');
  const { Logger, silentSink } = await import('../src/ports/log.js');
  let written = 0;
  let pendingInput: Uint8Array | undefined;
  const client = new MqttClient({
    clock: { monotonicMs: () => host.now(), setTimer: () => 0, clearTimer: () => {} },
    log: new Logger(silentSink, 'mqtt'), host: 'broker', port: 8883, clientId: 'device-0123456789', keepAliveSec: 0,
    onMessage: () => {},
    socket: (options) => {
      Promise.resolve().then(() => {
        options.onConnect();
        pendingInput = generate({ cmd: 'connack', sessionPresent: false, returnCode: 0 });
        options.onReadable(pendingInput.length);
      });
      return {
        read(buffer: Uint8Array) {
          if (!pendingInput) return 0;
          buffer.set(pendingInput);
          const n = pendingInput.length;
          pendingInput = undefined;
          return n;
        },
        write(data: Uint8Array, length?: number) { written += length ?? data.length; },
        close() {},
      };
    },
  });
  client.connect();
  await Promise.resolve();
  await Promise.resolve();
  if (!client.connected) throw new Error('the client workload did not connect');
  const payload = new Uint8Array(640).map((_, i) => (i * 3) & 0xff);
  const publish: Operation = () => { client.publish(TOPIC, payload); };
  const before = written;
  publish();
  if (written - before !== 1 + 2 + 2 + TOPIC.length + 640) throw new Error(`a publish wrote ${written - before} bytes`);
  return publish;
}

/** Envelope seal + open of a 644-byte body with a Crypto that copies: the framing, without AES-GCM; and each alone. */
async function loadFraming(): Promise<{ framing: Operation; seal: Operation; open: Operation }> {
  const { Envelope } = await import('../src/ais/envelope.js');
  const copying = {
    randomBytes: (out: Uint8Array) => { out.fill(1); },
    aesGcmSeal(_key: Uint8Array, _iv: Uint8Array, plaintext: Uint8Array, out: Uint8Array, tag: Uint8Array) { out.set(plaintext); tag.fill(0); },
    aesGcmOpen(_key: Uint8Array, _iv: Uint8Array, ciphertext: Uint8Array, _tag: Uint8Array, out: Uint8Array) { out.set(ciphertext); return true; },
  };
  const envelope = new Envelope({ crypto: copying, maxMessageBytes: 36 + 644 });
  const body = new Uint8Array(644).map((_, i) => (i * 11) & 0xff);
  const sealed = new Uint8Array(envelope.maxMessageBytes);
  const received = sealed.subarray(0, envelope.sealedBytes(body.length));
  let sequence = 0;
  const seal: Operation = () => { envelope.seal(KEY, sequence, body, sealed); };
  const open: Operation = () => {
    const result = envelope.open(KEY, received);
    if (result.error || result.sequenceNumber !== sequence) throw new Error('framing round trip failed');
  };
  const framing: Operation = () => {
    seal();
    open();
    sequence = (sequence + 1) >>> 0;
  };
  framing();
  return { framing, seal, open };
}

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

function snapshot(gc: boolean) {
  if (gc) host.gc();
  const m = host.memory();
  return {
    mallocCurrent: m.malloc.current, mallocPeak: m.malloc.peak,
    slotsCurrent: m.slots.current, slotsPeak: m.slots.peak, slotsReserved: m.slots.reserved, slotBytes: m.slots.bytes,
    chunksCurrent: m.chunks.current, chunksPeak: m.chunks.peak, chunksReserved: m.chunks.reserved,
    stackPeak: m.stack.peak, stackSize: m.stack.size, gcCount: m.gcCount, keys: m.keys, modules: m.modules,
  };
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
    phases.machine = snapshot(true);
    host.resetPeaks();
    const biquad = loadBiquad();
    const { codec } = await loadCodec();
    const publish = await loadPublish();
    phases.mqtt = snapshot(true);
    host.resetPeaks();
    const { framing } = await loadFraming();
    await import('../src/app/device.js');
    phases.app = snapshot(true);
    host.resetPeaks();
    const native = await loadNative();
    for (let i = 0; i < 50; i++) { native.opusEncode(); native.opusDecode(); native.sealAes(); native.openAes(); }
    phases.native = snapshot(true);
    result.opusState = { encoder: natives.opusEncoderBytes, decoder: natives.opusDecoderBytes };
    host.resetPeaks();
    const gcBefore = host.memory().gcCount;
    for (let i = 0; i < 1000; i++) publish();
    for (let i = 0; i < 1000; i++) codec();
    for (let i = 0; i < 1000; i++) framing();
    for (let i = 0; i < 50; i++) biquad();
    result.gcInWorkload = host.memory().gcCount - gcBefore;
    phases.workload = snapshot(false);
    phases.workloadLive = snapshot(true);
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
