// A Storage port in memory for portable tests: values copied in and out like a real store, every write
// counted, and a write that fails on demand (a full or worn flash) to check that callers keep memory and
// medium in step. Portable: imports nothing but src/.
import { checkStorageKey, type Storage } from '../../src/ports/storage.js';

export class MemoryStorage implements Storage {
  private readonly values = new Map<string, Uint8Array>();
  /** set() and delete() calls that changed the store, in order: "set key" / "delete key". */
  readonly writes: string[] = [];
  /** The next `failWrites` set() or delete() calls throw instead of writing. */
  failWrites = 0;

  get(key: string): Uint8Array | undefined {
    const v = this.values.get(key);
    return v === undefined ? undefined : v.slice();
  }
  set(key: string, value: Uint8Array): void {
    checkStorageKey(key);
    this.fail(key);
    this.values.set(key, value.slice());
    this.writes.push(`set ${key}`);
  }
  delete(key: string): void {
    this.fail(key);
    if (this.values.delete(key)) this.writes.push(`delete ${key}`);
  }
  keys(): string[] {
    return [...this.values.keys()].sort();
  }
  private fail(key: string): void {
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error(`write of ${key} failed (injected)`);
    }
  }
}
