// The whole emulated AIS cloud in one process: Login with Amazon and AIS registration on one HTTP(S) server,
// the MQTT broker with the AIS access rules, and the AIS service that serves each registered device.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger, silentSink } from '../src/ports/log.js';
import { AisService, type AisServiceOptions } from './ais/service.js';
import { aisAccessRules, startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { startHttpServer, type RunningHttpServer } from './http.js';
import { LwaEmulator, type LwaClient } from './lwa.js';
import { RegistrationService } from './registration.js';

export interface CloudOptions {
  /** Where the registry and LWA state persist; in memory when absent. */
  dataDir?: string;
  /** HTTPS with this certificate (PEM); plain HTTP when absent, for local development only. */
  httpTls?: { cert: string; key: string };
  httpPort?: number;
  mqttPort?: number;
  /** The AWS IoT endpoint devices register with and connect to. Default 127.0.0.1. */
  iotEndpoint?: string;
  awsAccountIds?: string[];
  lwaClients?: LwaClient[];
  codeLifetimeMs?: number;
  pollIntervalMs?: number;
  trace?: boolean;
  log?: Logger;
  service?: Partial<AisServiceOptions>;
}

export interface Cloud {
  /** Base URL of LWA and of AIS registration. */
  httpUrl: string;
  mqttPort: number;
  iotEndpoint: string;
  lwa: LwaEmulator;
  registration: RegistrationService;
  service: AisService;
  broker: EmbeddedBroker;
  close(): Promise<void>;
}

export const DEMO_LWA_CLIENT: LwaClient = { clientId: 'amzn1.application-oa2-client.ais-mcu-demo', productIds: ['ais_mcu_demo'] };
export const DEMO_AWS_ACCOUNT = '000000000000';

export async function startCloud(options: CloudOptions = {}): Promise<Cloud> {
  const log = options.log ?? new Logger(silentSink, 'cloud');
  const iotEndpoint = options.iotEndpoint ?? '127.0.0.1';
  const lwa = new LwaEmulator({
    clients: options.lwaClients ?? [DEMO_LWA_CLIENT], dataDir: options.dataDir,
    codeLifetimeMs: options.codeLifetimeMs, pollIntervalMs: options.pollIntervalMs, log: log.child('lwa'),
  });
  const registration = new RegistrationService({
    lwa, awsAccountIds: options.awsAccountIds ?? [DEMO_AWS_ACCOUNT], iotEndpoint, dataDir: options.dataDir, log: log.child('registration'),
  });
  const http: RunningHttpServer = await startHttpServer({ port: options.httpPort, tls: options.httpTls, handlers: [lwa.handle, registration.handle] });
  // The service's broker password is made per run; it never leaves this process.
  const servicePassword = randomBytes(18).toString('base64');
  const brokerLog = log.child('broker');
  const broker = await startEmbeddedBroker(options.mqttPort ?? 0, aisAccessRules({
    topicRoot: '$aws/alexa', serviceClientId: 'ais-service', servicePassword,
    onDenied: (line) => brokerLog.warn(line),
  }));
  const service = new AisService({
    broker: { host: '127.0.0.1', port: broker.port, username: 'ais-service', password: new TextEncoder().encode(servicePassword) },
    directory: registration.registry, log: log.child('service'), trace: options.trace, ...options.service,
  });
  await service.start();
  log.info(`LWA and AIS registration on ${http.url}${options.httpTls ? '' : ' (plain HTTP: local development only)'}, MQTT on ${iotEndpoint}:${broker.port}${options.dataDir ? `, state in ${join(options.dataDir)}` : ''}`);
  return {
    httpUrl: http.url, mqttPort: broker.port, iotEndpoint, lwa, registration, service, broker,
    close: async () => {
      service.close();
      await broker.close();
      await http.close();
    },
  };
}
