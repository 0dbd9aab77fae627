// The lines a child process writes (stdout and stderr), each with the time it arrived, for tests that drive a
// device in another process (xsrun, `node build/hosts/node/main.js`) by its log.
import type { ChildProcess } from 'node:child_process';

export interface ChildLines {
  lines: string[];
  /** performance.now() when lines[i] arrived. */
  times: number[];
}

/** Gathers the child's lines; `onLine` sees each as it comes (e.g. to approve a user code). */
export function childLines(child: ChildProcess, onLine?: (line: string) => void): ChildLines {
  const out: ChildLines = { lines: [], times: [] };
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      const parts = (rest + text).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        out.lines.push(line);
        out.times.push(performance.now());
        onLine?.(line);
      }
    });
  }
  return out;
}
