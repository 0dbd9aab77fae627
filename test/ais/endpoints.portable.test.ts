// Portable (runs on Node, XS and the Cortex-M7 image): imports only node:test, node:assert/strict, src/ and
// portable test/support helpers.
// The device's connected endpoints (EndpointForwarding) and its locale without sockets: discovery, power and
// brightness directives acting on the hardware and answered with the new state, the errors Alexa defines; the
// locale stored only when the cloud sets it, and kept when the cloud refuses the one asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointForwarding, type EndpointState } from '../../src/ais/endpoints.js';
import { LOCALE_KEY, Locales } from '../../src/ais/locales.js';
import { MalformedMessageError } from '../../src/ais/message.js';
import { decodeUtf8 } from '../../src/encoding/utf8.js';
import { Logger, silentSink } from '../../src/ports/log.js';
import { FakeConnection } from '../support/fake-connection.js';
import { MemoryStorage } from '../support/memory-storage.js';

const log = new Logger(silentSink, 'test');

function bench() {
  const connection = new FakeConnection();
  const lamp: EndpointState[] = [];
  let n = 0;
  const endpoints = new EndpointForwarding({
    clientId: 'desk-1', log, newId: () => `id${++n}`, nowUtcMs: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    endpoints: [
      { id: 'lamp', friendlyName: 'lamp', description: 'GPIO lamp', displayCategories: ['LIGHT'], dimmable: true, apply: (s) => lamp.push(s) },
      { id: 'relay', friendlyName: 'fan', description: 'relay', displayCategories: ['SWITCH'], dimmable: false, apply: () => undefined },
    ],
  });
  endpoints.attach(connection);
  const sent = () => JSON.parse(connection.events.at(-1)!.slice('EndpointForwarding '.length)) as {
    event: { header: Record<string, string>; endpoint?: { endpointId: string }; payload: Record<string, unknown> };
    context?: { properties: { namespace: string; name: string; value: unknown; timeOfSample: string }[] };
  };
  const directive = (namespace: string, name: string, endpointId: string, payload: Record<string, unknown> = {}) => connection.directive('EndpointForwarding', {
    directive: { header: { namespace, name, messageId: 'm1', payloadVersion: '3', correlationToken: 'tok' }, endpoint: { endpointId }, payload },
  });
  return { connection, endpoints, lamp, sent, directive };
}

test('discovery lists each endpoint with Alexa, PowerController and, when dimmable, BrightnessController', () => {
  const { endpoints, sent, lamp } = bench();
  assert.deepEqual(lamp, [{ power: false, brightness: 100 }], 'the hardware starts as declared');
  assert.deepEqual(endpoints.capability(), { type: 'AisInterface', interface: 'EndpointForwarding', version: '1.0' });
  endpoints.connected();
  const report = sent();
  assert.equal(report.event.header.namespace, 'Alexa.Discovery');
  assert.equal(report.event.header.name, 'AddOrUpdateReport');
  assert.equal(report.event.header.payloadVersion, '3');
  assert.ok(report.event.header.eventCorrelationToken);
  const list = report.event.payload.endpoints as { endpointId: string; friendlyName: string; capabilities: { interface: string }[] }[];
  assert.deepEqual(list.map((e) => e.endpointId), ['desk-1::lamp', 'desk-1::relay']);
  assert.deepEqual(list[0].capabilities.map((c) => c.interface), ['Alexa', 'Alexa.PowerController', 'Alexa.BrightnessController']);
  assert.deepEqual(list[1].capabilities.map((c) => c.interface), ['Alexa', 'Alexa.PowerController']);
});

