// The AIS control plane end to end over real sockets: device (src/ais/connection.ts on the Node host ports)
// against the emulator (emulator/ais/service.ts) through the emulator's broker with the AIS access rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { ENCRYPTION_ALGORITHMS } from '../../src/ais/keys.js';
import { AisTestbed, AWS_ACCOUNT, until, type TestDevice } from '../support/ais.js';
import { captureLogger } from '../support/log.js';

const ready = (d: { connection: { state: string } }) => d.connection.state === 'ready';
const trace = (lines: string[], pattern: RegExp) => lines.filter((l) => pattern.test(l));

/** The `n` of every Ping directive the device handles, in order. */
function recordPings(device: TestDevice): number[] {
  const seen: number[] = [];
  device.connection.dispatcher.register('Ping', (x) => seen.push(x.payload?.n as number));
  return seen;
}

for (const algorithm of ENCRYPTION_ALGORITHMS) {
  test(`a device connects with ${algorithm}: Connect, Acknowledge, capabilities accepted, then SynchronizeState first`, async () => {
    const bed = await new AisTestbed().start();
    try {
      const d = bed.device('thing-1', { algorithm });
      d.connection.start();
      await until('ready and synchronized', () => ready(d) && bed.service.deviceState('thing-1')?.synchronizedState !== undefined);
      assert.deepEqual(d.states, ['connecting', 'awaiting-acknowledge', 'publishing-capabilities', 'ready']);
      const state = bed.service.deviceState('thing-1')!;
      assert.equal(state.capabilities?.length, 2);
      assert.deepEqual(state.synchronizedState, { speaker: { volume: 40 }, alerts: { allAlerts: [] } });
      // The device's trace shows the required order (§4.9), each message on its topic with its sequence number.
      const order = trace(d.lines, /^INFO \[thing-1\] [→←] /).map((l) => l.split(' ').slice(2, 5).join(' '));
      assert.deepEqual(order, [
        '→ connection/fromclient Connect', '← connection/fromservice Acknowledge', '→ capabilities/publish #0',
        '← capabilities/acknowledge #0', '→ event #0',
      ]);
      assert.ok(d.lines.some((l) => /→ event #0 SynchronizeState \{"events":\[\{"header":\{"name":"SynchronizeState"/.test(l)), d.lines.join('\n'));
    } finally {
      await bed.stop();
    }
  });
}

test('an event sent from the ready callback goes after SynchronizeState, never before it (a tap at ready)', async () => {
  const bed = await new AisTestbed().start();
  try {
    const sent: boolean[] = [];
    const d = bed.device('thing-1', { onStateChange: (s) => { if (s === 'ready') sent.push(d.connection.sendEvent('MicrophoneOpened', { profile: 'NEAR_FIELD', offset: 0 })); } });
    await bed.connectReady(d);
    await until('two events', () => d.lines.filter((l) => /→ event #\d+ /.test(l)).length >= 1 && bed.service.deviceState('thing-1')!.exceptions.length === 0);
    assert.deepEqual(sent, [true]);
    const first = d.lines.find((l) => /→ event #0 /.test(l))!;
    assert.match(first, /→ event #0 SynchronizeState(,MicrophoneOpened)? /, 'SynchronizeState leads the first event message');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(bed.service.deviceState('thing-1')!.exceptions, [], 'no INVALID_REQUEST from the service');
  } finally {
    await bed.stop();
  }
});

test('directives are dispatched in order; an unknown one and a malformed body are answered with ExceptionEncountered', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    const seen: string[] = [];
    d.connection.dispatcher.register('Ping', (directive, ctx) => seen.push(`${directive.payload?.n}@${ctx.sequenceNumber}/${ctx.index}`));
    await bed.connectReady(d);
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 1 } }, { name: 'Frobnicate', payload: { extra: true } }, { name: 'Ping', payload: { n: 2, ignored: 'x' } }]);
    bed.service.sendRawDirectiveBody('thing-1', new TextEncoder().encode('{"directives": [ oops'));
    const exceptions = () => bed.service.deviceState('thing-1')!.exceptions;
    await until('two exceptions', () => exceptions().length === 2);
    assert.deepEqual(seen, ['1@0/0', '2@0/2']);
    assert.deepEqual(exceptions()[0], { error: { code: 'MALFORMED_MESSAGE', description: 'unknown directive Frobnicate' }, message: { topic: 'directive', sequenceNumber: 0, index: 1 } });
    const second = exceptions()[1] as { error: { code: string; description: string }; message: unknown };
    assert.equal(second.error.code, 'MALFORMED_MESSAGE');
    assert.match(second.error.description, /^body is not JSON: /);
    assert.deepEqual(second.message, { topic: 'directive', sequenceNumber: 1 });
    assert.ok(ready(d), 'a malformed directive does not end the connection');
  } finally {
    await bed.stop();
  }
});

