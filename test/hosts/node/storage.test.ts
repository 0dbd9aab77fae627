import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  crc32, DELETE_STEPS, encodeRecord, FolderStorage, nodeStorageFiles, RECORD_HEADER_BYTES, SET_STEPS, StorageCorruptionError,
} from '../../../hosts/node/storage.js';
import type { StorageFiles } from '../../../hosts/node/storage.js';

const writerScript = fileURLToPath(new URL('../../support/storage-writer.js', import.meta.url));

function tempFolder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ais-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Distinct, recognisable bytes: a mix of old and new would not equal either. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

const oldValue = pattern(1000, 1);
const newValue = pattern(1500, 2);
const otherValue = pattern(10, 3);
const renameIndex = SET_STEPS.indexOf('rename') + 1; // steps done once the rename is done

interface Plan { directory: string; op: 'set' | 'delete'; key: string; valueHex?: string; stopAfter: number; tearWrite?: boolean }

function runWriter(plan: Plan): void {
  const result = spawnSync(process.execPath, [writerScript, JSON.stringify(plan)], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.signal, 'SIGKILL', `writer must die by SIGKILL (${JSON.stringify(plan.stopAfter)}); status ${result.status}, stderr: ${result.stderr}`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

test('crc32 gives the standard check value and agrees with zlib on random data', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const data = pattern(4099, 7);
  assert.equal(crc32(data), zlibCrc32(data));
});

test('a value set is got back as an equal plain Uint8Array, also after reopening the folder', (t) => {
  const dir = tempFolder(t);
  const storage = new FolderStorage({ directory: join(dir, 'nested', 'store') });
  storage.set('registration', oldValue);
  storage.set('empty', new Uint8Array(0));
  const got = storage.get('registration');
  assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype);
  assert.deepEqual(got, oldValue);
  const reopened = new FolderStorage({ directory: join(dir, 'nested', 'store') });
  assert.deepEqual(reopened.get('registration'), oldValue);
  assert.deepEqual(reopened.get('empty'), new Uint8Array(0));
  assert.deepEqual(reopened.keys(), ['empty', 'registration']);
  assert.equal(reopened.get('absent'), undefined);
});

test('the value got is a copy: changing it does not change the store', (t) => {
  const storage = new FolderStorage({ directory: tempFolder(t) });
  const value = Uint8Array.of(1, 2, 3);
  storage.set('k', value);
  value[0] = 9;
  storage.get('k')![1] = 9;
  assert.deepEqual(storage.get('k'), Uint8Array.of(1, 2, 3));
});

test('the value file is a 16-byte header (magic, version, length, CRC-32) followed by the value', (t) => {
  const dir = tempFolder(t);
  new FolderStorage({ directory: dir }).set('k', Uint8Array.of(0x61, 0x62, 0x63));
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'k'))), Uint8Array.of(
    0x41, 0x49, 0x53, 0x4b, 1, 0, 0, 0, // "AISK", version 1, reserved
    0, 0, 0, 3, // length
    0x35, 0x24, 0x41, 0xc2, // CRC-32 of "abc"
    0x61, 0x62, 0x63,
  ));
  assert.equal(RECORD_HEADER_BYTES, 16);
});

test('set writes and syncs the temporary file before renaming it over the key and syncing the folder', (t) => {
  const dir = tempFolder(t);
  const events: string[] = [];
  const name = (path: string) => (path === dir ? '<dir>' : basename(path));
  const recording: StorageFiles = {
    ...nodeStorageFiles,
    create: (path) => { events.push(`create ${name(path)}`); return nodeStorageFiles.create(path); },
    write: (fd, data) => { events.push(`write ${data.length}`); nodeStorageFiles.write(fd, data); },
    sync: (fd) => { events.push('sync'); nodeStorageFiles.sync(fd); },
    close: (fd) => { events.push('close'); nodeStorageFiles.close(fd); },
    rename: (from, to) => { events.push(`rename ${name(from)} ${name(to)}`); nodeStorageFiles.rename(from, to); },
    remove: (path) => { events.push(`remove ${name(path)}`); nodeStorageFiles.remove(path); },
    syncDirectory: (path) => { events.push(`syncDirectory ${name(path)}`); nodeStorageFiles.syncDirectory(path); },
  };
  const storage = new FolderStorage({ directory: dir, files: recording, onStep: (step) => events.push(`step ${step}`) });
  storage.set('state', Uint8Array.of(1, 2, 3, 4));
  storage.delete('state');
  assert.deepEqual(events, [
    'create ~state.tmp', 'step create-tmp',
    'write 20', 'step write-tmp',
    'sync', 'step sync-tmp',
    'close', 'step close-tmp',
    'rename ~state.tmp state', 'step rename',
    'syncDirectory <dir>', 'step sync-directory',
    'remove state', 'step remove',
    'syncDirectory <dir>', 'step sync-directory',
  ]);
});

