// The emulator's MQTT broker: aedes in-process by default (the AIS cloud's AWS IoT stand-in), with the
// AIS access rules AWS IoT policies give a device: only its own topic tree, only in the right direction.
// (An external mosquitto with mutual TLS and a per-CN ACL does the same by certificate: test/support/mosquitto.ts.)
import { Aedes, type AedesOptions } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { parseDeviceTopic, TOPICS } from '../src/ais/topics.js';

export interface AisAccessOptions {
  topicRoot: string;                  // "$aws/alexa"
  /** The service's MQTT identity: may read and write every device's topics. */
  serviceClientId: string;
  servicePassword: string;
  /** Refusals are reported here (one line each). */
  onDenied?(line: string): void;
}

export interface EmbeddedBroker {
  port: number;
  aedes: Aedes;
  close(): Promise<void>;
}

/** aedes hooks that enforce the AIS access rules. */
export function aisAccessRules(rules: AisAccessOptions): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const denied = (line: string) => rules.onDenied?.(line);
  const isService = (id: string | undefined) => id === rules.serviceClientId;
  return {
    authenticate: (client, username, password, done) => {
      if (isService(client.id)) {
        const ok = username === rules.serviceClientId && password !== undefined && password.toString() === rules.servicePassword;
        if (!ok) denied(`CONNECT as the service refused: bad credentials`);
        return done(ok ? null : Object.assign(new Error('bad service credentials'), { returnCode: 4 }), ok);
      }
      // Like AWS IoT, the broker lets any device identity in; the AIS service answers Connect from unregistered ones.
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      if (!client) return done(null);
      if (isService(client.id)) return done(null);
      const topic = parseDeviceTopic(rules.topicRoot, packet.topic);
      if (topic && topic.clientId === client.id && TOPICS[topic.leaf].from === 'device') return done(null);
      denied(`PUBLISH from ${client.id} to ${packet.topic} refused`);
      done(new Error(`publish to ${packet.topic} not allowed`));
    },
    authorizeSubscribe: (client, sub, done) => {
      if (isService(client.id)) return done(null, sub);
      // Exact topics only: a device has no business with wildcards across the tree.
      const topic = parseDeviceTopic(rules.topicRoot, sub.topic);
      if (topic && topic.clientId === client.id && TOPICS[topic.leaf].from === 'service') return done(null, sub);
      denied(`SUBSCRIBE from ${client.id} to ${sub.topic} refused`);
      done(null, null); // SUBACK 0x80
    },
  };
}

/** Starts aedes on 127.0.0.1:`port` (0 = a free port). */
export async function startEmbeddedBroker(port = 0, options: AedesOptions = {}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker(options);
  // No Nagle: small MQTT packets (speaker frames) would otherwise wait for the peer's delayed ACK (~40 ms).
  const server: Server = createServer({ noDelay: true }, aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    aedes,
    close: async () => {
      // aedes.close() ends every client connection, so the listener can close.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