test('a handler that throws is our bug: logged as one and answered INTERNAL_ERROR, never MALFORMED_MESSAGE; the rest still run', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    const seen: number[] = [];
    d.connection.dispatcher.register('Ping', (x) => seen.push(x.payload?.n as number));
    d.connection.dispatcher.register('Buggy', (x) => (x.payload as unknown as { missing: { field: number } }).missing.field);
    await bed.connectReady(d);
    bed.service.sendDirectives('thing-1', [{ name: 'Buggy', payload: {} }, { name: 'Ping', payload: { n: 1 } }]);
    const exceptions = () => bed.service.deviceState('thing-1')!.exceptions;
    await until('one exception', () => exceptions().length === 1);
    assert.deepEqual(exceptions()[0], { error: { code: 'INTERNAL_ERROR', description: 'Buggy could not be handled' }, message: { topic: 'directive', sequenceNumber: 0, index: 0 } });
    assert.deepEqual(seen, [1], 'the directive after the failed one still runs');
    assert.ok(d.lines.some((l) => /^ERROR .*bug: the Buggy handler threw TypeError: /.test(l)), 'the log names it a bug');
    assert.ok(ready(d), 'our bug does not end the connection');
  } finally {
    await bed.stop();
  }
});

test('Acknowledge INVALID_ACCOUNT_ID and INVALID_CLIENT_ID stop the device with a fatal error, no retries', async () => {
  const bed = await new AisTestbed().start();
  try {
    const wrongAccount = bed.device('thing-1', { awsAccountId: '999999999999' });
    wrongAccount.connection.start();
    await until('fatal', () => wrongAccount.fatal.length === 1);
    assert.equal(wrongAccount.fatal[0].message, 'Acknowledge INVALID_ACCOUNT_ID: The AWS account id does not match the registration');
    assert.equal(wrongAccount.connection.state, 'stopped');

    const unregistered = bed.device('thing-2');
    bed.registry.delete('thing-2');
    unregistered.connection.start();
    await until('fatal', () => unregistered.fatal.length === 1);
    assert.equal(unregistered.fatal[0].message, 'Acknowledge INVALID_CLIENT_ID: The client id is not registered');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(trace(unregistered.lines, /→ connection\/fromclient Connect/).length, 1, 'no retry after a fatal code');
  } finally {
    await bed.stop();
  }
});

for (const [code, fatal] of [['API_VERSION_DEPRECATED', true], ['ENCRYPTION_ERROR', true], ['UNKNOWN_FAILURE', false]] as const) {
  test(`Acknowledge ${code} ${fatal ? 'stops the device' : 'is retried with backoff until the connection is established'}`, async () => {
    const bed = await new AisTestbed().start();
    try {
      bed.service.faults.acknowledge = code;
      const d = bed.device('thing-1');
      d.connection.start();
      if (fatal) {
        await until('fatal', () => d.fatal.length === 1);
        assert.equal(d.fatal[0].message, `Acknowledge ${code}: injected by the emulator`);
      } else {
        await until('ready after a retry', () => ready(d));
        assert.equal(trace(d.lines, /→ connection\/fromclient Connect/).length, 2);
        assert.ok(d.lines.some((l) => l === `WARN [thing-1] connection ended: Acknowledge UNKNOWN_FAILURE: injected by the emulator`), d.lines.join('\n'));
      }
    } finally {
      await bed.stop();
    }
  });
}

