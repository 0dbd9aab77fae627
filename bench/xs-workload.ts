// The workload behind docs/figures/xs.md, written once and run on XS (xsrun) and on Node by
// bench/xs-figures.ts in the same run. Portable: src/, loaded by dynamic import() so XS can read its memory
// before and after each group of modules, and test/support/random.ts, a static import loaded before any
// measurement. Prints one line: `XS-FIGURES <json>`.
//
// Arguments (xsrun args, or argv on Node): `timing` (µs per operation), `memory` (heap after each phase,
// GC count per 1,000 publishes; XS only), `allocations` (slots and chunk bytes per operation, in a heap
// big enough that no collection runs in the window; XS only), `modules` (live heap each module adds),
// `audio-timing` (a voice turn's audio path frame by frame, bench/audio-turn.ts: µs per frame and per stage, and
// on XS the collections it drives with the MCU settings) and `audio-allocations` (its slots and chunk bytes per
// frame and per stage; XS only). The audio path runs twice: over the host's Opus (native libopus on XS, @evan/opus
// on Node) and over an opus port that allocates nothing and does no signal work, the core alone.

import { randomSource } from '../test/support/random.js';
import type { AudioTurn, StageMeter } from './audio-turn.js';
import type { OpusBinding } from '../src/audio/native-opus.js';
import type { Opus } from '../src/ports/opus.js';
import { loadBiquad, loadCodec, loadFraming, loadPublish, snapshot, KEY, type Operation, type XsHost as XsMemoryHost } from './workload-operations.js';

interface XsHost extends XsMemoryHost {
  engine: string;
  strings: string;
  bytecode: boolean;
}

const host = (globalThis as unknown as { xsrun?: XsHost }).xsrun;
const argv: string[] = host ? host.args : ((globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2));
const mode = argv[0] ?? 'timing';
const now = (): number => performance.now();

// The operations measured beyond those of bench/workload-operations.ts, made once with their buffers.

async function loadEnvelope() {
  const { createPortableCrypto } = await import('../src/crypto/portable.js');
  const { Envelope } = await import('../src/ais/envelope.js');
  const envelope = new Envelope({ crypto: createPortableCrypto(randomSource(7)), maxMessageBytes: 36 + 644 });
  const body = new Uint8Array(644).map((_, i) => (i * 11) & 0xff);
  const sealed = new Uint8Array(envelope.maxMessageBytes);
  let sequence = 0;
  const sealOpen: Operation = () => {
    const n = envelope.seal(KEY, sequence, body, sealed);
    const result = envelope.open(KEY, sealed.subarray(0, n));
    if (!result.ok || result.sequenceNumber !== sequence) throw new Error('envelope round trip failed');
    sequence = (sequence + 1) >>> 0;
  };
  sealOpen();
  return sealOpen;
}

