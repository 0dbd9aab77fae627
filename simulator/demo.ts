// The quick-start demo: the emulated AIS cloud and one device on the Node host, on embedded defaults, with the
// protocol trace of both sides. The device links its account (the demo approves the code as a user would on the
// /code page), registers, connects, rotates its secret, rides out a service disconnect and goes offline cleanly.
// The voice round trip comes with the next issue; this shows the whole AIS control plane it stands on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerFromEnv } from '../hosts/node/log.js';
import { nodePorts } from '../hosts/node/ports.js';
import { Device, type DeviceState } from '../src/app/device.js';
import { DEMO_AWS_ACCOUNT, DEMO_LWA_CLIENT, startCloud } from './cloud.js';

const log = loggerFromEnv('demo');
const dataDir = mkdtempSync(join(tmpdir(), 'ais-demo-device-'));
const cloud = await startCloud({ trace: true, pollIntervalMs: 1000, log: log.child('cloud') });

let readyCount = 0;
let onReady: (() => void) | undefined;
const clientId = 'demo-speaker-1';
const device = new Device(nodePorts(dataDir, log.child(clientId)), {
  awsAccountId: DEMO_AWS_ACCOUNT, iotClientId: clientId, iotEndpoint: cloud.iotEndpoint, mqttPort: cloud.mqttPort,
  lwa: { baseUrl: cloud.httpUrl, tls: cloud.httpTrust, clientId: DEMO_LWA_CLIENT.clientId, productId: DEMO_LWA_CLIENT.productIds[0], deviceSerialNumber: 'DEMO-0001' },
  registration: { baseUrl: cloud.httpUrl, tls: cloud.httpTrust }, trace: true,
  connection: { reconnect: { minDelayMs: 500, maxDelayMs: 5000 } },
}, {
  onCode: (pair) => {
    log.info(`(the user opens ${pair.verificationUri} and approves code ${pair.userCode}; the demo does it for them in 1 s)`);
    setTimeout(() => cloud.lwa.approve(pair.userCode), 1000);
  },
  onStateChange: (state: DeviceState) => {
    if (state !== 'ready') return;
    readyCount++;
    onReady?.();
  },
  onStopped: (reason) => {
    log.error(`demo failed: ${reason}`);
    process.exitCode = 1;
  },
});

const step = (what: string, done: () => boolean) => new Promise<void>((resolve, reject) => {
  const deadline = setTimeout(() => reject(new Error(`demo: timed out waiting for ${what}`)), 30_000);
  const check = () => {
    if (!done()) return;
    clearTimeout(deadline);
    onReady = undefined;
    resolve();
  };
  onReady = check;
  const poll = setInterval(() => { check(); if (done()) clearInterval(poll); }, 50);
});

try {
  log.info('1/4 linking, registering and connecting a new device');
  device.start();
  await step('the device to be ready', () => readyCount === 1 && cloud.service.deviceState(clientId)?.synchronizedState !== undefined);

  log.info('2/4 the cloud rotates the device secret');
  const key = cloud.service.rotateSecret(clientId);
  await step('the rotation to be confirmed', () => key !== undefined && Buffer.from(cloud.registration.registry.get(clientId)!.aesKey).equals(Buffer.from(key)));

  log.info('3/4 the cloud disconnects the device (GOING_OFFLINE); it reconnects with fresh sequence numbers');
  cloud.service.disconnect(clientId, 'GOING_OFFLINE', 'demo');
  await step('the device to be ready again', () => readyCount === 2 && cloud.service.deviceState(clientId)?.connections === 2);

  log.info('4/4 the device goes offline');
  device.stop();
  const state = cloud.service.deviceState(clientId)!;
  log.info(`demo finished: linked, registered, ${state.connections} connections, secret rotated, state kept by the cloud: ${JSON.stringify(state.synchronizedState)}`);
} catch (error) {
  log.error((error as Error).message);
  process.exitCode = 1;
  device.stop();
} finally {
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}
