// Audio data path figures: bytes allocated per 20 ms frame on the device's microphone path (capture ring,
// encoder, binary entry, hand-off to the connection) and speaker path (speaker message into the jitter buffer,
// Opus decode through the port, audio-out write), with the core's code alone (an opus port that allocates
// nothing) and with the Node host's @evan/opus port; plus time per frame. Prints figures and writes
// docs/figures/audio.md; never passes or fails on them. Run: npm run build && node build/bench/audio-path.bench.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { nodeOpus } from '../hosts/node/opus.js';
import { writeAudioEntry, writeU64 } from '../src/ais/binary.js';
import { Dispatcher } from '../src/ais/dispatcher.js';
import { Microphone } from '../src/ais/microphone.js';
import { Speaker } from '../src/ais/speaker.js';
import { AlertTone } from '../src/audio/tone.js';
import { Logger, silentSink } from '../src/ports/log.js';
import type { Clock } from '../src/ports/clock.js';
import type { Opus } from '../src/ports/opus.js';
import { fromRoot } from '../test/support/paths.js';
import { bytesPerCall as bytesPerCallOnce, rerunWithGc } from './allocation.js';

rerunWithGc(import.meta.url);

const log = new Logger(silentSink, 'bench');
/** Bytes allocated per call of `body`: the least of three windows with no garbage collection in them. */
const bytesPerCall = (calls: number, body: () => void) => bytesPerCallOnce(calls, body, { windows: 3, attempts: 12 });
function microsPerCall(calls: number, body: () => void): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) body();
  return ((performance.now() - start) * 1000) / calls;
}

/** An opus port that allocates nothing: the core's own cost. Encodes a fixed 160-byte packet; decodes bytes as samples. */
const quietOpus: Opus = {
  createEncoder: () => ({ encode: (pcm, out) => { for (let i = 0; i < 160; i++) out[i] = pcm[i] & 0xff; return 160; }, close() {} }),
  createDecoder: () => ({ decode: (packet, pcm) => { for (let i = 0; i < 320; i++) pcm[i] = packet[i % packet.length]; return 320; }, close() {} }),
};

/** A clock whose repeating timer the bench fires by hand (the microphone's 50 ms publish tick). */
function manualClock(): Clock & { fire(): void; nowMs: number } {
  let callback: (() => void) | undefined;
  const clock = {
    nowMs: 0,
    monotonicMs: () => clock.nowMs,
    setTimer: (cb: () => void) => { callback = cb; return 1; },
    clearTimer: () => { callback = undefined; },
    fire: () => callback?.(),
  };
  return clock;
}

const FRAMES = 20_000;
const WARM_UP = 50_000;

async function microphonePath(opus: Opus | undefined, frames = FRAMES): Promise<{ bytes: number; micros: number; published: number }> {
  const clock = manualClock();
  let published = 0;
  const mic = new Microphone({
    connection: { dispatcher: new Dispatcher(), sendEvent: () => true, publishMicrophone: (_b, length) => { published += length; return true; } },
    clock, log, initiator: 'TAP', opus,
  });
  const frame = new Int16Array(320).map((_, i) => (i * 97) & 0x3fff);
  for (let i = 0; i < 30; i++) mic.pushFrame(frame);
  mic.tap();
  // Per 20 ms: one captured frame; every 50 ms a publish tick (5 frames = 2 ticks of 100 ms of audio each).
  let n = 0;
  const perFrame = () => {
    clock.nowMs += 20;
    mic.pushFrame(frame, clock.nowMs);
    if (++n % 5 === 0 || n % 5 === 3) clock.fire();
  };
  for (let i = 0; i < WARM_UP; i++) perFrame(); // until the JIT has optimised the path (unoptimised code boxes numbers)
  const bytes = await bytesPerCall(frames, perFrame);
  const micros = microsPerCall(frames, perFrame);
  if (mic.framesLost > 0) throw new Error(`the bench lost ${mic.framesLost} frames`);
  return { bytes, micros, published };
}

async function speakerPath(opus: Opus, count = FRAMES): Promise<{ bytes: number; micros: number; played: number }> {
  let played = 0;
  const dispatcher = new Dispatcher();
  const speaker = new Speaker({
    connection: { dispatcher, sendEvent: () => true, reportException: () => {}, rewindSpeaker: () => {} },
    opus, log, volume: 80, output: { play: () => { played++; }, silence() {} },
  });
  // A 64 kbps speaker message of five 160-byte frames (one 808-byte audio entry), re-addressed in place.
  const frames = new Uint8Array(800);
  const source = new Int16Array(1600).map((_, i) => Math.round(8000 * Math.sin(i / 7)));
  const encoder = nodeOpus.createEncoder({ sampleRate: 16000, channels: 1, bitsPerSecond: 64000, application: 'audio' });
  for (let f = 0; f < 5; f++) encoder.encode(source.subarray(f * 320, (f + 1) * 320), frames.subarray(f * 160, (f + 1) * 160));
  const body = new Uint8Array(816);
  writeAudioEntry(body, 0, 0, frames, 4);
  let offset = 0;
  let seq = 0;
  const message = () => {
    writeU64(body, 8, offset);
    offset += 800;
    speaker.receive(seq++, body, 0, body.length);
  };
  dispatcher.handlerFor('OpenSpeaker')!({ header: { name: 'OpenSpeaker', messageId: 'b' }, payload: { offset: 0 } }, { sequenceNumber: 0, index: 0 });
  message();
  message();
  let n = 0;
  // Per 20 ms: audio out takes one frame; every 5 frames one more message arrives.
  const perFrame = () => {
    if (++n % 5 === 0) message();
    speaker.writable(1);
  };
  for (let i = 0; i < WARM_UP; i++) perFrame(); // until the JIT has optimised the path (unoptimised code boxes numbers)
  const bytes = await bytesPerCall(count, perFrame);
  const micros = microsPerCall(count, perFrame);
  speaker.close();
  return { bytes, micros, played };
}