test('no Acknowledge within the timeout: the device gives up that attempt and reconnects', async () => {
  const bed = await new AisTestbed().start();
  try {
    bed.service.close(); // the service is gone: nobody answers Connect
    const d = bed.device('thing-1', { acknowledgeTimeoutMs: 200 });
    d.connection.start();
    await until('two attempts', () => trace(d.lines, /→ connection\/fromclient Connect/).length >= 2);
    assert.ok(d.lines.some((l) => l === 'WARN [thing-1] connection ended: no Acknowledge within 200 ms'), d.lines.join('\n'));
    await bed.startService();
    await until('ready once the service is back', () => ready(d), 10_000);
  } finally {
    await bed.stop();
  }
});

test('Disconnect both ways: GOING_OFFLINE from the service brings a reconnect with fresh counters; the device says GOING_OFFLINE when it stops', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    await bed.connectReady(d);
    d.connection.sendEvent('Hello', { n: 1 });
    await until('event #1', () => trace(d.lines, /→ event #1 Hello/).length === 1);
    bed.service.disconnect('thing-1', 'GOING_OFFLINE', 'maintenance');
    await until('reconnected', () => d.states.filter((s) => s === 'ready').length === 2);
    assert.ok(d.lines.includes('WARN [thing-1] connection ended: service sent Disconnect GOING_OFFLINE: maintenance'), d.lines.join('\n'));
    // Counters restart at 0; capabilities are not republished within one boot; SynchronizeState comes first again.
    await until('second SynchronizeState', () => trace(d.lines, /→ event #0 SynchronizeState/).length === 2);
    assert.equal(trace(d.lines, /→ capabilities\/publish/).length, 1);
    assert.equal(bed.service.deviceState('thing-1')!.connections, 2);
    d.connection.stop();
    await until('the service hears the device leave', () => bed.serviceLog.lines.some((l) => l === 'INFO [service] thing-1: device disconnected: GOING_OFFLINE device going offline'));
  } finally {
    await bed.stop();
  }
});

test('Disconnect ENCRYPTION_ERROR from the service stops the device so that it re-registers', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    await bed.connectReady(d);
    bed.service.disconnect('thing-1', 'ENCRYPTION_ERROR', 'cannot decrypt');
    await until('fatal', () => d.fatal.length === 1);
    assert.equal(d.fatal[0].message, 'service sent Disconnect ENCRYPTION_ERROR: cannot decrypt');
  } finally {
    await bed.stop();
  }
});

test('capabilities without System are rejected with the reason, and the device stops', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1', { capabilities: () => [{ type: 'AisInterface', interface: 'Clock', version: '1.0' }] });
    d.connection.start();
    await until('fatal', () => d.fatal.length === 1);
    assert.equal(d.fatal[0].message, 'capabilities CAPABILITIES_REJECTED: the System capability is mandatory');
  } finally {
    await bed.stop();
  }
});

test('the broker vanishes mid-session: the device reconnects with backoff and the emulator keeps its state', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    await bed.connectReady(d);
    const port = bed.broker.port;
    const rules = bed.broker.aedes;
    assert.ok(rules);
    await bed.broker.close();
    await until('loss noticed', () => d.states.includes('waiting'));
    assert.ok(d.lines.some((l) => /^WARN \[thing-1\] connection ended: MQTT connection lost: /.test(l)), d.lines.join('\n'));
    const { startAisBroker } = await import('../../emulator/broker.js');
    bed.broker = await startAisBroker(port, { topicRoot: '$aws/alexa', serviceClientId: 'ais-service', servicePassword: 'service-secret-for-tests' });
    await until('ready again', () => d.states.filter((s) => s === 'ready').length === 2, 10_000);
    await until('resynchronized', () => bed.service.deviceState('thing-1')!.connections === 2);
    assert.equal(bed.service.deviceState('thing-1')!.capabilities?.length, 2, 'capabilities kept across the reconnect');
  } finally {
    await bed.stop();
  }
});

