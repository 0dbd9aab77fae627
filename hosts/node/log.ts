// Log sink on Node: one line per event on stderr, `<ISO time> <LEVEL> [component] message`.
import { LOG_LEVELS, Logger } from '../../src/ports/log.js';
import type { LogLevel, LogSink } from '../../src/ports/log.js';

export interface LineSinkOptions {
  /** Where finished lines go (with their newline); stderr by default. */
  writeLine?: (line: string) => void;
  /** Wall clock for the timestamp; injectable so a test can check exact lines. */
  now?: () => Date;
}

/** A LogSink that formats each event as one line. Newlines inside a message are escaped so an event stays one line. */
export class LineSink implements LogSink {
  private readonly writeLine: (line: string) => void;
  private readonly now: () => Date;
  constructor(options: LineSinkOptions = {}) {
    this.writeLine = options.writeLine ?? ((line) => { process.stderr.write(line); });
    this.now = options.now ?? (() => new Date());
  }
  write(level: LogLevel, component: string, message: string): void {
    const oneLine = message.replace(/\r?\n/g, '\\n');
    this.writeLine(`${this.now().toISOString()} ${level.toUpperCase()} [${component}] ${oneLine}\n`);
  }
}

export const stderrSink: LogSink = new LineSink();

/**
 * The root Logger of a Node process, its level from `env.LOG_LEVEL` (debug|info|warn|error, default info).
 * An unknown level throws: a typo would otherwise hide the very logs someone asked for.
 */
export function loggerFromEnv(component: string, env: Record<string, string | undefined> = process.env, sink: LogSink = stderrSink): Logger {
  const wanted = env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? 'info' : env.LOG_LEVEL.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(wanted)) {
    throw new RangeError(`LOG_LEVEL must be one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  return new Logger(sink, component, wanted as LogLevel);
}
