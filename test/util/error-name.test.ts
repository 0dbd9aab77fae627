// The core's Error subclasses can be made in a Moddable build, which freezes the built-ins' prototypes: an
// assignment `this.name = ...` then throws (a frozen Error.prototype.name cannot be shadowed by assignment in
// strict code), and the machine died where it should have reported an error. Here Error.prototype.name is made
// read-only for the test's span (the frozen property's trap; freezing the whole prototype breaks Node's own errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertStoreError } from '../../src/ais/alert-store.js';
import { BinaryStreamError } from '../../src/ais/binary.js';
import { AisFatalError } from '../../src/ais/connection.js';
import { EnvelopeError } from '../../src/ais/envelope.js';
import { LinkingError } from '../../src/ais/linking.js';
import { MalformedMessageError } from '../../src/ais/message.js';
import { RegistrationError } from '../../src/ais/registration.js';
import { SequenceError } from '../../src/ais/sequencer.js';
import { OpusFrameSizeError } from '../../src/audio/encoder.js';
import { HttpError } from '../../src/http/client.js';
import { MqttConnectionRefusedError, MqttNotConnectedError, MqttQueueOverflowError } from '../../src/mqtt/client.js';
import { MqttProtocolError } from '../../src/mqtt/packets.js';
import { StorageCorruptionError } from '../../src/storage/folder.js';

test('every error class of the core is made, and named, with Error.prototype frozen as a Moddable build has it', () => {
  Object.defineProperty(Error.prototype, 'name', { writable: false });
  try {
    checkNames();
  } finally {
    Object.defineProperty(Error.prototype, 'name', { writable: true });
  }
});

function checkNames(): void {
  assert.throws(() => { 'use strict'; const e = new Error('x'); (e as { name: string }).name = 'Other'; }, TypeError,
    'the control: assigning a name under a frozen Error.prototype throws');
  const made: Array<[Error, string]> = [
    [new AlertStoreError('x'), 'AlertStoreError'],
    [new BinaryStreamError('TRUNCATED_HEADER', 0, 0, 'x'), 'BinaryStreamError'],
    [new AisFatalError('CODE', 'x'), 'AisFatalError'],
    [new EnvelopeError('TRUNCATED', 'x'), 'EnvelopeError'],
    [new LinkingError('code', 'x'), 'LinkingError'],
    [new MalformedMessageError('x'), 'MalformedMessageError'],
    [new RegistrationError('INVALID_REQUEST', 'x', 400), 'RegistrationError'],
    [new SequenceError(1, 2), 'SequenceError'],
    [new OpusFrameSizeError(320, 3), 'OpusFrameSizeError'],
    [new HttpError('x', undefined), 'HttpError'],
    [new MqttConnectionRefusedError(5), 'MqttConnectionRefusedError'],
    [new MqttQueueOverflowError('t', 1, 2), 'MqttQueueOverflowError'],
    [new MqttNotConnectedError('x'), 'MqttNotConnectedError'],
    [new MqttProtocolError('x'), 'MqttProtocolError'],
    [new StorageCorruptionError('k', 'r'), 'StorageCorruptionError'],
  ];
  for (const [error, name] of made) {
    assert.equal(error.name, name);
    assert.ok(error instanceof Error);
    assert.match(String(error), new RegExp(`^${name}: `));
  }
}
