// The speaker jitter buffer (src/audio/jitter.ts): bytes by stream offset across the ring's wrap, markers at
// their offsets, overwrite while full, drops before an open offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer } from '../../src/audio/jitter.js';
import type { OpusDecoder } from '../../src/ports/opus.js';

/** A "decoder" that writes the packet's bytes as samples: shows exactly which bytes were played. */
const echo: OpusDecoder & { packets: number[][] } = {
  packets: [],
  decode(packet, pcm) {
    echo.packets.push([...packet]);
    pcm.fill(0);
    for (let i = 0; i < packet.length; i++) pcm[i] = packet[i];
    return pcm.length;
  },
  close() {},
};

const bytes = (from: number, n: number) => new Uint8Array(n).map((_, i) => (from + i) & 0xff);

test('frames come out in stream order, byte for byte, across the ring\'s wrap-around', () => {
  const buffer = new JitterBuffer({ sizeInBytes: 10 });
  buffer.setFrameBytes(4);
  echo.packets.length = 0;
  const pcm = new Int16Array(320);
  let next = 0;
  for (let round = 0; round < 6; round++) {
    buffer.append(bytes(next, 8), 0, 8);
    next += 8;
    assert.equal(buffer.bufferedBytes, 8);
    buffer.decodeFrame(echo, pcm);
    buffer.decodeFrame(echo, pcm);
    assert.equal(buffer.hasFrame, false);
  }
  assert.deepEqual(echo.packets.flat(), [...bytes(0, 48)]);
  assert.equal(buffer.readOffset, 48);
  assert.deepEqual([...pcm.subarray(0, 5)], [44, 45, 46, 47, 0]);
});

test('a marker is taken once playback reaches its offset, in order; one at the start offset counts at once', () => {
  const buffer = new JitterBuffer({ sizeInBytes: 64 });
  buffer.setFrameBytes(4);
  buffer.addMarker(10);
  buffer.append(bytes(0, 8), 0, 8);
  buffer.addMarker(11);
  buffer.addMarker(12);
  buffer.append(bytes(8, 4), 0, 4);
  const pcm = new Int16Array(320);
  assert.equal(buffer.takeMarker(buffer.readOffset), 10);
  assert.equal(buffer.takeMarker(buffer.readOffset), -1);
  buffer.decodeFrame(echo, pcm);
  assert.equal(buffer.takeMarker(buffer.readOffset), -1, 'marker 11 sits after 8 bytes; 4 played');
  buffer.decodeFrame(echo, pcm);
  assert.deepEqual([buffer.takeMarker(8), buffer.takeMarker(8), buffer.takeMarker(8)], [11, 12, -1]);
});

test('appending past the size overwrites the oldest bytes, says how many, and drops their markers', () => {
  const buffer = new JitterBuffer({ sizeInBytes: 8 });
  buffer.setFrameBytes(4);
  buffer.append(bytes(0, 4), 0, 4);
  buffer.addMarker(1);
  buffer.append(bytes(4, 4), 0, 4);
  buffer.addMarker(2);
  assert.equal(buffer.append(bytes(8, 6), 0, 6), 6);
  assert.deepEqual([buffer.readOffset, buffer.writeOffset, buffer.markersHeld], [6, 14, 1]);
  assert.equal(buffer.takeMarker(100), 2);
});

test('dropTo discards bytes and markers before an offset, keeping a marker exactly at it', () => {
  const buffer = new JitterBuffer({ sizeInBytes: 64 });
  buffer.addMarker(1);
  buffer.append(bytes(0, 8), 0, 8);
  buffer.addMarker(2);
  buffer.append(bytes(8, 8), 0, 8);
  assert.equal(buffer.dropTo(8), 8);
  assert.deepEqual([buffer.bufferedBytes, buffer.markersHeld, buffer.takeMarker(8)], [8, 1, 2]);
  assert.equal(buffer.dropTo(100), 16, 'never past what arrived');
});

test('incoming bytes before an open offset can go by unstored, and an empty buffer may jump ahead', () => {
  const buffer = new JitterBuffer({ sizeInBytes: 64 });
  buffer.skipIncoming(20);
  assert.deepEqual([buffer.readOffset, buffer.writeOffset], [20, 20]);
  buffer.jumpTo(40);
  assert.deepEqual([buffer.readOffset, buffer.writeOffset], [40, 40]);
  buffer.append(bytes(0, 4), 0, 4);
  assert.throws(() => buffer.skipIncoming(4), { name: 'RangeError', message: 'skipIncoming needs an empty buffer, 4 bytes held' });
  assert.throws(() => buffer.jumpTo(50), { name: 'RangeError', message: 'jumpTo needs an empty buffer, 4 bytes held' });
});

test('the oldest marker goes when more than maxMarkers are held', () => {
  const buffer = new JitterBuffer({ sizeInBytes: 64, maxMarkers: 2 });
  assert.equal(buffer.addMarker(1), true);
  assert.equal(buffer.addMarker(2), true);
  assert.equal(buffer.addMarker(3), false);
  assert.deepEqual([buffer.takeMarker(0), buffer.takeMarker(0), buffer.takeMarker(0)], [2, 3, -1]);
});
