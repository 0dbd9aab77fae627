// Child process of test/xs/storage.test.ts, on xsrun: the folder store of hosts/moddable (ECMA-419 files)
// sets or deletes one key and dies by SIGKILL after step `stopAfter` (0: before the first step), or halfway
// through writing the temporary file with `tearWrite`. The XS twin of test/support/storage-writer.ts.
// Usage: xsrun build/test/xs/storage-writer.js '{"directory":"/abs/dir","op":"set","key":"state","valueHex":"...","stopAfter":3}'
import { FolderStorage } from '../../src/storage/folder.js';
import { filesOf } from '../../hosts/moddable/storage.js';

declare const xsrun: { args: string[]; io: { kill(): never } };

interface Plan { directory: string; op: 'set' | 'delete'; key: string; valueHex?: string; stopAfter: number; tearWrite?: boolean }

const plan = JSON.parse(xsrun.args[0]) as Plan;
const files = filesOf();
const tearing = {
  ...files,
  write(fd: number, data: Uint8Array) {
    if (plan.tearWrite) {
      files.write(fd, data.subarray(0, data.length >> 1));
      xsrun.io.kill();
    }
    files.write(fd, data);
  },
};
let steps = 0;
const storage = new FolderStorage({
  directory: plan.directory.replace(/^\/+/, ''),
  files: tearing,
  onStep: () => {
    steps++;
    if (steps === plan.stopAfter) xsrun.io.kill();
  },
});
if (plan.stopAfter === 0) xsrun.io.kill();
const hex = plan.valueHex ?? '';
const value = new Uint8Array(hex.length / 2);
for (let i = 0; i < value.length; i++) value[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
if (plan.op === 'set') storage.set(plan.key, value);
else storage.delete(plan.key);
