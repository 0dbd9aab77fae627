// The emulator with an external broker: Debian mosquitto, mutual TLS, a per-CN ACL (as AWS IoT policies do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AisTestbed, until } from '../support/ais.js';
import { mosquittoMissingHint } from '../support/mosquitto.js';

const missing = mosquittoMissingHint();
if (missing && process.env.CI === 'true') throw new Error(missing);

test('two devices connect through mosquitto with mutual TLS, each reaching ready with its own keys and topics', { skip: missing ?? false }, async () => {
  const bed = await new AisTestbed().start({}, 'mosquitto');
  try {
    const d1 = bed.device('thing-1');
    const d2 = bed.device('thing-2', { algorithm: 'ECDH_CURVE_25519_16_BYTE_SHA256' });
    const seen: string[] = [];
    d1.connection.dispatcher.register('Ping', (x) => seen.push(`thing-1:${x.payload?.n}`));
    d2.connection.dispatcher.register('Ping', (x) => seen.push(`thing-2:${x.payload?.n}`));
    d1.connection.start();
    d2.connection.start();
    const synced = (id: string) => bed.service.deviceState(id)?.synchronizedState !== undefined;
    await until('both ready', () => d1.connection.state === 'ready' && d2.connection.state === 'ready' && synced('thing-1') && synced('thing-2'));
    bed.service.sendDirectives('thing-1', [{ name: 'Ping', payload: { n: 1 } }]);
    bed.service.sendDirectives('thing-2', [{ name: 'Ping', payload: { n: 2 } }]);
    await until('both directives', () => seen.length === 2);
    assert.deepEqual(seen.sort(), ['thing-1:1', 'thing-2:2']);
  } finally {
    await bed.stop();
  }
});
