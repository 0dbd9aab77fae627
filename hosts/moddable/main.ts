// The device application in a Moddable SDK build (manifest.json's creation.main): src/app/device.ts with the
// ports of this folder and the board module of the platform (hosts/moddable/board). The cloud comes from the
// manifest's config (override on the command line: mcconfig ... device='{...}'):
//   device: the DeviceConfig as JSON (the cloud's addresses as IPv4, its CA), as npm run device builds it.
//   frontEnd: the front end's options as the XS devices' command line has them (frontend.ts), e.g.
//     "--aec-taps 512 --output-delay-ms 8"; empty: the default front end (a 1,024-tap canceller and the wake word).
import config from 'mc/config';
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { composeCrypto } from '../../src/crypto/compose.js';
import { Logger } from '../../src/ports/log.js';
import { openBoard } from './board.js';
import { moddableClock } from './clock.js';
import { dspFrontEnd } from './frontend.js';
import { moddablePorts } from './ports.js';

function text(name: string): string {
  const value = config[name];
  if (typeof value !== 'string' || value === '') throw new TypeError(`manifest config.${name} must be a non-empty string`);
  return value;
}

function frontEndArgs(): string[] {
  const value = config.frontEnd ?? '';
  if (typeof value !== 'string') throw new TypeError('manifest config.frontEnd must be a string of front-end options');
  return value.split(' ').filter((word) => word !== '');
}

export default function main(): void {
  const board = openBoard(moddableClock);
  const log = new Logger(board.log, 'device', 'info');
  const ports = moddablePorts({
    dataDir: board.dataDir,
    log,
    random: board.random,
    crypto: board.aesGcm ? composeCrypto(board.random, board.aesGcm) : undefined,
    audio: board.audio && board.opus ? { ...board.audio, opus: board.opus, ...(board.dsp ? dspFrontEnd(board.dsp, frontEndArgs()) : {}) } : undefined,
  });
  const deviceConfig = JSON.parse(text('device')) as DeviceConfig;
  const device = new Device(ports, deviceConfig, {
    onCode: (pair) => log.info(`To link this device, open ${pair.verificationUri} and enter the code ${pair.userCode}`),
    onStateChange: (state, detail) => log.info(`state ${state}${detail ? ` (${detail})` : ''}`),
    onStopped: (reason) => log.error(`stopped: ${reason}`),
  });
  const frontEnd = ports.audio ? `${ports.audio.echoCanceller ? ', echo canceller' : ''}${ports.audio.wakeWord ? ', wake word' : ''}` : ' (no voice: audio or Opus missing)';
  log.info(`board ${board.name}${frontEnd}`);
  device.start();
}
