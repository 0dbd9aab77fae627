// The command line of our Node commands (npm run emulator, device, demo, the benches): node:util parseArgs with
// a help text per option, `--help` printing the usage and every option (exit 0), and a wrong option or value
// answered with one line and the hint, exit 2 (never a stack trace).
import { parseArgs } from 'node:util';

export interface CommandOption {
  type: 'string' | 'boolean';
  /** What the value is, in the usage (`--port N`): the placeholder. Strings only. */
  value?: string;
  help: string;
  default?: string;
  multiple?: boolean;
}

export interface CommandSpec<O extends Record<string, CommandOption>> {
  /** How it is run, e.g. `npm run emulator --`. */
  command: string;
  /** One or two sentences: what it does. */
  summary: string;
  options: O;
  /** Words after the options, e.g. 'FILE…'; none allowed when absent. */
  positionals?: string;
}

type Values<O extends Record<string, CommandOption>> = { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined
  : O[K]['multiple'] extends true ? string[] | undefined : O[K] extends { default: string } ? string : string | undefined };

/** The word errors start with: `emulator` for `npm run emulator --`. */
export function commandName(spec: Pick<CommandSpec<Record<string, CommandOption>>, 'command'>): string {
  return /(\S+?)(?:\.js)?(?: --)?$/.exec(spec.command)![1].replace(/^.*\//, '');
}

/** `COMMAND: message (see --help)` on stderr, exit 2: a value the parser could not judge was wrong. */
export function usageError(spec: Pick<CommandSpec<Record<string, CommandOption>>, 'command'>, message: string): never {
  process.stderr.write(`${commandName(spec)}: ${message} (see --help)\n`);
  process.exit(2);
}

/** The usage text: the synopsis, the summary, one line per option. */
export function usage<O extends Record<string, CommandOption>>(spec: CommandSpec<O>): string {
  const entries = Object.entries(spec.options);
  const left = (name: string, o: CommandOption) => `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
  const width = Math.max(6, ...entries.map(([n, o]) => left(n, o).length));
  const lines = entries.map(([n, o]) => `  ${left(n, o).padEnd(width)}  ${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}${o.multiple ? ' (may be repeated)' : ''}`);
  return [`usage: ${spec.command} [options]${spec.positionals ? ` ${spec.positionals}` : ''}`, '', spec.summary, '', 'options:',
    ...lines, `  ${'--help'.padEnd(width)}  this text`].join('\n');
}

/**
 * Parses `argv`. On --help prints the usage to stdout and exits 0; on a wrong command line prints
 * `COMMAND: message (see --help)` to stderr and exits 2.
 */
export function commandLine<O extends Record<string, CommandOption>>(spec: CommandSpec<O>, argv = process.argv.slice(2)): { values: Values<O>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: string }> = { help: { type: 'boolean' } };
  for (const [key, o] of Object.entries(spec.options)) options[key] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: spec.positionals !== undefined, strict: true });
  } catch (error) {
    usageError(spec, (error as Error).message.split('\n')[0].replace(/^Unknown option '(.*?)'.*$/, 'unknown option $1'));
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage(spec)}\n`);
    process.exit(0);
  }
  return { values: parsed.values as Values<O>, positionals: parsed.positionals };
}
