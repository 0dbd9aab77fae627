// Debian tools the voice tests need, found at run time: a missing one skips its test locally with the
// install hint and fails it under CI=true (the pattern of test/support/mosquitto.ts requireMosquitto).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { pocketsphinxMissingHint } from '../../../emulator/voice/asr.js';
import { fluidsynthMissingHint } from '../../../emulator/voice/music.js';

export function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return join(dir, binary);
    } catch {
      // next
    }
  }
  return undefined;
}

function requireTool(t: TestContext, hint: string | undefined): boolean {
  if (hint === undefined) return true;
  if (process.env.CI === 'true') throw new Error(hint);
  t.skip(hint);
  return false;
}

/** pocketsphinx_batch and the en-us model (Debian pocketsphinx, pocketsphinx-en-us). */
export function requirePocketsphinx(t: TestContext): boolean {
  return requireTool(t, pocketsphinxMissingHint());
}

/** opusdec (Debian opus-tools). */
export function requireOpusdec(t: TestContext): boolean {
  return requireTool(t, onPath('opusdec') ? undefined : 'opusdec not found on PATH; install it with: apt-get install opus-tools');
}

/** fluidsynth and the General MIDI soundfont (Debian fluidsynth, fluid-soundfont-gm): the emulator's music. */
export function requireFluidsynth(t: TestContext): boolean {
  return requireTool(t, fluidsynthMissingHint());
}
