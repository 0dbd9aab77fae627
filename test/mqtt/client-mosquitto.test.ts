// Our MQTT client against Debian mosquitto with mutual TLS and a per-client ACL, as a device meets AWS IoT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { MqttClient } from '../../src/mqtt/client.js';
import type { TlsOptions } from '../../src/ports/socket.js';
import { captureLogger } from '../support/log.js';
import { pause, until } from '../support/wait.js';
import { mosquittoMissingHint, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { createTestPki, type TestPki } from '../support/pki.js';

const text = (s: string) => new TextEncoder().encode(s);
const root = (id: string) => `$aws/alexa/ais/v1/${id}`;


const missing = mosquittoMissingHint();
if (missing && process.env.CI === 'true') throw new Error(missing);
const skip = missing ?? false;

let dir: string;
let pki: TestPki;
let broker: MosquittoBroker;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ais-mqtt-tls-'));
  pki = createTestPki({ dir, clientNames: ['device-1', 'device-2', 'ais-service'] });
  broker = await startMosquitto({ tls: { caPath: pki.ca.certPath, certPath: pki.server.certPath, keyPath: pki.server.keyPath }, serviceIdentity: 'ais-service' });
});

after(async () => {
  if (skip) return;
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

function tlsFor(name: string | null): TlsOptions {
  const tls: TlsOptions = { ca: pki.ca.certPem, serverName: 'localhost' };
  if (name) {
    const cert = pki.client(name);
    tls.certificate = cert.certPem;
    tls.key = cert.keyPem;
  }
  return tls;
}

/** `certName` null: connect without a client certificate. */
function device(name: string, certName: string | null = name) {
  const received: string[] = [];
  const events: string[] = [];
  const { log, lines } = captureLogger(name);
  const client = new MqttClient({
    socket: createSocket, clock: new NodeClock(), log, host: '127.0.0.1', port: broker.tlsPort!, tls: tlsFor(certName), clientId: name,
    keepAliveSec: 5, reconnect: { minDelayMs: 50, maxDelayMs: 400 },
    onMessage: (topic, payload) => received.push(`${topic}=${new TextDecoder().decode(payload)}`),
    onConnect: () => events.push('connect'),
    onDisconnect: (error, reconnecting) => events.push(`disconnect ${reconnecting}: ${error?.message}`),
  });
  return { client, received, events, lines };
}

async function service() {
  const s = pki.client('ais-service');
  const peer = await mqtt.connectAsync(broker.tlsUrl, {
    clientId: 'ais-service', ca: pki.ca.certPem, cert: s.certPem, key: s.keyPem, servername: 'localhost', reconnectPeriod: 0,
  });
  const received: string[] = [];
  peer.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`));
  return { peer, received };
}

test('a device connects with mutual TLS and exchanges messages on its own AIS topics with the service (MQTT.js)', { skip }, async () => {
  const d = device('device-1');
  const svc = await service();
  try {
    await svc.peer.subscribeAsync(`${root('device-1')}/event`, { qos: 0 });
    d.client.subscribe(`${root('device-1')}/directive`, 0);
    d.client.connect();
    await until('connect', () => d.events.includes('connect'));
    await svc.peer.publishAsync(`${root('device-1')}/directive`, 'directive for device-1');
    d.client.publish(`${root('device-1')}/event`, text('event from device-1'));
    await until('both directions', () => d.received.length === 1 && svc.received.length === 1);
    assert.deepEqual(d.received, [`${root('device-1')}/directive=directive for device-1`]);
    assert.deepEqual(svc.received, [`${root('device-1')}/event=event from device-1`]);
  } finally {
    d.client.end();
    await svc.peer.endAsync();
  }
});

test("the ACL keeps a second device from reading or injecting into the first device's topics", { skip }, async () => {
  const d1 = device('device-1');
  const d2 = device('device-2');
  const svc = await service();
  try {
    await svc.peer.subscribeAsync(`${root('device-1')}/#`, { qos: 0 });
    d1.client.subscribe(`${root('device-1')}/directive`, 0);
    let d2Granted: number[] | undefined;
    d2.client.subscribe(`${root('device-1')}/#`, 0, (_e, granted) => { d2Granted = granted; });
    d2.client.subscribe(`${root('device-2')}/directive`, 0);
    d1.client.connect();
    d2.client.connect();
    await until('both connected', () => d1.events.includes('connect') && d2.events.includes('connect') && d2Granted !== undefined);
    // Injection: device-2 publishes into device-1's directive topic; a positive control goes to its own tree.
    d2.client.publish(`${root('device-1')}/directive`, text('injected by device-2'));
    d2.client.publish(`${root('device-2')}/event`, text('control'));
    // Eavesdropping: the service writes to device-1; device-2 must not see it.
    await svc.peer.publishAsync(`${root('device-1')}/directive`, 'secret for device-1');
    await svc.peer.publishAsync(`${root('device-2')}/directive`, 'for device-2');
    await until('the legitimate messages', () => d1.received.length >= 1 && d2.received.length >= 1);
    await pause(300); // time for any leak to show
    assert.deepEqual(d1.received, [`${root('device-1')}/directive=secret for device-1`]);
    assert.deepEqual(d2.received, [`${root('device-2')}/directive=for device-2`]);
    assert.ok(!svc.received.some((m) => m.includes('injected')), svc.received.join('\n'));
  } finally {
    d1.client.end();
    d2.client.end();
    await svc.peer.endAsync();
  }
});

test('mosquitto killed and restarted mid-session: the device reconnects, resubscribes and receives again', { skip }, async () => {
  const d = device('device-1');
  const svc = await service();
  try {
    d.client.subscribe(`${root('device-1')}/speaker`, 0);
    d.client.connect();
    await until('connect', () => d.events.includes('connect'));
    await svc.peer.endAsync();
    await broker.stop();
    await until('the loss noticed', () => d.events.some((e) => e.startsWith('disconnect true')));
    await broker.restart();
    await until('reconnected', () => d.events.filter((e) => e === 'connect').length === 2);
    const svc2 = await service();
    await svc2.peer.publishAsync(`${root('device-1')}/speaker`, 'after restart');
    await until('message after restart', () => d.received.length === 1);
    assert.deepEqual(d.received, [`${root('device-1')}/speaker=after restart`]);
    await svc2.peer.endAsync();
  } finally {
    d.client.end();
  }
});

test('a device without a client certificate is refused, told why, and keeps retrying', { skip }, async () => {
  const d = device('device-1', null);
  try {
    d.client.connect();
    await until('two failed attempts', () => d.events.filter((e) => e.startsWith('disconnect true')).length >= 2);
    assert.ok(!d.events.includes('connect'));
    const reason = d.events[0];
    assert.match(reason, /^disconnect true: .*TLS handshake refused by the server: .*certificate required/, reason);
  } finally {
    d.client.end();
  }
});
