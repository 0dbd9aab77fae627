// SetVolume and SetAttentionState at speaker-stream offsets (docs/protocol.md §4.5, §4.6), end to end over real
// sockets: the emulated cloud streams three seconds of a steady tone as Opus with a volume change at 1 s and
// attention changes at 0.6 s and 2 s; the Node device plays it into a recording audio-out port. The gain must
// change exactly at the frame of its offset, and each light must show when the frame at its offset is played.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { writeAudioEntry } from '../../src/ais/binary.js';
import { Device, VOLUME_KEY, type AttentionState } from '../../src/app/device.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import { encodeSpeakerFrames } from '../../emulator/voice/opus.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';

const FRAME_BYTES = 160;

function rms(frame: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
  return Math.sqrt(sum / frame.length);
}

test('a volume change and attention changes take effect at the frames of their speaker offsets in the played audio', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-offsets-'));
  const events: { name: string; payload: Record<string, unknown> }[] = [];
  const cloud = await startCloud({ pollIntervalMs: 100, voice: false, service: { onEvent: (_id, e) => events.push({ name: e.header.name, payload: e.payload ?? {} }) } });
  const audioOut = wavAudioOut({ realtime: true });
  const { log } = captureLogger('den-2');
  const lights: { light: AttentionState; atMs: number }[] = [];
  const device = new Device({ ...nodePorts(dataDir, log), audio: { audioIn: wavAudioIn({ realtime: true }), audioOut, opus: nodeOpus } },
    { ...deviceConfigFor(cloud, 'den-2'), connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } },
    { onCode: (pair) => cloud.lwa.approve(pair.userCode), onAttention: (light) => lights.push({ light, atMs: performance.now() }) });
  try {
    device.start();
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('den-2')?.synchronizedState !== undefined, 15_000);
    // 3 s of 440 Hz at -12 dBFS, 150 frames.
    const tone = Int16Array.from({ length: 48000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    const frames = encodeSpeakerFrames(tone).frames.slice(0, 150);
    const volumeAt = 50 * FRAME_BYTES;     // 1.0 s
    const thinkingAt = 30 * FRAME_BYTES;   // 0.6 s
    const notifyAt = 100 * FRAME_BYTES;    // 2.0 s
    const end = frames.length * FRAME_BYTES;
    cloud.service.sendDirectives('den-2', [
      { name: 'SetVolume', payload: { volume: 100 } },
      { name: 'OpenSpeaker', payload: { offset: 0 } },
      { name: 'SetAttentionState', payload: { state: 'SPEAKING', offset: 0 } },
      { name: 'SetAttentionState', payload: { state: 'THINKING', offset: thinkingAt } },
      { name: 'SetVolume', payload: { volume: 25, offset: volumeAt } },
      { name: 'SetAttentionState', payload: { state: 'NOTIFICATION_AVAILABLE', offset: notifyAt } },
      { name: 'CloseSpeaker', payload: { offset: end } },
    ]);
    for (let first = 0; first < frames.length; first += 10) {
      const chunk = frames.slice(first, first + 10);
      const audio = new Uint8Array(chunk.length * FRAME_BYTES);
      chunk.forEach((f, i) => audio.set(f, i * FRAME_BYTES));
      const body = new Uint8Array(16 + audio.length);
      writeAudioEntry(body, 0, first * FRAME_BYTES, audio, chunk.length - 1);
      cloud.service.sendSpeaker('den-2', body);
    }
    await until('the stream played and closed', () => events.some((e) => e.name === 'SpeakerClosed') && audioOut.last!.played.length >= frames.length, 10_000);
    const out = audioOut.last!;
    // The speaker writes nothing before OpenSpeaker: played frame i is stream offset i × 160.
    const levels = out.played.slice(0, frames.length).map(rms);
    const k = volumeAt / FRAME_BYTES;
    const before = levels.slice(k - 10, k).reduce((a, b) => a + b) / 10;
    const after = levels.slice(k, k + 10).reduce((a, b) => a + b) / 10;
    assert.ok(Math.abs(after / before - 0.25) < 0.03, `the level after the offset is a quarter of before: ${(after / before).toFixed(3)}`);
    // Exactly at frame k: the gain steps between k-1 and k, and nowhere near it the level jumps like that.
    const steps = levels.slice(5, 145).map((l, i) => ({ i: i + 5, ratio: l / levels[i + 4]! })).filter((s) => s.ratio < 0.5);
    assert.deepEqual(steps.map((s) => s.i), [k], `the one level step is at frame ${k}`);
    assert.deepEqual(events.find((e) => e.name === 'VolumeChanged' && e.payload.offset !== undefined)?.payload, { volume: 25, offset: volumeAt });
    assert.deepEqual(nodePorts(dataDir, log).storage.get(VOLUME_KEY), Uint8Array.of(25), "the volume persisted");
    // Each light when its frame was handed to audio out: within a few frames of that frame's play time.
    assert.deepEqual(lights.map((l) => l.light), ['SPEAKING', 'THINKING', 'NOTIFICATION_AVAILABLE']);
    for (const [light, offset] of [['THINKING', thinkingAt], ['NOTIFICATION_AVAILABLE', notifyAt]] as const) {
      const shownAt = lights.find((l) => l.light === light)!.atMs;
      const playedAt = out.playedAtMs[offset / FRAME_BYTES]!;
      assert.ok(Math.abs(shownAt - playedAt) < 150, `${light} shown ${(shownAt - playedAt).toFixed(0)} ms from the play time of its frame`);
    }
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
