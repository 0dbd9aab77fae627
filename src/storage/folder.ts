// Storage port over a file system: one file per key in a folder, each write crash-safe. Portable: the host
// gives the file-system calls (StorageFiles); hosts/node/storage.ts and hosts/moddable/storage.ts do.
//
// set(key) writes a temporary file (header + value), fsyncs it, renames it over `<key>` and fsyncs the folder:
// rename(2) replaces the name atomically, so after a crash at any point the key holds the old or the new
// value, and the fsyncs make the new one durable before set() returns (the data before the name, the name
// before we report success). The header's length and CRC-32 catch what the file system cannot promise:
// a file damaged on the medium, by hand or by a bug.
//
// A corrupt value file makes get() throw a StorageCorruptionError naming the key and the fault, rather than
// return undefined. The write protocol never leaves a torn `<key>`, so corruption means something outside the
// store went wrong, and "missing" would be a lie the app acts on: it would re-provision or restart envelope
// sequence numbers as if new, which with AES-GCM can reuse an IV under a live key. The app decides what to do
// (typically delete and re-register). keys() lists only keys whose value is valid; set() and delete() repair.
//
// One process owns a folder at a time; nothing here locks it.
import { checkStorageKey } from '../ports/storage.js';
import type { Storage } from '../ports/storage.js';
import { nameError } from '../util/error-name.js';

/** The file-system calls the store makes, injectable so a test can fail or stop the process between any two. */
export interface StorageFiles {
  /** Creates the folder (and its parents) if it does not exist. */
  makeDirectory(path: string): void;
  list(path: string): string[];
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Uint8Array | undefined;
  /** Creates or truncates a file for writing; returns its descriptor. */
  create(path: string): number;
  /** Writes all of `data` at the descriptor's position. */
  write(fd: number, data: Uint8Array): void;
  /** Flushes the file's data and metadata to the medium (fsync). */
  sync(fd: number): void;
  close(fd: number): void;
  /** Replaces `to` by `from` atomically. */
  rename(from: string, to: string): void;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): void;
  /** Makes the folder's entries (creations, renames, removals) durable. */
  syncDirectory(path: string): void;
}

/** The steps of set(), in order. A crash after step k leaves the old value for k < 5 ('rename'), the new one after. */
export const SET_STEPS = ['create-tmp', 'write-tmp', 'sync-tmp', 'close-tmp', 'rename', 'sync-directory'] as const;
/** The steps of delete(), in order. */
export const DELETE_STEPS = ['remove', 'sync-directory'] as const;
export type StorageStep = typeof SET_STEPS[number] | typeof DELETE_STEPS[number];

export interface FolderStorageOptions {
  /** The folder holding one file per key; created if missing. */
  directory: string;
  /** The file-system layer of the host (hosts/node/storage.ts: node:fs with fsync; hosts/moddable: embedded:storage/files). */
  files: StorageFiles;
  /** Called after each step of set() and delete(): the crash tests stop the process here. */
  onStep?: (step: StorageStep, key: string) => void;
}

/** Value files start with this header: magic, format version, 3 reserved zero bytes, value length and CRC-32 (big-endian). */
export const RECORD_MAGIC = 0x4149534b; // "AISK"
export const RECORD_VERSION = 1;
export const RECORD_HEADER_BYTES = 16;

/** A value file failed its checks; `reason` says which and what was found. */
export class StorageCorruptionError extends Error {
  constructor(readonly key: string, readonly reason: string) {
    super(`storage key ${JSON.stringify(key)} is corrupt: ${reason}`);
    nameError(this, 'StorageCorruptionError');
  }
}

// Temporary files are `~<key>.tmp`: `~` is not a key character, so no key's file can be taken for a leftover
// (`<key>.tmp` would be: "a.tmp" is a valid key).
const TMP_PREFIX = '~';
const TMP_SUFFIX = '.tmp';

export class FolderStorage implements Storage {
  private readonly directory: string;
  private readonly files: StorageFiles;
  private readonly onStep: ((step: StorageStep, key: string) => void) | undefined;

  constructor(options: FolderStorageOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError(`storage options must be an object, got ${typeof options}`);
    if (typeof options.directory !== 'string' || options.directory === '') {
      throw new TypeError(`storage directory must be a non-empty string, got ${JSON.stringify(options.directory)}`);
    }
    this.directory = options.directory;
    this.files = options.files;
    this.onStep = options.onStep;
    this.files.makeDirectory(this.directory);
    // A leftover temporary file is a set() that never reached its rename: the key still has its old value.
    let removed = 0;
    for (const name of this.files.list(this.directory)) {
      if (name.startsWith(TMP_PREFIX) && name.endsWith(TMP_SUFFIX)) {
        this.files.remove(joinPath(this.directory, name));
        removed++;
      }
    }
    if (removed > 0) this.files.syncDirectory(this.directory);
  }

