// The whole emulated AIS cloud in one process: Login with Amazon and AIS registration on one HTTP(S) server,
// the MQTT broker with the AIS access rules, and the AIS service that serves each registered device.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger, silentSink } from '../src/ports/log.js';
import type { TlsOptions } from '../src/ports/socket.js';
import type { DeviceConfig } from '../src/app/device.js';
import { DEMO_AWS_ACCOUNT, DEMO_LWA_CLIENT } from '../hosts/node/demo-product.js';
import { AisService, type AisServiceOptions } from './ais/service.js';
import { startAisBroker, type EmbeddedBroker } from './broker.js';
import { serveMqttOverWebSocket, type MqttWebSocketListener } from './broker-websocket.js';
import { DEV_CA_PEM, DEV_SERVER_NAMES, DEV_SERVER_TLS } from './dev-pki.js';
import { startHttpServer, type RunningHttpServer } from './http.js';
import { LwaEmulator, type LwaClient, type LwaEmulatorOptions } from './lwa.js';
import { RegistrationService } from './registration.js';
import { VoiceSessions, type VoiceSessionOptions } from './ais/voice-session.js';
import { AlertService, type AlertServiceOptions } from './ais/alerts.js';
import { CardService } from './ais/cards.js';
import { EndpointService } from './ais/endpoints.js';
import { LocaleService } from './ais/locales.js';
import { NotificationService } from './ais/notifications.js';
import { MusicPlayer, type MusicPlayerOptions } from './ais/music-player.js';
import { fluidsynthMissingHint } from './voice/music.js';
import { DeviceStore } from './ais/device-store.js';
import { pocketsphinxMissingHint, POCKETSPHINX_INSTALL_HINT } from './voice/asr.js';
import { bothObservers, CloudMonitor } from './dashboard/monitor.js';
import { startDashboard, type DashboardOptions } from './dashboard/server.js';
import { browserDeviceRoutes } from './dashboard/browser-device.js';
import { Operator } from './operator.js';

export interface CloudOptions {
  /** Where the registry and LWA state persist; in memory when absent. */
  dataDir?: string;
  /**
   * HTTPS certificate and key (PEM). Default: the development PKI (emulator/dev-pki), which devices trust
   * through `Cloud.httpTrust`. 'plain' serves plain HTTP, for local development only.
   */
  httpTls?: { cert: string; key: string } | 'plain';
  /**
   * Use this broker (e.g. Debian mosquitto with mutual TLS and a per-CN ACL) instead of the embedded aedes;
   * `tls` is the service's own client identity there.
   */
  externalBroker?: { host: string; port: number; tls?: TlsOptions; username?: string; password?: Uint8Array };
  httpPort?: number;
  mqttPort?: number;
  /**
   * Serve plain MQTT instead of MQTT over mutual TLS (a development option: AWS IoT has no plain MQTT). A
   * registered client id still needs the MQTT password issued at its registration.
   */
  plainMqtt?: boolean;
  /** Also serve the embedded broker as MQTT over WebSocket on this port (0: a free one); not served when absent. */
  mqttWebSocketPort?: number;
  /** The AWS IoT endpoint devices register with and connect to. Default 127.0.0.1. */
  iotEndpoint?: string;
  awsAccountIds?: string[];
  lwaClients?: LwaClient[];
  /** LWA's per-address limits (a load test links thousands of devices from one address). */
  lwaLimits?: Pick<LwaEmulatorOptions, 'codePairsPerMinute' | 'maxLiveCodePairs' | 'codeAttemptsPerMinute'>;
  codeLifetimeMs?: number;
  pollIntervalMs?: number;
  trace?: boolean;
  log?: Logger;
  service?: Partial<AisServiceOptions>;
  /**
   * The spoken round trip (emulator/ais/voice-session.ts): a virtual device listens to each device's
   * microphone and answers on its speaker. Default: on when pocketsphinx is installed; otherwise off with a
   * one-line hint. Observers may be given as an object.
   */
  voice?: boolean | Partial<Omit<VoiceSessionOptions, 'log'>>;
  /** The Clock and Alerts service (emulator/ais/alerts.ts): the cloud's clock, alert durations. */
  alerts?: Partial<Omit<AlertServiceOptions, 'log'>>;
  /** Observers of the music player (emulator/ais/music-player.ts), on with voice. */
  music?: Omit<MusicPlayerOptions, 'log'>;
  /** Serve the web dashboard (emulator/dashboard/): devices, turns, the protocol trace, the operator's actions. */
  dashboard?: DashboardOptions;
}

