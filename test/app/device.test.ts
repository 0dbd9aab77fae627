// The device application against the whole emulated cloud, over real sockets: code-based linking, registration,
// AIS connection; a reboot that skips straight to connecting; a rotated key that survives the reboot; and a
// registration the cloud forgot, which sends the device back to linking.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePorts } from '../../hosts/node/ports.js';
import { Device, type DeviceConfig, type DeviceState } from '../../src/app/device.js';
import { loadLinkCredentials } from '../../src/ais/linking.js';
import { loadRegistration } from '../../src/ais/registration.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';

function config(cloud: Cloud, clientId: string): DeviceConfig {
  return { ...deviceConfigFor(cloud, clientId), trace: true, connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } };
}

function boot(dataDir: string, cfg: DeviceConfig, name: string) {
  const { log, lines } = captureLogger(name);
  const states: DeviceState[] = [];
  const codes: string[] = [];
  const device = new Device(nodePorts(dataDir, log), cfg, {
    onStateChange: (s) => states.push(s),
    onCode: (pair) => codes.push(pair.userCode),
  });
  booted.push(device);
  device.start();
  return { device, states, codes, lines, storage: nodePorts(dataDir, log).storage };
}

const booted: Device[] = [];
after(() => { for (const device of booted) device.stop(); });

