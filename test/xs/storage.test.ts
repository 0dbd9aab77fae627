// The storage of the XS host (hosts/moddable/storage.ts over xsrun's embedded:storage/files) holds the Node
// host's crash guarantee: a writer on xsrun killed by SIGKILL after any step of set() or delete() leaves the
// old value or the new one, never a mix; the folder it leaves is read by the Node host's store (same format).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELETE_STEPS, FolderStorage, SET_STEPS } from '../../hosts/node/storage.js';
import { build, modules } from '../support/xs-tools.js';
import { fromRoot } from '../support/paths.js';

const WRITER = 'build/test/xs/storage-writer.js';
const MAP = 'build/xs/storage-writer.map';
const missing = build.toolchain().missing;
if (!missing) {
  await build.buildXsrun({ quiet: true });
  modules.writeMap(fromRoot(MAP), modules.moduleGraph([WRITER]).aliases);
}

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}
const oldValue = pattern(1000, 1);
const newValue = pattern(1500, 2);
const otherValue = pattern(10, 3);
const renameIndex = SET_STEPS.indexOf('rename') + 1;

function runWriter(plan: object): void {
  const result = spawnSync(build.xsrunPath, ['--map', MAP, WRITER, JSON.stringify(plan)], { cwd: fromRoot(), encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.signal, 'SIGKILL', `the XS writer must die by SIGKILL (${JSON.stringify(plan)}); status ${result.status}, stderr: ${result.stderr}`);
}

function skip(t: { skip(message: string): void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') throw new Error(missing);
  t.skip(`no C toolchain for xsrun: ${missing}`);
  return true;
}

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ais-xs-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('an XS writer killed after any step of overwriting a key leaves the old value before the rename and the new one after', (t) => {
  if (skip(t)) return;
  const cases: { stopAfter: number; tearWrite?: boolean }[] = [{ stopAfter: -1, tearWrite: true }];
  for (let k = 0; k <= SET_STEPS.length; k++) cases.push({ stopAfter: k });
  for (const { stopAfter, tearWrite } of cases) {
    const dir = folder(t);
    const before = new FolderStorage({ directory: dir });
    before.set('state', oldValue);
    before.set('other', otherValue);
    runWriter({ directory: dir, op: 'set', key: 'state', valueHex: Buffer.from(newValue).toString('hex'), stopAfter, tearWrite });
    const label = tearWrite ? 'killed halfway through writing' : `killed after ${stopAfter} steps`;
    const after = new FolderStorage({ directory: dir });
    assert.deepEqual(after.get('state'), !tearWrite && stopAfter >= renameIndex ? newValue : oldValue, label);
    assert.deepEqual(after.get('other'), otherValue, label);
    assert.deepEqual(readdirSync(dir).sort(), ['other', 'state'], `${label}: no temporary file after reopening`);
  }
});

test('an XS writer killed while writing a key for the first time, or deleting one, leaves it whole or absent', (t) => {
  if (skip(t)) return;
  for (let k = 0; k <= SET_STEPS.length; k++) {
    const dir = folder(t);
    runWriter({ directory: dir, op: 'set', key: 'state', valueHex: Buffer.from(newValue).toString('hex'), stopAfter: k });
    assert.deepEqual(new FolderStorage({ directory: dir }).get('state'), k >= renameIndex ? newValue : undefined, `set killed after ${k} steps`);
  }
  for (let k = 0; k <= DELETE_STEPS.length; k++) {
    const dir = folder(t);
    new FolderStorage({ directory: dir }).set('state', oldValue);
    runWriter({ directory: dir, op: 'delete', key: 'state', stopAfter: k });
    assert.deepEqual(new FolderStorage({ directory: dir }).get('state'), k === 0 ? oldValue : undefined, `delete killed after ${k} steps`);
  }
});
