// An AIS testbed over real sockets: the emulator's broker with the AIS access rules, its AIS service, and
// devices on the Node host ports. Keys come from a real X25519 exchange: the device side with the portable
// code, the service side with node:crypto (what registration does, minus HTTP).
import { randomFillSync } from 'node:crypto';
import { NodeClock } from '../../hosts/node/clock.js';
import { createSocket } from '../../hosts/node/socket.js';
import { AisConnection, type AisConnectionOptions, type ConnectionState } from '../../src/ais/connection.js';
import { deriveAesKey, generateKeyPair, type EncryptionAlgorithm } from '../../src/ais/keys.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { startAisBroker, type EmbeddedBroker } from '../../emulator/broker.js';
import { deriveServiceKey, generateServiceKeyPair } from '../../emulator/ais/crypto.js';
import { AisService, type AisServiceOptions } from '../../emulator/ais/service.js';
import type { TlsOptions } from '../../src/ports/socket.js';
import { captureLogger } from './log.js';
import { until } from './wait.js';
export { until };
import { startMosquitto, type MosquittoBroker } from './mosquitto.js';
import { createTestPki, type TestPki } from './pki.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const crypto = createPortableCrypto((out) => { randomFillSync(out); });
export const AWS_ACCOUNT = '123456789012';
const SERVICE_PASSWORD = 'service-secret-for-tests';


export const CAPABILITIES = [
  { type: 'AisInterface', interface: 'System', version: '1.0', configurations: { mqtt: { message: { maxSizeInBytes: 8000 } }, firmwareVersion: '1', locale: 'en-US' } },
  { type: 'AisInterface', interface: 'Clock', version: '1.0' },
];

export interface TestDevice {
  clientId: string;
  connection: AisConnection;
  states: ConnectionState[];
  lines: string[];
  fatal: Error[];
  rotatedKeys: Uint8Array[];
  deviceKey: Uint8Array;
}

/** Where the testbed's MQTT runs: the emulator's aedes (default) or Debian mosquitto with mutual TLS. */
export type TestBroker = 'aedes' | 'mosquitto';

export class AisTestbed {
  broker!: EmbeddedBroker;
  mosquitto: MosquittoBroker | undefined;
  private pki: TestPki | undefined;
  private pkiDir: string | undefined;
  service!: AisService;
  readonly registry = new Map<string, { awsAccountId: string; key: Uint8Array }>();
  readonly serviceLog = captureLogger('service');
  readonly denied: string[] = [];
  readonly devices: TestDevice[] = [];

  async start(serviceOptions: Partial<AisServiceOptions> = {}, broker: TestBroker = 'aedes'): Promise<this> {
    if (broker === 'mosquitto') {
      // AWS IoT's way: the certificate CN is the identity, an ACL keeps each device in its own tree.
      this.pkiDir = mkdtempSync(join(tmpdir(), 'ais-testbed-'));
      this.pki = createTestPki({ dir: this.pkiDir, clientNames: ['ais-service'] });
      this.mosquitto = await startMosquitto({
        tls: { caPath: this.pki.ca.certPath, certPath: this.pki.server.certPath, keyPath: this.pki.server.keyPath }, serviceIdentity: 'ais-service',
      });
    } else {
      this.broker = await startAisBroker(0, {
        topicRoot: '$aws/alexa', serviceClientId: 'ais-service', servicePassword: SERVICE_PASSWORD, onDenied: (l) => this.denied.push(l),
      });
    }
    await this.startService(serviceOptions);
    return this;
  }

  /** Host, port and TLS options for `clientId` on the testbed's broker. */
  endpoint(clientId: string): { host: string; port: number; tls?: TlsOptions } {
    if (!this.mosquitto || !this.pki) return { host: '127.0.0.1', port: this.broker.port };
    const cert = this.pki.clients.get(clientId) ?? this.pki.issueClient(clientId);
    return { host: '127.0.0.1', port: this.mosquitto.tlsPort!, tls: { ca: this.pki.ca.certPem, certificate: cert.certPem, key: cert.keyPem, serverName: 'localhost' } };
  }

  async startService(serviceOptions: Partial<AisServiceOptions> = {}): Promise<void> {
    const credentials = this.mosquitto ? {} : { username: 'ais-service', password: new TextEncoder().encode(SERVICE_PASSWORD) };
    this.service = new AisService({
      broker: { ...this.endpoint('ais-service'), ...credentials },
      directory: {
        lookup: (id) => this.registry.get(id),
        updateKey: (id, key) => { this.registry.get(id)!.key = key; },
      },
      log: this.serviceLog.log, trace: true, gapTimeoutMs: 500,
      ...serviceOptions,
    });
    await this.service.start();
  }

  /** Registers `clientId` (a real key exchange with `algorithm`) and returns the device's AES key. */
  register(clientId: string, algorithm: EncryptionAlgorithm = 'ECDH_CURVE_25519_32_BYTE'): Uint8Array {
    const device = generateKeyPair(crypto);
    const service = generateServiceKeyPair();
    const deviceKey = deriveAesKey(crypto, algorithm, device.privateKey, service.publicKey);
    const serviceKey = deriveServiceKey(algorithm, service.privateKey, device.publicKey);
    this.registry.set(clientId, { awsAccountId: AWS_ACCOUNT, key: new Uint8Array(serviceKey) });
    return deviceKey;
  }

  device(clientId: string, over: Partial<AisConnectionOptions> & { algorithm?: EncryptionAlgorithm; awsAccountId?: string } = {}): TestDevice {
    const deviceKey = this.registry.has(clientId) && over.identity ? over.identity.key : this.register(clientId, over.algorithm);
    const { log, lines } = captureLogger(clientId);
    const states: ConnectionState[] = [];
    const fatal: Error[] = [];
    const rotatedKeys: Uint8Array[] = [];
    const connection = new AisConnection({
      identity: { topicRoot: '$aws/alexa', clientId, awsAccountId: over.awsAccountId ?? AWS_ACCOUNT, key: deviceKey },
      mqtt: { socket: createSocket, ...this.endpoint(clientId), keepAliveSec: 30 },
      clock: new NodeClock(), log, crypto, trace: true,
      capabilities: () => CAPABILITIES,
      synchronizeState: () => ({ speaker: { volume: 40 }, alerts: { allAlerts: [] } }),
      reconnect: { minDelayMs: 20, maxDelayMs: 200 }, acknowledgeTimeoutMs: 2000, gapTimeoutMs: 500,
      onStateChange: (s) => states.push(s),
      onFatal: (e) => fatal.push(e),
      onSecretRotated: (k) => rotatedKeys.push(k.slice()),
      ...over,
    });
    const device = { clientId, connection, states, lines, fatal, rotatedKeys, deviceKey };
    this.devices.push(device);
    return device;
  }

  /** Starts `device` and waits until it is ready and the service has its SynchronizeState. */
  async connectReady(device: TestDevice): Promise<void> {
    device.connection.start();
    await until(`${device.clientId} ready and synchronized`, () => device.connection.state === 'ready'
      && this.service.isConnected(device.clientId) && this.service.deviceState(device.clientId)?.synchronizedState !== undefined);
  }

  async stop(): Promise<void> {
    for (const d of this.devices) d.connection.close();
    this.service?.close();
    await this.broker?.close();
    await this.mosquitto?.close();
    if (this.pkiDir) rmSync(this.pkiDir, { recursive: true, force: true });
  }
}
