// The operations both workloads measure, made once with their buffers (the device's steady state): on xsrun and
// Node (bench/xs-workload.ts) and on the firmware image (bench/cortex-m-workload.ts), so the figures of
// docs/figures/xs.md and docs/figures/firmware.md are of the same code. Portable: src/ only, by dynamic import(),
// so a workload can read the heap before and after each group of modules.

/** What xsrun and the image give as `xsrun`: the clock, the collector and the heap figures. */
export interface XsMemory {
  malloc: { current: number; peak: number };
  chunks: { current: number; peak: number; reserved: number };
  slots: { current: number; peak: number; reserved: number; bytes: number };
  stack: { peak: number; size: number };
  parser: { peak: number; count: number };
  gcCount: number;
  keys: number;
  modules: number;
}
export interface XsHost {
  now(): number;
  gc(): void;
  memory(): XsMemory;
  resetPeaks(): void;
  args: string[];
}

export type Operation = () => void;

export const TOPIC = '$aws/alexa/ais/v1/device-0123456789/microphone';
export const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 0xff);

/** The heap figures, after a collection when `gc`. */
export function snapshot(xs: XsHost, gc: boolean) {
  if (gc) xs.gc();
  const m = xs.memory();
  return {
    mallocCurrent: m.malloc.current, mallocPeak: m.malloc.peak,
    slotsCurrent: m.slots.current, slotsPeak: m.slots.peak, slotsReserved: m.slots.reserved, slotBytes: m.slots.bytes,
    chunksCurrent: m.chunks.current, chunksPeak: m.chunks.peak, chunksReserved: m.chunks.reserved,
    stackPeak: m.stack.peak, stackSize: m.stack.size, gcCount: m.gcCount, keys: m.keys, modules: m.modules,
    parserPeak: m.parser.peak, parsed: m.parser.count,
  };
}

/** Q14 Direct Form I biquad over a frame, state carried across frames: the per-sample DSP cost of JS. */
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

/** The biquad over a 320-sample frame of a 440 Hz tone. */
export function loadBiquad(): Operation {
  const input = new Int16Array(320).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
  const output = new Int16Array(320);
  // 1 kHz low-pass at 16 kHz, Q 0.707, in Q14
  const coefficients = Int16Array.from([552, 1104, 552, -25479, 11303]);
  const state = new Int32Array(4);
  return () => biquadQ14(input, output, coefficients, state);
}

/** writePublish of a 640-byte payload into a reused buffer, then MqttParser.push of those bytes; and each alone. */
export async function loadCodec(): Promise<{ codec: Operation; encode: Operation; decode: Operation }> {
  const { writePublish } = await import('../src/mqtt/generate.js');
  const { MqttParser } = await import('../src/mqtt/parser.js');
  const { encodeUtf8 } = await import('../src/encoding/utf8.js');
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
export async function loadPublish(): Promise<Operation> {
  const { MqttClient } = await import('../src/mqtt/client.js');
  const { generate } = await import('../src/mqtt/generate.js');
  const { Logger, silentSink } = await import('../src/ports/log.js');
  let written = 0;
  let pendingInput: Uint8Array | undefined;
  const client = new MqttClient({
    clock: { monotonicMs: () => performance.now(), setTimer: () => 0, clearTimer: () => {} },
    log: new Logger(silentSink, 'mqtt'), host: 'broker', port: 8883, clientId: 'device-0123456789', keepAliveSec: 0,
    onMessage: () => {},
    socket: (options) => {
      // Connected at once and CONNACK 0: the session is then in its steady state.
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
        write(data: Uint8Array, length?: number) { written += length ?? data.length; return Infinity; },
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
export async function loadFraming(): Promise<{ framing: Operation; seal: Operation; open: Operation }> {
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
