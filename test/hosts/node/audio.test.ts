// The Node audio ports: WAV in paced in real time or fast, recording audio out paced like a sound card or
// as written, sox found at run time (never required).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, liveAudio, SOX_HINT, WavAudioIn, WavAudioOut } from '../../../hosts/node/audio.js';
import { writeWav } from '../../../hosts/node/wav.js';
import { pattern } from '../../support/audio.js';
import { until } from '../../support/ais.js';

test('WavAudioIn in real time makes one frame readable per 20 ms: the WAV\'s samples, then silence', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'audio-in-'));
  const speech = pattern(320 * 5 + 100, 1);
  writeWav(join(dir, 'a.wav'), speech);
  const frames: Int16Array[] = [];
  const times: number[] = [];
  const port: WavAudioIn = new WavAudioIn({
    sampleRate: 16000, frameSamples: 320,
    onReadable: () => {
      const frame = new Int16Array(320);
      for (let t = port.read(frame); t >= 0; t = port.read(frame)) { frames.push(frame.slice()); times.push(t); }
    },
  }, { paths: [join(dir, 'a.wav')] });
  try {
    const started = performance.now();
    port.start();
    await until('10 frames', () => frames.length >= 10);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 170, `10 frames took ${elapsed.toFixed(0)} ms (real time: ≥ 180)`);
    const got = new Int16Array(frames.length * 320);
    frames.forEach((f, i) => got.set(f, i * 320));
    assert.deepEqual(got.subarray(0, speech.length), speech);
    assert.ok(got.subarray(speech.length).every((s) => s === 0), 'silence after the speech');
    assert.deepEqual(times.slice(1, 4).map((t, i) => Math.round(t - times[i])), [20, 20, 20]);
    assert.equal(port.speechFramesRead, 6);
  } finally {
    port.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('WavAudioIn fast makes all queued speech readable at once; say() queues more; after: end stops there', async () => {
  let read = 0;
  const frame = new Int16Array(320);
  const port: WavAudioIn = new WavAudioIn({
    sampleRate: 16000, frameSamples: 320,
    onReadable: () => { while (port.read(frame) >= 0) read++; },
  }, { samples: [pattern(320 * 50)], realtime: false, after: 'end' });
  try {
    const started = performance.now();
    port.start();
    await until('50 frames', () => read === 50);
    assert.ok(performance.now() - started < 300);
    port.say(pattern(320 * 10));
    await until('60 frames', () => read === 60);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(read, 60, 'nothing after the speech with after: end');
  } finally {
    port.close();
  }
  assert.throws(() => new WavAudioIn({ sampleRate: 48000, frameSamples: 960, onReadable() {} }), { name: 'RangeError', message: 'WavAudioIn serves 16000 Hz in 320-sample frames, asked for 48000 Hz in 960' });
});

test('WavAudioIn.say() returns the sample index at which the speech will be read, after silence and after speech that ends mid-frame', async () => {
  const heard: number[] = [];
  const frame = new Int16Array(320);
  const port: WavAudioIn = new WavAudioIn({
    sampleRate: 16000, frameSamples: 320,
    onReadable: () => { while (port.read(frame) >= 0) heard.push(...frame); },
  }, { samples: [new Int16Array(500).fill(-1)] });
  try {
    port.start();
    await until('some silence', () => heard.length >= 320 * 4);
    const speech = pattern(1000).map((v) => v || 1);
    const at = port.say(speech);
    const next = pattern(700).map((v) => (v || 1) + 1);
    const atNext = port.say(next);
    assert.equal(atNext, at + speech.length, 'queued speech follows on sample for sample');
    await until('both heard', () => heard.length >= atNext + next.length);
    assert.deepEqual(heard.slice(at, at + speech.length), [...speech]);
    assert.deepEqual(heard.slice(atNext, atNext + next.length), [...next]);
    assert.equal(heard[at - 1], 0, 'silence just before');
  } finally {
    port.close();
  }
});

test('WavAudioOut in real time plays a frame per 20 ms from a 3-frame queue, asks for more with onWritable, refuses overfilling, and writes the WAV on close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'audio-out-'));
  let next = 0;
  const writes: number[] = [];
  const port: WavAudioOut = new WavAudioOut({
    sampleRate: 16000, frameSamples: 320,
    onWritable: (frames) => {
      writes.push(frames);
      for (let i = 0; i < frames && next < 20; i++) port.write(new Int16Array(320).fill(next++));
    },
  }, { path: join(dir, 'out.wav') });
  try {
    const started = performance.now();
    port.start();
    await until('20 frames played', () => port.played.length === 20);
    assert.ok(performance.now() - started >= 330, 'paced: 20 frames need ~400 ms');
    assert.equal(writes[0], 3);
    assert.ok(writes.every((n) => n >= 1 && n <= 3));
    assert.deepEqual(port.played.map((f) => f[0]), Array.from({ length: 20 }, (_, i) => i));
    // Exactly 20 ms apart while the queue held frames; after an underrun (a loaded machine starves the writer)
    // the next frame starts later, never sooner.
    const gaps = port.playedAtMs.slice(1).map((t, i) => t - port.playedAtMs[i]);
    gaps.forEach((gap, i) => {
      if (port.underrunAt.includes(i + 1)) assert.ok(gap > 20, `frame ${i + 1} after an underrun starts late, not early: ${gap} ms`);
      // Play times are performance.now() + k·20: equal to 20 up to floating-point representation, not timing.
      else assert.ok(Math.abs(gap - 20) < 1e-6, `frame ${i + 1} plays 20 ms after the one before, got ${gap}`);
    });
    const ref = new Int16Array(320);
    assert.equal(port.reference(ref, port.playedAtMs[19] + 5), true);
    assert.equal(ref[0], 19);
  } finally {
    port.close();
  }
  const { readWav } = await import('../../../hosts/node/wav.js');
  assert.equal(readWav(join(dir, 'out.wav')).length, 20 * 320);
  rmSync(dir, { recursive: true, force: true });
});

test('WavAudioOut as fast as possible plays frames as written', async () => {
  let next = 0;
  const port: WavAudioOut = new WavAudioOut({
    sampleRate: 16000, frameSamples: 320,
    onWritable: (frames) => { for (let i = 0; i < frames && next < 200; i++) port.write(new Int16Array(320).fill(next++)); },
  }, { realtime: false });
  const started = performance.now();
  port.start();
  await until('200 frames', () => port.played.length === 200);
  assert.ok(performance.now() - started < 1000, '4 s of audio in well under a second');
  port.close();
});

test('sox is looked up on PATH at run time; without it live audio gives the one-line hint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'path-'));
  try {
    assert.equal(findExecutable('rec', dir), undefined);
    assert.deepEqual(liveAudio(dir), { hint: SOX_HINT });
    assert.equal(SOX_HINT, 'live audio needs sox (rec/play): apt-get install sox');
    writeFileSync(join(dir, 'rec'), '#!/bin/sh\n');
    chmodSync(join(dir, 'rec'), 0o755);
    assert.equal(findExecutable('rec', `/nonexistent:${dir}`), join(dir, 'rec'));
    const live = liveAudio(dir);
    assert.equal(typeof live.audioIn, 'function');
    assert.equal(live.openPlayer, undefined);
    assert.equal(live.hint, SOX_HINT);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
