// Storage port on Node: the crash-safe folder store of src/storage/folder.ts over node:fs, with fsync of files
// and folders. See that file for the write order and what a crash leaves.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { FolderStorage as PortableFolderStorage } from '../../src/storage/folder.js';
import type { FolderStorageOptions, StorageFiles } from '../../src/storage/folder.js';

export {
  crc32, DELETE_STEPS, encodeRecord, RECORD_HEADER_BYTES, RECORD_MAGIC, RECORD_VERSION, recordFault, SET_STEPS,
  StorageCorruptionError,
} from '../../src/storage/folder.js';
export type { FolderStorageOptions, StorageFiles, StorageStep } from '../../src/storage/folder.js';

/** The folder store on node:fs, unless the options give another file-system layer (the tests inject faults). */
export class FolderStorage extends PortableFolderStorage {
  constructor(options: Omit<FolderStorageOptions, 'files'> & { files?: StorageFiles }) {
    super(options !== null && typeof options === 'object' ? { ...options, files: options.files ?? nodeStorageFiles } : options);
  }
}

/** Opens (creating if needed) the folder store of the Node host. */
export function openFolderStorage(directory: string): FolderStorage {
  return new FolderStorage({ directory });
}

function isMissing(error: unknown): boolean {
  return (error as { code?: string }).code === 'ENOENT';
}

/** The real file system, with fsync of files and folders (POSIX; on Linux a folder opened read-only can be fsynced). */
export const nodeStorageFiles: StorageFiles = {
  makeDirectory(path) {
    const created = mkdirSync(path, { recursive: true });
    // A new folder's own entry lives in its parent: make it durable too.
    if (created !== undefined) this.syncDirectory(dirname(created));
  },
  list(path) {
    return readdirSync(path);
  },
  readFile(path) {
    try {
      return readFileSync(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  create(path) {
    return openSync(path, 'w', 0o600);
  },
  write(fd, data) {
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
  },
  sync(fd) {
    fsyncSync(fd);
  },
  close(fd) {
    closeSync(fd);
  },
  rename(from, to) {
    renameSync(from, to);
  },
  remove(path) {
    try {
      unlinkSync(path);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  },
  syncDirectory(path) {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};
