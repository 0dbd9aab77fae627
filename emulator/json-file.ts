// JSON state files of the emulator (LWA tokens, AIS device registry), written crash-safely: a temporary file
// in the same folder, fsync, rename over the old one, fsync the folder. After a crash the file holds the old or
// the new state, never a mix (rename(2) is atomic within a file system).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The parsed file, or undefined when it does not exist; a file that is not JSON throws naming the path. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: JSON expected, got a file that does not parse (${(error as Error).message})`);
  }
}

/** Replaces `path` by `value` as JSON; returns once the new content is durable. Mode 0600: it holds keys and tokens. */
export function writeJsonFileAtomic(path: string, value: unknown): void {
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true });
  const tmp = join(directory, `~${basename(path)}.tmp`);
  const data = Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');
  let fd: number | undefined = openSync(tmp, 'w', 0o600);
  try {
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* the first error is the one to report */ }
    throw error;
  }
  const dirFd = openSync(directory, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
