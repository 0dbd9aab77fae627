// Child process of test/hosts/node/storage.test.ts: opens a folder store, sets or deletes one key, and kills
// itself with SIGKILL after step `stopAfter` of that operation (0: before the first step), or halfway through
// writing the temporary file when `tearWrite` is set. Everything after a SIGKILL is lost, as in a crash.
// Usage: node storage-writer.js '{"directory":"...","op":"set","key":"state","valueHex":"...","stopAfter":3}'
import { FolderStorage, nodeStorageFiles } from '../../hosts/node/storage.js';
import type { StorageFiles } from '../../hosts/node/storage.js';

interface Plan {
  directory: string;
  op: 'set' | 'delete';
  key: string;
  valueHex?: string;
  stopAfter: number;
  tearWrite?: boolean;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as Plan;

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // Not reached; if it were, the parent sees an exit code instead of SIGKILL and fails.
  throw new Error('SIGKILL did not stop the writer');
}

const files: StorageFiles = {
  ...nodeStorageFiles,
  write(fd, data) {
    if (plan.tearWrite) {
      nodeStorageFiles.write(fd, data.subarray(0, data.length >> 1));
      die();
    }
    nodeStorageFiles.write(fd, data);
  },
};

let steps = 0;
const storage = new FolderStorage({
  directory: plan.directory,
  files,
  onStep: () => {
    steps++;
    if (steps === plan.stopAfter) die();
  },
});
if (plan.stopAfter === 0) die();
if (plan.op === 'set') {
  storage.set(plan.key, Uint8Array.from(Buffer.from(plan.valueHex ?? '', 'hex')));
} else {
  storage.delete(plan.key);
}
die();
