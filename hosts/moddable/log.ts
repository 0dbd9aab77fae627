// Log lines on the Moddable console (serial on a board, the simulator's log pane): `LEVEL [component] message`.
import type { LogSink } from '../../src/ports/log.js';

declare function trace(...text: string[]): void;

export const consoleSink: LogSink = {
  write(level, component, message) {
    trace(`${level.toUpperCase()} [${component}] ${message}\n`);
  },
};