test('TurnOn, SetBrightness, AdjustBrightness and ReportState act on the lamp and answer with its state', () => {
  const { directive, sent, lamp, endpoints } = bench();
  assert.equal(directive('Alexa.PowerController', 'TurnOn', 'desk-1::lamp'), undefined);
  assert.deepEqual(lamp.at(-1), { power: true, brightness: 100 });
  let answer = sent();
  assert.equal(answer.event.header.name, 'Response');
  assert.equal(answer.event.header.correlationToken, 'tok');
  assert.equal(answer.event.endpoint!.endpointId, 'desk-1::lamp');
  assert.deepEqual(answer.context!.properties.map((p) => [p.name, p.value]), [['powerState', 'ON'], ['brightness', 100]]);
  assert.equal(answer.context!.properties[0].timeOfSample, '2026-01-02T03:04:05.000Z');

  directive('Alexa.BrightnessController', 'SetBrightness', 'desk-1::lamp', { brightness: 30 });
  assert.deepEqual(lamp.at(-1), { power: true, brightness: 30 });
  directive('Alexa.BrightnessController', 'AdjustBrightness', 'desk-1::lamp', { brightnessDelta: -40 });
  assert.deepEqual(lamp.at(-1), { power: false, brightness: 0 }, 'dimmed to nothing is off');
  answer = sent();
  assert.deepEqual(answer.context!.properties.map((p) => p.value), ['OFF', 0]);

  directive('Alexa', 'ReportState', 'desk-1::lamp');
  assert.equal(sent().event.header.name, 'StateReport');
  assert.deepEqual(endpoints.state('lamp'), { power: false, brightness: 0 });

  endpoints.set('lamp', { power: true, brightness: 60 });
  const change = sent();
  assert.equal(change.event.header.name, 'ChangeReport');
  assert.deepEqual((change.event.payload.change as { cause: unknown }).cause, { type: 'PHYSICAL_INTERACTION' });
});

test('an unknown endpoint, an unsupported directive and a brightness out of range get an ErrorResponse; a headless one is malformed', () => {
  const { directive, sent, lamp } = bench();
  directive('Alexa.PowerController', 'TurnOn', 'desk-1::nothing');
  assert.equal(sent().event.header.name, 'ErrorResponse');
  assert.equal(sent().event.payload.type, 'NO_SUCH_ENDPOINT');
  directive('Alexa.BrightnessController', 'SetBrightness', 'desk-1::relay', { brightness: 10 });
  assert.equal(sent().event.payload.type, 'INVALID_DIRECTIVE');
  directive('Alexa.ThermostatController', 'SetTargetTemperature', 'desk-1::lamp');
  assert.equal(sent().event.payload.type, 'INVALID_DIRECTIVE');
  directive('Alexa.BrightnessController', 'SetBrightness', 'desk-1::lamp', { brightness: 130 });
  assert.equal(sent().event.payload.type, 'VALUE_OUT_OF_RANGE');
  assert.equal(lamp.length, 1, 'nothing acted on the hardware');
  const { connection } = bench();
  assert.ok(connection.directive('EndpointForwarding', { directive: {} }) instanceof MalformedMessageError);
  assert.ok(connection.directive('EndpointForwarding', { directive: { header: { namespace: 'Alexa.PowerController', name: 'TurnOn' } } }) instanceof MalformedMessageError);
});

test('the locale: SetLocales stores it and reports it; a request the cloud refuses leaves the stored one; a bad stored value falls back', () => {
  const storage = new MemoryStorage();
  const changed: string[] = [];
  const make = () => new Locales({ storage, log, defaultLocale: 'en-GB', onChanged: (l) => changed.push(l) });
  const connection = new FakeConnection();
  const locales = make();
  locales.attach(connection);
  assert.equal(locales.locale, 'en-GB');
  assert.equal(connection.directive('SetLocales', { locales: ['en-US', 'es-US'] }), undefined);
  assert.equal(locales.locale, 'en-US');
  assert.deepEqual(connection.events, ['LocalesReport {"locales":["en-US"]}']);
  assert.equal(decodeUtf8(storage.get(LOCALE_KEY)!, 0, storage.get(LOCALE_KEY)!.length), 'en-US');
  assert.deepEqual(changed, ['en-US']);
  assert.equal(make().locale, 'en-US', 'a reboot keeps it');

  assert.ok(locales.request('de-DE'));
  assert.equal(connection.events.at(-1), 'LocalesChanged {"locales":["de-DE"]}');
  assert.equal(locales.locale, 'en-US', 'nothing changes before the cloud answers');
  const writes = storage.writes.length;
  connection.directive('SetLocales', { locales: ['en-US'] }); // the cloud keeps the old one
  assert.equal(locales.locale, 'en-US');
  assert.equal(locales.requested, undefined);
  assert.equal(storage.writes.length, writes, 'nothing stored');
  assert.ok(!locales.request('german'));
  assert.ok(connection.directive('SetLocales', { locales: [] }) instanceof MalformedMessageError);
  assert.ok(connection.directive('SetLocales', { locales: ['xx_YY'] }) instanceof MalformedMessageError);

  storage.set(LOCALE_KEY, Uint8Array.of(0xff, 0x00));
  assert.equal(make().locale, 'en-GB');
});
