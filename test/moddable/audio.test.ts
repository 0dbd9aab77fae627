// hosts/moddable/audio.ts over ECMA-419-shaped drivers. The drivers here are doubles of Moddable's Linux ones
// (the boundary that cannot run here: buffers of sampleRate / 32 frames, read/write within the count).
import test from 'node:test';
import assert from 'node:assert/strict';
import { moddableAudioIn, moddableAudioOut } from '../../hosts/moddable/audio.js';
import type { AudioInOptions, AudioOutOptions } from '../../hosts/moddable/audio.js';

let now = 0;
const clock = { monotonicMs: () => now, setTimer: () => ({}), clearTimer: () => {} };

class LinuxIn {
  static last: LinuxIn;
  private data: Uint8Array = new Uint8Array(0);
  private offset = 0;
  constructor(readonly options: AudioInOptions) { LinuxIn.last = this; }
  deliver(bytes: Uint8Array) { this.data = bytes; this.offset = 0; this.options.onReadable?.call(this as never, bytes.length, bytes.length / 2); }
  read(buffer: ArrayBufferView | ArrayBuffer | number): number | ArrayBuffer {
    const view = buffer as Uint8Array;
    if (view.length > this.data.length - this.offset) throw new Error('invalid size');
    view.set(this.data.subarray(this.offset, this.offset + view.length));
    this.offset += view.length;
    return view.length;
  }
  start() {} stop() {} close() {}
}

test('audio in: 1000-byte driver buffers become 20 ms frames, in order, with capture times', () => {
  const frames: Int16Array[] = [];
  const times: number[] = [];
  const port = moddableAudioIn(LinuxIn as never, { clock })({
    sampleRate: 16000, frameSamples: 320,
    onReadable: () => { const f = new Int16Array(320); for (let t = port.read(f); t >= 0; t = port.read(f)) { frames.push(f.slice()); times.push(t); } },
  });
  const pcm = new Int16Array(16000); // 1 s of a ramp
  for (let i = 0; i < pcm.length; i++) pcm[i] = i - 8000;
  const bytes = new Uint8Array(pcm.buffer);
  for (let at = 0; at < bytes.length; at += 1000) { now += 31.25; LinuxIn.last.deliver(bytes.subarray(at, at + 1000)); }
  assert.equal(frames.length, 50);
  assert.deepEqual(Array.from(frames.flatMap((f) => Array.from(f))), Array.from(pcm));
  assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]));
  assert.equal(times[0], 31.25); // the first frame completes in the first buffer
});

class LinuxOut {
  static last: LinuxOut;
  written: number[] = [];
  constructor(readonly options: AudioOutOptions) { LinuxOut.last = this; }
  room(bytes: number) { this.options.onWritable?.call(this as never, bytes, bytes / 2); }
  write(samples: ArrayBufferView): number { this.written.push(...new Int16Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength))); return samples.byteLength; }
  start() {} stop() {} close() {}
}

test('audio out: frames reach the driver within its writable counts and are kept as the reference', () => {
  now = 1000;
  let room = 0;
  const port = moddableAudioOut(LinuxOut as never, { clock })({ sampleRate: 16000, frameSamples: 320, onWritable: (frames) => { room = frames; } });
  LinuxOut.last.room(0);
  assert.equal(room, 4);
  const frame = new Int16Array(320);
  for (let i = 0; i < 4; i++) { frame.fill(i + 1); port.write(frame); }
  assert.throws(() => port.write(frame), /beyond the room/);
  LinuxOut.last.room(1000); // 500 samples: one frame and 180 samples of the next
  assert.equal(LinuxOut.last.written.length, 500);
  assert.deepEqual(LinuxOut.last.written.slice(318, 322), [1, 1, 2, 2]);
  const reference = new Int16Array(320);
  assert.equal(port.reference(reference, 1000 + 25), true); // the second frame plays from 1020 ms
  assert.equal(reference[0], 2);
  assert.equal(port.reference(reference, 1000 + 80), false);
});