test('a new device links, registers and connects; after a reboot it connects at once with its stored, rotated key', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-device-'));
  const cloud = await startCloud({ pollIntervalMs: 100 });
  try {
    const first = boot(dataDir, config(cloud, 'kitchen-1'), 'kitchen-1');
    await until('a user code', () => first.codes.length === 1);
    assert.equal(cloud.lwa.approve(first.codes[0]), true);
    await until('ready', () => first.device.state === 'ready' && cloud.service.deviceState('kitchen-1')?.synchronizedState !== undefined);
    assert.deepEqual(first.states.slice(0, 3), ['linking', 'registering', 'connecting']);
    assert.equal(loadLinkCredentials(first.storage), undefined, 'the refresh token is forgotten once registered');
    const stored = loadRegistration(first.storage)!;
    assert.deepEqual(new Uint8Array(cloud.registration.registry.get('kitchen-1')!.aesKey), stored.aesKey);

    const newKey = cloud.service.rotateSecret('kitchen-1')!;
    await until('the rotated key stored on the device', () => Buffer.from(loadRegistration(first.storage)!.aesKey).equals(Buffer.from(newKey)));
    first.device.stop();

    const second = boot(dataDir, config(cloud, 'kitchen-1'), 'kitchen-1');
    await until('ready after reboot', () => second.device.state === 'ready');
    assert.deepEqual(second.states.slice(0, 1), ['connecting'], 'no linking or registration after a reboot');
    assert.equal(second.codes.length, 0);
    await until('second connection synchronized', () => cloud.service.deviceState('kitchen-1')?.connections === 2);
    assert.ok(!second.lines.some((l) => l.includes(Buffer.from(newKey).toString('base64'))), 'the key never appears in a log line');
    second.device.stop();
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a device the cloud no longer knows (INVALID_CLIENT_ID) drops its registration and links again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-device-'));
  const cloud = await startCloud({ pollIntervalMs: 100 });
  try {
    const d = boot(dataDir, config(cloud, 'hall-1'), 'hall-1');
    await until('a user code', () => d.codes.length === 1);
    cloud.lwa.approve(d.codes[0]);
    await until('ready', () => d.device.state === 'ready');
    d.device.stop();
    cloud.registration.registry.delete('hall-1');
    const again = boot(dataDir, config(cloud, 'hall-1'), 'hall-1');
    await until('linking again', () => again.codes.length === 1);
    assert.equal(loadRegistration(again.storage), undefined);
    assert.deepEqual(again.states.slice(0, 1), ['connecting']);
    assert.ok(again.states.includes('linking'), again.states.join(' '));
    again.device.stop();
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the cloud on an external mosquitto with mutual TLS: the device links, registers and connects with its own certificate', async (t) => {
  const { mosquittoMissingHint, startMosquitto } = await import('../support/mosquitto.js');
  const { createTestPki } = await import('../support/pki.js');
  const missing = mosquittoMissingHint();
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return t.skip(missing);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-device-'));
  const pki = createTestPki({ dir: join(dataDir, 'pki'), clientNames: ['ais-service', 'porch-1'] });
  const broker = await startMosquitto({ tls: { caPath: pki.ca.certPath, certPath: pki.server.certPath, keyPath: pki.server.keyPath }, serviceIdentity: 'ais-service' });
  const tlsFor = (cn: string) => ({ ca: pki.ca.certPem, certificate: pki.client(cn).certPem, key: pki.client(cn).keyPem, serverName: 'localhost' });
  const cloud = await startCloud({ pollIntervalMs: 100, externalBroker: { host: '127.0.0.1', port: broker.tlsPort!, tls: tlsFor('ais-service') } });
  try {
    assert.equal(cloud.broker, undefined, 'no embedded broker');
    const d = boot(join(dataDir, 'device'), { ...config(cloud, 'porch-1'), mqttTls: tlsFor('porch-1') }, 'porch-1');
    await until('a user code', () => d.codes.length === 1);
    cloud.lwa.approve(d.codes[0]);
    await until('ready through mosquitto', () => d.device.state === 'ready' && cloud.service.deviceState('porch-1')?.synchronizedState !== undefined);
    d.device.stop();
  } finally {
    await cloud.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('with audio ports the device declares Microphone and Speaker, reports its stored volume, and a tap streams its microphone to the cloud', async () => {
  const { wavAudioIn, wavAudioOut } = await import('../../hosts/node/audio.js');
  const { nodeOpus } = await import('../../hosts/node/opus.js');
  const { parseBinaryBody } = await import('../../src/ais/binary.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-device-'));
  let uplinkBytes = 0;
  const cloud = await startCloud({
    pollIntervalMs: 100,
    service: {
      onMicrophone: (_id, _seq, body) => {
        for (const entry of parseBinaryBody(body)) if (entry.type === 'audio') uplinkBytes += entry.audio.length;
      },
    },
  });
  try {
    // One second of a 440 Hz tone as the user's speech.
    const speech = Int16Array.from({ length: 16000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    const { log } = captureLogger('den-1');
    const ports = { ...nodePorts(dataDir, log), audio: { audioIn: wavAudioIn({ samples: [speech], realtime: false }), audioOut: wavAudioOut({ realtime: false }), opus: nodeOpus } };
    ports.storage.set('app.volume', Uint8Array.of(35));
    const device = new Device(ports, config(cloud, 'den-1'), { onCode: (pair) => cloud.lwa.approve(pair.userCode) });
    booted.push(device);
    device.start();
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('den-1')?.synchronizedState !== undefined);
    const interfaces = cloud.service.deviceState('den-1')!.capabilities!.map((c) => c.interface);
    assert.deepEqual(interfaces, ['System', 'Clock', 'Alerts', 'Microphone', 'Speaker', 'EndpointForwarding']);
    assert.deepEqual(cloud.service.deviceState('den-1')!.synchronizedState, { speaker: { volume: 35 }, alerts: { allAlerts: [] } });
    device.microphone!.tap();
    await until('a second of microphone audio in the cloud', () => uplinkBytes >= 8000);
    device.stop();
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('SetAttentionState drives the LEDs; an unknown state is answered with ExceptionEncountered', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-device-'));
  const cloud = await startCloud({ pollIntervalMs: 100 });
  try {
    const shown: string[] = [];
    const { log } = captureLogger('lamp-1');
    const device = new Device(nodePorts(dataDir, log), config(cloud, 'lamp-1'), {
      onCode: (pair) => cloud.lwa.approve(pair.userCode),
      onAttention: (state) => shown.push(state),
    });
    booted.push(device);
    device.start();
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('lamp-1')?.synchronizedState !== undefined);
    cloud.service.sendDirectives('lamp-1', [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }, { name: 'SetAttentionState', payload: { state: 'DANCING' } }]);
    await until('an exception', () => cloud.service.deviceState('lamp-1')!.exceptions.length === 1);
    assert.deepEqual(shown, ['THINKING']);
    assert.deepEqual(cloud.service.deviceState('lamp-1')!.exceptions[0], {
      error: { code: 'MALFORMED_MESSAGE', description: 'SetAttentionState state "DANCING" is not one of IDLE, THINKING, SPEAKING, ALERTING, NOTIFICATION_AVAILABLE, DO_NOT_DISTURB' },
      message: { topic: 'directive', sequenceNumber: 1, index: 1 }, // #0 was the SetClock that follows SynchronizeState
    });
    device.stop();
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
