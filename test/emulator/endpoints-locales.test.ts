// Connected endpoints, the locale and the notification indicator over real sockets, device and emulated cloud
// (no voice): the device's lamp and light ring reach the cloud by discovery, the operator's directives act on
// them and their reports set the cloud's state; the cloud sets a locale it recognises and the device keeps it
// across a reboot, while one it has no recogniser for is refused with the reason and the device keeps its own;
// a notification lights the indicator, which the cloud's IDLE no longer clears and a reconnect shows again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePorts } from '../../hosts/node/ports.js';
import { Device, type AttentionState } from '../../src/app/device.js';
import type { EndpointLook } from '../../src/ports/ui.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';

function boot(cloud: Cloud, clientId: string, dataDir: string, locale?: string) {
  const looks: { id: string; look: EndpointLook }[] = [];
  const lights: AttentionState[] = [];
  const locales: string[] = [];
  const captured = captureLogger(clientId);
  const device = new Device(nodePorts(dataDir, captured.log),
    { ...deviceConfigFor(cloud, clientId), locale, connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } } },
    { onCode: (pair) => cloud.lwa.approve(pair.userCode), onEndpoint: (id, look) => looks.push({ id, look }), onAttention: (l) => lights.push(l), onLocale: (l) => locales.push(l) });
  device.start();
  return { device, looks, lights, locales, lines: captured.lines };
}

