// Portable (runs on Node, XS and the Cortex-M7 image): imports only node:test, node:assert/strict, src/ and
// portable test/support helpers.
// The Clock and Alerts namespaces without sockets: SetClock into the wall clock, alerts stored through the
// storage port, rung at their time by the cloud or locally, stopped, timed out, missed while off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALERTS_KEY, AlertStore, AlertStoreError, decodeAlerts, encodeAlerts, type Alert } from '../../src/ais/alert-store.js';
import { ALERT_EXPIRATION_S, Alerts, type Ringing } from '../../src/ais/alerts.js';
import { AisClock, NTP_UNIX_OFFSET_S, WallClock } from '../../src/ais/clock.js';
import { Logger, silentSink } from '../../src/ports/log.js';
import { encodeUtf8 } from '../../src/encoding/utf8.js';
import { FakeConnection } from '../support/fake-connection.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryStorage } from '../support/memory-storage.js';

const log = new Logger(silentSink, 'test');
const T0 = 3_900_000_000; // NTP seconds (2023)

function alert(token: string, inSeconds: number, durationInMilliseconds = 10_000, type: Alert['type'] = 'TIMER'): Alert {
  return { token, type, scheduledTime: T0 + inSeconds, durationInMilliseconds };
}

/** A device's alerts with a manual clock: `online` says whether the cloud is there; tone and ringing recorded. */
function setup(o: { storage?: MemoryStorage; online?: boolean; setClock?: boolean; clockStartMs?: number } = {}) {
  const clock = new ManualClock(o.clockStartMs ?? 1000);
  const wall = new WallClock({ clock });
  const connection = new FakeConnection();
  const storage = o.storage ?? new MemoryStorage();
  const state = { online: o.online ?? false };
  const tone: (number | undefined)[] = [];
  const ringing: (string | undefined)[] = [];
  const aisClock = new AisClock({ connection, clock, wall, log });
  const alerts = new Alerts({
    connection, clock, wall, storage, log, online: () => state.online, cloudGraceMs: 3000,
    onLocalTone: (volume) => tone.push(volume),
    onRinging: (r: Ringing | undefined) => ringing.push(r ? `${r.alert.token} ${r.mode}` : undefined),
  });
  if (o.setClock ?? true) connection.directive('SetClock', { currentTime: T0 });
  return { clock, wall, connection, storage, state, tone, ringing, alerts, aisClock };
}

test('SetClock sets NTP seconds that then advance with the monotonic clock; a bad one is refused; SynchronizeClock when unknown', () => {
  const { clock, wall, connection, aisClock } = setup({ setClock: false });
  assert.equal(wall.isSet, false);
  assert.ok(Number.isNaN(wall.nowSeconds()));
  aisClock.connected();
  assert.deepEqual(connection.events, ['SynchronizeClock']);
  assert.equal(connection.directive('SetClock', { currentTime: T0 + 0.5 }), undefined);
  assert.equal(aisClock.synchronized, true);
  clock.advance(2500);
  assert.equal(wall.nowSeconds(), T0 + 3);
  const error = connection.directive('SetClock', { currentTime: 1_700_000_000 });
  assert.equal(error?.message, `SetClock currentTime expected NTP seconds (≥ ${NTP_UNIX_OFFSET_S}), got 1700000000`);
  assert.equal(wall.nowSeconds(), T0 + 3, 'a refused SetClock changes nothing');
  // Known now: the next connection does not ask at once, only periodically (1 h).
  aisClock.connected();
  assert.deepEqual(connection.events, ['SynchronizeClock']);
  clock.advance(3_600_000);
  assert.deepEqual(connection.events, ['SynchronizeClock', 'SynchronizeClock']);
  aisClock.close();
  assert.equal(clock.pending, 0);
});

test('an RTC makes the wall time known from boot, in NTP seconds', () => {
  const clock = new ManualClock(0);
  const wall = new WallClock({ clock, rtcUtcMs: () => 1_700_000_000_000 });
  assert.equal(wall.nowSeconds(), 1_700_000_000 + NTP_UNIX_OFFSET_S);
});

