// MQTT codec and publish-path figures: encode and decode throughput of our codec against mqtt-packet in the
// same run, and bytes allocated per PUBLISH of a 640-byte payload on the client's publish path.
// Prints figures and writes docs/figures/mqtt.md; never passes or fails on time.
// Throughput is measured at Node's default settings (what a user of the codec gets). The allocation figure
// needs a young generation large enough that no collection runs in a window: a child process with a 256 MB
// semi-space and gc exposed measures it, and its throughput is printed as a second, labelled figure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { MqttClient } from '../src/mqtt/client.js';
import { generate, writePublish } from '../src/mqtt/generate.js';
import { MqttParser } from '../src/mqtt/parser.js';
import { encodeUtf8 } from '../src/encoding/utf8.js';
import { Logger, silentSink } from '../src/ports/log.js';
import type { SocketOptions } from '../src/ports/socket.js';
import { fromRoot } from '../test/support/paths.js';
import { bytesPerCall } from './allocation.js';

const TUNED_FLAGS = ['--expose-gc', '--max-semi-space-size=256'];
const child = process.argv[2] === '--tuned';

const TOPIC = '$aws/alexa/ais/v1/device-0123456789/microphone';
const PAYLOAD = new Uint8Array(640).map((_, i) => (i * 7) & 0xff);
const packet = { cmd: 'publish' as const, topic: TOPIC, payload: PAYLOAD, qos: 0 as const, dup: false, retain: false };
const oraclePacket = { ...packet, payload: Buffer.from(PAYLOAD) };

/** The best of ROUNDS timed rounds: other work on a shared machine only ever slows a round down. */
const ROUNDS = 5;

function rate(label: string, iterations: number, body: () => void, packetsPerIteration = 1): number {
  for (let i = 0; i < iterations / 10; i++) body(); // warm-up for the JIT
  let perSecond = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) body();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    perSecond = Math.max(perSecond, (iterations * packetsPerIteration) / seconds);
  }
  console.log(`${label.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} packets/s`);
  return perSecond;
}

const N = 200_000;
const PUBLISHES = 100_000;
const out = new Uint8Array(1024);
const topicBytes = encodeUtf8(TOPIC);
const ours = { generate: rate('encode 640-byte PUBLISH: ours generate()', N, () => generate(packet)),
  writePublish: rate('encode 640-byte PUBLISH: ours writePublish()', N, () => writePublish(out, topicBytes, PAYLOAD, 640, 0, 0, false, false)),
  parse: 0 };
const theirsGenerate = rate('encode 640-byte PUBLISH: mqtt-packet', N, () => mqttPacket.generate(oraclePacket));

// Decode a stream of 100 publishes, delivered in 1460-byte reads as TCP would.
const stream = new Uint8Array(Buffer.concat(Array.from({ length: 100 }, () => generate(packet))));
const reads: Uint8Array[] = [];
for (let i = 0; i < stream.length; i += 1460) reads.push(stream.subarray(i, i + 1460));
let seen = 0;
const parser = new MqttParser({ maxPacketBytes: 8192, onPacket: () => { seen++; }, onError: (e) => { throw e; } });
ours.parse = rate('decode 640-byte PUBLISH stream: ours', N / 100, () => { for (const r of reads) parser.push(r); }, 100);
const oracleParser = mqttPacket.parser({ protocolVersion: 4 });
oracleParser.on('packet', () => { seen++; });
const readBuffers = reads.map((r) => Buffer.from(r));
const theirsParse = rate('decode 640-byte PUBLISH stream: mqtt-packet', N / 100, () => { for (const r of readBuffers) oracleParser.parse(r); }, 100);
const figures = { ours, theirsGenerate, theirsParse };

