// The emulator's Clock and Alerts service, and what it knows of each device's volume (docs/protocol.md §4.5,
// §4.7, §4.8). The spec leaves the service's side open (§9); the emulator's choices, one place each:
//
//   SetClock {currentTime: NTP s}   after each SynchronizeState and in answer to SynchronizeClock, at once
//                                   (rounded) and again on the cloud's next whole second, exact
//   scheduledTime                   whole NTP seconds: the time the cloud rings at is the time the device was given
//   SetAlert                        what the assistant set by voice; token 8 alphanumerics (the SDK's cap,
//                                   §7.9); durationInMilliseconds `durationMs` (default 60 s); kept unconfirmed
//                                   until SetAlertSucceeded, sent again after a reconnect if still unconfirmed
//   ringing                         at the alert's time, if the device is connected and the voice is on: the
//                                   alert's words repeated through the speaker stream for its duration with
//                                   SetAttentionState ALERTING (VoiceSessions.ring); then DeleteAlert. The words
//                                   are made RING_PREPARE_MS ahead, and the stream starts RING_LEAD_MS early with
//                                   that much silence, so the device is ALERTING with its speaker streaming when
//                                   its own check runs at the due second (else it rings its local tone)
//   stop                            "stop" (or any barge-in), ButtonCommandIssued STOP, or the duration:
//                                   CloseSpeaker and IDLE if it was cut short, DeleteAlert
//   ring cut by a lost connection   the device rings on locally; when it is back and still lists the alert,
//                                   the cloud rings the rest of its duration, or deletes it if that is over
//   offline at the alert's time     (AIS Disconnect, or the broker's presence event for a device that just
//                                   vanished) nothing: the device rings it with its local tone; the alert stays
//                                   pending here until SynchronizeState says what became of it
//   SynchronizeState allAlerts      the device's list wins: a confirmed alert it no longer lists is dropped (it
//                                   rang offline or was stopped there); one it lists that came due while it
//                                   was away, less than 30 min ago and not rung yet, rings now
//   volume                          from SynchronizeState and VolumeChanged; "volume up" steps from it
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../src/ports/log.js';
import type { AisMessage } from './service.js';
import type { AlertKind, AssistantAction, AssistantContext } from '../voice/assistant.js';

export interface CloudAlert {
  token: string;
  type: AlertKind;
  /** NTP seconds. */
  scheduledTime: number;
  durationInMilliseconds: number;
  /** What it was set for ("10 seconds", "7:00 PM"): the words it rings with. */
  label: string;
  /** The device answered SetAlertSucceeded. */
  confirmed: boolean;
  /** Rung (or ringing) by the cloud: never again. */
  rung: boolean;
  ringing: boolean;
  /** The ring was cut by a lost connection: after a reconnect the rest is rung, or the alert deleted. */
  cut?: boolean;
}

/** Plays alert speech on a device's speaker stream (VoiceSessions.ring). */
export interface AlertRinger {
  /**
   * Rings `text` repeated for `durationMs` with attention ALERTING, after `leadMs` of silence; `onEnd(interrupted)`
   * when the stream ended. Returns a stop function, or undefined when the device cannot be rung through speech.
   */
  ring(clientId: string, text: string, durationMs: number, onEnd: (interrupted: boolean) => void, leadMs?: number): (() => void) | undefined;
  /** Makes the words of a ring ahead of time (speech synthesis takes a while). */
  prepare?(clientId: string, text: string): void;
}

/** What this needs of the AIS service. */
export interface AlertServiceTransport {
  sendDirectives(clientId: string, directives: { name: string; payload?: Record<string, unknown> }[]): boolean;
  isConnected(clientId: string): boolean;
  deviceState(clientId: string): { connections: number; synchronizedState?: Record<string, unknown> } | undefined;
}

export interface AlertServiceOptions {
  log: Logger;
  /** The cloud's clock, Unix ms. Default Date.now. */
  now?: () => number;
  /** durationInMilliseconds of every alert set. Default 60,000. */
  durationMs?: number;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970): SetClock and scheduledTime count from 1900 (§4.7). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
