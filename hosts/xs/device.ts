// The device application on xsrun: src/app/device.ts with the Moddable ports of hosts/moddable, over xsrun's
// ECMA-419 modules (hosts/xs/io). Started by hosts/xs/device-launch.mjs (npm run device -- --host xs), which
// passes the DeviceConfig as JSON and the data folder:
//   xsrun --bundle device.xsb build/hosts/xs/device.js '<DeviceConfig JSON>' <data dir> [LOG_LEVEL] [--memory]
// Log lines go to stderr as on Node: `LEVEL [component] message` (no wall clock on a board). With --memory it
// prints `xsrun-memory <phase> <JSON>` on stdout when the device reaches each phase, then `xsrun-gc <JSON>`
// every 5 s, for bench/xs-device.ts.
import { Device, type DeviceConfig, type DeviceState } from '../../src/app/device.js';
import { LOG_LEVELS, Logger, type LogLevel, type LogSink } from '../../src/ports/log.js';
import { moddableClock } from '../moddable/clock.js';
import { moddablePorts } from '../moddable/ports.js';

declare function print(...values: unknown[]): void;
declare const xsrun: {
  args: string[];
  writeError(text: string): void;
  memory(): unknown;
  gc(): void;
  resetPeaks(): void;
  exitCode: number;
  io: { random(buffer: ArrayBuffer, offset: number, length: number): void };
};

const [configJson, dataDir, levelArg = 'info'] = xsrun.args;
const level = (LOG_LEVELS as readonly string[]).includes(levelArg) ? levelArg as LogLevel : 'info';
const sink: LogSink = {
  write(lineLevel, component, message) {
    xsrun.writeError(`${lineLevel.toUpperCase()} [${component}] ${message.replace(/\r?\n/g, '\\n')}\n`);
  },
};
const log = new Logger(sink, 'device', level);
const memory = xsrun.args.includes('--memory');

/** The phases docs/xs-host.md gives heap figures for, by the state that starts after each. */
const PHASES: Partial<Record<DeviceState, string>> = { registering: 'linked', connecting: 'registered', 'publishing-capabilities': 'connected', ready: 'ready' };
let lastPhase = '';

function phase(state: DeviceState): void {
  const name = PHASES[state];
  if (!memory || name === undefined || name === lastPhase) return;
  lastPhase = name;
  // Peak since the previous phase, then live after a collection.
  const peak = xsrun.memory();
  xsrun.gc();
  print(`xsrun-memory ${name} ${JSON.stringify({ peak, live: xsrun.memory() })}`);
  xsrun.resetPeaks();
  // Collections while connected: a line every 5 s from ready on (bench/xs-device.ts takes the rate when idle).
  if (name === 'ready') {
    moddableClock.setTimer(() => {
      const now = xsrun.memory() as { gcCount: number };
      print(`xsrun-gc ${JSON.stringify({ ms: moddableClock.monotonicMs(), gcCount: now.gcCount })}`);
    }, 5000, 5000);
  }
}

const config = JSON.parse(configJson) as DeviceConfig;
const ports = moddablePorts({
  dataDir: dataDir.replace(/^\/+/, ''), // below the files root, "/" on xsrun
  log,
  random: (out) => xsrun.io.random(out.buffer as ArrayBuffer, out.byteOffset, out.length),
});
const device = new Device(ports, config, {
  // On stdout, as the Node host's showCodePair: where a board would use its display.
  onCode: (pair) => print(`To link this device to your Amazon account, open ${pair.verificationUri} and enter the code ${pair.userCode}`),
  onStateChange: (state, detail) => {
    log.info(`state ${state}${detail ? ` (${detail})` : ''}`);
    phase(state);
  },
  onStopped: (reason) => {
    log.error(`stopped: ${reason}`);
    xsrun.exitCode = 1;
  },
});
device.start();
