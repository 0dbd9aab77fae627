// The XS machine prepared at build time and run in place from flash (hosts/cortex-m/prepared.c): an image of
// prepared.fixture.ts is linked, prepared in QEMU (its modules loaded into the image's .xsprep section) and booted.
// The prepared modules compute right (HKDF-SHA256, whose @noble/hashes scratch buffer lives at its module's top level:
// the shared ArrayBuffers move to RAM), their state can be written (a closure and an object are copied into RAM on the
// first write; a write to flash would fault under the MPU), a Map made at preparation is read-only with a clear error,
// and at boot XS holds few slots in RAM. Needs the firmware toolchain: skipped locally without it, a failure under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..', '..');
const build = await import(pathToFileURL(join(root, 'hosts/cortex-m/build.mjs')).href);
const launch = await import(pathToFileURL(join(root, 'hosts/cortex-m/device-launch.mjs')).href);
const qemu = await import(pathToFileURL(join(root, 'hosts/cortex-m/qemu.mjs')).href);
const FIXTURE = 'build/test/cortex-m/prepared.fixture.js';

test('an image with its XS machine prepared in flash runs its modules in place, writes their state in RAM and refuses a write to a prepared Map', async (t) => {
  const missing: string | undefined = build.firmwareToolchain().missing;
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    t.skip(missing);
    return;
  }
  const bundle = build.precompile('prepared', [FIXTURE], { nodeTest: false });
  const image = await build.link({ name: 'prepared', bundleC: bundle.bundleC, quiet: true });
  const prepared = await launch.prepareMachine(image.elf, FIXTURE);
  assert.ok(prepared.bytes > 100_000, `the prepared machine: ${prepared.bytes} B`);
  const run = await qemu.boot(image.elf, ['--embedded', FIXTURE]);
  const line = (run.output as string).split('\n').find((l) => l.startsWith('PREPARED '));
  assert.ok(line, `the fixture's line (exit ${run.code}):\n${run.output}${run.stderr}`);
  const result = JSON.parse(line.slice('PREPARED '.length));
  assert.equal(result.okm, '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865', 'HKDF-SHA256, RFC 5869 case 1');
  assert.deepEqual(result.bumps, [1, 2], 'a prepared closure written twice');
  assert.equal(result.hits, 2, 'a prepared object written twice');
  assert.equal(result.filled, 14, 'a prepared Uint32Array written');
  assert.match(result.mapError, /read-only/, 'a Map made at preparation refuses a write');
  assert.equal(result.a, 1, 'and still reads');
  assert.ok(result.bootSlots < 3000, `the realm and the modules in flash (the realm and the prelude alone take 6,508 built in RAM): ${result.bootSlots} slots in RAM at boot`);
  assert.equal(run.code, 0, run.output);
  t.diagnostic(`prepared machine ${prepared.bytes} B; ${result.bootSlots} XS slots in RAM at boot`);
});