test('the lamp and the light ring: discovered by the cloud, switched and dimmed by its directives, their state reported back', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-endpoints-'));
  const cloud = await startCloud({ pollIntervalMs: 100, voice: false });
  const { device, looks } = boot(cloud, 'den-1', dataDir);
  try {
    await until('discovered, and its state asked', () => cloud.endpoints.list('den-1').length === 2 && cloud.endpoints.find('den-1', 'lamp')?.power === false, 15_000);
    const [lamp, ring] = cloud.endpoints.list('den-1');
    assert.deepEqual([lamp.friendlyName, ring.friendlyName], ['lamp', 'light ring']);
    assert.equal(lamp.endpointId, 'den-1::lamp');
    assert.deepEqual([lamp.power, lamp.brightness], [false, 100]);
    await until('the ring\'s state too', () => cloud.endpoints.find('den-1', 'light ring')?.power === true);
    assert.deepEqual(lamp.interfaces, ['Alexa', 'Alexa.PowerController', 'Alexa.BrightnessController']);
    assert.ok(cloud.service.deviceState('den-1')!.capabilities!.some((c) => c.interface === 'EndpointForwarding'));

    assert.ok(cloud.operator.endpoint('den-1', 'lamp', 'on').ok);
    await until('the lamp on in the cloud', () => cloud.endpoints.find('den-1', 'lamp')?.power === true);
    assert.deepEqual(looks.filter((l) => l.id === 'lamp').at(-1)!.look, { power: true, brightness: 100 });
    assert.deepEqual(device.endpoints.state('lamp'), { power: true, brightness: 100 });

    assert.ok(cloud.operator.endpoint('den-1', 'lamp', '30').ok);
    await until('dimmed to 30 % in the cloud', () => cloud.endpoints.find('den-1', 'lamp')?.brightness === 30);
    assert.deepEqual(looks.at(-1), { id: 'lamp', look: { power: true, brightness: 30 } });

    assert.ok(cloud.operator.endpoint('den-1', 'light ring', 'off').ok);
    await until('the ring off in the cloud', () => cloud.endpoints.find('den-1', 'light ring')?.power === false);
    assert.deepEqual(looks.at(-1), { id: 'ring', look: { power: false, brightness: 100 } });

    const refused = cloud.operator.endpoint('den-1', 'toaster', 'on');
    assert.equal(refused.ok, false);
    assert.match(refused.message, /no endpoint called "toaster"/);
    assert.equal(cloud.operator.endpoint('den-1', 'lamp', 'bright').ok, false);
    assert.equal(cloud.operator.endpoint('den-1', 'lamp', '130').ok, false);

    // A change on the device (a button on the lamp) reaches the cloud as a ChangeReport.
    device.endpoints.set('lamp', { power: false });
    await until('the lamp off in the cloud', () => cloud.endpoints.find('den-1', 'lamp')?.power === false);
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the locale: the cloud sets one it recognises and the device keeps it across a reboot; one without a recogniser is refused, with the reason', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-locale-'));
  const cloud = await startCloud({ pollIntervalMs: 100, voice: false });
  let booted = boot(cloud, 'hall-1', dataDir, 'en-GB');
  try {
    await until('ready', () => booted.device.state === 'ready' && cloud.service.deviceState('hall-1')?.synchronizedState !== undefined, 15_000);
    assert.equal(cloud.locales.locale('hall-1'), 'en-GB', 'the capability declares the configured one');

    const refused = cloud.operator.locale('hall-1', 'de-DE');
    assert.equal(refused.ok, false);
    assert.match(refused.message, /no recogniser for "de-DE"/);

    assert.ok(cloud.operator.locale('hall-1', 'en-US').ok);
    await until('the device reports en-US', () => cloud.locales.locale('hall-1') === 'en-US');
    assert.deepEqual(booted.locales, ['en-US']);
    assert.equal(booted.device.locales.locale, 'en-US');

    assert.ok(booted.device.locales.request('fr-FR'));
    await until('refused by the cloud', () => cloud.locales.lastRefusal('hall-1') !== undefined);
    assert.match(cloud.locales.lastRefusal('hall-1')!, /^fr-FR: no recogniser/);
    await until('the device told why', () => booted.lines.some((l) => /service Exception INVALID_REQUEST: LocalesChanged fr-FR: no recogniser/.test(l)));
    await until('the request answered', () => booted.device.locales.requested === undefined);
    assert.equal(booted.device.locales.locale, 'en-US', 'the device keeps its locale');
    assert.deepEqual(booted.locales, ['en-US'], 'and never changed it');

    booted.device.stop();
    booted = boot(cloud, 'hall-1', dataDir, 'en-GB');
    await until('ready again', () => booted.device.state === 'ready' && cloud.service.deviceState('hall-1')!.connections === 2, 15_000);
    const system = cloud.service.deviceState('hall-1')!.capabilities!.find((c) => c.interface === 'System') as { configurations: { locale: string } };
    assert.equal(system.configurations.locale, 'en-US', 'the stored locale outlives the reboot');
  } finally {
    booted.device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a notification lights the indicator; the cloud\'s IDLE leaves it on; a reconnect shows it again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-notify-'));
  const cloud = await startCloud({ pollIntervalMs: 100, voice: false });
  const { device, lights } = boot(cloud, 'bed-1', dataDir);
  try {
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('bed-1')?.synchronizedState !== undefined, 15_000);
    assert.equal(cloud.operator.notify('nobody', 'hello').ok, false);
    assert.equal(cloud.operator.notify('bed-1', '  ').ok, false);
    assert.ok(cloud.operator.notify('bed-1', 'Your parcel has arrived').ok);
    await until('the indicator', () => lights.at(-1) === 'NOTIFICATION_AVAILABLE');

    // An interaction's closing IDLE (here one the service sends itself) keeps the indicator.
    cloud.service.sendDirectives('bed-1', [{ name: 'SetAttentionState', payload: { state: 'THINKING' } }]);
    await until('thinking', () => lights.at(-1) === 'THINKING');
    cloud.service.sendDirectives('bed-1', [{ name: 'SetAttentionState', payload: { state: 'IDLE' } }]);
    await until('the indicator again', () => lights.at(-1) === 'NOTIFICATION_AVAILABLE');

    assert.ok(cloud.operator.disconnect('bed-1').ok);
    await until('the light reset with the connection', () => lights.at(-1) === 'IDLE');
    await until('reconnected and the indicator shown again', () => device.state === 'ready' && lights.at(-1) === 'NOTIFICATION_AVAILABLE', 15_000);
    assert.deepEqual(cloud.notifications.list('bed-1'), ['Your parcel has arrived']);
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