export interface Cloud {
  /** Base URL of LWA and of AIS registration. */
  httpUrl: string;
  /** The development CA for devices to trust, when the emulator serves HTTPS with it; else undefined (plain HTTP, or your own certificate). */
  httpTrust: TlsOptions | undefined;
  mqttPort: number;
  /**
   * What a device trusts for MQTT over TLS (the development CA that signed the broker's certificate); its own
   * certificate comes with its registration. Undefined with plainMqtt or an external broker.
   */
  mqttTrust: TlsOptions | undefined;
  /** ws://…/mqtt when the embedded broker is served over WebSocket too (`mqttWebSocketPort`). */
  mqttWebSocketUrl: string | undefined;
  iotEndpoint: string;
  lwa: LwaEmulator;
  registration: RegistrationService;
  service: AisService;
  /** The virtual devices' glue, when voice is on. */
  voice: VoiceSessions | undefined;
  /** Music by cloud mixing, when voice is on: what plays on each device (MusicPlayer.nowPlaying). */
  music: MusicPlayer | undefined;
  /** SetClock, the alerts set by voice and their ringing, each device's volume. */
  alerts: AlertService;
  /** Each device's connected endpoints and their state (EndpointForwarding). */
  endpoints: EndpointService;
  /** Each device's locale: SetLocales, and the refusal of one without a recogniser. */
  locales: LocaleService;
  /** Unread notifications and their indicator. */
  notifications: NotificationService;
  /** The card each device shows (answers, now playing, timers). */
  cards: CardService;
  /** The embedded broker; undefined with an external one. */
  broker: EmbeddedBroker | undefined;
  /** What an operator may do (the console and the dashboard). */
  operator: Operator;
  /** The dashboard's URL and operator password, when it is served. */
  dashboard: { url: string; password: string; deviceUrl: string | undefined } | undefined;
  close(): Promise<void>;
}

export { DEMO_AWS_ACCOUNT, DEMO_LWA_CLIENT };

/** What a device needs to reach this cloud (its LWA, AIS registration and broker), as the demo product. */
export function deviceConfigFor(cloud: Cloud, clientId: string): DeviceConfig {
  return {
    awsAccountId: DEMO_AWS_ACCOUNT, iotClientId: clientId, iotEndpoint: cloud.iotEndpoint, mqttPort: cloud.mqttPort, mqttTls: cloud.mqttTrust,
    lwa: { baseUrl: cloud.httpUrl, tls: cloud.httpTrust, clientId: DEMO_LWA_CLIENT.clientId, productId: DEMO_LWA_CLIENT.productIds[0], deviceSerialNumber: `SN-${clientId}` },
    registration: { baseUrl: cloud.httpUrl, tls: cloud.httpTrust },
  };
}

