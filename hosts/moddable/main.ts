// The device application in a Moddable SDK build (manifest.json's creation.main): src/app/device.ts with the
// ports of this folder and the board module of the platform (hosts/moddable/board). The cloud comes from the
// manifest's config (override on the command line: mcconfig ... device='{...}'):
//   device: the DeviceConfig as JSON (the cloud's addresses as IPv4, its CA), as npm run device builds it.
import config from 'mc/config';
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { composeCrypto } from '../../src/crypto/compose.js';
import { Logger } from '../../src/ports/log.js';
import { openBoard } from './board.js';
import { moddableClock } from './clock.js';
import { moddablePorts } from './ports.js';

function text(name: string): string {
  const value = config[name];
  if (typeof value !== 'string' || value === '') throw new TypeError(`manifest config.${name} must be a non-empty string`);
  return value;
}

export default function main(): void {
  const board = openBoard(moddableClock);
  const log = new Logger(board.log, 'device', 'info');
  const ports = moddablePorts({
    dataDir: board.dataDir,
    log,
    random: board.random,
    crypto: board.aesGcm ? composeCrypto(board.random, board.aesGcm) : undefined,
    audio: board.audio && board.opus ? { ...board.audio, opus: board.opus } : undefined,
  });
  const deviceConfig = JSON.parse(text('device')) as DeviceConfig;
  const device = new Device(ports, deviceConfig, {
    onCode: (pair) => log.info(`To link this device, open ${pair.verificationUri} and enter the code ${pair.userCode}`),
    onStateChange: (state, detail) => log.info(`state ${state}${detail ? ` (${detail})` : ''}`),
    onStopped: (reason) => log.error(`stopped: ${reason}`),
  });
  log.info(`board ${board.name}${ports.audio ? '' : ' (no voice: audio or Opus missing)'}`);
  device.start();
}
