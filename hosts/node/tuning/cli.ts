// What the tuning commands share: their arguments, one-line errors (never a stack trace), progress on a terminal.
import { WavFormatError } from '../wav.js';

/** --help: the usage goes to stdout, exit 0. */
class HelpRequested extends Error {}

/** A wrong command line: the message and the usage go to stderr, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Parsed {
  options: Map<string, string>;
  files: string[];
}

/** `--name value` pairs (only the names in `known`) and the rest as files. */
export function parseArgs(argv: string[], known: readonly string[]): Parsed {
  const options = new Map<string, string>();
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      files.push(a);
      continue;
    }
    const name = a.slice(2);
    if (name === 'help') throw new HelpRequested();
    if (!known.includes(name)) throw new UsageError(`unknown option ${a}`);
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${a} needs a value`);
    options.set(name, value);
  }
  return { options, files };
}

/** The wake-word threshold option: a number in (0, 1). */
export function thresholdOption(parsed: Parsed): number | undefined {
  const text = parsed.options.get('threshold');
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0 && value < 1)) throw new UsageError(`--threshold expected a number between 0 and 1, got ${text}`);
  return value;
}

/**
 * Runs a command: a bad input or usage prints one line (`command: message`) and exits 1 (2 for usage); an
 * unexpected failure also prints one line, its message.
 */
export async function runCommand(command: string, usage: string, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e instanceof HelpRequested) {
      process.stdout.write(`usage: ${usage}\n`);
      return;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${command}: ${e.message} (see --help)\n`);
      process.exitCode = 2;
      return;
    }
    const known = e instanceof WavFormatError || typeof e?.code === 'string';
    process.stderr.write(`${command}: ${known ? e.message : `failed: ${e?.message ?? String(error)}`}\n`);
    process.exitCode = 1;
  }
}

/** Progress on stderr when it is a terminal: seconds done of the total and the speed, at most every 0.25 s. */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly startMs = performance.now();
  private lastMs = 0;

  constructor(private readonly label: string, private readonly totalS: number) {}

  update(doneS: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastMs < 250) return;
    this.lastMs = now;
    const speed = doneS / Math.max((now - this.startMs) / 1000, 1e-3);
    process.stderr.write(`\r${this.label}: ${doneS.toFixed(0)} of ${this.totalS.toFixed(0)} s (${speed.toFixed(0)}× real time)\x1b[K`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }

  /** Audio seconds per wall-clock second so far. */
  speed(doneS: number): number {
    return doneS / Math.max((performance.now() - this.startMs) / 1000, 1e-3);
  }
}
