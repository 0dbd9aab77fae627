// Foundation demo: the emulator's broker plus one device on the Node host, on embedded defaults. The device
// connects, subscribes to its AIS topics, and reports; the cloud side answers on the device's directive topic.
// This is the state of the project before the voice round trip exists (see README).
import mqtt from 'mqtt';
import { NodeClock } from '../hosts/node/clock.js';
import { loggerFromEnv } from '../hosts/node/log.js';
import { createSocket } from '../hosts/node/socket.js';
import { MqttClient } from '../src/mqtt/client.js';
import { startEmbeddedBroker } from './broker.js';

const log = loggerFromEnv('demo');
const broker = await startEmbeddedBroker(0);
log.info(`broker (aedes) listening on 127.0.0.1:${broker.port}`);

const clientId = 'demo-device';
const root = `$aws/alexa/ais/v1/${clientId}`;
const inbound = ['directive', 'speaker', 'capabilities/acknowledge', 'connection/fromservice'].map((leaf) => `${root}/${leaf}`);

// The cloud side, for now a plain MQTT.js client standing where the virtual device will be.
const cloud = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'demo-cloud', reconnectPeriod: 0 });
await new Promise<void>((resolve) => cloud.once('connect', () => resolve()));
await cloud.subscribeAsync(`${root}/connection/fromclient`);
cloud.on('message', (topic, payload) => {
  log.info(`cloud received on ${topic.slice(root.length + 1)}: ${payload.toString()}`);
  cloud.publish(`${root}/directive`, JSON.stringify({ note: 'hello from the cloud side' }));
});

const done = new Promise<void>((resolve) => {
  const device = new MqttClient({
    socket: createSocket, clock: new NodeClock(), log: log.child('device'), host: '127.0.0.1', port: broker.port, clientId,
    keepAliveSec: 30, maxPacketBytes: 8192,
    onConnect: () => {
      log.info('device connected and subscribed to its 4 inbound AIS topics; reporting');
      device.publish(`${root}/connection/fromclient`, new Uint8Array(Buffer.from(JSON.stringify({ report: 'device up', heap: 'embedded defaults' }))));
    },
    onMessage: (topic, payload) => {
      log.info(`device received on ${topic.slice(root.length + 1)}: ${Buffer.from(payload).toString()}`);
      device.end();
      resolve();
    },
  });
  device.subscribe(inbound, 0);
  device.connect();
});

await done;
await cloud.endAsync();
await broker.close();
log.info('demo finished: connect, subscribe, report and a reply worked over a real socket');
