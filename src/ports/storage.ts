// Small key-value store that survives reboot and a power cut in the middle of a write: after a cut,
// `get()` returns either the old or the new value of the key being written, never a mix.
// Synchronous, as flash key-value stores on MCUs are. Keys: 1-32 chars of [A-Za-z0-9_.-].

export interface Storage {
  get(key: string): Uint8Array | undefined;
  /** Replaces the value atomically; returns only when it is durable. */
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
  keys(): string[];
}

const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

/** Throws a RangeError naming the key when it is not a valid storage key. */
export function checkStorageKey(key: string): void {
  if (typeof key !== 'string' || !KEY_PATTERN.test(key) || key === '.' || key === '..') {
    throw new RangeError(`storage key must be 1-32 chars of [A-Za-z0-9_.-], got ${JSON.stringify(key)}`);
  }
}
