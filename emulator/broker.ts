// The emulator's MQTT broker: aedes in-process by default (the AIS cloud's AWS IoT stand-in), with the
// AIS access rules AWS IoT policies give a device: only its own topic tree, only in the right direction.
// (An external mosquitto with mutual TLS and a per-CN ACL does the same by certificate: test/support/mosquitto.ts.)
// Like AWS IoT it publishes a lifecycle event when a client's connection ends, so the service learns of devices
// that vanish without an AIS Disconnect (mosquitto has no such events).
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { parseDeviceTopic, TOPICS } from '../src/ais/topics.js';
import { checkLimits, GuardedConnection, type ClientLimits, type GuardedStream } from './connection-guard.js';

export interface AisAccessOptions {
  topicRoot: string;                  // "$aws/alexa"
  /** The service's MQTT identity: may read and write every device's topics. */
  serviceClientId: string;
  servicePassword: string;
  /** Refusals, and clients dropped for breaking a limit, are reported here (one line each). */
  onDenied?(line: string): void;
  /** Per-client packet size and rate limits (connection-guard.ts); the service's connection is exempt. */
  limits?: ClientLimits;
  /**
   * MQTT over mutual TLS, AWS IoT's way: a device needs a certificate from `ca`, in date, and may connect only as
   * the client id its certificate names (CN), so nobody takes another's id. The service uses its password.
   */
  tls?: BrokerTls;
  /**
   * The registered devices' credentials (the AIS registry): a registered client id connects only with the
   * certificate (TLS) or MQTT password (plain) issued at its latest registration, so a reissue revokes the old one
   * and, on plain MQTT too, nobody takes a registered id. An id nobody registered gets through to the AIS service,
   * which answers its Connect as AIS does.
   */
  devices?: DeviceCredentials;
}

/** Whether a proof is the current credential of a registered client id; undefined: the id is not registered. */
export interface DeviceCredentials {
  proves(clientId: string, proof: { certificateSha256: string } | { password: Uint8Array }): boolean | undefined;
}

/** PEM texts: the CA client certificates must chain to, and the broker's own certificate and key. */
export interface BrokerTls {
  ca: string;
  cert: string;
  key: string;
}

export interface EmbeddedBroker {
  port: number;
  aedes: Aedes;
  close(): Promise<void>;
}

/** AWS IoT's lifecycle topic for a client whose connection ended. Only the service may subscribe to it. */
export const PRESENCE_DISCONNECTED = '$aws/events/presence/disconnected/';

/** The AWS IoT lifecycle event payload (the fields the emulator can fill; no session or principal identifiers). */
export interface PresenceDisconnected {
  clientId: string;
  /** Unix ms. */
  timestamp: number;
  eventType: 'disconnected';
  clientInitiatedDisconnect: boolean;
  disconnectReason: 'CLIENT_INITIATED_DISCONNECT' | 'MQTT_KEEP_ALIVE_TIMEOUT' | 'CONNECTION_LOST';
  versionNumber: number;
}

/** aedes hooks that enforce the AIS access rules. */
export function aisAccessRules(rules: AisAccessOptions): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const denied = (line: string) => rules.onDenied?.(line);
  const isService = (id: string | undefined) => id === rules.serviceClientId;
  // Why a device's TLS connection does not prove its client id, or undefined when it does.
  const certificateRefusal = (client: Client): string | undefined => {
    const peer = client.conn instanceof GuardedConnection ? client.conn.peerCertificate() : undefined;
    if (peer === undefined) return 'no client certificate';
    if (peer.refused !== undefined) return `the client certificate is not valid (${peer.refused})`;
    if (peer.commonName !== client.id) return `the client certificate names ${peer.commonName === undefined ? 'nobody' : JSON.stringify(peer.commonName)}`;
    if (rules.devices?.proves(client.id, { certificateSha256: peer.sha256 }) === false) return 'not the certificate issued at its latest registration';
    return undefined;
  };
  // Plain MQTT: a registered client id needs the password issued with it, as username = the client id.
  const passwordRefusal = (clientId: string, username: string | undefined, password: Buffer | undefined): string | undefined => {
    const given = username === clientId && password !== undefined ? password : new Uint8Array(0);
    return rules.devices?.proves(clientId, { password: given }) === false ? 'a registered client id needs the MQTT password issued at its registration' : undefined;
  };
  return {
    authenticate: (client, username, password, done) => {
      const refuse = (why: string) => {
        denied(`CONNECT as ${client.id} refused: ${why}`);
        done(Object.assign(new Error(why), { returnCode: isService(client.id) ? 4 : 5 }), false);
      };
      if (isService(client.id)) {
        const ok = username === rules.serviceClientId && password !== undefined && password.toString() === rules.servicePassword;
        return ok ? done(null, true) : refuse('bad credentials for the service');
      }
      // Over WebSocket (no client certificate, as AWS IoT's WebSocket endpoint) the password proves the id as on plain MQTT.
      const byCertificate = rules.tls && !(client.conn instanceof GuardedConnection && !client.conn.overTls);
      const why = byCertificate ? certificateRefusal(client) : passwordRefusal(client.id, username, password);
      if (why !== undefined) return refuse(why);
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
      // Exact topics only: a device has no business with wildcards across the tree, nor with presence events.
      const topic = parseDeviceTopic(rules.topicRoot, sub.topic);
      if (topic && topic.clientId === client.id && TOPICS[topic.leaf].from === 'service') return done(null, sub);
      denied(`SUBSCRIBE from ${client.id} to ${sub.topic} refused`);
      done(null, null); // SUBACK 0x80
    },
  };
}

