// The Node host's console as the device's buttons: each line to the button it presses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_BUTTONS_HELP, consoleButton } from '../../../hosts/node/console-buttons.js';

test('a console line presses the button it names; Enter taps to talk; anything else presses none', () => {
  assert.equal(consoleButton(''), 'talk');
  assert.equal(consoleButton('  '), 'talk');
  for (const b of ['play', 'pause', 'next', 'previous', 'action', 'micOff', 'volumeUp', 'volumeDown'] as const) assert.equal(consoleButton(b), b);
  assert.equal(consoleButton('Next'), 'next');
  assert.equal(consoleButton('volume up'), 'volumeUp');
  assert.equal(consoleButton('mic off'), 'micOff');
  assert.equal(consoleButton('stop'), 'action');
  assert.equal(consoleButton('play jazz'), undefined);
  assert.equal(consoleButton('skip'), undefined);
  assert.match(CONSOLE_BUTTONS_HELP, /play, pause, next, previous/);
});
