// Issue 24 item 4: per-client limits at the embedded broker. A 1.2 MB publish from an unregistered client used to
// drop the AIS service's own connection (its client takes at most 1 MiB) and cut other devices' turns; a flood of
// publishes went through unmetered. Now the offender alone is dropped, with one line naming it and why, and the
// service and a ready device carry on over the same connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { generate } from '../../src/mqtt/generate.js';
import { DEFAULT_LIMITS, FrameMeter } from '../../emulator/connection-guard.js';
import { AisTestbed, until } from '../support/ais.js';

/** A raw client: CONNECT as `clientId`, then whatever the test writes; `closed` once the broker hangs up. */
async function rawClient(port: number, clientId: string): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  let closed = false;
  socket.on('close', () => { closed = true; });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(generate({ cmd: 'connect', clientId, keepalive: 60, clean: true }));
  await new Promise<void>((resolve) => socket.once('data', () => resolve())); // CONNACK
  socket.on('data', () => undefined);
  return { socket, closed: () => closed };
}

const publish = (topic: string, bytes: number) => generate({ cmd: 'publish', topic, payload: new Uint8Array(bytes), qos: 0, dup: false, retain: false });

test('a client over the packet or publish-rate limit is dropped alone; the service and a ready device keep their connections', async () => {
  const bed = await new AisTestbed().start();
  try {
    const device = bed.device('dev-a');
    await bed.connectReady(device);
    const serviceConnections = () => bed.serviceLog.lines.filter((l) => / connected to /.test(l)).length;
    const before = serviceConnections();

    const big = await rawClient(bed.broker.port, 'intruder-1');
    const huge = publish('$aws/alexa/ais/v1/intruder-1/event', 1_200_000);
    big.socket.write(huge);
    await until('the 1.2 MB publisher dropped', () => big.closed());

    const flood = await rawClient(bed.broker.port, 'intruder-2');
    const burst = [];
    for (let i = 0; i < DEFAULT_LIMITS.publishesPerSecond * DEFAULT_LIMITS.burstSeconds + 50; i++) burst.push(publish('$aws/alexa/ais/v1/intruder-2/event', 10));
    flood.socket.write(Buffer.concat(burst));
    await until('the flooding client dropped', () => flood.closed());

    const lines = bed.denied.filter((l) => l.includes('dropped'));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.deepEqual(lines, [`client intruder-1 dropped: a packet of ${huge.length} bytes, over the 131072-byte limit`,
      'client intruder-2 dropped: over 100 publishes/s']);
    // Nobody else noticed: the same service connection, the device still ready and heard.
    assert.equal(serviceConnections(), before, bed.serviceLog.lines.join('\n'));
    assert.equal(device.connection.state, 'ready');
    assert.ok(device.connection.sendEvent('VolumeChanged', { volume: 30 }));
    await until('the service hears the device', () => bed.serviceLog.lines.some((l) => l.includes('VolumeChanged')));
    assert.deepEqual(device.states.filter((s) => s === 'waiting'), [], 'the device never lost its connection');
  } finally {
    await bed.stop();
  }
});

test('the frame meter reads packet lengths across any split and refuses from the fixed header', () => {
  const limits = { ...DEFAULT_LIMITS, maxPacketBytes: 300 };
  const stream = Buffer.concat([publish('a/b', 100), publish('a/b', 200), publish('a/b', 400)]);
  for (let cut = 1; cut < stream.length; cut += 37) {
    const meter = new FrameMeter(limits);
    const first = meter.check(stream.subarray(0, cut));
    const second = first ?? meter.check(stream.subarray(cut));
    assert.equal(second, 'a packet of 408 bytes, over the 300-byte limit', `cut at ${cut}`);
    // Refused on its header: the meter had seen at most 2 of the big packet's bytes past the first two packets.
  }
  const meter = new FrameMeter(limits);
  assert.equal(meter.check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])), 'a remaining length of more than 4 bytes');
});

// Issue 24 item 9: with aedes's default concurrency (100) a burst queued in its emitter and drained by recursion
// once deliveries completed synchronously, and the broker died with "Maximum call stack size exceeded" during
// npm run bench:emulator-load. The same shape here: 100 deliveries held, 50,000 more published, then released.
test('a burst of 50,000 publishes behind 100 slow deliveries is delivered without exhausting the stack', async () => {
  const { startEmbeddedBroker } = await import('../../emulator/broker.js');
  const broker = await startEmbeddedBroker(0);
  try {
    // aedes's emitter is not in its typings.
    const mq = (broker.aedes as unknown as { mq: { on(topic: string, f: (m: unknown, done: () => void) => void): void; emit(m: object, done: () => void): void } }).mq;
    const held: (() => void)[] = [];
    let delivered = 0;
    mq.on('load/#', (_message, done) => {
      delivered++;
      if (held.length < 100) held.push(done);
      else done();
    });
    await new Promise((resolve) => setImmediate(resolve));
    let completed = 0;
    for (let i = 0; i < 50_100; i++) mq.emit({ topic: 'load/x', payload: 'x' }, () => { completed++; });
    for (const done of held) done();
    assert.equal(delivered, 50_100);
    assert.equal(completed, 50_100);
  } finally {
    await broker.close();
  }
});
