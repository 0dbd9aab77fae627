// The device side (src/: tweetnacl + noble) against the emulator side (emulator/ais/crypto.ts: node:crypto):
// two independent implementations of docs/protocol.md §1 and §3.2 checking each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomFillSync } from 'node:crypto';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { ENCRYPTION_ALGORITHMS, deriveAesKey, generateKeyPair } from '../../src/ais/keys.js';
import { Envelope } from '../../src/ais/envelope.js';
import { deriveServiceKey, generateServiceKeyPair, openMessage, publicKeyOf, sealMessage, sharedSecret } from '../../emulator/ais/crypto.js';

const crypto = createPortableCrypto((o) => randomFillSync(o));

function registration(algorithm: string) {
  const device = generateKeyPair(crypto);
  const service = generateServiceKeyPair();
  const deviceKey = deriveAesKey(crypto, algorithm, device.privateKey, service.publicKey);
  const serviceKey = deriveServiceKey(algorithm, service.privateKey, device.publicKey);
  return { deviceKey, serviceKey };
}

test('the emulator computes the same public keys and shared secret as the device', () => {
  const device = generateKeyPair(crypto);
  assert.deepEqual(new Uint8Array(publicKeyOf(device.privateKey)), device.publicKey);
  const service = generateServiceKeyPair();
  assert.deepEqual(new Uint8Array(sharedSecret(service.privateKey, device.publicKey)), crypto.x25519(device.privateKey, service.publicKey));
});

test('device and emulator derive the same AES key for both algorithms', () => {
  for (const algorithm of ENCRYPTION_ALGORITHMS) {
    const { deviceKey, serviceKey } = registration(algorithm);
    assert.equal(deviceKey.length, algorithm === 'ECDH_CURVE_25519_32_BYTE' ? 32 : 16);
    assert.deepEqual(deviceKey, new Uint8Array(serviceKey), algorithm);
  }
  assert.throws(() => deriveServiceKey('ECDH_CURVE_448', new Uint8Array(32), new Uint8Array(32)),
    { name: 'RangeError', message: 'encryption algorithm expected ECDH_CURVE_25519_32_BYTE or ECDH_CURVE_25519_16_BYTE_SHA256, got ECDH_CURVE_448' });
});

test('device seals, emulator opens; emulator seals, device opens; both algorithms, several sizes', () => {
  for (const algorithm of ENCRYPTION_ALGORITHMS) {
    const { deviceKey, serviceKey } = registration(algorithm);
    const envelope = new Envelope({ crypto, maxMessageBytes: 4096 });
    const out = new Uint8Array(4096);
    for (const [seq, size] of [[0, 0], [1, 1], [2, 12], [3, 644], [0xffffffff, 3216]]) {
      const body = new Uint8Array(randomBytes(size));
      const length = envelope.seal(deviceKey, seq, body, out);
      const atService = openMessage(serviceKey, out.subarray(0, length));
      assert.equal(atService.ok, true, `${algorithm} seq ${seq}: emulator opens the device's message`);
      if (atService.ok) {
        assert.equal(atService.sequenceNumber, seq);
        assert.deepEqual(new Uint8Array(atService.body), body);
      }
      const fromService = sealMessage(serviceKey, seq, body);
      assert.equal(fromService.length, 36 + size);
      const atDevice = envelope.open(deviceKey, fromService);
      assert.equal(atDevice.error, null, `${algorithm} seq ${seq}: device opens the emulator's message`);
      assert.equal(atDevice.sequenceNumber, seq);
      assert.deepEqual(atDevice.body(), body);
    }
  }
});

test('a byte flipped anywhere fails on both sides: ENCRYPTION_ERROR, or MESSAGE_TAMPERED in the outer sequence', () => {
  const { deviceKey, serviceKey } = registration('ECDH_CURVE_25519_16_BYTE_SHA256');
  const envelope = new Envelope({ crypto, maxMessageBytes: 256 });
  const out = new Uint8Array(256);
  const length = envelope.seal(deviceKey, 77, Buffer.from('{"events":[{"header":{"name":"SpeakerOpened"}}]}'), out);
  const fromService = sealMessage(serviceKey, 77, Buffer.from('{"directives":[{"header":{"name":"OpenSpeaker"}}]}'));
  for (let i = 0; i < length; i++) {
    const expected = i < 4 ? 'MESSAGE_TAMPERED' : 'ENCRYPTION_ERROR';
    const toService = out.slice(0, length);
    toService[i] ^= 0x04;
    const s = openMessage(serviceKey, toService);
    assert.equal(s.ok ? 'OK' : s.error, expected, `emulator, byte ${i}`);
  }
  for (let i = 0; i < fromService.length; i++) {
    const expected = i < 4 ? 'MESSAGE_TAMPERED' : 'ENCRYPTION_ERROR';
    const toDevice = Buffer.from(fromService);
    toDevice[i] ^= 0x04;
    assert.equal(envelope.open(deviceKey, toDevice).error?.kind ?? 'OK', expected, `device, byte ${i}`);
  }
});

