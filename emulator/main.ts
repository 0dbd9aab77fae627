// `npm run emulator`: the emulated AIS cloud as a long-running process for OEM development, with its web dashboard
// (loopback, the operator password printed at start) and a small operator console on stdin (approve user codes,
// list devices, rotate secrets, disconnect).
//   npm run emulator -- --help prints the options.
// HTTPS uses the development certificate (emulator/dev-pki) unless another is given; MQTT is over mutual TLS
// (the development server certificate, client certificates issued at registration) unless --plain-mqtt.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { commandLine, usageError } from '../hosts/node/command-line.js';
import { loggerFromEnv } from '../hosts/node/log.js';
import { startCloud } from './cloud.js';
import { cardLine } from './ais/cards.js';
import { newOperatorPassword } from './dashboard/server.js';

const SPEC = {
  command: 'npm run emulator --',
  summary: 'The emulated AIS cloud for development: Login with Amazon, AIS registration, the MQTT broker and the AIS service\n'
    + 'with a virtual device that listens and answers. An operator console on stdin (type help).',
  options: {
    'data-dir': { type: 'string', value: 'DIR', help: 'keep accounts, registrations, device capabilities and state here (in memory without it)' },
    'http-port': { type: 'string', value: 'N', help: 'port of LWA, registration and the /code page (any free one without it)' },
    'mqtt-port': { type: 'string', value: 'N', help: 'port of the MQTT broker (any free one without it)' },
    'mqtt-ws-port': { type: 'string', value: 'N', help: 'port of the broker\'s MQTT over WebSocket (the device in the browser; any free one without it)' },
    'https-cert': { type: 'string', value: 'PEM', help: 'serve HTTPS with this certificate (with --https-key) instead of the development one' },
    'https-key': { type: 'string', value: 'PEM', help: 'the key of --https-cert' },
    'plain-http': { type: 'boolean', help: 'serve plain HTTP (local development only)' },
    'plain-mqtt': { type: 'boolean', help: 'plain MQTT instead of mutual TLS (local development only; a registered id needs its issued password)' },
    trace: { type: 'boolean', help: 'log every AIS message, decrypted, secrets redacted' },
    'dashboard-port': { type: 'string', value: 'N', help: 'port of the web dashboard (any free one without it)' },
    'dashboard-host': { type: 'string', value: 'ADDRESS', help: 'address the dashboard listens on', default: '127.0.0.1' },
    'no-dashboard': { type: 'boolean', help: 'no web dashboard' },
  },
} as const;
const { values } = commandLine(SPEC);
const port = (name: 'http-port' | 'mqtt-port' | 'mqtt-ws-port' | 'dashboard-port'): number => {
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
  httpPort: port('http-port'), mqttPort: port('mqtt-port'), plainMqtt: values['plain-mqtt'], mqttWebSocketPort: port('mqtt-ws-port'),
  httpTls: values['plain-http'] ? 'plain' : cert && key ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : undefined,
  dashboard: values['no-dashboard'] ? undefined : { host: values['dashboard-host'], port: port('dashboard-port'), password: newOperatorPassword() },
});
const operator = cloud.operator;

const HELP = 'commands: codes | approve CODE [ACCOUNT] | deny CODE | devices | alerts CLIENT_ID | timer CLIENT_ID SECONDS | cancel CLIENT_ID TOKEN\n'
  + '          | rotate CLIENT_ID | disconnect CLIENT_ID [CODE] | say CLIENT_ID TEXT… | notify CLIENT_ID TEXT… | locale CLIENT_ID LOCALE\n'
  + '          | endpoint CLIENT_ID NAME… on|off|0-100 | cards\n'
  + '          | provision CLIENT_ID [ACCOUNT] | quit';
process.stdout.write(`AIS emulator: ${cloud.httpUrl} (LWA, registration, /code page), MQTT ${cloud.iotEndpoint}:${cloud.mqttPort}`
  + `${cloud.mqttTrust ? ' over mutual TLS (a device gets its certificate when it registers)' : ' (plain MQTT)'}${cloud.mqttWebSocketUrl ? ` and ${cloud.mqttWebSocketUrl}` : ''}\n`
  + (cloud.dashboard ? `dashboard: ${cloud.dashboard.url} (operator password ${cloud.dashboard.password})\n` : '')
  + (cloud.dashboard?.deviceUrl ? `a device in the browser: ${cloud.dashboard.deviceUrl}\n` : '') + `${HELP}\n`);
if (cloud.dashboard && !/^(127\.|::1$|localhost$)/.test(values['dashboard-host'])) log.warn(`the dashboard listens on ${values['dashboard-host']}, beyond this machine: plain HTTP, the password is all that guards it`);
const console = createInterface({ input: process.stdin });
console.on('line', (line) => {
  const [command, arg, extra] = line.trim().split(/\s+/);
  const say = (text: string) => process.stdout.write(`${text}\n`);
  const reply = (r: { message: string }) => say(r.message);
  switch (command) {
    case 'codes': return say(cloud.lwa.pendingUserCodes().join(' ') || '(no code waiting)');
    case 'approve': return reply(operator.approve(arg ?? '', extra));
    case 'deny': return reply(operator.deny(arg ?? ''));
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
    case 'timer': return reply(operator.timer(arg ?? '', Number(extra)));
    case 'cancel': return reply(operator.cancel(arg ?? '', extra ?? ''));
    case 'rotate': return reply(operator.rotate(arg ?? ''));
    case 'disconnect': return reply(operator.disconnect(arg ?? '', extra));
    case 'say': return reply(operator.say(arg ?? '', line.trim().split(/\s+/).slice(2).join(' ')));
    case 'notify': return reply(operator.notify(arg ?? '', line.trim().split(/\s+/).slice(2).join(' ')));
    case 'locale': return reply(operator.locale(arg ?? '', extra ?? ''));
    case 'endpoint': {
      const words = line.trim().split(/\s+/);
      return reply(operator.endpoint(arg ?? '', words.slice(2, -1).join(' '), words.length > 3 ? words.at(-1)! : ''));
    }
    case 'cards':
      for (const id of cloud.registration.registry.clientIds()) {
        const card = cloud.cards.current(id);
        say(`${id}: ${card ? cardLine(card) : '(no card)'}`);
      }
      return;
    case 'provision': return reply(operator.provision(arg ?? '', extra, values['data-dir']));
    case 'quit': case 'exit': return void cloud.close().then(() => process.exit(0));
    case '': case undefined: return;
    default: return say(HELP);
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cloud.close().then(() => process.exit(0)));
