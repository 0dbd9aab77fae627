// `npm run emulator`: the emulated AIS cloud as a long-running process for OEM development, with a small
// operator console on stdin (approve user codes, list devices, rotate secrets, disconnect).
//   npm run emulator -- --help prints the options.
// HTTPS uses the development certificate (emulator/dev-pki) unless another is given; MQTT is over mutual TLS
// (the development server certificate, client certificates issued at registration) unless --plain-mqtt.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { commandLine, usageError } from '../hosts/node/command-line.js';
import { loggerFromEnv } from '../hosts/node/log.js';
import { startCloud } from './cloud.js';

const SPEC = {
  command: 'npm run emulator --',
  summary: 'The emulated AIS cloud for development: Login with Amazon, AIS registration, the MQTT broker and the AIS service\n'
    + 'with a virtual device that listens and answers. An operator console on stdin (type help).',
  options: {
    'data-dir': { type: 'string', value: 'DIR', help: 'keep accounts, registrations, device capabilities and state here (in memory without it)' },
    'http-port': { type: 'string', value: 'N', help: 'port of LWA, registration and the /code page (any free one without it)' },
    'mqtt-port': { type: 'string', value: 'N', help: 'port of the MQTT broker (any free one without it)' },
    'https-cert': { type: 'string', value: 'PEM', help: 'serve HTTPS with this certificate (with --https-key) instead of the development one' },
    'https-key': { type: 'string', value: 'PEM', help: 'the key of --https-cert' },
    'plain-http': { type: 'boolean', help: 'serve plain HTTP (local development only)' },
    'plain-mqtt': { type: 'boolean', help: 'plain MQTT instead of mutual TLS (local development only; a registered id needs its issued password)' },
    trace: { type: 'boolean', help: 'log every AIS message, decrypted, secrets redacted' },
  },
} as const;
const { values } = commandLine(SPEC);
const port = (name: 'http-port' | 'mqtt-port'): number => {
  const text = values[name];
  if (text === undefined) return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) usageError(SPEC, `--${name} expected a port number 0..65535, got ${text}`);
  return n;
};
const log = loggerFromEnv('emulator');
const cert = values['https-cert'];
const key = values['https-key'];
if ((cert === undefined) !== (key === undefined)) usageError(SPEC, '--https-cert and --https-key go together');
const cloud = await startCloud({
  dataDir: values['data-dir'], trace: values.trace, log,
  httpPort: port('http-port'), mqttPort: port('mqtt-port'), plainMqtt: values['plain-mqtt'],
  httpTls: values['plain-http'] ? 'plain' : cert && key ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : undefined,
});

const HELP = 'commands: codes | approve CODE [ACCOUNT] | deny CODE | devices | alerts CLIENT_ID | timer CLIENT_ID SECONDS | cancel CLIENT_ID TOKEN\n'
  + '          | rotate CLIENT_ID | disconnect CLIENT_ID [CODE] | quit';
process.stdout.write(`AIS emulator: ${cloud.httpUrl} (LWA, registration, /code page), MQTT ${cloud.iotEndpoint}:${cloud.mqttPort}`
  + `${cloud.mqttTrust ? ' over mutual TLS (a device gets its certificate when it registers)' : ' (plain MQTT)'}\n${HELP}\n`);
const console = createInterface({ input: process.stdin });
console.on('line', (line) => {
  const [command, arg, extra] = line.trim().split(/\s+/);
  const say = (text: string) => process.stdout.write(`${text}\n`);
  switch (command) {
    case 'codes': return say(cloud.lwa.pendingUserCodes().join(' ') || '(no code waiting)');
    case 'approve': return say(cloud.lwa.approve(arg ?? '', extra) ? `approved ${arg}` : `no pending code ${arg}`);
    case 'deny': return say(cloud.lwa.deny(arg ?? '') ? `denied ${arg}` : `no pending code ${arg}`);
    case 'devices':
      if (cloud.registration.registry.clientIds().length === 0) return say('(no device registered)');
      for (const id of cloud.registration.registry.clientIds()) {
        const state = cloud.service.deviceState(id);
        const { volume, alertVolume } = cloud.alerts.volume(id);
        const alerts = cloud.alerts.list(id);
        say(`${id}: ${cloud.service.isConnected(id) ? 'connected' : 'offline'}, ${state?.connections ?? 0} connections, attention ${state?.attention ?? '-'}, `
          + `volume ${volume ?? '-'}, alert volume ${alertVolume ?? '-'}, ${alerts.length} alert(s)${alerts.some((a) => a.ringing) ? ' (one ringing)' : ''}, `
          + `state ${JSON.stringify(state?.synchronizedState ?? null)}`);
      }
      return;
    case 'alerts': {
      const alerts = cloud.alerts.list(arg ?? '');
      if (alerts.length === 0) return say(`(no alert for ${arg})`);
      const now = cloud.alerts.nowSeconds();
      for (const a of alerts) {
        say(`${a.token} ${a.type} "${a.label}" in ${(a.scheduledTime - now).toFixed(0)} s (NTP ${a.scheduledTime.toFixed(0)}), ${a.durationInMilliseconds} ms`
          + `${a.confirmed ? '' : ', not confirmed yet'}${a.ringing ? ', ringing' : a.rung ? ', rung' : ''}`);
      }
      return;
    }
    case 'timer': {
      const seconds = Number(extra);
      if (!arg || !Number.isFinite(seconds) || seconds <= 0) return say('timer CLIENT_ID SECONDS');
      return say(`timer ${cloud.alerts.set(arg, 'TIMER', cloud.alerts.nowSeconds() + seconds, `${seconds} second`)} set on ${arg}`);
    }
    case 'cancel': return cloud.alerts.delete(arg ?? '', [extra ?? '']);
    case 'rotate': return say(cloud.service.rotateSecret(arg ?? '') ? `RotateSecret sent to ${arg}` : `${arg} is not connected`);
    case 'disconnect': return cloud.service.disconnect(arg ?? '', extra ?? 'GOING_OFFLINE', 'operator');
    case 'quit': case 'exit': return void cloud.close().then(() => process.exit(0));
    case '': case undefined: return;
    default: return say(HELP);
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cloud.close().then(() => process.exit(0)));