if (!child) {
  // The same run with the tuned young generation, which also measures allocation.
  console.log(`\nagain with ${TUNED_FLAGS.join(' ')} (the allocation measurement's settings):`);
  const run = spawnSync(process.execPath, [...TUNED_FLAGS, fileURLToPath(import.meta.url), '--tuned'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  process.stdout.write(run.stdout.slice(0, run.stdout.lastIndexOf(last)));
  if (run.status !== 0 || !last.startsWith('{')) throw new Error(`the tuned run failed (status ${run.status})`);
  writeFigures(figures, JSON.parse(last));
} else {
  const allocation = await measureAllocation();
  console.log(JSON.stringify({ ...figures, ...allocation }));
}
if (seen === 0) throw new Error('bench did no work');

/** Bytes allocated per publish on the client's QoS 0 path, through a socket that sends nowhere. */
async function measureAllocation(): Promise<{ bytesPerPublish: number; copyBytes: number }> {
  let written = 0;
  const client = new MqttClient({
    host: 'bench', port: 1, clientId: 'bench', log: new Logger(silentSink, 'bench'),
    clock: { monotonicMs: () => 0, setTimer: () => 0, clearTimer: () => {} },
    socket: (options: SocketOptions) => {
      queueMicrotask(() => options.onConnect());
      return { read: () => 0, write: (_d: Uint8Array, length?: number) => { written += length ?? 0; return Infinity; }, close: () => {} };
    },
    onMessage: () => {},
  });
  client.connect();
  await new Promise((r) => setImmediate(r));
  // CONNACK from the "broker": hand the parser the bytes as the socket would.
  (client as unknown as { parser: MqttParser }).parser.push(generate({ cmd: 'connack', sessionPresent: false, returnCode: 0 }));
    for (let i = 0; i < 1000; i++) client.publish(TOPIC, PAYLOAD);
  const bytesPerPublish = await bytesPerCall(PUBLISHES, () => client.publish(TOPIC, PAYLOAD));
  // The same measurement on a path known to allocate (a 640-byte copy per call) shows the method sees allocation.
  const copyBytes = await bytesPerCall(2000, () => PAYLOAD.slice());
  console.log(`bytes allocated per QoS 0 PUBLISH (640 B) on the client path: ${bytesPerPublish.toFixed(2)} (control: a 640-byte slice() measures ${copyBytes.toFixed(0)})`);
  if (written === 0) throw new Error('bench did no work');
  return { bytesPerPublish, copyBytes };
}

type Figures = typeof figures;

function writeFigures(base: Figures, tuned: Figures & { bytesPerPublish: number; copyBytes: number }): void {
  const { bytesPerPublish, copyBytes } = tuned;
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const row = (label: string, f: Figures) => [
    `| encode, packets/s (\`generate()\`, allocates the packet), ${label} | ${n(f.ours.generate)} | ${n(f.theirsGenerate)} | ${ratio(f.ours.generate, f.theirsGenerate)} |`,
    `| encode, packets/s (\`writePublish()\` into a reused buffer, the client's path), ${label} | ${n(f.ours.writePublish)} | — | ${ratio(f.ours.writePublish, f.theirsGenerate)} |`,
    `| decode, packets/s (1460-byte reads), ${label} | ${n(f.ours.parse)} | ${n(f.theirsParse)} | ${ratio(f.ours.parse, f.theirsParse)} |`,
  ];
  const lines = [
    '# MQTT codec figures',
    '',
    `Measured by \`npm run bench\` (bench/mqtt-codec.bench.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, this machine (${process.arch}). Same run, same payload: a QoS 0 PUBLISH of 640 bytes (one 20 ms L16 frame) to an AIS topic.`,
    '',
    '| figure | ours | mqtt-packet | ours / mqtt-packet |',
    '|---|---:|---:|---:|',
    ...row("Node's defaults", base),
    ...row(`with ${TUNED_FLAGS[1]}`, tuned),
    `| bytes allocated per PUBLISH on the client path, after warm-up (with ${TUNED_FLAGS[1]}) | ${bytesPerPublish.toFixed(2)} | — | — |`,
    '',
    `Throughput first at Node's default settings (what a user of the codec gets), then in a child run with ${TUNED_FLAGS.join(' ')}, the settings the allocation measurement needs, which change how often the collector runs and so the figures of code that allocates per packet (\`generate()\`, mqtt-packet). The machine's load average (1 min) was ${loadavg()[0].toFixed(1)} on ${cpus().length} cores when the file was written: each rate is the best of ${ROUNDS} rounds, since other work only slows a round down.`,
    '',
    `Allocation is the growth of V8's used heap plus ArrayBuffer memory over ${PUBLISHES.toLocaleString('en-US')} publishes with a 256 MB young generation (a window in which a collection ran is discarded and measured again); the same method reads ${copyBytes.toFixed(0)} bytes for a 640-byte \`slice()\`, so it sees allocation when there is some. Any figure under 16 bytes means no object per publish (the smallest JS object is larger): what remains is V8's own bookkeeping.`,
    '',
  ];
  mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
  writeFileSync(fromRoot('docs', 'figures', 'mqtt.md'), lines.join('\n'));
  console.log('wrote docs/figures/mqtt.md');
}