test('a process killed after any step of overwriting a key leaves exactly the old value before the rename and the new one after', (t) => {
  const cases: { stopAfter: number; tearWrite?: boolean }[] = [];
  for (let k = 0; k <= SET_STEPS.length; k++) cases.push({ stopAfter: k });
  cases.push({ stopAfter: -1, tearWrite: true });
  for (const { stopAfter, tearWrite } of cases) {
    const dir = tempFolder(t);
    const before = new FolderStorage({ directory: dir });
    before.set('state', oldValue);
    before.set('other', otherValue);
    runWriter({ directory: dir, op: 'set', key: 'state', valueHex: hex(newValue), stopAfter, tearWrite });
    const label = tearWrite ? 'killed halfway through writing the temporary file' : `killed after ${stopAfter} steps`;
    if (tearWrite) {
      // The tear really happened: half of the new record sits in the temporary file.
      assert.equal(readFileSync(join(dir, '~state.tmp')).length, (RECORD_HEADER_BYTES + newValue.length) >> 1, label);
    }
    const after = new FolderStorage({ directory: dir });
    const expected = !tearWrite && stopAfter >= renameIndex ? newValue : oldValue;
    assert.deepEqual(after.get('state'), expected, label);
    assert.deepEqual(after.get('other'), otherValue, label);
    assert.deepEqual(after.keys(), ['other', 'state'], label);
    assert.deepEqual(readdirSync(dir).sort(), ['other', 'state'], `${label}: no temporary file after reopening`);
  }
});

test('a process killed while writing a key for the first time leaves it missing or complete, never corrupt', (t) => {
  const cases: { stopAfter: number; tearWrite?: boolean }[] = [];
  for (let k = 0; k <= SET_STEPS.length; k++) cases.push({ stopAfter: k });
  cases.push({ stopAfter: -1, tearWrite: true });
  for (const { stopAfter, tearWrite } of cases) {
    const dir = tempFolder(t);
    runWriter({ directory: dir, op: 'set', key: 'state', valueHex: hex(newValue), stopAfter, tearWrite });
    const label = tearWrite ? 'killed halfway through writing' : `killed after ${stopAfter} steps`;
    const after = new FolderStorage({ directory: dir });
    const complete = !tearWrite && stopAfter >= renameIndex;
    assert.deepEqual(after.get('state'), complete ? newValue : undefined, label);
    assert.deepEqual(after.keys(), complete ? ['state'] : [], label);
  }
});

test('a process killed after any step of delete leaves the value or nothing, and a finished delete survives reopening', (t) => {
  for (let k = 0; k <= DELETE_STEPS.length; k++) {
    const dir = tempFolder(t);
    const before = new FolderStorage({ directory: dir });
    before.set('state', oldValue);
    before.set('other', otherValue);
    runWriter({ directory: dir, op: 'delete', key: 'state', stopAfter: k });
    const after = new FolderStorage({ directory: dir });
    assert.deepEqual(after.get('state'), k === 0 ? oldValue : undefined, `killed after ${k} steps`);
    assert.deepEqual(after.keys(), k === 0 ? ['other', 'state'] : ['other'], `killed after ${k} steps`);
    assert.deepEqual(after.get('other'), otherValue);
  }
});

