// `npm run device`: the firmware on the Node host, against the emulator or another AIS endpoint.
//   npm run device -- --cloud http://127.0.0.1:PORT --mqtt-port N [options]   (--help lists them)
// Voice: --say taps and says each WAV in turn, one turn each; --mic listens to the system microphone
// (sox's `rec`) and Enter taps to talk; --play sends the answers to the system speaker (sox's `play`); --out
// writes what the speaker played to a WAV file when the device stops (--mic and --play: Node host only). Without
// any of them the device has no audio. On a terminal, lines typed press the device's buttons (Enter taps to talk;
// play, pause, next, previous, stop…: hosts/node/console-buttons.ts).
// --host xs runs the same application on xsrun, the XS engine with the ECMA-419 ports of hosts/moddable
// (hosts/xs/device.ts); --provision is Node only there.
// --host cortex-m builds the device image and boots it on QEMU's Cortex-M7 with the co-processor bridge in this
// process (hosts/node/cortex-m-cli.ts): --say and --out as on the others; no --provision, --mic, --play, and no
// --data-dir (the image keeps its keys in RAM, so each boot links again).
// With --provision the companion-app endpoint accepts a refresh token instead of code-based linking.
// --say and --out give the device audio (16 kHz mono 16-bit WAV files for its microphone and speaker, real time):
// once it is ready it taps and says the first --say WAV, and each next one once the previous answer has played;
// --out records what its speaker plays. On --host xs, lines typed on stdin drive it too: `tap`, `say PATH`.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { commandLine } from './command-line.js';
import { DEMO_AWS_ACCOUNT, DEMO_LWA_CLIENT } from './demo-product.js';
import { loggerFromEnv } from './log.js';
import { nodePorts } from './ports.js';
import { nodeVoice } from './voice-cli.js';
import { showCodePair, startProvisioningServer } from './provisioning.js';

const { values } = commandLine({
  command: 'npm run device --',
  summary: 'The firmware on the Node host (or on xsrun, or on QEMU\'s Cortex-M7) against the emulator or another AIS endpoint.\n'
    + 'It links by code (or --provision), registers, connects and serves voice turns; without --say, --out, --mic or --play it has no audio.\n'
    + 'On a terminal (Node host), Enter taps to talk and a line naming a button presses it: play, pause, next, previous, stop, micOff, volumeUp, volumeDown.',
  options: {
    cloud: { type: 'string', value: 'URL', help: 'base URL of LWA and AIS registration (npm run emulator prints it); required' },
    'mqtt-port': { type: 'string', value: 'N', help: 'the MQTT broker\'s port (npm run emulator prints it); required' },
    'mqtt-host': { type: 'string', value: 'HOST', help: 'the MQTT broker\'s host', default: '127.0.0.1' },
    'client-id': { type: 'string', value: 'ID', help: 'the device\'s AWS IoT client id', default: 'node-device-1' },
    account: { type: 'string', value: 'ID', help: 'the AWS account id it registers under', default: '000000000000' },
    'data-dir': { type: 'string', value: 'DIR', help: 'where it keeps its keys, tokens, alerts and volume (default .device-data/CLIENT_ID)' },
    provision: { type: 'boolean', help: 'accept a refresh token from a companion app instead of code-based linking (Node host only)' },
    trace: { type: 'boolean', help: 'log every AIS message, decrypted, secrets redacted' },
    ca: { type: 'string', value: 'PEM', help: 'trust this CA for HTTPS instead of the emulator\'s development CA' },
    'mqtt-ca': { type: 'string', value: 'PEM', help: 'trust this CA for MQTT over TLS instead of the emulator\'s development CA' },
    'plain-mqtt': { type: 'boolean', help: 'plain MQTT, for an emulator run with --plain-mqtt (development only)' },
    host: { type: 'string', value: 'node|xs|cortex-m', help: 'where the firmware runs', default: 'node' },
    say: { type: 'string', value: 'WAV', help: 'once ready, tap and say this 16 kHz mono WAV; each next one after the previous answer', multiple: true },
    out: { type: 'string', value: 'WAV', help: 'write what the speaker played to this WAV when the device stops' },
    mic: { type: 'boolean', help: 'listen to the system microphone (sox\'s rec); Enter taps to talk (Node host only)' },
    play: { type: 'boolean', help: 'play the answers on the system speaker (sox\'s play) (Node host only)' },
  },
});
const log = loggerFromEnv('device');
const said = (values.say ?? []).map((path) => resolve(path));
const withVoice = said.length > 0 || values.out !== undefined;
if (!values.cloud || !values['mqtt-port']) {
  log.error('--cloud URL and --mqtt-port N are required (npm run emulator prints both)');
  process.exit(2);
}
const clientId = values['client-id'] ?? 'node-device-1';
const dataDir = values['data-dir'] ?? `.device-data/${clientId}`;
// HTTPS to the emulator trusts its development CA unless another CA file is given: read as a data file, so this
// host does not import the emulator (which imports it; docs/architecture.md, layering).
const DEV_CA_FILE = new URL('../../../emulator/dev-pki/ca.pem', import.meta.url);
const trust = values.cloud.startsWith('https:') ? { ca: readFileSync(values.ca ?? DEV_CA_FILE, 'utf8') } : undefined;
// MQTT over TLS by default, the client certificate being the one issued with the registration.
const mqttTls = values['plain-mqtt'] ? undefined : { ca: readFileSync(values['mqtt-ca'] ?? DEV_CA_FILE, 'utf8') };
const config: DeviceConfig = {
  awsAccountId: values.account ?? DEMO_AWS_ACCOUNT, iotClientId: clientId, iotEndpoint: values['mqtt-host'] ?? '127.0.0.1',
  mqttPort: Number(values['mqtt-port']), mqttTls, trace: values.trace,
  lwa: { baseUrl: values.cloud, tls: trust, clientId: DEMO_LWA_CLIENT.clientId, productId: DEMO_LWA_CLIENT.productIds[0], deviceSerialNumber: clientId },
  registration: { baseUrl: values.cloud, tls: trust },
};

