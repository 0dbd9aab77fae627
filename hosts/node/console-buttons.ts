// The device's buttons from the Node host's console: a line naming a button presses it (play, pause, next,
// previous, action, micOff, volumeUp, volumeDown, talk; case and spaces do not matter, "stop" is the action
// button), an empty line is the talk button (tap-to-talk).
import type { Button } from '../../src/ports/ui.js';

const BUTTONS: readonly Button[] = ['talk', 'micOff', 'volumeUp', 'volumeDown', 'action', 'play', 'pause', 'next', 'previous'];
const ALIASES: Readonly<Record<string, Button>> = { '': 'talk', stop: 'action' };

/** The button a console line presses, or undefined. */
export function consoleButton(line: string): Button | undefined {
  const word = line.replace(/\s+/g, '').toLowerCase();
  return ALIASES[word] ?? BUTTONS.find((b) => b.toLowerCase() === word);
}

/** What the console accepts, for the prompt and for an unknown line. */
export const CONSOLE_BUTTONS_HELP = `Enter taps to talk; a line naming a button presses it: ${BUTTONS.filter((b) => b !== 'talk').join(', ')} (stop = action)`;
