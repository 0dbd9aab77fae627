// The device application's boot sequence, portable across hosts:
//   a stored registration   → connect to AIS
//   stored LWA credentials  → register (then connect)          (credentials from linking or a companion app)
//   neither                 → code-based linking (then register, then connect)
// With audio ports, the connection carries the Microphone and Speaker components and the frame paths between
// them and the ports (src/app/voice.ts); barge-in closes the speaker first.
// A fatal connection error that means the registration is no longer valid (ENCRYPTION_ERROR, INVALID_CLIENT_ID)
// drops the record and goes back to linking; a rotated key replaces the stored one before SecretRotated is sent.
// Per connection the namespaces of src/ais/ are wired here: Clock (wall time kept across connections), Alerts
// (stored, rung by the cloud or by the local tone through the speaker), attention (the ui port's LEDs), the
// locale (stored), the connected endpoints (the lamp and the light ring, through the ui port) and the buttons
// (src/app/controls.ts).

import type { Clock } from '../ports/clock.js';
import type { Crypto } from '../ports/crypto.js';
import type { HttpClient } from '../ports/http.js';
import type { Logger } from '../ports/log.js';
import type { SocketFactory, TlsOptions } from '../ports/socket.js';
import type { Storage } from '../ports/storage.js';
import type { AudioInFactory, AudioOutFactory } from '../ports/audio.js';
import type { Opus } from '../ports/opus.js';
import type { AttentionLight, EndpointLook, Ui, UiFactory } from '../ports/ui.js';
import { Alerts, type Ringing } from '../ais/alerts.js';
import { ALERTS_KEY, AlertStoreError } from '../ais/alert-store.js';
import { Attention, ATTENTION_STATES, type CloudAttentionState } from '../ais/attention.js';
import { AisClock, NTP_UNIX_OFFSET_S, WallClock } from '../ais/clock.js';
import { EndpointForwarding } from '../ais/endpoints.js';
import { Locales } from '../ais/locales.js';
import { newMessageId } from '../ais/message.js';
import { synchronizeStatePayload, systemCapability } from '../ais/system.js';
import { AlertTone } from '../audio/tone.js';
import { Controls } from './controls.js';
import { Microphone, type MicrophoneInitiator } from '../ais/microphone.js';
import type { Speaker, SpeakerOptions } from '../ais/speaker.js';
import type { EchoCanceller, WakeWordDetector } from '../audio/hooks.js';
import { Voice } from './voice.js';
import { AisConnection, type AisConnectionOptions, type AisFatalError, type ConnectionState } from '../ais/connection.js';
import type { EncryptionAlgorithm } from '../ais/keys.js';
import { CodeBasedLinking, loadLinkCredentials, type CodePair } from '../ais/linking.js';
import { deleteRegistration, loadRegistration, Registrar, saveRegistration, type Registration } from '../ais/registration.js';
import { encodeUtf8 } from '../encoding/utf8.js';

export const FIRMWARE_VERSION = '0.1.0';

export interface DevicePorts {
  clock: Clock;
  log: Logger;
  crypto: Crypto;
  storage: Storage;
  http: HttpClient;
  socket: SocketFactory;
  /**
   * Microphone, loudspeaker and codec; without them the device runs the control plane only. The DSP hooks
   * (src/audio/hooks.ts) are the host's: native/dsp's defaults (whose canceller finds the bulk delay itself) or
   * an OEM's block; outputDelayMs takes a known fixed part of the output path off the reference (FrontEndOptions).
   */
  audio?: { audioIn: AudioInFactory; audioOut: AudioOutFactory; opus: Opus; echoCanceller?: EchoCanceller; wakeWord?: WakeWordDetector; outputDelayMs?: number };
  /** Buttons and attention LEDs; without it the app drives Device.controls and onAttention itself. */
  ui?: UiFactory;
}

/** Where the speaker volume persists across reboots (reported in SynchronizeState). */
export const VOLUME_KEY = 'app.volume';