test('a gap in the directive sequence waits, then ends in Disconnect UNEXPECTED_SEQUENCE_NUMBER and a clean reconnect', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    const seen = recordPings(d);
    await bed.connectReady(d);
    bed.service.faults.skip.add('directive');
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 1 } }]); // sent as #1, #0 never comes
    await until('disconnect and reconnect', () => d.states.filter((s) => s === 'ready').length === 2);
    assert.deepEqual(seen, [], 'nothing after the gap was delivered');
    assert.ok(d.lines.some((l) => l === 'WARN [thing-1] connection ended: directive: sequence 0 expected, got 1: UNEXPECTED_SEQUENCE_NUMBER after 500 ms'), d.lines.join('\n'));
    assert.ok(bed.serviceLog.lines.some((l) => /thing-1: device disconnected: UNEXPECTED_SEQUENCE_NUMBER/.test(l)), bed.serviceLog.lines.join('\n'));
  } finally {
    await bed.stop();
  }
});

test('directives out of order within the window are delivered in order', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    const seen = recordPings(d);
    await bed.connectReady(d);
    bed.service.faults.hold.add('directive');
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 1 } }]);
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 2 } }]);
    await until('both', () => seen.length === 2);
    assert.deepEqual(seen, [1, 2]);
    assert.ok(ready(d));
  } finally {
    await bed.stop();
  }
});

test('a tampered directive ends the connection with Disconnect ENCRYPTION_ERROR and no decrypted byte is used', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1');
    const seen = recordPings(d);
    await bed.connectReady(d);
    bed.service.faults.corrupt.add('directive');
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 1 } }]);
    await until('reconnected', () => d.states.filter((s) => s === 'ready').length === 2);
    assert.deepEqual(seen, []);
    assert.ok(bed.serviceLog.lines.some((l) => /thing-1: device disconnected: ENCRYPTION_ERROR directive #0: ENCRYPTION_ERROR: /.test(l)), bed.serviceLog.lines.join('\n'));
  } finally {
    await bed.stop();
  }
});

test('a service speaking the legacy envelope (no inner sequence) is refused with MESSAGE_TAMPERED, as ESP#96 shows', async () => {
  const bed = await new AisTestbed().start({ innerSequence: false });
  try {
    const d = bed.device('thing-1');
    d.connection.start();
    await until('a MESSAGE_TAMPERED disconnect', () => d.lines.some((l) => /connection ended: capabilities\/acknowledge #0: MESSAGE_TAMPERED/.test(l)));
    assert.ok(!d.states.includes('ready'));
  } finally {
    await bed.stop();
  }
});

test('a secret rotation switches keys at the announced sequence numbers in both directions without losing a message', async () => {
  const bed = await new AisTestbed().start();
  try {
    const d = bed.device('thing-1', { publishSpacingMs: 0 });
    const seen: number[] = [];
    const events: number[] = [];
    d.connection.dispatcher.register('Ping', (x) => seen.push(x.payload?.n as number));
    bed.service['options'].onEvent = (_id, e) => { if (e.header.name === 'Tick') events.push(e.payload?.n as number); };
    await bed.connectReady(d);
    const newKey = bed.service.rotateSecret('thing-1')!;
    for (let n = 1; n <= 3; n++) bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n } }]);
    await until('the rotation reached the device', () => d.rotatedKeys.length === 1 && seen.length === 3);
    assert.deepEqual(d.rotatedKeys[0], newKey);
    // Ten events span the device's switch point (next + 5) on the event topic.
    for (let n = 1; n <= 10; n++) {
      d.connection.sendEvent('Tick', { n });
      await new Promise((r) => setTimeout(r, 5));
    }
    await until('every event', () => events.length === 10);
    assert.deepEqual(events, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(bed.registry.get('thing-1')!.key, newKey, 'the service keeps the confirmed key');
    assert.ok(!d.lines.some((l) => /ENCRYPTION_ERROR|MESSAGE_TAMPERED/.test(l)), d.lines.join('\n'));
    assert.ok(!d.lines.some((l) => l.includes(Buffer.from(newKey).toString('base64'))), 'the new secret is never logged');
  } finally {
    await bed.stop();
  }
});

