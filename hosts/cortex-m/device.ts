// The device application on the firmware image: src/app/device.ts with hosts/moddable's adapters over the
// image's ECMA-419 modules, which reach the network and the audio through the co-processor link (netlink.c,
// hosts/cortex-m/bridge.ts on the other end):
//   socket, http   hosts/moddable/socket.ts over `embedded:io/socket/tcp(/tls)` (TLS runs in the co-processor)
//   audio in, out  hosts/moddable/audio.ts over LinkAudioIn/LinkAudioOut (20 ms frames on the UART)
//   opus, AES-GCM  libopus and native/aes_gcm.c through the global `natives`
//   front end      native/dsp's echo canceller and wake word through `natives` (hosts/moddable/frontend.ts)
//   random         the co-processor's random source; storage in RAM (ram-storage.ts); the log on UART0
// The provisioning record (a DeviceConfig as JSON, TLS material as PEM) comes from the co-processor, as a
// board reads it from its factory partition. Board events from the link: "button tap" opens the microphone,
// "report" prints `image-report <JSON>`, "exit" prints it and ends the program (the board's exit line follows).
// The image's command line: [LOG_LEVEL] [--aec-taps N] [--output-delay-ms N] [--no-wake-word]. Prints `image-memory <phase> <JSON>` when the device reaches each phase
// and `image-turn <JSON>` (heap and link figures) after each answer played, for the test and bench/.
import { Device, type DeviceConfig, type DeviceState } from '../../src/app/device.js';
import type { DspBinding } from '../../src/audio/native-dsp.js';
import { nativeOpus, type OpusBinding } from '../../src/audio/native-opus.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { createSocketHttpClient } from '../../src/http/client.js';
import { LOG_LEVELS, Logger, type LogLevel, type LogSink } from '../../src/ports/log.js';
import type { Opus } from '../../src/ports/opus.js';
import { moddableAudioIn, moddableAudioOut } from '../moddable/audio.js';
import { moddableClock } from '../moddable/clock.js';
import { dspFrontEnd } from '../moddable/frontend.js';
import { moddableSocket } from '../moddable/socket.js';
import { LinkAudioIn, LinkAudioOut } from './audio-io.js';
import { ramStorage } from './ram-storage.js';

declare function print(...values: unknown[]): void;
declare const natives: OpusBinding & DspBinding & Record<'opusEncoderBytes' | 'opusDecoderBytes' | 'aecStateBytes' | 'kwsStateBytes', number>;
declare const xsrun: {
  args: string[];
  memory(): unknown;
  gc(): void;
  exitCode: number;
  exit(code?: number): never;
  io: {
    random(buffer: ArrayBuffer, offset: number, length: number): void;
    provisioning(): string;
    linkStats(): Record<string, number>;
    onEvent?: (text: string) => void;
  };
};

const [levelArg = 'info'] = xsrun.args;
const level = (LOG_LEVELS as readonly string[]).includes(levelArg) ? levelArg as LogLevel : 'info';
const sink: LogSink = { write: (lineLevel, component, message) => print(`${lineLevel.toUpperCase()} [${component}] ${message.replace(/\r?\n/g, '\\n')}`) };
const log = new Logger(sink, 'device', level);
const random = (out: Uint8Array) => xsrun.io.random(out.buffer as ArrayBuffer, out.byteOffset, out.length);

// The C state outside XS's slots and chunks, for the RAM budget by owner (bench/cortex-m-ram.ts).
const nativeState = { opusEncoder: natives.opusEncoderBytes, opusDecoder: natives.opusDecoderBytes, aec: natives.aecStateBytes, kws: natives.kwsStateBytes };
const memoryReport = () => JSON.stringify({ memory: xsrun.memory(), link: xsrun.io.linkStats(), native: nativeState });

// The uplink encoder is CELT (restricted-lowdelay): SILK takes about 6 M instructions a frame on the M7, twice the
// plan for everything (docs/figures/firmware.md); CELT 0.74 M.
const libopus = nativeOpus(natives);
const opus: Opus = {
  createEncoder: (options) => libopus.createEncoder({ ...options, application: 'restricted-lowdelay' }),
  createDecoder: (options) => libopus.createDecoder(options),
};

// Sized to the part's RAM (docs/firmware.md, the RAM budget by owner), unless the provisioning record says otherwise:
// AIS messages of at most 4 KB (System maxSizeInBytes: each inbound topic's reorder window holds 4 of them, and the
// envelope, MQTT and emitter buffers one each; 8 KB by default) and a 2 s speaker buffer at 64 kbps (4 s by default).
const IMAGE_CONFIG: Partial<DeviceConfig> = { maxMessageBytes: 4096, speakerBuffer: { bufferBytes: 16000 } };
const config = { ...IMAGE_CONFIG, ...JSON.parse(xsrun.io.provisioning()) as DeviceConfig };
// Every module loaded and nothing of the device made yet: what a machine prepared at build time would hold in flash.
xsrun.gc();
print(`image-memory boot ${memoryReport()}`);
// The microphone's ring in JavaScript holds 8 frames (160 ms), as the link's channel in C does; 25 by default.
const audioOptions = { clock: moddableClock, inputFrames: 8 };
const device = new Device({
  clock: moddableClock,
  log,
  crypto: createPortableCrypto(random),
  storage: ramStorage(),
  http: createSocketHttpClient(moddableSocket, moddableClock),
  socket: moddableSocket,
  audio: { audioIn: moddableAudioIn(LinkAudioIn, audioOptions), audioOut: moddableAudioOut(LinkAudioOut, audioOptions), opus, ...dspFrontEnd(natives, xsrun.args) },
}, config, {
  onCode: (pair) => print(`To link this device to your Amazon account, open ${pair.verificationUri} and enter the code ${pair.userCode}`),
  onStateChange: (state, detail) => {
    log.info(`state ${state}${detail ? ` (${detail})` : ''}`);
    report(state);
  },
  onStopped: (reason) => {
    log.error(`stopped: ${reason}`);
    xsrun.exitCode = 1;
  },
});

const PHASES: Partial<Record<DeviceState, string>> = { registering: 'linked', connecting: 'registered', ready: 'ready' };
function report(state: DeviceState): void {
  const phase = PHASES[state];
  if (phase) print(`image-memory ${phase} ${memoryReport()}`);
}

xsrun.io.onEvent = (text) => {
  if (text === 'button tap') {
    if (device.microphone) device.microphone.tap();
    else log.warn('button tap: no microphone (not connected)');
  } else if (text === 'report' || text === 'exit') {
    print(`image-report ${memoryReport()}`);
    // The end of a session on the bench: the board prints its exit line (heap high-water mark, stack peaks).
    if (text === 'exit') {
      device.stop();
      xsrun.exit(0);
    }
  } else log.warn(`unknown board event ${JSON.stringify(text)}`);
};
device.start();
