// The image's key-value store in RAM: QEMU's mps2-an500 has no flash the image may write (the MPU makes the
// code region read-only), so the store lives as long as the boot. A board keeps these keys in flash with the
// write order of src/storage/folder.ts (docs/porting.md); nothing here survives a reset.
import { checkStorageKey, type Storage } from '../../src/ports/storage.js';

export function ramStorage(): Storage {
  const values = new Map<string, Uint8Array>();
  return {
    get(key) {
      checkStorageKey(key);
      return values.get(key)?.slice();
    },
    set(key, value) {
      checkStorageKey(key);
      values.set(key, value.slice());
    },
    delete(key) {
      checkStorageKey(key);
      values.delete(key);
    },
    keys: () => [...values.keys()].sort(),
  };
}
