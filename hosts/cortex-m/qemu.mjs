// Boots a firmware image on QEMU's mps2-an500 (Cortex-M7): console on the UART0 (stdout), the command
// line through semihosting (-append), and QEMU's exit code as the image's status (semihosting exit).
import { spawn } from 'node:child_process';
import { root } from '../xs/build.mjs';

export const MACHINE = 'mps2-an500';

/**
 * QEMU's arguments for `elf` with the image's command line `args`; `icount` counts one ns per instruction;
 * `link` is the chardev of UART1, the co-processor link (e.g. unix:<path> to hosts/cortex-m/bridge.ts).
 */
export function qemuArgs(elf, args, { icount = false, link } = {}) {
  return ['-M', MACHINE, '-display', 'none', '-monitor', 'none', '-serial', 'stdio', ...(link ? ['-serial', link] : []),
    '-semihosting-config', 'enable=on,target=native', ...(icount ? ['-icount', 'shift=0'] : []),
    '-kernel', elf, '-append', args.join(' ')];
}

/** The fields of the image's exit line (`# board: exit code=0 ram=… heap_peak=…`), as numbers. */
export function boardReport(output) {
  const line = output.split('\n').find((l) => l.startsWith('# board: exit '));
  if (!line) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, key, value]) => [key, Number(value)]));
}

/** Boots `elf`; resolves to { code, signal, output (the UART), stderr (QEMU's), board, ms }. */
export function boot(elf, args, { icount = false, timeoutMs = 300_000 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('qemu-system-arm', qemuArgs(elf, args, { icount }), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    const timer = setTimeout(() => { stderr += `\nkilled after ${timeoutMs} ms`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', (error) => { stderr += `\n${error.message}`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, stderr, board: boardReport(output), ms: Date.now() - started });
    });
  });
}