test('a flipped bit, a torn tail, a bad magic or a short file is reported as corruption naming the key', (t) => {
  const dir = tempFolder(t);
  const storage = new FolderStorage({ directory: dir });
  const record = encodeRecord(Uint8Array.of(0x61, 0x62, 0x63));
  const damage: [string, Uint8Array, string][] = [
    ['flipped', (() => { const r = record.slice(); r[17] ^= 0x04; return r; })(), 'CRC-32 0x352441c2 expected, got 0x514884c6'], // "abc" became "afc"
    ['torn', record.subarray(0, 18), 'header says 3 value bytes, file holds 2'],
    ['magic', (() => { const r = record.slice(); r[0] = 0x42; return r; })(), 'magic 0x4149534b expected, got 0x4249534b'],
    ['version', (() => { const r = record.slice(); r[4] = 2; return r; })(), 'format version 1 expected, got 2'],
    ['short', record.subarray(0, 5), 'file is 5 bytes, shorter than the 16-byte header'],
  ];
  for (const [key, bytes] of damage) writeFileSync(join(dir, key), bytes);
  storage.set('good', otherValue);
  for (const [key, , reason] of damage) {
    assert.throws(() => storage.get(key), (error: unknown) => {
      assert.ok(error instanceof StorageCorruptionError);
      assert.equal(error.message, `storage key ${JSON.stringify(key)} is corrupt: ${reason}`);
      assert.equal(error.key, key);
      return true;
    });
  }
  assert.deepEqual(storage.keys(), ['good']);
  // set() and delete() repair a corrupt key.
  storage.set('flipped', Uint8Array.of(7));
  assert.deepEqual(storage.get('flipped'), Uint8Array.of(7));
  storage.delete('torn');
  assert.equal(storage.get('torn'), undefined);
  assert.deepEqual(storage.keys(), ['flipped', 'good']);
});

test('keys() lists only valid keys, ignoring foreign files, folders and leftovers', (t) => {
  const dir = tempFolder(t);
  const storage = new FolderStorage({ directory: dir });
  storage.set('b', otherValue);
  storage.set('a.tmp', otherValue); // a valid key that looks like a temporary file name
  writeFileSync(join(dir, 'not a key'), encodeRecord(otherValue));
  writeFileSync(join(dir, 'README'), 'not a record');
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, '~b.tmp'), encodeRecord(newValue));
  assert.deepEqual(storage.keys(), ['a.tmp', 'b']);
  assert.deepEqual(new FolderStorage({ directory: dir }).get('a.tmp'), otherValue, 'a key ending in .tmp is not a leftover');
});

test('opening removes leftover temporary files, even complete ones, and keeps the values', (t) => {
  const dir = tempFolder(t);
  new FolderStorage({ directory: dir }).set('state', oldValue);
  writeFileSync(join(dir, '~state.tmp'), encodeRecord(newValue)); // synced but never renamed
  writeFileSync(join(dir, '~other.tmp'), Uint8Array.of(1, 2)); // torn
  const reopened = new FolderStorage({ directory: dir });
  assert.deepEqual(reopened.get('state'), oldValue);
  assert.deepEqual(readdirSync(dir), ['state']);
});

test('invalid keys throw a RangeError from get, set and delete', (t) => {
  const storage = new FolderStorage({ directory: tempFolder(t) });
  for (const key of ['', 'a/b', '..', '.', 'x'.repeat(33), 'a b', '~a.tmp', 'é']) {
    assert.throws(() => storage.get(key), RangeError, `get ${JSON.stringify(key)}`);
    assert.throws(() => storage.set(key, otherValue), RangeError, `set ${JSON.stringify(key)}`);
    assert.throws(() => storage.delete(key), RangeError, `delete ${JSON.stringify(key)}`);
  }
  assert.throws(() => storage.get('../etc'), { name: 'RangeError', message: 'storage key must be 1-32 chars of [A-Za-z0-9_.-], got "../etc"' });
  storage.set('x'.repeat(32), otherValue);
  assert.deepEqual(storage.keys(), ['x'.repeat(32)]);
});

test('a value that is not a Uint8Array throws a TypeError', (t) => {
  const storage = new FolderStorage({ directory: tempFolder(t) });
  assert.throws(() => storage.set('k', 'text' as unknown as Uint8Array), { name: 'TypeError', message: 'storage value must be a Uint8Array, got string' });
});

test('a set that fails part-way (disk full) throws, keeps the old value and leaves no temporary file', (t) => {
  const dir = tempFolder(t);
  let failWrites = false;
  let closes = 0;
  const files: StorageFiles = {
    ...nodeStorageFiles,
    write(fd, data) {
      if (failWrites) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      nodeStorageFiles.write(fd, data);
    },
    close(fd) { closes++; nodeStorageFiles.close(fd); },
  };
  const storage = new FolderStorage({ directory: dir, files });
  storage.set('state', oldValue);
  failWrites = true;
  closes = 0;
  assert.throws(() => storage.set('state', newValue), { message: 'ENOSPC: no space left on device, write' });
  assert.equal(closes, 1, 'the temporary file is closed');
  assert.deepEqual(storage.get('state'), oldValue);
  assert.deepEqual(readdirSync(dir), ['state']);
  assert.equal(existsSync(join(dir, '~state.tmp')), false);
});
