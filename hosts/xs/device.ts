// The device application on xsrun: src/app/device.ts with the Moddable ports of hosts/moddable, over xsrun's
// ECMA-419 modules (hosts/xs/io). Started by hosts/xs/device-launch.mjs (npm run device -- --host xs), which
// passes the DeviceConfig as JSON and the data folder:
//   xsrun --bundle device.xsb build/hosts/xs/device.js '<DeviceConfig JSON>' <data dir> [LOG_LEVEL] [--memory]
//         [--voice [--out WAV] [front-end flags: --aec-taps N, --output-delay-ms N, --no-wake-word]]
// Log lines go to stderr as on Node: `LEVEL [component] message` (no wall clock on a board). With --memory it
// prints `xsrun-memory <phase> <JSON>` on stdout when the device reaches each phase, then `xsrun-gc <JSON>`
// every 5 s, for bench/xs-device.ts.
// --voice gives the device its audio: ECMA-419 audio in and out (xsrun's WAV-file drivers, hosts/xs/io) through
// the Moddable adapter (hosts/moddable/audio.ts), libopus through the native Opus port, and native/dsp's echo
// canceller and wake word as the front end (hosts/moddable/frontend.ts says the flags); --out records the
// speaker to a WAV. The microphone and the talk button are driven by lines on stdin, as a person would:
//   tap         the button: the microphone opens (TAP)
//   say PATH    the WAV at PATH (16 kHz mono 16-bit) is heard by the microphone after what is queued
//   memory NAME (with --memory) prints `xsrun-snapshot NAME {ms, memory}` now, without a collection
// A turn the network cuts drops what is still queued of the speech (the person stops talking); `tap` and `say`
// start the next turn.
import { Device, type DeviceConfig, type DeviceState } from '../../src/app/device.js';
import { LOG_LEVELS, Logger, type LogLevel, type LogSink } from '../../src/ports/log.js';
import { moddableClock } from '../moddable/clock.js';
import { moddablePorts } from '../moddable/ports.js';
import { moddableAudioIn, moddableAudioOut } from '../moddable/audio.js';
import { nativeOpus, type OpusBinding } from '../../src/audio/native-opus.js';
import type { DspBinding } from '../../src/audio/native-dsp.js';
import { dspFrontEnd } from '../moddable/frontend.js';
import AudioIn from 'embedded:io/audio/in';
import type { AudioInOptions } from 'embedded:io/audio/in';
import AudioOut from 'embedded:io/audio/out';
import type { AudioOutOptions } from 'embedded:io/audio/out';

declare function print(...values: unknown[]): void;
declare const xsrun: {
  args: string[];
  writeError(text: string): void;
  memory(): unknown;
  gc(): void;
  resetPeaks(): void;
  exitCode: number;
  io: {
    random(buffer: ArrayBuffer, offset: number, length: number): void;
    audio: { commands(onLine: (line: string) => void): void };
  };
};
declare const natives: OpusBinding & DspBinding;

const [configJson, dataDir, levelArg = 'info'] = xsrun.args;
const level = (LOG_LEVELS as readonly string[]).includes(levelArg) ? levelArg as LogLevel : 'info';
const sink: LogSink = {
  write(lineLevel, component, message) {
    xsrun.writeError(`${lineLevel.toUpperCase()} [${component}] ${message.replace(/\r?\n/g, '\\n')}\n`);
  },
};
const log = new Logger(sink, 'device', level);
const memory = xsrun.args.includes('--memory');
const voice = xsrun.args.includes('--voice');
const outIndex = xsrun.args.indexOf('--out');
const outPath = outIndex >= 0 ? xsrun.args[outIndex + 1] : undefined;

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

/** xsrun's microphone: ECMA-419 audio in with the WAV-file driver's say() (hosts/xs/io/audioin.js). */
class Microphone extends AudioIn {
  declare say: (path: string) => number;
  declare abandon: () => number;
  constructor(options: AudioInOptions) {
    super(options);
    microphone = this;
  }
}
/** The speaker, recording to --out. */
class Speaker extends AudioOut {
  constructor(options: AudioOutOptions) {
    super({ ...options, path: outPath } as AudioOutOptions);
  }
}
/** The microphone, once the device has opened it. */
let microphone: Microphone | undefined;

function audioPorts(): Parameters<typeof moddablePorts>[0]['audio'] {
  const clock = moddableClock;
  return { audioIn: moddableAudioIn(Microphone, { clock }), audioOut: moddableAudioOut(Speaker, { clock }), opus: nativeOpus(natives), ...dspFrontEnd(natives, xsrun.args) };
}

/** A line of stdin: `tap` or `say PATH`; anything else is refused with a log line. */
function command(line: string): void {
  const [verb, ...rest] = line.trim().split(' ');
  const argument = rest.join(' ');
  try {
    if (verb === 'tap' && !argument) {
      if (!device.microphone) throw new Error('no microphone yet (the device is not connected)');
      device.microphone.tap();
    } else if (verb === 'say' && argument) {
      if (!microphone) throw new Error('no microphone yet (the device is not connected)');
      log.info(`said ${argument} from capture sample ${microphone.say(argument)}`);
    } else if (verb === 'memory' && memory && argument) {
      print(`xsrun-snapshot ${argument} ${JSON.stringify({ ms: moddableClock.monotonicMs(), memory: xsrun.memory() })}`);
    } else if (verb) {
      throw new Error(`unknown command ${JSON.stringify(line)}: tap, or say PATH`);
    }
  } catch (error) {
    log.error(`command ${verb}: ${(error as Error).message}`);
  }
}

const config = JSON.parse(configJson) as DeviceConfig;
const ports = moddablePorts({
  dataDir: dataDir.replace(/^\/+/, ''), // below the files root, "/" on xsrun
  log,
  random: (out) => xsrun.io.random(out.buffer as ArrayBuffer, out.byteOffset, out.length),
  audio: voice ? audioPorts() : undefined,
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
  // The person saying the WAV stops: the rest of it is not heard by the next turn (which needs its own tap).
  onTurnFailed: () => {
    const dropped = microphone?.abandon() ?? 0;
    if (dropped > 0) log.info(`the rest of the speech queued (${dropped} samples) dropped: the turn failed`);
  },
});
device.start();
if (voice) xsrun.io.audio.commands(command);