export interface DeviceConfig {
  /**
   * AWS IoT: account, Thing name (MQTT client id), endpoint host and the MQTT port and TLS to reach it: the broker's
   * CA, and the client certificate and key when provisioned at the factory; without them the device uses the
   * identity issued with its registration (the emulator's). Without mqttTls, plain MQTT (a development broker),
   * with the registration's MQTT password.
   */
  awsAccountId: string;
  iotClientId: string;
  iotEndpoint: string;
  mqttPort: number;
  mqttTls?: TlsOptions;
  /** Login with Amazon: the product's security profile and this unit's serial number. */
  lwa: { baseUrl: string; clientId: string; productId: string; deviceSerialNumber: string; tls?: TlsOptions };
  registration: { baseUrl: string; tls?: TlsOptions; algorithm?: EncryptionAlgorithm };
  /** The locale before the cloud or the user set one (then the stored one wins). Default en-US. */
  locale?: string;
  /** How the user opens the microphone (default TAP: a button). */
  initiator?: MicrophoneInitiator;
  /** The speaker's jitter buffer, sized to the board's RAM (declared in the Speaker capability, §6). */
  speakerBuffer?: Partial<Pick<SpeakerOptions, 'bufferBytes' | 'overrunWarningBytes' | 'underrunWarningBytes' | 'startFrames'>>;
  /** System capability mqtt.message.maxSizeInBytes. Default 8000. */
  maxMessageBytes?: number;
  trace?: boolean;
  /** Test and demo tuning of the connection (timeouts, backoff). */
  connection?: Partial<Pick<AisConnectionOptions, 'acknowledgeTimeoutMs' | 'reconnect' | 'gapTimeoutMs' | 'publishSpacingMs'>>;
  /** Online, how long an alert that is due waits for the cloud to ring it before the local tone (default 3000 ms). */
  alertCloudGraceMs?: number;
}

export interface DeviceCallbacks {
  /** Show the user code (display, LED pattern, companion app). */
  onCode?(codePair: CodePair): void;
  onStateChange?(state: DeviceState, detail?: string): void;
  /** The device cannot go on by itself (a configuration fault). */
  onStopped?(reason: string): void;
  /** The attention light changed (src/ais/attention.ts): the cloud's SetAttentionState at its offset, or LISTENING, ERROR, local ALERTING, MICROPHONE_OFF. */
  onAttention?(state: AttentionState): void;
  /** An alert started or stopped ringing (undefined), and who rings it. */
  onAlert?(ringing: Ringing | undefined): void;
  /** A turn failed (the connection was lost during it, or a tap found it not ready): the error tone plays; `reason` says which. */
  onTurnFailed?(reason: string): void;
  /** A connected endpoint changed (the cloud's directive or a local change): what the lamp's GPIO or the ring shows. */
  onEndpoint?(id: 'lamp' | 'ring', look: EndpointLook): void;
  /** The stored locale changed (the cloud's SetLocales). */
  onLocale?(locale: string): void;
}

export type DeviceState = 'linking' | 'registering' | ConnectionState;

export { ATTENTION_STATES };
export type AttentionState = AttentionLight;

/** How the device proves its client id: a configured certificate, else the one issued at registration; on plain MQTT its password. */
function mqttCredentials(tls: TlsOptions | undefined, registration: Registration): { tls?: TlsOptions; username?: string; password?: Uint8Array } {
  const identity = registration.identity;
  if (tls) {
    return { tls: tls.certificate !== undefined || identity === undefined ? tls : { ...tls, certificate: identity.certificatePem, key: identity.privateKey } };
  }
  return identity ? { username: registration.iotClientId, password: encodeUtf8(identity.mqttPassword) } : {};
}

export class Device {
  connection: AisConnection | undefined;
  /** The voice components while connected with audio ports: the app's buttons call microphone.tap() and friends. */
  microphone: Microphone | undefined;
  speaker: Speaker | undefined;
  private voice: Voice | undefined;
  private linking: CodeBasedLinking | undefined;
  private registrar: Registrar | undefined;
  private stateValue: DeviceState = 'stopped';
  /** Wall time, kept across connections (§4.7). */
  readonly wall: WallClock;
  clock: AisClock | undefined;
  alerts: Alerts | undefined;
  attention: Attention | undefined;
  /** The buttons' actions: the ui port calls them, an app without one may too. */
  readonly controls: Controls;
  /** The locale, stored across reboots; request() asks the cloud for another. */
  readonly locales: Locales;
  /** The endpoints the device proxies (EndpointForwarding): the lamp on a GPIO and the light ring. */
  readonly endpoints: EndpointForwarding;
  private ui: Ui | undefined;
  private readonly tone = new AlertTone();