test("a second registered device can neither read nor inject into the first device's topics", async () => {
  const bed = await new AisTestbed().start();
  try {
    const d1 = bed.device('thing-1');
    const seen: string[] = [];
    d1.connection.dispatcher.register('Ping', (x) => seen.push(String(x.payload?.from)));
    await bed.connectReady(d1);
    bed.register('thing-2');
    const { log } = captureLogger('thing-2-raw');
    const stolen: string[] = [];
    let granted: number[] | undefined;
    const intruder = new MqttClient({
      socket: createSocket, clock: new NodeClock(), log, host: '127.0.0.1', port: bed.broker.port, clientId: 'thing-2', reconnect: false,
      onMessage: (topic) => stolen.push(topic),
    });
    intruder.subscribe('$aws/alexa/ais/v1/thing-1/directive', 0, (_e, g) => { granted = g; });
    intruder.connect();
    await until('SUBACK', () => granted !== undefined);
    assert.deepEqual(granted, [0x80]);
    intruder.publish('$aws/alexa/ais/v1/thing-1/connection/fromclient', new TextEncoder().encode(JSON.stringify({ header: { name: 'Connect', messageId: 'x' }, payload: { awsAccountId: AWS_ACCOUNT, clientId: 'thing-1' } })));
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { from: 'service' } }]);
    await until('the legitimate directive', () => seen.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(stolen, []);
    assert.deepEqual(seen, ['service']);
    assert.equal(bed.service.deviceState('thing-1')!.connections, 1, 'the injected Connect never reached the service');
    assert.ok(bed.denied.includes('SUBSCRIBE from thing-2 to $aws/alexa/ais/v1/thing-1/directive refused'), bed.denied.join('\n'));
    assert.ok(bed.denied.includes('PUBLISH from thing-2 to $aws/alexa/ais/v1/thing-1/connection/fromclient refused'), bed.denied.join('\n'));
    intruder.end();
  } finally {
    await bed.stop();
  }
});

test('a rotated key whose SecretRotated never reached the service is adopted when the device reconnects with it', async () => {
  const bed = await new AisTestbed().start();
  try {
    // A long spacing holds SecretRotated in the device's queue; the service then ends the connection, so it is lost.
    const d = bed.device('thing-1', { publishSpacingMs: 10_000 });
    const seen = recordPings(d);
    await bed.connectReady(d);
    const newKey = bed.service.rotateSecret('thing-1')!;
    await until('rotated on the device', () => d.rotatedKeys.length === 1);
    bed.service.disconnect('thing-1', 'GOING_OFFLINE', 'lost before SecretRotated');
    await until('ready again', () => d.states.filter((s) => s === 'ready').length === 2);
    await until('the rotated key adopted', () => bed.serviceLog.lines.some((l) => /thing-1: event #0 opened with the rotated key whose SecretRotated never came; adopting it/.test(l)));
    assert.deepEqual(bed.registry.get('thing-1')!.key, newKey);
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 7 } }]);
    await until('a directive under the new key', () => seen.length === 1);
    assert.deepEqual(seen, [7]);
  } finally {
    await bed.stop();
  }
});