if (values.host === 'cortex-m') {
  const unsupported = (['provision', 'mic', 'play', 'data-dir'] as const).find((name) => values[name] !== undefined);
  if (unsupported) {
    log.error(`--${unsupported} is not supported on --host cortex-m${unsupported === 'data-dir' ? ': the image keeps its keys in RAM (QEMU gives it no writable flash), so each boot links again' : ' (Node host only)'}`);
    process.exit(2);
  }
  const { runCortexMDevice } = await import('./cortex-m-cli.js');
  process.exitCode = await runCortexMDevice({ config, say: said, out: values.out && resolve(values.out), logLevel: process.env.LOG_LEVEL || 'info', log });
} else if (values.host === 'xs') {
  mkdirSync(dataDir, { recursive: true });
  if (values.provision) {
    log.error('--provision runs on the Node host only');
    process.exit(2);
  }
  const { prepareXsDevice, spawnXsDevice } = await import('./xs-launch.js');
  await prepareXsDevice({ quiet: false });
  const child = spawnXsDevice({ config, dataDir: resolve(dataDir), logLevel: process.env.LOG_LEVEL || 'info', voice: withVoice ? { out: values.out && resolve(values.out) } : undefined });
  child.stdout.pipe(process.stdout);
  child.stderr.pipe(process.stderr);
  if (withVoice) {
    // The turns of --say, by the device's log lines: ready, then each answer played to its end.
    let rest = '';
    const next = () => { const path = said.shift(); if (path) child.stdin.write(`tap\nsay ${path}\n`); };
    child.stderr.on('data', (text: Buffer) => {
      const lines = (rest + text.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line.endsWith('[device] state ready') || line.includes('speaker: closed at')) next();
    });
    process.stdin.pipe(child.stdin, { end: false });
  }
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal ? 1 : 0); });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill());
} else if (values.host === 'node') {
  mkdirSync(dataDir, { recursive: true });
  const ports = nodePorts(dataDir, log);
  const voice = nodeVoice({ say: values.say, out: values.out, mic: values.mic, play: values.play }, log.child('voice'));
  if (voice.audio) ports.audio = voice.audio;
  const device = new Device(ports, config, {
    onCode: (pair) => showCodePair(pair), onStopped: () => { process.exitCode = 1; },
    onAttention: (state) => voice.attention(state),
    onTurnFailed: (reason) => voice.turnFailed(reason),
    onStateChange: (state) => { if (state === 'ready') voice.ready(device); },
  });
  if (values.provision) {
    const server = await startProvisioningServer({ storage: ports.storage, log, onProvisioned: () => { void server.close(); device.start(); } });
  } else {
    device.start();
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { device.stop(); voice.close(); process.exit(0); });
} else {
  log.error(`--host must be node, xs or cortex-m, got ${JSON.stringify(values.host)}`);
  process.exit(2);
}