export async function startCloud(options: CloudOptions = {}): Promise<Cloud> {
  const log = options.log ?? new Logger(silentSink, 'cloud');
  const iotEndpoint = options.iotEndpoint ?? '127.0.0.1';
  const lwa = new LwaEmulator({
    clients: options.lwaClients ?? [DEMO_LWA_CLIENT], dataDir: options.dataDir,
    codeLifetimeMs: options.codeLifetimeMs, pollIntervalMs: options.pollIntervalMs, log: log.child('lwa'), ...options.lwaLimits,
  });
  const registration = new RegistrationService({
    lwa, awsAccountIds: options.awsAccountIds ?? [DEMO_AWS_ACCOUNT], iotEndpoint, dataDir: options.dataDir, log: log.child('registration'),
    // The broker's certificate names 127.0.0.1 and localhost: a device may register with either (Amazon's C client
    // over mbedTLS 2 can only verify localhost).
    iotEndpointAliases: DEV_SERVER_NAMES.includes(iotEndpoint) ? DEV_SERVER_NAMES : [],
  });
  const plain = options.httpTls === 'plain';
  const httpTls = plain ? undefined : (options.httpTls as { cert: string; key: string } | undefined) ?? DEV_SERVER_TLS;
  const http: RunningHttpServer = await startHttpServer({ port: options.httpPort, tls: httpTls, handlers: [lwa.handle, registration.handle] });
  let broker: EmbeddedBroker | undefined;
  let serviceBroker = options.externalBroker;
  // The broker's server certificate is the development one (for 127.0.0.1 and localhost); client certificates
  // come from the registration's device CA.
  const mqttTrust = serviceBroker || options.plainMqtt ? undefined : { ca: DEV_CA_PEM };
  if (!serviceBroker) {
    // The service's broker password is made per run; it never leaves this process.
    const servicePassword = randomBytes(18).toString('base64');
    const brokerLog = log.child('broker');
    broker = await startAisBroker(options.mqttPort ?? 0, {
      topicRoot: '$aws/alexa', serviceClientId: 'ais-service', servicePassword, devices: registration.credentials,
      tls: mqttTrust && { ca: registration.deviceCa.certificatePem, ...DEV_SERVER_TLS },
      onDenied: (line) => brokerLog.warn(line),
    });
    serviceBroker = { host: '127.0.0.1', port: broker.port, tls: mqttTrust && { ...mqttTrust, serverName: 'localhost' }, username: 'ais-service', password: new TextEncoder().encode(servicePassword) };
  }
  const mqttWebSocket: MqttWebSocketListener | undefined = broker && options.mqttWebSocketPort !== undefined
    ? await serveMqttOverWebSocket(broker.aedes, options.mqttWebSocketPort, { onDenied: (line) => log.child('broker').warn(line) })
    : undefined;
  const alerts = new AlertService({ log: log.child('alerts'), ...options.alerts });
  const endpoints = new EndpointService({ log: log.child('endpoints') });
  const locales = new LocaleService({ log: log.child('locales') });
  const notifications = new NotificationService({ log: log.child('notifications') });
  const cards = new CardService({ log: log.child('cards') });
  // The dashboard observes the voice sessions and the service beside whoever else does.
  const monitor = options.dashboard ? new CloudMonitor() : undefined;
  // Cards follow the turns: the heard text titles the answer's card.
  const cardObservers: Pick<VoiceSessionOptions, 'onTranscript' | 'onAnswer'> = {
    onTranscript: (id, t) => cards.transcript(id, t.rejected ? '' : t.text),
    onAnswer: (id, a) => cards.answer(id, a.text),
  };
  const voiceOptions = bothObservers(cardObservers, typeof options.voice === 'object' ? options.voice : {});
  const serviceOptions = monitor ? bothObservers(monitor.serviceObservers(), options.service) : options.service;
  let voice: VoiceSessions | undefined;
  let music: MusicPlayer | undefined;
  if (options.voice !== false) {
    const missing = pocketsphinxMissingHint();
    if (missing === undefined) {
      const player = new MusicPlayer({
        log: log.child('music'), ...options.music,
        onNowPlaying: (id, playing) => {
          if (playing?.state === 'PLAYING') cards.nowPlaying(id, playing);
          options.music?.onNowPlaying?.(id, playing);
        },
      });
      voice = new VoiceSessions({
        log: log.child('voice'),
        assistantContext: (id) => ({ ...alerts.assistantContext(id), ...endpoints.assistantContext(id), ...notifications.assistantContext(id) }),
        onActions: (id, actions) => {
          alerts.act(id, actions);
          endpoints.act(id, actions);
          notifications.act(id, actions);
          cards.act(id, actions);
          player.actions(id, actions);
        },
        onIdle: (id) => player.idle(id),
        ...(monitor ? bothObservers(monitor.voiceObservers(), voiceOptions) : voiceOptions),
      });
      music = player;
      music.attach(voice);
      const noMusic = fluidsynthMissingHint();
      if (noMusic) log.warn(noMusic);
    } else log.warn(`voice off: pocketsphinx not found; ${POCKETSPHINX_INSTALL_HINT}`);
  }
  // Each feature's hooks chain to those before it.
  let hooks: Partial<AisServiceOptions> = { ...serviceOptions, ...alerts.serviceHooks(serviceOptions) };
  hooks = { ...hooks, ...endpoints.serviceHooks(hooks) };
  hooks = { ...hooks, ...locales.serviceHooks(hooks) };
  hooks = { ...hooks, ...notifications.serviceHooks(hooks) };
  const service = new AisService({
    broker: serviceBroker, directory: registration.registry, log: log.child('service'), trace: options.trace,
    store: new DeviceStore(options.dataDir ? join(options.dataDir, 'ais-devices.json') : undefined),
    ...hooks, ...(voice && music ? music.serviceHooks(voice.serviceHooks(hooks)) : {}),
  });
  alerts.attach(service, voice);
  endpoints.attach(service);
  locales.attach(service);
  notifications.attach(service);
  voice?.attach(service);
  await service.start();
  const mqttPort = broker?.port ?? serviceBroker.port;
  log.info(`LWA and AIS registration on ${http.url}${plain ? ' (plain HTTP: local development only)' : ' (development certificate)'}, `
    + `MQTT on ${iotEndpoint}:${mqttPort}${broker ? (mqttTrust ? ' (mutual TLS)' : ' (plain MQTT: local development only)') : ' (external broker)'}`
    + `${mqttWebSocket ? ` and ${mqttWebSocket.url}` : ''}${options.dataDir ? `, state in ${join(options.dataDir)}` : ''}`);
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
  const cloud: Cloud = {
    httpUrl: http.url, httpTrust: options.httpTls === undefined ? { ca: DEV_CA_PEM } : undefined,
    mqttPort, mqttTrust, mqttWebSocketUrl: mqttWebSocket?.url, iotEndpoint, lwa, registration, service, voice, music, alerts,
    endpoints, locales, notifications, cards, broker, dashboard: undefined,
    operator: new Operator({ lwa, service, alerts, voice, registration, endpoints, locales, notifications, cards }, (id, text) => monitor?.said(id, text)),
    close: async () => {
      monitor?.close();
      await dashboard?.close();
      alerts.close();
      voice?.close();
      service.close();
      await mqttWebSocket?.close();
      await broker?.close();
      await http.close();
    },
  };
  if (options.dashboard && monitor) {
    monitor.attach(cloud);
    // With MQTT over WebSocket, the same server hands out the device in the browser, and LWA and registration for it.
    const url = mqttWebSocket?.url;
    const handlers = url ? [browserDeviceRoutes({ config: (id) => deviceConfigFor(cloud, id), mqttWebSocketUrl: url }), lwa.handle, registration.handle] : [];
    dashboard = await startDashboard({ ...options.dashboard, handlers: [...(options.dashboard.handlers ?? []), ...handlers] }, monitor, cloud.operator, log.child('dashboard'));
    cloud.dashboard = { url: dashboard.url, password: options.dashboard.password, deviceUrl: url ? `${dashboard.url}device/` : undefined };
  }
  return cloud;
}
