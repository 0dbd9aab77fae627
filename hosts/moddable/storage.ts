// The storage port over Moddable's `embedded:storage/files`: the crash-safe folder store of
// src/storage/folder.ts (temporary file, flush, move over the key, flush of the folder) on ECMA-419 files.
// Paths are relative to the files root (Moddable's config.files; "/" on xsrun). File.flush() is fsync;
// the folder's flush is xsrun's Directory.flush() where it exists: Moddable's littlefs (ESP32) makes a
// finished rename durable by itself and has no such call.
/// <reference path="./files-default.d.ts" />
import root from 'embedded:storage/files';
import type { Directory, File } from 'embedded:storage/files';
import { FolderStorage, type StorageStep } from '../../src/storage/folder.js';
import type { StorageFiles } from '../../src/storage/folder.js';

/**
 * Whether something is at `path`. The SDK's status() of a missing path returns a Status of mode 0 rather than
 * throwing (xs_directoryposix_status in modules/io/files/posix/files-posix.c, 8.2.3); xsrun's does the same.
 */
function exists(directory: Directory, path: string): boolean {
  return directory.status(path).mode !== 0;
}

/** xsrun's Directory also has flush() (fsync of the directory); the SDK's has not. */
type FlushableDirectory = Directory & { flush?(): void };

/** StorageFiles over a files Directory (the root by default). */
export function filesOf(base: Directory = root): StorageFiles {
  const open = new Map<number, File>();
  let next = 1;
  const fileOf = (fd: number): File => {
    const file = open.get(fd);
    if (!file) throw new Error(`storage: file ${fd} is not open`);
    return file;
  };
  return {
    makeDirectory(path) {
      let prefix = '';
      for (const part of path.split('/').filter((p) => p !== '')) {
        prefix = prefix ? `${prefix}/${part}` : part;
        if (!exists(base, prefix)) base.createDirectory(prefix);
      }
    },
    list(path) {
      const directory = base.openDirectory({ path });
      try {
        return [...directory.scan()];
      } finally {
        directory.close();
      }
    },
    readFile(path) {
      if (!exists(base, path)) return undefined;
      const file = base.openFile({ path, mode: 'r' });
      try {
        const size = file.status().size;
        const bytes = new Uint8Array(size);
        const count = file.read(bytes, 0);
        return count === size ? bytes : bytes.slice(0, count);
      } finally {
        file.close();
      }
    },
    create(path) {
      const fd = next++;
      open.set(fd, base.openFile({ path, mode: 'w' }));
      return fd;
    },
    write(fd, data) {
      const file = fileOf(fd);
      file.write(data, file.status().size);
    },
    sync(fd) {
      fileOf(fd).flush();
    },
    close(fd) {
      fileOf(fd).close();
      open.delete(fd);
    },
    rename(from, to) {
      base.move(from, to);
    },
    remove(path) {
      base.delete(path);
    },
    syncDirectory(path) {
      const directory: FlushableDirectory = base.openDirectory({ path });
      try {
        directory.flush?.();
      } finally {
        directory.close();
      }
    },
  };
}

/** The folder store at `directory` (a path below the files root), created if missing. */
export function openFilesStorage(directory: string, onStep?: (step: StorageStep, key: string) => void): FolderStorage {
  return new FolderStorage({ directory, files: filesOf(), onStep });
}