test('the alert store writes the whole set under one key per change, keeps tokens unique and refuses a damaged record', () => {
  const storage = new MemoryStorage();
  const store = new AlertStore(storage);
  store.put(alert('b', 20));
  store.put(alert('a', 10));
  store.put(alert('a', 30)); // same token: replaced
  assert.deepEqual(store.tokens(), ['b', 'a']);
  assert.deepEqual(storage.writes, ['set alerts', 'set alerts', 'set alerts']);
  assert.deepEqual(new AlertStore(storage).list(), [alert('b', 20), alert('a', 30)]);
  assert.equal(store.remove('a', 'b', 'zz'), 2);
  assert.deepEqual(storage.writes.slice(3), ['delete alerts'], 'both removed in one step');
  // A write that fails leaves memory as the medium is.
  store.put(alert('c', 5));
  storage.failWrites = 1;
  assert.throws(() => store.put(alert('d', 6)), /injected/);
  assert.deepEqual(store.tokens(), ['c']);
  assert.deepEqual(new AlertStore(storage).tokens(), ['c']);
  // Damage a loader must not paper over.
  const twice = encodeAlerts([alert('x', 1), alert('x', 2)]);
  assert.throws(() => decodeAlerts(twice), (e: Error) => e instanceof AlertStoreError && e.message === 'stored alert 1: token "x" appears twice');
  storage.set(ALERTS_KEY, encodeUtf8('{"v":1,"alerts":[{"token":"y","type":"NAP","scheduledTime":1,"durationInMilliseconds":1}]}'));
  assert.throws(() => new AlertStore(storage), /stored alert 0: type expected one of TIMER, ALARM, REMINDER, got "NAP"/);
  storage.set(ALERTS_KEY, encodeUtf8('{"v":1,"al'));
  assert.throws(() => new AlertStore(storage), /stored alerts are not JSON/);
});

test('SetAlert is stored before SetAlertSucceeded; a bad, surplus or unstorable one gets SetAlertFailed; SynchronizeState lists the tokens', () => {
  const { connection, storage, alerts } = setup();
  connection.directive('SetAlert', { token: 't1', type: 'TIMER', scheduledTime: T0 + 60, durationInMilliseconds: 5000 });
  assert.deepEqual(new AlertStore(storage).tokens(), ['t1']);
  connection.directive('SetAlert', { token: 't2', type: 'SNOOZE', scheduledTime: T0 + 60, durationInMilliseconds: 5000 });
  storage.failWrites = 1;
  connection.directive('SetAlert', { token: 't3', type: 'ALARM', scheduledTime: T0 + 60, durationInMilliseconds: 5000 });
  assert.equal(connection.directive('SetAlert', { type: 'ALARM' })?.message, 'SetAlert token expected a non-empty string, got undefined');
  assert.deepEqual(connection.events, ['SetAlertSucceeded {"token":"t1"}', 'SetAlertFailed {"token":"t2"}', 'SetAlertFailed {"token":"t3"}']);
  for (let i = 0; i < 19; i++) connection.directive('SetAlert', { token: `n${i}`, type: 'REMINDER', scheduledTime: T0 + 100 + i, durationInMilliseconds: 1000 });
  connection.directive('SetAlert', { token: 'n19', type: 'REMINDER', scheduledTime: T0 + 200, durationInMilliseconds: 1000 });
  assert.equal(connection.events.at(-1), 'SetAlertFailed {"token":"n19"}', 'the 21st alert does not fit maxAlertCount 20');
  assert.equal(alerts.synchronizeState().allAlerts.length, 20);
  assert.equal(alerts.synchronizeState().allAlerts[0], 't1');
  assert.deepEqual(alerts.capability(), { type: 'AisInterface', interface: 'Alerts', version: '1.0', configurations: { maxAlertCount: 20 } });
  connection.events.length = 0;
  connection.directive('DeleteAlert', { token: 't1' });
  connection.directive('DeleteAlert', { token: 't1' });
  storage.failWrites = 1;
  connection.directive('DeleteAlert', { token: 'n0' });
  assert.deepEqual(connection.events, ['DeleteAlertSucceeded {"token":"t1"}', 'DeleteAlertSucceeded {"token":"t1"}', 'DeleteAlertFailed {"token":"n0"}']);
  assert.equal(alerts.store.get('n0')?.token, 'n0');
});

test('offline, a timer rings locally at its time at the alert volume and stops by itself after its duration; then it is deleted', () => {
  const { clock, connection, tone, ringing, alerts, storage } = setup({ online: false });
  connection.directive('SetAlertVolume', { volume: 35 });
  connection.directive('SetAlert', { token: 'tea', type: 'TIMER', scheduledTime: T0 + 10, durationInMilliseconds: 4000 });
  clock.advance(9999);
  assert.deepEqual(tone, [], 'not before its time');
  clock.advance(1);
  assert.deepEqual(tone, [35]);
  assert.deepEqual(ringing, ['tea local']);
  clock.advance(3999);
  assert.equal(alerts.ringing?.alert.token, 'tea');
  clock.advance(1);
  assert.deepEqual(tone, [35, undefined]);
  assert.deepEqual(ringing, ['tea local', undefined]);
  assert.deepEqual(alerts.list(), []);
  assert.equal(storage.get(ALERTS_KEY), undefined);
  assert.deepEqual(connection.events, ['AlertVolumeChanged {"volume":35}', 'SetAlertSucceeded {"token":"tea"}']);
});

