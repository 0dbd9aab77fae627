// Runs the Debian `mosquitto` broker (2.0.x) as a child process for tests against a real broker:
// a mutual-TLS listener whose ACL keeps each client (identity = certificate CN) under its own topic
// trees, optionally a plain TCP listener, both on free loopback ports that survive a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

export const MOSQUITTO_INSTALL_HINT = 'install it with: apt-get install mosquitto';

/** Topic trees every TLS client may read and write; `%u` is its identity (certificate CN). */
export const DEFAULT_ACL_PATTERNS: readonly string[] = ['$aws/alexa/ais/v1/%u/#', 'test/%u/#'];

export interface MosquittoTlsOptions {
  /** CA that signed the client certificates; the only one the broker trusts. */
  caPath: string;
  certPath: string;
  keyPath: string;
}

export interface MosquittoOptions {
  /** A mutual-TLS listener: a client certificate from `caPath` required, its CN is the username for the ACL. */
  tls?: MosquittoTlsOptions;
  /** A plain TCP listener: anonymous, no ACL. */
  plain?: boolean;
  /** A CN that may read and write every topic on the TLS listener, e.g. 'ais-service'. */
  serviceIdentity?: string;
  /** ACL `pattern readwrite` lines for every TLS client. Default DEFAULT_ACL_PATTERNS. */
  aclPatterns?: readonly string[];
  /** How long to wait for the broker to say it is running. Default 5000. */
  startTimeoutMs?: number;
  /** How many of the broker's last log lines to keep for error messages. Default 300. */
  logLines?: number;
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin'];  // Debian puts mosquitto in sbin, often not on a user's PATH

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The mosquitto binary: $MOSQUITTO if set, else the first on PATH or in /usr/sbin, /usr/local/sbin. */
export function findMosquitto(): string | undefined {
  const override = process.env.MOSQUITTO;
  if (override) return isExecutable(override) ? override : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  return dirs.map((dir) => join(dir, 'mosquitto')).find(isExecutable);
}

/** undefined if mosquitto is installed, else a one-line message that ends in the install hint. */
export function mosquittoMissingHint(): string | undefined {
  if (findMosquitto()) return undefined;
  const where = process.env.MOSQUITTO ? `at MOSQUITTO=${process.env.MOSQUITTO}` : `on PATH nor in ${SEARCH_DIRS.join(', ')}`;
  return `mosquitto not found ${where}; ${MOSQUITTO_INSTALL_HINT}`;
}

/**
 * For a test that needs mosquitto: true if installed. If not, under CI=true it throws (the test fails:
 * CI must not pass on a suite that did not run); locally it skips the test and returns false.
 *   test('...', async (t) => { if (!requireMosquitto(t)) return; ... });
 */
export function requireMosquitto(t: TestContext): boolean {
  const hint = mosquittoMissingHint();
  if (hint === undefined) return true;
  if (process.env.CI === 'true') throw new Error(hint);
  t.skip(hint);
  return false;
}

/** A loopback port free a moment ago: bind port 0, read the port, close. Another process may take it since. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error(`a TCP port expected, got ${String(address)}`))));
    });
  });
}

// Children still running when the test process exits are killed here; `after` hooks should stop them first.
// (If node dies of a signal instead, mosquitto dies of SIGPIPE at its next log line to our closed pipe.)
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export class MosquittoBroker {
  readonly host = '127.0.0.1';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly lines: string[] = [];
  private partial = '';
  private linesSeen = 0;
  private readonly lineWaiters = new Set<() => void>();
  private closed = false;

  /** Use startMosquitto(). */
  constructor(
    private readonly binary: string,
    /** Directory of mosquitto.conf and the ACL file; removed by close(). */
    readonly dir: string,
    readonly tlsPort: number | undefined,
    readonly plainPort: number | undefined,
    private readonly startTimeoutMs: number,
    private readonly logLines: number,
  ) {}

  get tlsUrl(): string {
    if (this.tlsPort === undefined) throw new TypeError('broker started without a tls listener');
    return `mqtts://${this.host}:${this.tlsPort}`;
  }

