// Tests of the real-broker harness: test PKI + Debian mosquitto with mutual TLS and per-client ACLs,
// driven by MQTT.js over MQTT 3.1.1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  MOSQUITTO_INSTALL_HINT, mosquittoMissingHint, requireMosquitto, startMosquitto, type MosquittoBroker,
} from './mosquitto.js';
import { createTestPki, type CertificateFiles, type TestPki } from './pki.js';

const AIS = '$aws/alexa/ais/v1';
const TIMEOUT_MS = 3000;

interface Received {
  topic: string;
  payload: string;
}

/** Every message a client receives, and a way to await one. */
class Inbox {
  readonly messages: Received[] = [];
  private readonly waiters: Array<{ topic: string; resolve: (m: Received) => void }> = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload) => {
      const message = { topic, payload: payload.toString() };
      this.messages.push(message);
      for (const w of this.waiters.filter((w) => w.topic === topic)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(message);
      }
    });
  }

  /** The first message on `topic` from now on. */
  next(topic: string, timeoutMs = TIMEOUT_MS): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a message on ${topic} expected within ${timeoutMs} ms, got ` +
        `${JSON.stringify(this.messages)}`)), timeoutMs);
      this.waiters.push({ topic, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  topics(): string[] {
    return this.messages.map((m) => m.topic);
  }
}

/** Resolves on CONNACK; rejects with the first error, or if the connection closes before it. */
function connectOnce(url: string, options: IClientOptions, clients: MqttClient[]): Promise<MqttClient> {
  const client = connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: TIMEOUT_MS, ...options });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

function tlsOptions(pki: TestPki, identity: CertificateFiles | undefined, clientId: string): IClientOptions {
  return identity
    ? { ca: pki.ca.certPem, cert: identity.certPem, key: identity.keyPem, clientId }
    : { ca: pki.ca.certPem, clientId };
}

test('mosquittoMissingHint names the install command in one line', () => {
  const saved = process.env.MOSQUITTO;
  process.env.MOSQUITTO = join(tmpdir(), 'no-such-dir', 'mosquitto');
  try {
    const hint = mosquittoMissingHint();
    assert.equal(typeof hint, 'string');
    assert.ok(hint!.endsWith(`; ${MOSQUITTO_INSTALL_HINT}`), hint);
    assert.ok(!hint!.includes('\n'));
  } finally {
    if (saved === undefined) delete process.env.MOSQUITTO;
    else process.env.MOSQUITTO = saved;
  }
});

test('requireMosquitto fails under CI=true and skips locally when mosquitto is missing', () => {
  const saved = { MOSQUITTO: process.env.MOSQUITTO, CI: process.env.CI };
  const skips: Array<string | undefined> = [];
  const fake = { skip: (message?: string) => void skips.push(message) } as unknown as TestContext;
  process.env.MOSQUITTO = join(tmpdir(), 'no-such-dir', 'mosquitto');
  try {
    process.env.CI = 'true';
    assert.throws(() => requireMosquitto(fake), { message: new RegExp(`${MOSQUITTO_INSTALL_HINT}$`) });
    assert.equal(skips.length, 0);
    process.env.CI = 'false';
    assert.equal(requireMosquitto(fake), false);
    assert.equal(skips.length, 1);
    assert.ok(skips[0]!.endsWith(MOSQUITTO_INSTALL_HINT), skips[0]);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('startMosquitto rejects with the broker log when mosquitto cannot start', async (t) => {
  if (!requireMosquitto(t)) return;
  const missing = join(tmpdir(), 'no-such-dir');
  await assert.rejects(
    startMosquitto({ tls: { caPath: join(missing, 'ca.crt'), certPath: join(missing, 's.crt'), keyPath: join(missing, 's.key') } }),
    (error: Error) => {
      assert.match(error.message, /^mosquitto running expected, but mosquitto exited; its log:\n/);
      assert.match(error.message, /Error: Unable to load CA certificates/);
      return true;
    },
  );
});

test('mosquitto with mutual TLS keeps each client in its own topic tree', async (t) => {
  if (!requireMosquitto(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ais-pki-'));
  const clients: MqttClient[] = [];
  let broker: MosquittoBroker | undefined;
  t.after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pki = createTestPki({ dir, clientNames: ['device-1', 'device-2', 'ais-service'] });
  broker = await startMosquitto({
    tls: { caPath: pki.ca.certPath, certPath: pki.server.certPath, keyPath: pki.server.keyPath },
    plain: true,
    serviceIdentity: 'ais-service',
  });
  const b = broker;
  const as = (cn: string, extra: IClientOptions = {}) =>
    connectOnce(b.tlsUrl, { ...tlsOptions(pki, pki.client(cn), cn), ...extra }, clients);

  await t.test('a client with a certificate round-trips under its own trees, $aws included', async () => {
    const device = await as('device-1');
    const inbox = new Inbox(device);
    for (const topic of [`${AIS}/device-1/directive`, 'test/device-1/echo']) {
      assert.deepEqual(await device.subscribeAsync(topic, { qos: 1 }), [{ topic, qos: 1 }]);
      const arrived = inbox.next(topic);
      await device.publishAsync(topic, `hello ${topic}`, { qos: 1 });
      assert.deepEqual(await arrived, { topic, payload: `hello ${topic}` });
    }
    await device.endAsync();
  });

  await t.test('the plain listener takes anonymous clients', async () => {
    const client = await connectOnce(b.plainUrl, { clientId: 'plain-1' }, clients);
    const inbox = new Inbox(client);
    await client.subscribeAsync('anything/at/all', { qos: 1 });
    const arrived = inbox.next('anything/at/all');
    await client.publishAsync('anything/at/all', 'plain', { qos: 1 });
    assert.equal((await arrived).payload, 'plain');
    await client.endAsync();
  });

  await t.test('a client without a certificate is refused', async () => {
    // TLS 1.3: the client learns only after its Finished, from the broker's alert 116.
    await assert.rejects(connectOnce(b.tlsUrl, tlsOptions(pki, undefined, 'device-1'), clients),
      { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  });

  await t.test('a client with a certificate from an untrusted CA is refused', async () => {
    await assert.rejects(connectOnce(b.tlsUrl, tlsOptions(pki, pki.untrustedClient, 'device-1'), clients),
      { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
  });

  await t.test('a client cannot read another client\'s tree: SUBACK grants it, nothing arrives', async () => {
    const [device1, device2, service] = await Promise.all([as('device-1'), as('device-2'), as('ais-service')]);
    const inbox1 = new Inbox(device1);
    const inbox2 = new Inbox(device2);
    await device1.subscribeAsync(`${AIS}/device-1/#`, { qos: 1 });
    // Mosquitto 2.0 with MQTT 3.1.1 grants the subscription (no 0x80) and checks read access per message.
    assert.deepEqual(await device2.subscribeAsync(`${AIS}/device-1/#`, { qos: 1 }), [{ topic: `${AIS}/device-1/#`, qos: 1 }]);
    await device2.subscribeAsync(`${AIS}/device-2/#`, { qos: 1 });

    const echoed = inbox1.next(`${AIS}/device-1/event`);
    await device1.publishAsync(`${AIS}/device-1/event`, 'private', { qos: 1 });
    await echoed;
    // The broker fanned device-1's event out before echoing it; a marker sent now reaches device-2 after
    // anything that fan-out queued for it.
    const marker = inbox2.next(`${AIS}/device-2/directive`);
    await service.publishAsync(`${AIS}/device-2/directive`, 'marker', { qos: 1 });
    await marker;
    assert.deepEqual(inbox2.topics(), [`${AIS}/device-2/directive`]);
  });

  await t.test('a client cannot publish into another client\'s tree: PUBACK, then dropped', async () => {
    const [device1, device2, service] = await Promise.all([as('device-1'), as('device-2'), as('ais-service')]);
    const inbox1 = new Inbox(device1);
    const serviceInbox = new Inbox(service);
    await device1.subscribeAsync(`${AIS}/device-1/#`, { qos: 1 });
    await service.subscribeAsync([`${AIS}/#`, 'test/#'], { qos: 1 });

    const denied = b.waitForLog(/Denied PUBLISH from device-2 .*'\$aws\/alexa\/ais\/v1\/device-1\/directive'/);
    await device2.publishAsync(`${AIS}/device-1/directive`, 'injected', { qos: 1 });  // resolves: PUBACK comes anyway
    await denied;
    // Messages of one client are routed in order: once its next one reaches the service, an injected one would have.
    const marker = serviceInbox.next(`${AIS}/device-2/event`);
    await device2.publishAsync(`${AIS}/device-2/event`, 'marker', { qos: 1 });
    await marker;
    assert.deepEqual(serviceInbox.topics(), [`${AIS}/device-2/event`]);
    assert.deepEqual(inbox1.topics(), []);
  });

  await t.test('the broker restarts on the same port and a client reconnects', async () => {
    const device = await as('device-1', { reconnectPeriod: 100 });
    const inbox = new Inbox(device);
    const pid = b.pid;
    const port = b.tlsPort;
    const offline = new Promise<void>((resolve) => device.once('offline', () => resolve()));
    await b.stop();
    assert.equal(b.running, false);
    await offline;

    const reconnected = new Promise<void>((resolve) => device.once('connect', () => resolve()));
    await b.restart();
    assert.equal(b.tlsPort, port);
    assert.notEqual(b.pid, pid);
    await reconnected;
    // persistence false and a clean session: subscribe again after the restart.
    await device.subscribeAsync('test/device-1/after-restart', { qos: 1 });
    const arrived = inbox.next('test/device-1/after-restart');
    await device.publishAsync('test/device-1/after-restart', 'back', { qos: 1 });
    assert.equal((await arrived).payload, 'back');
  });
});
