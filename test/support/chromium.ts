// Debian's chromium, driven headless by playwright-core (no browser download): found on PATH (or $CHROMIUM); a
// test that needs it is skipped locally with the install hint and fails under CI=true, like the other tools.
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { findExecutable } from '../../hosts/node/audio.js';

export const CHROMIUM_INSTALL_HINT = 'chromium not found on PATH; install it with: apt-get install chromium';

/** The browser's path, or undefined after skipping the test (locally) for want of it; throws under CI=true. */
export function requireChromium(t: TestContext): string | undefined {
  const path = process.env.CHROMIUM ?? findExecutable('chromium');
  if (path !== undefined) return path;
  if (process.env.CI === 'true') throw new Error(CHROMIUM_INSTALL_HINT);
  t.skip(CHROMIUM_INSTALL_HINT);
  return undefined;
}

/** Headless chromium with `args` beside ours (fake media devices, so no permission prompt). */
export function launchChromium(executablePath: string, args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath, headless: true,
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required', ...args],
  });
}