  get plainUrl(): string {
    if (this.plainPort === undefined) throw new TypeError('broker started without a plain listener');
    return `mqtt://${this.host}:${this.plainPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last log lines of mosquitto (stdout and stderr, all runs), one per line. */
  log(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first log line written from now on that matches; rejects after timeoutMs with the log. */
  waitForLog(pattern: RegExp, timeoutMs = 2000): Promise<string> {
    return this.waitForLine(pattern, this.linesSeen, timeoutMs, `log line matching ${pattern}`);
  }

  /** Starts the broker and resolves once it logs that it is running. */
  async start(): Promise<void> {
    if (this.closed) throw new TypeError('broker closed');
    if (this.child) throw new TypeError(`broker already running (pid ${this.child.pid})`);
    const from = this.linesSeen;
    const child = spawn(this.binary, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    track(child);
    child.stdout!.setEncoding('utf8').on('data', (text: string) => this.append(text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => this.append(text));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        this.append(`${this.partial ? '\n' : ''}[harness] mosquitto pid ${child.pid} exited (${signal ?? `code ${code}`})\n`);
        resolve();
      });
    });
    child.once('error', (error) => this.append(`[harness] ${error.message}\n`));

    try {
      // Logged after every listener is open (mosquitto.c, after listeners__start); a bind failure exits first.
      await this.waitForLine(/mosquitto version \S+ running/, from, this.startTimeoutMs, 'mosquitto running', child);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves when the process has exited. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  /** Stops the broker if running and starts it again on the same ports, with the same config. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the broker and removes its directory. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private append(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    if (parts.length === 0) return;
    this.lines.push(...parts);
    this.linesSeen += parts.length;
    if (this.lines.length > this.logLines) this.lines.splice(0, this.lines.length - this.logLines);
    for (const wake of this.lineWaiters) wake();
  }

  private waitForLine(pattern: RegExp, from: number, timeoutMs: number, what: string, child?: ChildProcess): Promise<string> {
    return new Promise((resolve, reject) => {
      let next = from;  // a count of lines ever logged; the buffer keeps only the last logLines of them
      const check = (): void => {
        const first = this.linesSeen - this.lines.length;
        for (next = Math.max(next, first); next < this.linesSeen; next++) {
          const line = this.lines[next - first]!;
          if (pattern.test(line)) return finish(() => resolve(line));
        }
        if (child && this.child !== child) {
          finish(() => reject(new Error(`${what} expected, but mosquitto exited; its log:\n${this.log()}`)));
        }
      };
      const timer = setTimeout(() => {
        finish(() => reject(new Error(`${what} expected within ${timeoutMs} ms; mosquitto log:\n${this.log()}`)));
      }, timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(check);
        settle();
      };
      this.lineWaiters.add(check);
      if (child) void this.exited.then(check);
      check();
    });
  }
}

function aclFile(options: MosquittoOptions): string {
  const lines = ['# Written by test/support/mosquitto.ts. `pattern` lines apply to every client, %u = certificate CN.'];
  for (const topic of options.aclPatterns ?? DEFAULT_ACL_PATTERNS) lines.push(`pattern readwrite ${topic}`);
  if (options.serviceIdentity !== undefined) {
    // `#` does not match topics that start with `$` in ACLs either (MQTT-4.7.2-1 as mosquitto applies it):
    // measured with 2.0.11, `topic readwrite #` alone denies the service every `$aws/...` publish.
    lines.push(`user ${options.serviceIdentity}`, 'topic readwrite #', 'topic readwrite $aws/#');
  }
  return lines.join('\n') + '\n';
}

function configFile(options: MosquittoOptions, dir: string, tlsPort?: number, plainPort?: number): string {
  const lines = [
    '# Written by test/support/mosquitto.ts',
    // Run as root, mosquitto switches to the user `mosquitto`, which cannot read our 0600 files
    // (`Error: Unable to open acl_file`); for any other user the setting has no effect.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'per_listener_settings true',
    'persistence false',
    'log_dest stderr',
    'log_type all',
    'log_timestamp_format %H:%M:%S',
  ];
  if (tlsPort !== undefined && options.tls) {
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${options.tls.caPath}`,
      `certfile ${options.tls.certPath}`,
      `keyfile ${options.tls.keyPath}`,
      'require_certificate true',
      'use_identity_as_username true',
      'allow_anonymous false',
      `acl_file ${join(dir, 'acl')}`,
    );
  }
  if (plainPort !== undefined) {
    lines.push(`listener ${plainPort} 127.0.0.1`, 'allow_anonymous true');
  }
  return lines.join('\n') + '\n';
}

/** Writes the config to a new temp dir, picks free ports and starts mosquitto; close() removes it all. */
export async function startMosquitto(options: MosquittoOptions): Promise<MosquittoBroker> {
  if (!options.tls && !options.plain) throw new TypeError('options.tls or options.plain expected, got neither');
  for (const value of [options.tls?.caPath, options.tls?.certPath, options.tls?.keyPath, options.serviceIdentity]) {
    // One line each in the config; a newline would add a directive.
    if (value !== undefined && (typeof value !== 'string' || value === '' || /[\r\n]/.test(value))) {
      throw new TypeError(`a path or name on one line expected, got ${JSON.stringify(value)}`);
    }
  }
  const binary = findMosquitto();
  if (!binary) throw new Error(mosquittoMissingHint());

  const dir = mkdtempSync(join(tmpdir(), 'ais-mosquitto-'));
  try {
    const tlsPort = options.tls ? await freeLoopbackPort() : undefined;
    let plainPort = options.plain ? await freeLoopbackPort() : undefined;
    while (plainPort !== undefined && plainPort === tlsPort) plainPort = await freeLoopbackPort();
    writeFileSync(join(dir, 'acl'), aclFile(options), { mode: 0o600 });
    writeFileSync(join(dir, 'mosquitto.conf'), configFile(options, dir, tlsPort, plainPort), { mode: 0o600 });
    const broker = new MosquittoBroker(binary, dir, tlsPort, plainPort, options.startTimeoutMs ?? 5000, options.logLines ?? 300);
    try {
      await broker.start();
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