/** The embedded broker with the AIS access rules and the presence events the service listens to. */
export async function startAisBroker(port: number, rules: AisAccessOptions): Promise<EmbeddedBroker> {
  const broker = await startEmbeddedBroker(port, aisAccessRules(rules), { limits: rules.limits, onDenied: rules.onDenied, tls: rules.tls });
  publishPresenceEvents(broker.aedes, rules.serviceClientId);
  broker.aedes.on('client', (client) => {
    if (client.id === rules.serviceClientId && client.conn instanceof GuardedConnection) client.conn.exempt();
  });
  return broker;
}

/**
 * Publishes `$aws/events/presence/disconnected/<clientId>` whenever a connected client's connection ends,
 * cleanly (MQTT DISCONNECT) or not (socket closed, keep-alive timeout), except for `serviceClientId` and
 * while the broker itself shuts down. Like AWS IoT, ids with `#` or `+` get no events.
 */
export function publishPresenceEvents(aedes: Aedes, serviceClientId: string): void {
  const timedOut = new WeakSet<Client>();
  aedes.on('keepaliveTimeout', (client) => timedOut.add(client));
  aedes.on('clientDisconnect', (client) => {
    if (aedes.closed || client.id === serviceClientId || /[#+]/.test(client.id)) return;
    // aedes sets _disconnected only on a valid MQTT DISCONNECT packet.
    const clean = (client as Client & { _disconnected?: boolean })._disconnected === true;
    const event: PresenceDisconnected = {
      clientId: client.id, timestamp: Date.now(), eventType: 'disconnected', clientInitiatedDisconnect: clean,
      disconnectReason: clean ? 'CLIENT_INITIATED_DISCONNECT' : timedOut.has(client) ? 'MQTT_KEEP_ALIVE_TIMEOUT' : 'CONNECTION_LOST',
      versionNumber: 0,
    };
    aedes.publish({ cmd: 'publish', topic: PRESENCE_DISCONNECTED + client.id, payload: Buffer.from(JSON.stringify(event)), qos: 0, retain: false, dup: false }, () => undefined);
  });
}

/** Hands aedes one client's byte stream behind a GuardedConnection with `limits` (TCP, TLS or WebSocket alike). */
export function handleGuarded(aedes: Aedes, stream: Socket | GuardedStream, limits: Required<ClientLimits>, onDenied?: (line: string) => void): void {
  let client: Client | undefined;
  const from = 'remotePort' in stream ? `${stream.remoteAddress}:${stream.remotePort}` : stream.remoteAddress;
  const connection = new GuardedConnection(stream, limits, (why) => {
    onDenied?.(`client ${client?.id ?? `from ${from} before CONNECT`} dropped: ${why}`);
  });
  client = aedes.handle(connection as unknown as Parameters<Aedes['handle']>[0]) as Client | undefined;
}

/**
 * Starts aedes on 127.0.0.1:`port` (0 = a free port), each client behind a GuardedConnection with `limits`
 * (AWS IoT's by default): the one that breaks them is dropped and named on `onDenied`.
 */
export async function startEmbeddedBroker(port = 0, options: AedesOptions = {}, guard: { limits?: ClientLimits; onDenied?(line: string): void; tls?: BrokerTls } = {}): Promise<EmbeddedBroker> {
  // concurrency 0: aedes's default of 100 makes its emitter (mqemitter) queue what a burst publishes past 100 in
  // flight, and drain that queue by recursion whenever deliveries complete synchronously: a fleet's burst ended
  // the process with "Maximum call stack size exceeded" (mcollina/mqemitter#204). Unqueued, each publish is
  // delivered as it comes; the per-client guard below is what bounds how much a client can send.
  const aedes = await Aedes.createBroker({ concurrency: 0, ...options });
  const limits = checkLimits(guard.limits);
  // No Nagle: small MQTT packets (speaker frames) would otherwise wait for the peer's delayed ACK (~40 ms).
  const accept = (socket: Socket) => handleGuarded(aedes, socket, limits, guard.onDenied);
  // Certificates are checked at CONNECT (aisAccessRules), not in the handshake, so that a refused device gets
  // CONNACK 5 and the log a line naming the client id and why, and the service may connect with its password.
  const server: Server = guard.tls
    ? createTlsServer({ ca: guard.tls.ca, cert: guard.tls.cert, key: guard.tls.key, requestCert: true, rejectUnauthorized: false, noDelay: true }, accept)
    : createServer({ noDelay: true }, accept);
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