  get(key: string): Uint8Array | undefined {
    checkStorageKey(key);
    const file = this.files.readFile(this.pathOf(key));
    if (file === undefined) return undefined;
    const fault = recordFault(file);
    if (fault !== undefined) throw new StorageCorruptionError(key, fault);
    // A copy as a plain Uint8Array: `file` may be a host's subclass (Node's), whose slice() is a view.
    return new Uint8Array(file.subarray(RECORD_HEADER_BYTES));
  }

  set(key: string, value: Uint8Array): void {
    checkStorageKey(key);
    if (!(value instanceof Uint8Array)) throw new TypeError(`storage value must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
    const record = encodeRecord(value);
    const tmp = joinPath(this.directory, TMP_PREFIX + key + TMP_SUFFIX);
    let fd: number | undefined;
    try {
      fd = this.files.create(tmp);
      this.step('create-tmp', key);
      this.files.write(fd, record);
      this.step('write-tmp', key);
      this.files.sync(fd);
      this.step('sync-tmp', key);
      const closing = fd;
      fd = undefined;
      this.files.close(closing);
      this.step('close-tmp', key);
      this.files.rename(tmp, this.pathOf(key));
      this.step('rename', key);
      this.files.syncDirectory(this.directory);
      this.step('sync-directory', key);
    } catch (error) {
      // Leave the key as it was (old value, or new if the rename happened) and no temporary file behind.
      if (fd !== undefined) {
        try { this.files.close(fd); } catch { /* the first error is the one to report */ }
      }
      try { this.files.remove(tmp); } catch { /* idem; open() removes it next time */ }
      throw error;
    }
  }

  delete(key: string): void {
    checkStorageKey(key);
    this.files.remove(this.pathOf(key));
    this.step('remove', key);
    // Even when the file was already gone: an earlier delete may have crashed before syncing the folder.
    this.files.syncDirectory(this.directory);
    this.step('sync-directory', key);
  }

  keys(): string[] {
    return this.files.list(this.directory).filter((name) => {
      if (!isStorageKey(name)) return false;
      let file: Uint8Array | undefined;
      try {
        file = this.files.readFile(this.pathOf(name));
      } catch {
        return false; // not a file we wrote (a folder, an unreadable file): not a key
      }
      return file !== undefined && recordFault(file) === undefined;
    }).sort();
  }

  private pathOf(key: string): string {
    return joinPath(this.directory, key);
  }

  private step(step: StorageStep, key: string): void {
    if (this.onStep) this.onStep(step, key);
  }
}

/** The header and value as written to a file. */
export function encodeRecord(value: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + value.length);
  const view = new DataView(record.buffer);
  view.setUint32(0, RECORD_MAGIC);
  record[4] = RECORD_VERSION;
  view.setUint32(8, value.length);
  view.setUint32(12, crc32(value));
  record.set(value, RECORD_HEADER_BYTES);
  return record;
}

/** What is wrong with a value file, or undefined when it is valid. */
export function recordFault(file: Uint8Array): string | undefined {
  if (file.length < RECORD_HEADER_BYTES) return `file is ${file.length} bytes, shorter than the ${RECORD_HEADER_BYTES}-byte header`;
  const view = new DataView(file.buffer, file.byteOffset, file.length);
  const magic = view.getUint32(0);
  if (magic !== RECORD_MAGIC) return `magic ${hex32(RECORD_MAGIC)} expected, got ${hex32(magic)}`;
  if (file[4] !== RECORD_VERSION) return `format version ${RECORD_VERSION} expected, got ${file[4]}`;
  const length = view.getUint32(8);
  const held = file.length - RECORD_HEADER_BYTES;
  if (length !== held) return `header says ${length} value bytes, file holds ${held}`;
  const expected = view.getUint32(12);
  const actual = crc32(file.subarray(RECORD_HEADER_BYTES));
  if (actual !== expected) return `CRC-32 ${hex32(expected)} expected, got ${hex32(actual)}`;
  return undefined;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib and PNG compute it. */
export function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function isStorageKey(name: string): boolean {
  try {
    checkStorageKey(name);
    return true;
  } catch {
    return false;
  }
}

/** `directory/name`: the store's paths are '/'-separated on every host it runs on. */
function joinPath(directory: string, name: string): string {
  return directory.endsWith('/') ? directory + name : `${directory}/${name}`;
}