/** A device deletes an alert unrung 30 min after its time (the SDK's expiry, §4.8). */
const ALERT_EXPIRATION_S = 1800;
/** How long before its time a ring's words are made. */
const RING_PREPARE_MS = 5000;
/** How long before its time a ring's stream starts (with silence). */
const RING_LEAD_MS = 1000;
/** The rest of a cut ring shorter than this is not rung again: the alert is deleted. */
const MIN_RING_REST_MS = 3000;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const RING_WORDS: Record<AlertKind, (label: string) => string> = {
  TIMER: (label) => `Your ${label} timer is done.`,
  ALARM: (label) => `It is ${label}. This is your alarm.`,
  REMINDER: () => 'This is your reminder.',
};

interface DeviceAlerts {
  alerts: Map<string, CloudAlert>;
  timers: Map<string, NodeJS.Timeout>;
  volume?: number;
  alertVolume?: number;
  stopRinging?: () => void;
}

export class AlertService {
  private readonly options: AlertServiceOptions;
  private readonly log: Logger;
  private readonly devices = new Map<string, DeviceAlerts>();
  private readonly clockTimers = new Set<NodeJS.Timeout>();
  private transport: AlertServiceTransport | undefined;
  private ringer: AlertRinger | undefined;

  constructor(options: AlertServiceOptions) {
    this.options = options;
    this.log = options.log;
  }

  attach(transport: AlertServiceTransport, ringer?: AlertRinger): void {
    this.transport = transport;
    this.ringer = ringer;
  }

  /** The service hooks this module handles; chains to the given ones. */
  serviceHooks(chain: { onEvent?(clientId: string, event: AisMessage): void; onDeviceReady?(clientId: string): void } = {}) {
    return {
      onEvent: (clientId: string, event: AisMessage) => {
        this.event(clientId, event);
        chain.onEvent?.(clientId, event);
      },
      onDeviceReady: (clientId: string) => {
        this.ready(clientId);
        chain.onDeviceReady?.(clientId);
      },
    };
  }

  /** Cloud time in NTP seconds. */
  nowSeconds(): number {
    return (this.options.now ?? Date.now)() / 1000 + NTP_UNIX_OFFSET_S;
  }

  list(clientId: string): CloudAlert[] {
    return [...(this.devices.get(clientId)?.alerts.values() ?? [])].sort((a, b) => a.scheduledTime - b.scheduledTime);
  }

  volume(clientId: string): { volume?: number; alertVolume?: number } {
    const d = this.devices.get(clientId);
    return { volume: d?.volume, alertVolume: d?.alertVolume };
  }

  /** What the assistant needs to answer "what timers do I have" and "volume up". */
  assistantContext(clientId: string): Pick<AssistantContext, 'alerts' | 'volume'> {
    return {
      alerts: this.list(clientId).map((a) => ({ token: a.token, type: a.type, at: new Date((a.scheduledTime - NTP_UNIX_OFFSET_S) * 1000) })),
      volume: this.devices.get(clientId)?.volume,
    };
  }

