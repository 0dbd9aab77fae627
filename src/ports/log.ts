// Logger port: one line per event with a level and a component. Callers check `enabled()` before
// building a string on a hot path; secrets go through `redact()`.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface LogSink {
  /** Writes one finished line; the sink adds nothing but a newline. */
  write(level: LogLevel, component: string, message: string): void;
}

export class Logger {
  private readonly rank: number;
  constructor(private readonly sink: LogSink, readonly component: string, readonly level: LogLevel = 'info') {
    this.rank = LOG_LEVELS.indexOf(level);
  }
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.rank;
  }
  /** A logger for a sub-component sharing this one's sink and level. */
  child(component: string): Logger {
    return new Logger(this.sink, component, this.level);
  }
  debug(message: string): void { if (this.rank === 0) this.sink.write('debug', this.component, message); }
  info(message: string): void { if (this.rank <= 1) this.sink.write('info', this.component, message); }
  warn(message: string): void { if (this.rank <= 2) this.sink.write('warn', this.component, message); }
  error(message: string): void { this.sink.write('error', this.component, message); }
}

/** A sink that drops everything: for embedded builds without a console and for quiet tests. */
export const silentSink: LogSink = { write() {} };

/** Stands in for a secret in a log line: says what it was and how long, never its content. */
export function redact(secret: string | Uint8Array | undefined | null): string {
  if (secret === undefined || secret === null) return '<none>';
  return `<redacted ${secret.length}${typeof secret === 'string' ? ' chars' : ' bytes'}>`;
}
