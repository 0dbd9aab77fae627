// Issue 21 item 10 and issue 24 item 2: the emulator's MQTT is mutual TLS by default, each device proving its
// client id with the certificate issued at its registration (or, on the plain port of --plain-mqtt, the MQTT
// password issued with it). Taking a registered client id is refused with CONNACK 5 and a log line, and the owner
// keeps its connection: without a certificate, with another account's device's, an expired one, one from another
// CA, or the one a re-registration replaced. The device keeps its identity across a restart and never logs it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeClock } from '../../hosts/node/clock.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { createSocket } from '../../hosts/node/socket.js';
import { Device, type DeviceState } from '../../src/app/device.js';
import { deleteRegistration, loadRegistration, saveRegistration, type MqttIdentity } from '../../src/ais/registration.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { connectAsync } from 'mqtt';
import type { TlsOptions } from '../../src/ports/socket.js';
import { DEMO_AWS_ACCOUNT, deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import { RegistrationService } from '../../emulator/registration.js';
import { DeviceCa } from '../../emulator/device-ca.js';
import { DEV_CA_PEM } from '../../emulator/dev-pki.js';
import { captureLogger } from '../support/log.js';
import { until } from '../support/wait.js';

const dirs: string[] = [];
const devices: Device[] = [];
const clients: MqttClient[] = [];
after(() => {
  for (const client of clients) client.end();
  for (const device of devices) device.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A device on the Node host with its own folder (or `dataDir`), its code approved for `account`; `mqttTls` replaces the cloud's. */
function boot(cloud: Cloud, clientId: string, account?: string, dataDir = mkdtempSync(join(tmpdir(), `ais-identity-${clientId}-`)), mqttTls?: TlsOptions) {
  dirs.push(dataDir);
  const { log, lines } = captureLogger(clientId);
  const states: DeviceState[] = [];
  const ports = nodePorts(dataDir, log);
  const device = new Device(ports, { ...deviceConfigFor(cloud, clientId), ...(mqttTls ? { mqttTls } : {}), trace: true, connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } }, {
    onCode: (pair) => cloud.lwa.approve(pair.userCode, account),
    onStateChange: (state) => states.push(state),
  });
  devices.push(device);
  device.start();
  return { device, states, lines, storage: ports.storage, dataDir };
}

/** One MQTT CONNECT as `clientId`; resolves with 'connected' or the client's disconnect reason. */
async function attempt(cloud: Cloud, clientId: string, proof: { tls?: TlsOptions; username?: string; password?: Uint8Array }): Promise<string> {
  const events: string[] = [];
  const client = new MqttClient({
    socket: createSocket, clock: new NodeClock(), log: captureLogger(`impostor-${clientId}`).log, host: '127.0.0.1', port: cloud.mqttPort,
    clientId, reconnect: false, ...proof,
    onConnect: () => events.push('connected'),
    onMessage: () => undefined,
    onDisconnect: (error) => events.push(error?.message ?? 'closed'),
  });
  clients.push(client);
  client.connect();
  await until(`the broker's answer to ${clientId}`, () => events.length > 0);
  client.end();
  return events[0];
}

const identityOf = (storage: ReturnType<typeof boot>['storage']): MqttIdentity => {
  const identity = loadRegistration(storage)?.identity;
  assert.ok(identity, 'the registration record holds an identity');
  return identity;
};
const certificateTls = (certificatePem: string, key: string): TlsOptions => ({ ca: DEV_CA_PEM, certificate: certificatePem, key });
const REFUSED = /^broker refused the connection: .*\(CONNACK code 5\)$/;

test('over mutual TLS (the default) a registered client id is taken by no other certificate; the owner stays connected, then restarts and re-registers with its own', async () => {
  const { log, lines } = captureLogger('cloud');
  const cloud = await startCloud({ pollIntervalMs: 100, log, trace: true });
  try {
    assert.ok(cloud.mqttTrust, 'the cloud serves MQTT over TLS');
    const owner = boot(cloud, 'dev-b');
    const other = boot(cloud, 'dev-c', 'mallory');
    await until('both devices ready', () => owner.device.state === 'ready' && other.device.state === 'ready'
      && cloud.service.deviceState('dev-b')?.synchronizedState !== undefined, 15_000);
    const mine = identityOf(owner.storage);
    const theirs = identityOf(other.storage);
    const connectionsBefore = cloud.service.deviceState('dev-b')!.connections;
    const statesBefore = owner.states.length;

    const expired = cloud.registration.deviceCa.issue('dev-b', 'default', { notBefore: new Date(Date.now() - 2 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
    const foreign = new DeviceCa(undefined).issue('dev-b', 'default');
    const unregistered = cloud.registration.deviceCa.issue('dev-b', 'default'); // signed by the CA, but not the one issued at registration
    const cases: [string, TlsOptions, string][] = [
      ['no certificate', { ca: DEV_CA_PEM }, 'no client certificate'],
      ['another account\'s device\'s certificate', certificateTls(theirs.certificatePem, theirs.privateKey), 'the client certificate names "dev-c"'],
      ['an expired certificate', certificateTls(expired.certificatePem, expired.privateKeyPem), 'the client certificate is not valid (CERT_HAS_EXPIRED)'],
      ['a certificate from another CA', certificateTls(foreign.certificatePem, foreign.privateKeyPem), 'the client certificate is not valid (UNABLE_TO_VERIFY_LEAF_SIGNATURE)'],
      ['a certificate not issued at registration', certificateTls(unregistered.certificatePem, unregistered.privateKeyPem), 'not the certificate issued at its latest registration'],
    ];
    for (const [what, tls, why] of cases) {
      const answer = await attempt(cloud, 'dev-b', { tls });
      assert.match(answer, REFUSED, what);
      assert.ok(lines.some((line) => line === `WARN [broker] CONNECT as dev-b refused: ${why}`), `${what}: a log line saying "${why}"; got\n${lines.filter((l) => l.includes('refused')).join('\n')}`);
    }
    assert.equal(cloud.service.deviceState('dev-b')!.connections, connectionsBefore, 'the owner was never knocked off');
    assert.deepEqual(owner.states.slice(statesBefore), [], 'the owner\'s connection never changed state');
    assert.ok(cloud.service.isConnected('dev-b'));

    // A restart: the stored identity connects at once, without registering again.
    owner.device.stop();
    const again = boot(cloud, 'dev-b', undefined, owner.dataDir);
    await until('ready again after the restart', () => again.device.state === 'ready', 15_000);
    assert.ok(!again.states.includes('registering') && !again.states.includes('linking'), again.states.join(' '));
    assert.deepEqual(identityOf(again.storage), mine);

    // The owner registers again (a new link): a new certificate, and the one it replaced is refused.
    again.device.stop();
    deleteRegistration(again.storage);
    const reissued = boot(cloud, 'dev-b', undefined, owner.dataDir);
    await until('ready with a new registration', () => reissued.device.state === 'ready', 15_000);
    assert.notEqual(identityOf(reissued.storage).certificatePem, mine.certificatePem);
    assert.match(await attempt(cloud, 'dev-b', { tls: certificateTls(mine.certificatePem, mine.privateKey) }), REFUSED);
    assert.ok(cloud.service.isConnected('dev-b'));

    // Nothing secret in any log line, the device's debug and trace lines and the cloud's included.
    const everything = [...lines, ...owner.lines, ...other.lines, ...again.lines, ...reissued.lines].join('\n');
    for (const identity of [mine, theirs, identityOf(reissued.storage)]) {
      const keyBody = identity.privateKey.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
      for (const part of keyBody) assert.ok(!everything.includes(part), 'a line of the private key is in the logs');
      assert.ok(!everything.includes(identity.mqttPassword), 'the MQTT password is in the logs');
    }
  } finally {
    await cloud.close();
  }
});

test('on the plain port (--plain-mqtt) a registered client id needs the MQTT password issued at its registration; the owner stays connected', async () => {
  const { log, lines } = captureLogger('cloud');
  const cloud = await startCloud({ pollIntervalMs: 100, log, plainMqtt: true });
  try {
    assert.equal(cloud.mqttTrust, undefined, 'plain MQTT');
    const owner = boot(cloud, 'dev-b');
    const other = boot(cloud, 'dev-c', 'mallory');
    await until('both devices ready', () => owner.device.state === 'ready' && other.device.state === 'ready'
      && cloud.service.deviceState('dev-b')?.synchronizedState !== undefined, 15_000);
    const connectionsBefore = cloud.service.deviceState('dev-b')!.connections;
    const text = (s: string) => new TextEncoder().encode(s);
    const cases: [string, { username?: string; password?: Uint8Array }][] = [
      ['no credentials', {}],
      ['another device\'s password', { username: 'dev-b', password: text(identityOf(other.storage).mqttPassword) }],
      ['the right password under another username', { username: 'dev-c', password: text(identityOf(owner.storage).mqttPassword) }],
    ];
    for (const [what, proof] of cases) {
      assert.match(await attempt(cloud, 'dev-b', proof), REFUSED, what);
    }
    assert.equal(lines.filter((line) => line === 'WARN [broker] CONNECT as dev-b refused: a registered client id needs the MQTT password issued at its registration').length, cases.length);
    assert.equal(cloud.service.deviceState('dev-b')!.connections, connectionsBefore, 'the owner was never knocked off');
    assert.ok(cloud.service.isConnected('dev-b'));
    // An id nobody registered reaches the AIS service, which answers its Connect as AIS does.
    assert.equal(await attempt(cloud, 'nobody-1', {}), 'connected');
  } finally {
    await cloud.close();
  }
});

test('a registration stored before identities were issued, on MQTT over TLS without a configured certificate, is replaced by a new one with a certificate', async () => {
  const cloud = await startCloud({ pollIntervalMs: 100 });
  try {
    const first = boot(cloud, 'dev-old');
    await until('ready', () => first.device.state === 'ready', 15_000);
    first.device.stop();
    const { identity: _dropped, ...withoutIdentity } = loadRegistration(first.storage)!;
    saveRegistration(first.storage, withoutIdentity);
    const again = boot(cloud, 'dev-old', undefined, first.dataDir);
    await until('ready with a new registration', () => again.device.state === 'ready', 15_000);
    assert.ok(again.lines.some((l) => l === 'WARN [dev-old] stored registration of dev-old has no client certificate and none is configured; linking and registering again for one'), again.lines.join('\n'));
    assert.ok(again.states.includes('registering'));
    assert.ok(loadRegistration(again.storage)?.identity);
  } finally {
    await cloud.close();
  }
});

test('over MQTT over WebSocket (no client certificate there) a registered client id needs its issued MQTT password; the owner stays connected', async () => {
  const { log, lines } = captureLogger('cloud');
  const cloud = await startCloud({ pollIntervalMs: 100, log, mqttWebSocketPort: 0 });
  try {
    const owner = boot(cloud, 'dev-w');
    const other = boot(cloud, 'dev-x', 'mallory');
    await until('both devices ready', () => owner.device.state === 'ready' && other.device.state === 'ready'
      && cloud.service.deviceState('dev-w')?.synchronizedState !== undefined, 15_000);
    const connectionsBefore = cloud.service.deviceState('dev-w')!.connections;
    const overWebSocket = async (proof: { username?: string; password?: string }): Promise<string> => {
      try {
        const client = await connectAsync(cloud.mqttWebSocketUrl!, { clientId: 'dev-w', protocolVersion: 4, reconnectPeriod: 0, ...proof });
        await client.endAsync(true);
        return 'connected';
      } catch (error) {
        return (error as Error).message;
      }
    };
    assert.match(await overWebSocket({}), /Not authorized/, 'no credentials');
    assert.match(await overWebSocket({ username: 'dev-w', password: identityOf(other.storage).mqttPassword }), /Not authorized/, 'another device\'s password');
    assert.equal(lines.filter((line) => line === 'WARN [broker] CONNECT as dev-w refused: a registered client id needs the MQTT password issued at its registration').length, 2);
    assert.equal(cloud.service.deviceState('dev-w')!.connections, connectionsBefore, 'the owner was never knocked off');
    assert.ok(cloud.service.isConnected('dev-w'));
    // Its own password is accepted over WebSocket (the browser device's way in).
    assert.equal(await overWebSocket({ username: 'dev-w', password: identityOf(owner.storage).mqttPassword }), 'connected');
  } finally {
    await cloud.close();
  }
});

test('a thing provisioned before AIS registration (as AWS IoT makes it, and Amazon\'s C client connects with it first) keeps its certificate through registration', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-identity-things-'));
  dirs.push(dataDir);
  const cloud = await startCloud({ pollIntervalMs: 100, dataDir });
  try {
    assert.equal(cloud.operator.provision('thing-1', undefined, undefined).ok, false, 'no data folder, no file for the key');
    const reply = cloud.operator.provision('thing-1', undefined, dataDir);
    assert.ok(reply.ok, reply.message);
    const keyPath = join(dataDir, 'things', 'thing-1.private.key');
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    const tls = certificateTls(readFileSync(join(dataDir, 'things', 'thing-1.cert.pem'), 'utf8'), readFileSync(keyPath, 'utf8'));
    assert.equal(await attempt(cloud, 'thing-1', { tls }), 'connected', 'before its registration');
    // The device connects with its provisioned pair; its registration's answer is AIS's own, without an identity.
    const owner = boot(cloud, 'thing-1', undefined, undefined, tls);
    await until('registered and ready', () => owner.device.state === 'ready', 15_000);
    assert.equal(loadRegistration(owner.storage)?.identity, undefined, 'no identity issued to a provisioned thing');
    owner.device.stop();
    assert.equal(await attempt(cloud, 'thing-1', { tls }), 'connected', 'after its registration');
    const unattached = cloud.registration.deviceCa.issue('thing-1', 'default');
    assert.match(await attempt(cloud, 'thing-1', { tls: certificateTls(unattached.certificatePem, unattached.privateKeyPem) }), REFUSED, 'a certificate neither provisioned nor registered');
    const restarted = new RegistrationService({ lwa: cloud.lwa, awsAccountIds: [DEMO_AWS_ACCOUNT], iotEndpoint: cloud.iotEndpoint, dataDir });
    assert.ok(restarted.things.has('thing-1', new X509Certificate(tls.certificate as string).fingerprint256.replace(/:/g, '').toLowerCase()), 'kept in the data folder');
  } finally {
    await cloud.close();
  }
});