async function loadX25519() {
  const { x25519, x25519PublicKey } = await import('../src/crypto/portable.js');
  const other = x25519PublicKey(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
  const mine = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
  const agree: Operation = () => { x25519(mine, other); };
  return agree;
}

/** An opus port that allocates nothing and does no signal work: 160-byte CBR packets of whatever, the core's own cost. */
const coreOpus: Opus = {
  createEncoder: () => ({ encode: (pcm, out) => { out[0] = pcm[0] & 0xff; return 160; }, close() {} }),
  createDecoder: () => ({ decode: (packet, pcm) => { pcm[0] = packet[0]; return 320; }, close() {} }),
};

/** The host's Opus: native libopus through `natives` on XS, @evan/opus on Node (not a literal import: XS never loads it). */
async function hostOpus(): Promise<Opus> {
  if (host) {
    const { nativeOpus } = await import('../src/audio/native-opus.js');
    return nativeOpus((globalThis as unknown as { natives: OpusBinding }).natives);
  }
  const nodeModule = '../hosts/node/opus.js';
  return ((await import(nodeModule)) as { nodeOpus: Opus }).nodeOpus;
}

const AUDIO_WINDOW = 100; // frames per window: 2 s of audio

/** Median µs per frame over 5 windows, after `warmFrames`; with a meter, µs per frame of each stage summed over them. */
function audioMicroseconds(turn: AudioTurn, warmFrames: number, meter?: StageMeter) {
  for (let done = 0; done < warmFrames; done += AUDIO_WINDOW) {
    turn.prepare(AUDIO_WINDOW);
    for (let i = 0; i < AUDIO_WINDOW; i++) turn.frame();
  }
  const samples: number[] = [];
  meter?.reset();
  for (let batch = 0; batch < 5; batch++) {
    turn.prepare(AUDIO_WINDOW);
    const start = now();
    for (let i = 0; i < AUDIO_WINDOW; i++) turn.frame();
    samples.push(((now() - start) * 1000) / AUDIO_WINDOW);
  }
  samples.sort((a, b) => a - b);
  return { perFrame: samples[2], stages: meter ? Array.from(meter.us, (us) => us / (5 * AUDIO_WINDOW)) : undefined };
}

// Measuring

/** Median µs per operation over 5 batches of `count`, after a warm-up of about `warmMs`. */
function microseconds(op: Operation, count: number, warmMs: number): number {
  const warmUntil = now() + warmMs;
  while (now() < warmUntil) op();
  const samples: number[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const start = now();
    for (let i = 0; i < count; i++) op();
    samples.push(((now() - start) * 1000) / count);
  }
  samples.sort((a, b) => a - b);
  return samples[2];
}

/** Slots and chunk bytes one call of `op` takes from the heap, read where no collection ran. */
function allocationPerCall(xs: XsHost, op: Operation, count: number) {
  const window = (fn: Operation) => {
    xs.gc();
    const before = xs.memory();
    for (let i = 0; i < count; i++) fn();
    const after = xs.memory();
    return { slots: after.slots.current - before.slots.current, chunks: after.chunks.current - before.chunks.current, gcs: after.gcCount - before.gcCount };
  };
  const idle = window(() => {});
  const busy = window(op);
  return {
    collected: busy.gcs > idle.gcs,
    slots: (busy.slots - idle.slots) / count,
    chunkBytes: (busy.chunks - idle.chunks) / count,
  };
}

async function main() {
  const result: Record<string, unknown> = { host: host ? `XS ${host.engine}` : 'Node', mode };
  if (mode === 'timing') {
    const biquad = loadBiquad();
    const { codec } = await loadCodec();
    const envelope = await loadEnvelope();
    const { framing } = await loadFraming();
    const agree = await loadX25519();
    const fast = host ? 200 : 500; // warm-up ms: Node's JIT needs it, XS does not
    result.us = {
      codec: microseconds(codec, host ? 200 : 20_000, fast),
      envelope: microseconds(envelope, host ? 10 : 200, fast),
      framing: microseconds(framing, host ? 200 : 20_000, fast),
      biquad: microseconds(biquad, host ? 50 : 20_000, fast),
      x25519: microseconds(agree, 1, host ? 0 : 500),
    };
  } else if (mode === 'memory') {
    if (!host) throw new Error('memory figures need xsrun');
    const phases: Record<string, unknown> = {};
    host.resetPeaks();
    phases.machine = snapshot(host, true);
    const biquad = loadBiquad();
    const { codec } = await loadCodec();
    const publish = await loadPublish();
    phases.mqtt = snapshot(host, true);
    host.resetPeaks();
    const envelope = await loadEnvelope();
    phases.crypto = snapshot(host, true);
    host.resetPeaks();
    const gcBefore = host.memory().gcCount;
    const publishes = 1000;
    for (let i = 0; i < publishes; i++) publish();
    const gcAfterPublishes = host.memory().gcCount;
    for (let i = 0; i < 1000; i++) codec();
    for (let i = 0; i < 50; i++) biquad();
    for (let i = 0; i < 50; i++) envelope();
    const gcAfterWorkload = host.memory().gcCount;
    phases.workload = snapshot(host, false);
    phases.workloadLive = snapshot(host, true);
    result.phases = phases;
    result.gcPer1000Publishes = gcAfterPublishes - gcBefore;
    result.gcPer50Envelopes = gcAfterWorkload - gcAfterPublishes;
    // per-op collections while streaming: one envelope per 20 ms frame is 50 per second
    const gcStart = host.memory().gcCount;
    for (let i = 0; i < 50; i++) { envelope(); publish(); }
    result.gcPerSecondOfUplink = host.memory().gcCount - gcStart;
  } else if (mode === 'allocations') {
    if (!host) throw new Error('allocation figures need xsrun');
    const biquad = loadBiquad();
    const { codec } = await loadCodec();
    const publish = await loadPublish();
    const envelope = await loadEnvelope();
    const { framing } = await loadFraming();
    result.perCall = {
      publish: allocationPerCall(host, publish, 1000),
      codec: allocationPerCall(host, codec, 1000),
      biquad: allocationPerCall(host, biquad, 100),
      framing: allocationPerCall(host, framing, 1000),
      envelope: allocationPerCall(host, envelope, 20),
    };
  } else if (mode === 'audio-timing') {
    const { audioTurn, StageMeter } = await import('./audio-turn.js');
    const warm = host ? 100 : 3000; // Node's JIT needs it, XS does not
    const ports: [string, Opus][] = [['codec', await hostOpus()], ['core', coreOpus]];
    const audio: Record<string, unknown> = {};
    for (const [name, opus] of ports) {
      const turn = audioTurn(opus);
      host?.gc();
      host?.resetPeaks();
      const gcBefore = host?.memory().gcCount ?? 0;
      const framesBefore = turn.capturedFrames;
      const whole = audioMicroseconds(turn, warm);
      const stackPeak = host?.memory().stack.peak;
      // Collections with the MCU creation settings, per second of audio (50 frames), over the warm-up and windows.
      const gcPerSecond = host ? ((host.memory().gcCount - gcBefore) * 50) / (turn.capturedFrames - framesBefore) : undefined;
      const meter = new StageMeter(now);
      const metered = audioTurn(opus, meter);
      const stages = audioMicroseconds(metered, warm, meter).stages;
      if (turn.sentBytes === 0 || turn.playedFrames === 0) throw new Error('the audio turn did no work');
      audio[name] = { perFrame: whole.perFrame, stages, gcPerSecond, stackPeak };
    }
    result.audio = audio;
  } else if (mode === 'audio-allocations') {
    if (!host) throw new Error('allocation figures need xsrun');
    const { audioTurn, StageMeter } = await import('./audio-turn.js');
    const ports: [string, Opus][] = [['codec', await hostOpus()], ['core', coreOpus]];
    const audio: Record<string, unknown> = {};
    for (const [name, opus] of ports) {
      const turn = audioTurn(opus);
      turn.prepare(AUDIO_WINDOW);
      const whole = allocationPerCall(host, () => turn.frame(), AUDIO_WINDOW);
      const meter = new StageMeter(now, () => host.memory());
      const metered = audioTurn(opus, meter);
      metered.prepare(AUDIO_WINDOW);
      host.gc();
      const gcBefore = host.memory().gcCount;
      meter.reset();
      for (let i = 0; i < AUDIO_WINDOW; i++) metered.frame();
      audio[name] = {
        ...whole,
        stageCollected: host.memory().gcCount !== gcBefore,
        stageSlots: Array.from(meter.slots, (v) => v / AUDIO_WINDOW),
        stageChunkBytes: Array.from(meter.chunks, (v) => v / AUDIO_WINDOW),
      };
    }
    result.audio = audio;
  } else if (mode === 'modules') {
    if (!host) throw new Error('module figures need xsrun');
    // Live heap each group of modules adds once loaded and collected, in dependency order.
    const steps: [string, () => Promise<unknown>][] = [
      ['src/mqtt/utf8', () => import('../src/encoding/utf8.js')],
      ['src/mqtt/generate (+constants, topic)', () => import('../src/mqtt/generate.js')],
      ['src/mqtt/parser (+packets)', () => import('../src/mqtt/parser.js')],
      ['src/mqtt/client (+log, backoff)', () => import('../src/mqtt/client.js')],
      ['src/ais/sequencer', () => import('../src/ais/sequencer.js')],
      ['src/ais/envelope', () => import('../src/ais/envelope.js')],
      ['tweetnacl (X25519)', () => import('tweetnacl')],
      ['@noble/hashes/sha2 (+utils, _md, _u64)', () => import('@noble/hashes/sha2.js')],
      ['@noble/hashes/hkdf (+hmac)', () => import('@noble/hashes/hkdf.js')],
      ['@noble/ciphers/utils', () => import('@noble/ciphers/utils.js')],
      ['@noble/ciphers/_polyval (GHASH)', () => import('@noble/ciphers/_polyval.js')],
      ['@noble/ciphers/aes', () => import('@noble/ciphers/aes.js')],
      ['src/crypto/portable', () => import('../src/crypto/portable.js')],
    ];
    const rows: unknown[] = [];
    await import('../src/ports/clock.js'); // an empty module: the first dynamic import sets up what later ones reuse
    host.gc();
    host.resetPeaks();
    for (const [name, load] of steps) {
      const before = snapshot(host, true);
      const started = now();
      await load();
      const ms = now() - started;
      const after = snapshot(host, true);
      rows.push({ name, ms, slots: after.slotsCurrent - before.slotsCurrent, chunkBytes: after.chunksCurrent - before.chunksCurrent,
        malloc: after.mallocCurrent - before.mallocCurrent, parserPeak: after.parserPeak });
      host.resetPeaks();
    }
    result.modules = rows;
  } else throw new Error(`unknown mode ${mode}`);
  console.log(`XS-FIGURES ${JSON.stringify(result)}`);
}

main().catch((error) => {
  console.log(`XS-FIGURES-ERROR ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  throw error;
});
