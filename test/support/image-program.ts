// A program of test/ run on the Cortex-M7 firmware image, for the tests that compare the image with xsrun
// (test/native/opus.test.ts, dsp.test.ts): precompiled by xsrun, linked into an image of its own, booted on QEMU.
// Without arm-none-eabi-gcc or QEMU the test skips with the apt-get hint, and fails under CI=true. Node only.
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fromRoot } from './paths.js';

export interface ImageBoot { code: number | null; output: string; stderr: string; board: Record<string, number> }

/** The program's boot (`entries[0]` with `args`), or undefined when the test was skipped for want of the toolchain. */
export async function bootOnImage(t: TestContext, name: string, entries: string[], args: string[]): Promise<ImageBoot | undefined> {
  const firmware = await import(pathToFileURL(fromRoot('hosts/cortex-m/build.mjs')).href);
  const tools = firmware.firmwareToolchain();
  if (tools.missing) {
    if (process.env.CI === 'true') throw new Error(tools.missing);
    t.skip(tools.missing);
    return undefined;
  }
  const { boot } = await import(pathToFileURL(fromRoot('hosts/cortex-m/qemu.mjs')).href);
  const bundle = firmware.precompile(name, entries);
  const image = await firmware.link({ name, bundleC: bundle.bundleC, quiet: true });
  return boot(image.elf, ['--embedded', entries[0], ...args]) as Promise<ImageBoot>;
}