  constructor(private readonly ports: DevicePorts, private readonly config: DeviceConfig, private readonly callbacks: DeviceCallbacks = {}) {
    if (!config || typeof config.iotClientId !== 'string') throw new TypeError('Device needs config.iotClientId');
    this.wall = new WallClock({ clock: ports.clock, rtcUtcMs: ports.clock.utcMs ? () => ports.clock.utcMs!() : undefined });
    this.controls = new Controls({
      storage: ports.storage, log: ports.log.child('controls'), initiator: config.initiator ?? 'TAP',
      target: () => ({
        microphone: this.microphone, speaker: this.speaker, alerts: this.alerts, attention: this.attention,
        sendEvent: this.connection ? (name, payload) => this.connection!.sendEvent(name, payload) : undefined,
      }),
    });
    this.locales = new Locales({ storage: ports.storage, log: ports.log.child('locale'), defaultLocale: config.locale ?? 'en-US', onChanged: (l) => callbacks.onLocale?.(l) });
    const show = (id: 'lamp' | 'ring') => (look: EndpointLook) => {
      this.ui?.setEndpoint?.(id, look);
      callbacks.onEndpoint?.(id, look);
    };
    this.endpoints = new EndpointForwarding({
      clientId: config.iotClientId, log: ports.log.child('endpoints'), newId: () => newMessageId(ports.crypto.randomBytes),
      nowUtcMs: () => (this.wall.nowSeconds() - NTP_UNIX_OFFSET_S) * 1000,
      endpoints: [
        { id: 'lamp', friendlyName: 'lamp', description: 'A lamp on the board\'s GPIO', displayCategories: ['LIGHT'], dimmable: true, apply: show('lamp') },
        { id: 'ring', friendlyName: 'light ring', description: 'The device\'s own LED ring', displayCategories: ['LIGHT'], dimmable: true, initial: { power: true, brightness: 100 }, apply: show('ring') },
      ],
    });
  }

  get state(): DeviceState {
    return this.stateValue;
  }

  start(): void {
    if (this.ports.ui && !this.ui) {
      this.ui = this.ports.ui({ onButton: (button, pressed) => this.controls.button(button, pressed) });
      for (const id of ['lamp', 'ring'] as const) this.ui.setEndpoint?.(id, this.endpoints.state(id)!);
    }
    const registration = this.usableRegistration();
    if (registration) return this.connect(registration);
    if (loadLinkCredentials(this.ports.storage)) return this.register();
    this.link();
  }

  stop(): void {
    this.linking?.close();
    this.registrar?.close();
    this.closeVoice();
    this.closeNamespaces();
    this.connection?.close();
    this.linking = this.registrar = this.connection = undefined;
    this.ui?.close();
    this.ui = undefined;
    this.setState('stopped');
  }

  private setState(state: DeviceState, detail?: string): void {
    this.stateValue = state;
    this.callbacks.onStateChange?.(state, detail);
  }

  /** The stored registration if it belongs to this configuration (a changed Thing or account means register again). */
  private usableRegistration(): Registration | undefined {
    const registration = loadRegistration(this.ports.storage);
    if (!registration) return undefined;
    const { awsAccountId, iotClientId, iotEndpoint, mqttTls } = this.config;
    if (registration.awsAccountId !== awsAccountId || registration.iotClientId !== iotClientId || registration.iotEndpoint !== iotEndpoint) {
      this.ports.log.warn(`stored registration is for ${registration.iotClientId}@${registration.iotEndpoint}, not ${iotClientId}@${iotEndpoint}; registering again`);
    } else if (mqttTls && mqttTls.certificate === undefined && registration.identity === undefined) {
      this.ports.log.warn(`stored registration of ${iotClientId} has no client certificate and none is configured; linking and registering again for one`);
    } else {
      return registration;
    }
    deleteRegistration(this.ports.storage);
    return undefined;
  }