/** The offline alert: the local tone (src/audio/tone.ts) played by the speaker when no cloud stream plays. */
async function localTonePath(): Promise<{ bytes: number; micros: number; played: number }> {
  let played = 0;
  const speaker = new Speaker({
    connection: { dispatcher: new Dispatcher(), sendEvent: () => true, reportException: () => {}, rewindSpeaker: () => {} },
    opus: quietOpus, log, output: { play: () => { played++; }, silence() {} },
  });
  speaker.playLocal(new AlertTone(60));
  const perFrame = () => speaker.writable(1);
  for (let i = 0; i < WARM_UP; i++) perFrame();
  const bytes = await bytesPerCall(FRAMES, perFrame);
  const micros = microsPerCall(FRAMES, perFrame);
  speaker.close();
  return { bytes, micros, played };
}

const control = await bytesPerCall(2000, () => new Uint8Array(640).slice());
let spins = 0;
const floor = await bytesPerCall(FRAMES, () => { spins++; }); // what the method reads for a body that allocates nothing
const micCoreL16 = await microphonePath(undefined);
const micCoreOpus = await microphonePath(quietOpus);
// The Node port allocates per call: a shorter window keeps a scavenge out of it.
const micNodeOpus = await microphonePath(nodeOpus, 2000);
const spkCore = await speakerPath(quietOpus);
const spkNode = await speakerPath(nodeOpus, 2000);
const tone = await localTonePath();
if (micCoreL16.published === 0 || spkCore.played === 0 || tone.played === 0) throw new Error('bench did no work');

const rows: [string, { bytes: number; micros: number }][] = [
  ['microphone, L16 (core only)', micCoreL16],
  ['microphone, Opus through an opus port that allocates nothing (core only)', micCoreOpus],
  ['microphone, Opus through the Node port (@evan/opus)', micNodeOpus],
  ['speaker, Opus through an opus port that allocates nothing (core only)', spkCore],
  ['speaker, Opus through the Node port (@evan/opus)', spkNode],
  ['speaker, the local alert tone (core only)', tone],
];
for (const [label, r] of rows) console.log(`${label.padEnd(78)} ${r.bytes.toFixed(2).padStart(8)} B/frame ${r.micros.toFixed(2).padStart(8)} µs/frame`);
console.log(`control: a 640-byte array and its slice() per call measure ${control.toFixed(0)} B; an empty body measures ${floor.toFixed(2)} B`);

const lines = [
  '# Audio data path figures',
  '',
  `Measured by bench/audio-path.bench.ts on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, this machine (${process.arch}). One "frame" is 20 ms of 16 kHz mono audio. The microphone path per frame: a captured frame into the ring, and every 50 ms a publish tick that encodes up to 1,600 samples into one binary audio entry and hands it to the connection (a stand-in that only counts; the MQTT and envelope path is measured in mqtt.md). The speaker path per frame: one frame decoded from the jitter buffer, scaled by the volume and written to audio out, and every 100 ms a speaker message of five 160-byte Opus frames received (validated, stored). The local alert tone per frame: one frame of the offline alert tone (a one-frame table scaled by the alert volume) written to audio out by the speaker while no cloud stream plays.`,
  '',
  '| path | bytes allocated per frame | µs per frame |',
  '|---|---:|---:|',
  ...rows.map(([label, r]) => `| ${label} | ${r.bytes.toFixed(2)} | ${r.micros.toFixed(2)} |`),
  '',
  `Allocation is the growth of V8's used heap plus ArrayBuffer memory over ${FRAMES.toLocaleString('en-US')} frames (2,000 with the Node port) with a 256 MB young generation (the least of three windows without a collection); the method reads ${control.toFixed(0)} bytes for a 640-byte array and its copy, so it sees allocation when there is some, and ${floor.toFixed(2)} bytes for a body that allocates nothing (V8's own bookkeeping in the window). The core figures are what src/ costs (under 16 bytes means no object per frame); the Node port's figures add what @evan/opus returns per call (a new Uint8Array for each packet and each decoded frame), which a native libopus port on XS or an MCU does not.`,
  '',
];
mkdirSync(fromRoot('docs', 'figures'), { recursive: true });
writeFileSync(fromRoot('docs', 'figures', 'audio.md'), lines.join('\n'));
console.log('wrote docs/figures/audio.md');
