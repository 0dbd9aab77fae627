// A Logger whose lines a test can read (and print on failure with LOG_LEVEL=debug).
import { Logger, type LogLevel } from '../../src/ports/log.js';

/** `times[i]` is when `lines[i]` was written (performance.now()). */
export function captureLogger(component: string, level: LogLevel = 'debug'): { log: Logger; lines: string[]; times: number[] } {
  const lines: string[] = [];
  const times: number[] = [];
  const echo = process.env.LOG_LEVEL === 'debug';
  const log = new Logger({
    write(lvl, comp, message) {
      const line = `${lvl.toUpperCase()} [${comp}] ${message}`;
      lines.push(line);
      times.push(performance.now());
      if (echo) process.stderr.write(line + '\n');
    },
  }, component, level);
  return { log, lines, times };
}