  private link(): void {
    const { lwa } = this.config;
    this.setState('linking');
    this.linking = new CodeBasedLinking({
      http: this.ports.http, clock: this.ports.clock, storage: this.ports.storage, log: this.ports.log.child('linking'),
      clientId: lwa.clientId, productId: lwa.productId, deviceSerialNumber: lwa.deviceSerialNumber, lwaBaseUrl: lwa.baseUrl, tls: lwa.tls,
      restartsOnInvalidCodePair: 3,
      onCode: (pair) => {
        this.ports.log.info(`to link this device, open ${pair.verificationUri} and enter the code ${pair.userCode}`);
        this.callbacks.onCode?.(pair);
      },
      onLinked: () => {
        this.linking = undefined;
        this.register();
      },
      onError: (error) => this.stopped(`linking failed: ${error.message}`),
    });
    this.linking.start();
  }

  private register(): void {
    const { awsAccountId, iotClientId, iotEndpoint, registration } = this.config;
    this.setState('registering');
    this.registrar = new Registrar({
      http: this.ports.http, crypto: this.ports.crypto, storage: this.ports.storage, clock: this.ports.clock, log: this.ports.log.child('registration'),
      baseUrl: registration.baseUrl, tls: registration.tls, algorithm: registration.algorithm, awsAccountId, iotClientId, iotEndpoint,
      onRegistered: (record) => {
        this.registrar = undefined;
        this.connect(record);
      },
      onError: (error) => {
        this.registrar = undefined;
        if (error.action === 'relink') return this.link();
        this.stopped(error.message);
      },
    });
    this.registrar.start();
  }

  private connect(registration: Registration): void {
    const { config, ports } = this;
    const maxMessageBytes = config.maxMessageBytes ?? 8000;
    this.connection = new AisConnection({
      identity: { topicRoot: registration.topicRoot, clientId: registration.iotClientId, awsAccountId: registration.awsAccountId, key: registration.aesKey },
      mqtt: { socket: ports.socket, host: config.iotEndpoint, port: config.mqttPort, ...mqttCredentials(config.mqttTls, registration) },
      clock: ports.clock, log: ports.log.child('ais'), crypto: ports.crypto, maxMessageBytes, trace: config.trace,
      ...config.connection,
      capabilities: () => [
        systemCapability({ maxMessageBytes, firmwareVersion: FIRMWARE_VERSION, locale: this.locales.locale }),
        { type: 'AisInterface', interface: 'Clock', version: '1.0' },
        ...(this.alerts ? [this.alerts.capability()] : []),
        ...(this.microphone && this.speaker ? [this.microphone.capability(), this.speaker.capability()] : []),
        this.endpoints.capability(),
      ],
      synchronizeState: () => synchronizeStatePayload(this.speaker?.volume, this.alerts?.synchronizeState().allAlerts ?? []),
      onCapabilitiesRejected: (description) => this.microphone?.capabilitiesRejected(description) ?? false,
      onSpeaker: (seq, bytes, offset, length) => this.speaker?.receive(seq, bytes, offset, length),
      onReady: () => {
        this.microphone?.reset();
        this.speaker?.reset();
        this.clock?.connected();
      },
      onStateChange: (state, detail) => {
        if (state !== 'ready') this.connectionDown();
        else this.endpoints.connected();
        this.setState(state, detail);
      },
      onSecretRotated: (key) => saveRegistration(ports.storage, { ...registration, aesKey: key.slice() }),
      onFatal: (error: AisFatalError) => {
        this.connectionDown(); // a turn in progress fails visibly before the voice goes
        this.closeVoice();
        this.closeNamespaces();
        this.connection?.close();
        this.connection = undefined;
        if (error.code === 'ENCRYPTION_ERROR' || error.code === 'INVALID_CLIENT_ID') {
          ports.log.warn(`registration no longer valid (${error.code}); linking again`);
          deleteRegistration(ports.storage);
          return this.start();
        }
        this.stopped(error.message);
      },
    });
    this.openNamespaces(this.connection);
    if (ports.audio) this.openVoice(ports.audio, this.connection, maxMessageBytes);
    this.openAlerts(this.connection, this.attention!);
    this.controls.apply();
    this.connection.start();
  }