test('the other side opens nothing under a wrong key', () => {
  const a = registration('ECDH_CURVE_25519_32_BYTE');
  const b = registration('ECDH_CURVE_25519_32_BYTE');
  const envelope = new Envelope({ crypto, maxMessageBytes: 128 });
  const out = new Uint8Array(128);
  const length = envelope.seal(a.deviceKey, 5, Buffer.from('{}'), out);
  const s = openMessage(b.serviceKey, out.subarray(0, length));
  assert.equal(s.ok ? 'OK' : s.error, 'ENCRYPTION_ERROR');
  assert.equal(envelope.open(b.deviceKey, sealMessage(a.serviceKey, 5, Buffer.from('{}'))).error?.kind, 'ENCRYPTION_ERROR');
});

test('swapping the outer sequence numbers of two valid messages is MESSAGE_TAMPERED on both sides', () => {
  const { deviceKey, serviceKey } = registration('ECDH_CURVE_25519_32_BYTE');
  const envelope = new Envelope({ crypto, maxMessageBytes: 128 });
  const first = sealMessage(serviceKey, 10, Buffer.from('{"directives":["a"]}'));
  const second = sealMessage(serviceKey, 11, Buffer.from('{"directives":["b"]}'));
  const head = Buffer.from(first.subarray(0, 4));
  first.set(second.subarray(0, 4), 0);
  second.set(head, 0);
  assert.equal(envelope.open(deviceKey, first).error?.message, 'MESSAGE_TAMPERED: inner sequence 11 expected (the outer one), got 10');
  assert.equal(envelope.open(deviceKey, second).error?.kind, 'MESSAGE_TAMPERED');

  const out1 = new Uint8Array(128);
  const out2 = new Uint8Array(128);
  const l1 = envelope.seal(deviceKey, 20, Buffer.from('x'), out1);
  const l2 = envelope.seal(deviceKey, 21, Buffer.from('y'), out2);
  const d1 = out1.slice(0, l1);
  d1.set(out2.subarray(0, 4), 0);
  const s = openMessage(serviceKey, d1);
  assert.deepEqual(s.ok ? 'OK' : [s.error, s.message], ['MESSAGE_TAMPERED', 'inner sequence 21 expected, got 20']);
  assert.equal(l2, l1);
});

test('the emulator can speak the legacy layout: a legacy device opens it, a current device calls it MESSAGE_TAMPERED', () => {
  const { deviceKey, serviceKey } = registration('ECDH_CURVE_25519_16_BYTE_SHA256');
  const legacyPayload = sealMessage(serviceKey, 0, Buffer.from('{"directives":[]}'), { innerSequence: false });
  assert.equal(legacyPayload.length, 32 + 17);
  const legacy = new Envelope({ crypto, maxMessageBytes: 128, innerSequence: false });
  const current = new Envelope({ crypto, maxMessageBytes: 128 });
  assert.equal(Buffer.from(legacy.open(deviceKey, legacyPayload).body()).toString(), '{"directives":[]}');
  assert.equal(current.open(deviceKey, legacyPayload).error?.message,
    'MESSAGE_TAMPERED: inner sequence 0 expected (the outer one), got 1768170107');
  // and the emulator opens a legacy device's message only in legacy mode
  const out = new Uint8Array(128);
  const length = legacy.seal(deviceKey, 1, Buffer.from('{"events":[]}'), out);
  const asLegacy = openMessage(serviceKey, out.subarray(0, length), { innerSequence: false });
  assert.equal(asLegacy.ok && Buffer.from(asLegacy.body).toString(), '{"events":[]}');
  const asCurrent = openMessage(serviceKey, out.subarray(0, length));
  assert.equal(asCurrent.ok ? 'OK' : asCurrent.error, 'MESSAGE_TAMPERED');
  const short = openMessage(serviceKey, new Uint8Array(35));
  assert.deepEqual(short.ok ? 'OK' : [short.error, short.message], ['TRUNCATED', 'envelope expected at least 36 bytes, got 35']);
});