  /** Carries out what the assistant decided. */
  act(clientId: string, actions: readonly AssistantAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'setAlert': this.set(clientId, action.type, action.at.getTime() / 1000 + NTP_UNIX_OFFSET_S, action.label); break;
        case 'deleteAlerts': this.delete(clientId, action.tokens); break;
        case 'setVolume': this.transport?.sendDirectives(clientId, [{ name: 'SetVolume', payload: { volume: action.volume } }]); break;
        case 'stopAlert': this.stopRinging(clientId); break;
      }
    }
  }

  /** Sets an alert on a device; returns its token. */
  set(clientId: string, type: AlertKind, scheduledTime: number, label: string): string {
    const bytes = randomBytes(8);
    const token = [...bytes].map((b) => TOKEN_ALPHABET[b % TOKEN_ALPHABET.length]).join('');
    const alert: CloudAlert = { token, type, scheduledTime: Math.round(scheduledTime), durationInMilliseconds: this.options.durationMs ?? 60_000, label, confirmed: false, rung: false, ringing: false };
    this.device(clientId).alerts.set(token, alert);
    this.sendSetAlert(clientId, alert);
    this.arm(clientId, alert);
    this.log.info(`${clientId}: ${type} ${token} set for ${label}`);
    return token;
  }

  delete(clientId: string, tokens: readonly string[]): void {
    const d = this.device(clientId);
    for (const token of tokens) {
      if (d.alerts.get(token)?.ringing) this.stopRinging(clientId);
      this.forget(clientId, token);
      this.transport?.sendDirectives(clientId, [{ name: 'DeleteAlert', payload: { token } }]);
    }
  }

  /** Stops the alert ringing on this device through speech; false when none rings. */
  stopRinging(clientId: string): boolean {
    const stop = this.devices.get(clientId)?.stopRinging;
    if (!stop) return false;
    stop();
    return true;
  }

  close(): void {
    for (const d of this.devices.values()) for (const t of d.timers.values()) clearTimeout(t);
    for (const t of this.clockTimers) clearTimeout(t);
  }

  // ---- events ----

  private event(clientId: string, event: AisMessage): void {
    const p = event.payload ?? {};
    const d = this.device(clientId);
    const token = typeof p.token === 'string' ? p.token : '';
    switch (event.header.name) {
      case 'SynchronizeClock': return void this.sendClock(clientId);
      case 'SetAlertSucceeded': {
        const alert = d.alerts.get(token);
        if (alert) alert.confirmed = true;
        return;
      }
      case 'SetAlertFailed':
        this.log.warn(`${clientId}: SetAlertFailed ${token}; the alert is dropped`);
        return this.forget(clientId, token);
      case 'DeleteAlertSucceeded': return this.forget(clientId, token);
      case 'DeleteAlertFailed': return this.log.warn(`${clientId}: DeleteAlertFailed ${token}`);
      case 'VolumeChanged': d.volume = Number(p.volume); return;
      case 'AlertVolumeChanged': d.alertVolume = Number(p.volume); return;
      case 'ButtonCommandIssued':
        if (p.command === 'STOP') this.stopRinging(clientId);
        return;
    }
  }

  /** SynchronizeState arrived: the clock, then the device's list against ours. */
  private ready(clientId: string): void {
    this.sendClock(clientId);
    const d = this.device(clientId);
    const state = this.transport?.deviceState(clientId)?.synchronizedState;
    const speaker = state?.speaker as { volume?: unknown } | undefined;
    if (typeof speaker?.volume === 'number') d.volume = speaker.volume;
    const listed = new Set(((state?.alerts as { allAlerts?: unknown } | undefined)?.allAlerts as unknown[] | undefined ?? []).filter((t): t is string => typeof t === 'string'));
    const now = this.nowSeconds();
    for (const alert of [...d.alerts.values()]) {
      if (!listed.has(alert.token)) {
        if (alert.confirmed) {
          this.log.info(`${clientId}: alert ${alert.token} no longer on the device (rung or stopped there); dropped`);
          this.forget(clientId, alert.token);
        } else {
          this.sendSetAlert(clientId, alert); // never confirmed: the device never stored it
        }
        continue;
      }
      alert.confirmed = true;
      if (alert.cut) {
        alert.cut = false;
        const restMs = (alert.scheduledTime - now) * 1000 + alert.durationInMilliseconds;
        if (restMs < MIN_RING_REST_MS) {
          this.log.info(`${clientId}: alert ${alert.token} was cut while ringing and its time is over; deleted`);
          this.delete(clientId, [alert.token]);
        } else {
          this.log.info(`${clientId}: alert ${alert.token} was cut while ringing; ringing its last ${(restMs / 1000).toFixed(0)} s`);
          this.ring(clientId, alert, Math.min(restMs, alert.durationInMilliseconds), Math.max(0, (alert.scheduledTime - now) * 1000));
        }
        continue;
      }
      if (alert.ringing || alert.rung) continue;
      if (alert.scheduledTime > now) {
        if (!d.timers.has(alert.token)) this.arm(clientId, alert); // its ring time passed while the device was away
        continue;
      }
      if (now - alert.scheduledTime > ALERT_EXPIRATION_S) continue; // the device deletes it unrung
      this.log.info(`${clientId}: alert ${alert.token} came due while the device was away; ringing now`);
      this.ring(clientId, alert);
    }
  }

  // ---- ringing ----

  private arm(clientId: string, alert: CloudAlert, leadMs = RING_LEAD_MS): void {
    const d = this.device(clientId);
    clearTimeout(d.timers.get(alert.token));
    // setTimeout's ceiling is 2^31-1 ms (24.8 days): re-arm in steps.
    const untilDueMs = (alert.scheduledTime - this.nowSeconds()) * 1000;
    const prepare = untilDueMs > RING_PREPARE_MS;
    if (!prepare) this.ringer?.prepare?.(clientId, RING_WORDS[alert.type](alert.label));
    const delayMs = Math.min(Math.max(0, untilDueMs - (prepare ? RING_PREPARE_MS : leadMs)), 2 ** 31 - 1);
    d.timers.set(alert.token, setTimeout(() => {
      d.timers.delete(alert.token);
      if (!d.alerts.has(alert.token)) return;
      const leftMs = (alert.scheduledTime - this.nowSeconds()) * 1000;
      if (leftMs > RING_PREPARE_MS + 1) return this.arm(clientId, alert, leadMs);
      if (prepare) {
        this.ringer?.prepare?.(clientId, RING_WORDS[alert.type](alert.label));
        return this.arm(clientId, alert, leadMs);
      }
      if (!this.transport?.isConnected(clientId)) {
        // Offline at the lead: it may be back by the due time; if not, the device rings it.
        if (leftMs > 1) return this.arm(clientId, alert, 0);
        return this.log.info(`${clientId}: alert ${alert.token} due while the device is offline: it rings locally; kept until it reconnects`);
      }
      this.ring(clientId, alert, alert.durationInMilliseconds, Math.max(0, leftMs));
    }, delayMs));
  }

  private ring(clientId: string, alert: CloudAlert, durationMs = alert.durationInMilliseconds, leadMs = 0): void {
    const d = this.device(clientId);
    if (d.stopRinging) return this.log.info(`${clientId}: alert ${alert.token} due while another rings; the device rings it`);
    const connection = this.transport?.deviceState(clientId)?.connections;
    alert.rung = alert.ringing = true;
    const stop = this.ringer?.ring(clientId, RING_WORDS[alert.type](alert.label), durationMs, (interrupted) => {
      alert.ringing = false;
      d.stopRinging = undefined;
      if (this.transport?.deviceState(clientId)?.connections !== connection || !this.transport?.isConnected(clientId)) {
        // The connection went: the device rings on locally; when it is back, the rest is rung or the alert deleted.
        alert.cut = true;
        return this.log.info(`${clientId}: alert ${alert.token}: connection lost while ringing; the device takes over`);
      }
      this.log.info(`${clientId}: alert ${alert.token} ${interrupted ? 'stopped' : 'rang its duration'}`);
      if (interrupted) {
        this.transport.sendDirectives(clientId, [{ name: 'CloseSpeaker' }, { name: 'SetAttentionState', payload: { state: 'IDLE' } }]);
      }
      this.delete(clientId, [alert.token]);
    }, leadMs);
    if (!stop) {
      alert.ringing = false;
      return this.log.info(`${clientId}: alert ${alert.token} due; no voice to ring it with: the device rings it locally`);
    }
    d.stopRinging = stop;
    this.log.info(`${clientId}: ringing ${alert.type} ${alert.token}`);
  }

  // ---- helpers ----

  /**
   * SetClock now (whole seconds, rounded: the device has a clock at once) and again on the cloud's next whole
   * second, when the whole currentTime is exact: the device's clock then differs from the cloud's by the delay only.
   */
  private sendClock(clientId: string): void {
    const now = this.nowSeconds();
    this.transport?.sendDirectives(clientId, [{ name: 'SetClock', payload: { currentTime: Math.round(now) } }]);
    const second = Math.ceil(now);
    const timer = setTimeout(() => {
      this.clockTimers.delete(timer);
      this.transport?.sendDirectives(clientId, [{ name: 'SetClock', payload: { currentTime: second } }]);
    }, (second - now) * 1000);
    this.clockTimers.add(timer);
  }

  private sendSetAlert(clientId: string, alert: CloudAlert): void {
    const { token, type, scheduledTime, durationInMilliseconds } = alert;
    this.transport?.sendDirectives(clientId, [{ name: 'SetAlert', payload: { token, type, scheduledTime, durationInMilliseconds } }]);
  }

  private forget(clientId: string, token: string): void {
    const d = this.device(clientId);
    clearTimeout(d.timers.get(token));
    d.timers.delete(token);
    d.alerts.delete(token);
  }

  private device(clientId: string): DeviceAlerts {
    let d = this.devices.get(clientId);
    if (!d) {
      d = { alerts: new Map(), timers: new Map() };
      this.devices.set(clientId, d);
    }
    return d;
  }
}