  /** Clock and attention on this connection's dispatcher (§4.6, §4.7). */
  private openNamespaces(connection: AisConnection): void {
    const { ports, callbacks } = this;
    this.clock = new AisClock({ connection, clock: ports.clock, wall: this.wall, log: ports.log.child('clock') });
    this.locales.attach(connection);
    this.endpoints.attach(connection);
    const attention = new Attention({
      dispatcher: connection.dispatcher,
      atOffset: (offset, action) => (this.speaker ? this.speaker.atOffset(offset, action) : action()),
      onLight: (light) => {
        this.ui?.setAttention(light);
        callbacks.onAttention?.(light);
      },
      onCloudState: (state: CloudAttentionState) => this.alerts?.cloudAlerting(state === 'ALERTING'),
    });
    this.attention = attention;
  }

  /** After the speaker exists: an alert due at boot rings through it at once. */
  private openAlerts(connection: AisConnection, attention: Attention): void {
    const { ports, callbacks } = this;
    const tone = this.tone;
    const alerts = () => new Alerts({
      connection, clock: ports.clock, wall: this.wall, storage: ports.storage, log: ports.log.child('alerts'),
      online: () => connection.state === 'ready', cloudGraceMs: this.config.alertCloudGraceMs,
      onLocalTone: (volume) => {
        if (volume !== undefined) {
          tone.setVolume(volume);
          tone.restart();
        }
        this.speaker?.playLocal(volume === undefined ? undefined : tone);
      },
      onRinging: (ringing) => {
        attention.setLocalAlerting(ringing?.mode === 'local');
        callbacks.onAlert?.(ringing);
      },
    });
    try {
      this.alerts = alerts();
    } catch (error) {
      if (!(error instanceof AlertStoreError)) throw error;
      // A stored set that cannot be read must not keep the device off the air: start with none, and say so.
      ports.log.error(`stored alerts unreadable, starting with none: ${error.message}`);
      ports.storage.delete(ALERTS_KEY);
      this.alerts = alerts();
    }
  }

  /**
   * The connection is not ready: a turn in progress fails visibly (src/app/voice.ts), the speaker stream is dead
   * (what is buffered of it would hold the speaker open with no CloseSpeaker to come), the cloud's alert ringing
   * goes local, its attention state no longer holds.
   */
  private connectionDown(): void {
    this.voice?.connectionLost(this.attention?.cloudState);
    this.alerts?.offline();
    this.attention?.reset();
    this.clock?.disconnected();
  }

  private closeNamespaces(): void {
    this.alerts?.close();
    this.clock?.close();
    this.alerts = this.clock = this.attention = undefined;
  }

  private openVoice(audio: NonNullable<DevicePorts['audio']>, connection: AisConnection, maxMessageBytes: number): void {
    const { ports } = this;
    const stored = ports.storage.get(VOLUME_KEY);
    this.voice = new Voice({
      ports: audio, connection, clock: ports.clock, log: ports.log, initiator: this.config.initiator ?? 'TAP', maxMessageBytes,
      speaker: {
        ...this.config.speakerBuffer, volume: stored && stored.length === 1 ? stored[0] : undefined,
        onVolumeChanged: (volume) => ports.storage.set(VOLUME_KEY, Uint8Array.of(volume)),
      },
      onMicrophoneState: (state) => this.attention?.setListening(state === 'open'),
      onErrorCue: (playing) => this.attention?.setError(playing),
      onTurnFailed: (reason) => this.callbacks.onTurnFailed?.(reason),
    });
    this.speaker = this.voice.speaker;
    this.microphone = this.voice.microphone;
  }

  private closeVoice(): void {
    this.voice?.close();
    this.voice = this.microphone = this.speaker = undefined;
  }

  private stopped(reason: string): void {
    this.ports.log.error(`device stopped: ${reason}`);
    this.setState('stopped', reason);
    this.callbacks.onStopped?.(reason);
  }
}