test('online, the device leaves the ringing to the cloud when ALERTING comes within the grace, else rings itself; a lost connection moves it to the tone', () => {
  const { clock, connection, tone, ringing, alerts, state } = setup({ online: true });
  connection.directive('SetAlert', { token: 'a1', type: 'ALARM', scheduledTime: T0 + 5, durationInMilliseconds: 60_000 });
  connection.directive('SetAlert', { token: 'a2', type: 'ALARM', scheduledTime: T0 + 100, durationInMilliseconds: 60_000 });
  clock.advance(5000);
  assert.deepEqual(ringing, ['a1 waiting']);
  clock.advance(1000);
  alerts.cloudAlerting(true);
  assert.deepEqual(ringing, ['a1 waiting', 'a1 cloud']);
  clock.advance(5000);
  assert.deepEqual(tone, [], 'no local tone while the cloud rings');
  state.online = false;
  alerts.offline();
  assert.deepEqual(tone, [60]);
  alerts.cloudAlerting(false);
  assert.equal(alerts.ringing?.mode, 'local', 'the cloud\'s state after the loss does not stop the local ring');
  assert.equal(alerts.stop(), 'a1');
  assert.deepEqual(tone, [60, undefined]);
  assert.deepEqual(alerts.list().map((a) => a.token), ['a2']);
  // a2, online again, no ALERTING within 3 s: the tone.
  state.online = true;
  clock.advance(100_000 - 11_000 - 1);
  assert.equal(alerts.ringing, undefined);
  const mode = () => alerts.ringing?.mode;
  clock.advance(1);
  assert.equal(mode(), 'waiting');
  clock.advance(3000);
  assert.equal(mode(), 'local');
  assert.deepEqual(tone, [60, undefined, 60]);
  // The cloud's ALERTING ends the local tone; its end finishes the alert.
  alerts.cloudAlerting(true);
  assert.deepEqual(tone, [60, undefined, 60, undefined]);
  alerts.cloudAlerting(false);
  assert.equal(alerts.ringing, undefined);
  assert.deepEqual(alerts.list(), []);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('the cloud\'s ALERTING a little before the device\'s own timer takes the due alert; DeleteAlert stops a ringing one', () => {
  const { clock, connection, ringing, alerts } = setup({ online: true });
  connection.directive('SetAlert', { token: 'r', type: 'REMINDER', scheduledTime: T0 + 20, durationInMilliseconds: 60_000 });
  clock.advance(19_000);
  alerts.cloudAlerting(true);
  assert.deepEqual(ringing, ['r cloud']);
  clock.advance(5000);
  connection.directive('DeleteAlert', { token: 'r' });
  assert.deepEqual(ringing, ['r cloud', undefined]);
  assert.equal(connection.events.at(-1), 'DeleteAlertSucceeded {"token":"r"}');
});

test('after a reboot: an alert missed by less than 30 minutes rings at once, an older one is deleted unrung, a future one waits', () => {
  const storage = new MemoryStorage();
  new AlertStore(storage).put(alert('missed', -600));
  new AlertStore(storage).put(alert('stale', -(ALERT_EXPIRATION_S + 1)));
  new AlertStore(storage).put(alert('later', 50));
  const { clock, ringing, tone, alerts, connection } = setup({ storage, setClock: false });
  assert.deepEqual(ringing, [], 'the time is unknown until SetClock');
  connection.directive('SetClock', { currentTime: T0 });
  assert.deepEqual(ringing, ['missed local']);
  assert.deepEqual(alerts.list().map((a) => a.token), ['missed', 'later']);
  clock.advance(10_000);
  assert.deepEqual(tone, [60, undefined]);
  clock.advance(40_000);
  assert.deepEqual(ringing, ['missed local', undefined, 'later local']);
});

test('alerts due together ring one after the other; SetAlertVolume refuses a bad volume', () => {
  const { clock, connection, ringing } = setup();
  connection.directive('SetAlert', { token: 'x', type: 'TIMER', scheduledTime: T0 + 1, durationInMilliseconds: 1000 });
  connection.directive('SetAlert', { token: 'y', type: 'TIMER', scheduledTime: T0 + 1, durationInMilliseconds: 1000 });
  clock.advance(1000);
  clock.advance(1000);
  clock.advance(1000);
  assert.deepEqual(ringing.filter((r) => r !== undefined).sort(), ['x local', 'y local']);
  assert.deepEqual(ringing.filter((r) => r === undefined).length, 2);
  assert.equal(connection.directive('SetAlertVolume', { volume: 101 })?.message, 'SetAlertVolume volume expected an integer 0..100, got 101');
});
