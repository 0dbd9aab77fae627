// What the dashboard shows of the emulated cloud. Per device: its connection, attention (as the ring shows it),
// volume, alerts, locale, AWS IoT endpoint, connected endpoints, unread notifications and card, read from the cloud's services when asked; its turns (what the cloud heard,
// its answer, end-of-speech-to-first-audio latency, both waveforms) and its protocol trace (the service's trace
// lines, secrets already redacted by it), kept as they come and bounded. Subscribers get each change as one event.
import { NTP_UNIX_OFFSET_S } from '../ais/alerts.js';
import type { AisMessage, AisServiceOptions } from '../ais/service.js';
import type { VoiceSessionOptions } from '../ais/voice-session.js';
import type { Cloud } from '../cloud.js';
import { cardLine } from '../ais/cards.js';

/** Trace lines kept per device, and turns. */
const TRACE_KEEP = 500;
const TURNS_KEEP = 20;
/** Points in a drawn waveform: the peak of each slice of the audio, 0..1000. */
const WAVEFORM_POINTS = 200;

export interface TraceLine {
  /** Unix ms. */
  at: number;
  line: string;
}

export interface Turn {
  n: number;
  /** Unix ms of the transcript (or of the operator's text). */
  at: number;
  /** What the cloud heard; undefined for text the operator had said. */
  heard?: string;
  rejected?: boolean;
  answer?: string;
  intent?: string;
  latencyMs?: number;
  /** Peaks of the uplink as heard and of the answer's audio sent to the speaker, 0..1000. */
  uplink?: number[];
  speaker?: number[];
  /** The operator typed the text (dashboard "say"). */
  operator?: boolean;
}

export interface DeviceView {
  id: string;
  connected: boolean;
  connections: number;
  /** As the device's ring shows it: LISTENING while its microphone is open, else the service's last SetAttentionState. */
  attention: string | undefined;
  volume?: number;
  alertVolume?: number;
  alerts: { token: string; type: string; label: string; dueAt: number; ringing: boolean; confirmed: boolean }[];
  locale?: string;
  /** The last locale the cloud refused for it, with the reason. */
  localeRefused?: string;
  endpoint: string;
  registeredAt: string;
  /** The endpoints it proxies, as their last reports say. */
  connectedEndpoints: { name: string; power?: boolean; brightness?: number; error?: string }[];
  notifications: string[];
  /** Its current card in one line. */
  card?: string;
}

export interface CloudView {
  /** Unix ms on the cloud's alert clock, for countdowns. */
  now: number;
  codes: string[];
  devices: DeviceView[];
}

export type MonitorEvent =
  | { type: 'state'; state: CloudView }
  | { type: 'trace'; id: string; trace: TraceLine }
  | { type: 'turn'; id: string; turn: Turn };

/** The peaks of `pcm` in `points` slices, scaled to 0..1000. */
export function waveform(pcm: Int16Array, points = WAVEFORM_POINTS): number[] {
  const out: number[] = [];
  if (pcm.length === 0) return out;
  const n = Math.min(points, pcm.length);
  for (let i = 0; i < n; i++) {
    let peak = 0;
    for (let s = Math.floor((i * pcm.length) / n), end = Math.floor(((i + 1) * pcm.length) / n); s < end; s++) peak = Math.max(peak, Math.abs(pcm[s]));
    out.push(Math.round((peak * 1000) / 32768));
  }
  return out;
}

/** An object with every observer of both: each called in turn (first's, then second's). */
export function bothObservers<T extends object>(first: T, second: Partial<T> | undefined): T {
  const out: Record<string, unknown> = { ...second };
  for (const [key, f] of Object.entries(first)) {
    const g = (second as Record<string, unknown> | undefined)?.[key];
    out[key] = typeof f === 'function' && typeof g === 'function'
      ? (...args: unknown[]) => { (f as (...a: unknown[]) => void)(...args); (g as (...a: unknown[]) => void)(...args); }
      : f;
  }
  return out as T;
}

export class CloudMonitor {
  private cloud: Cloud | undefined;
  private readonly traces = new Map<string, TraceLine[]>();
  private readonly turns = new Map<string, Turn[]>();
  private readonly listening = new Set<string>();
  private readonly subscribers = new Set<(event: MonitorEvent) => void>();
  private lastState = '';
  private turnCount = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  /** The voice observers to give startCloud. */
  voiceObservers(): Pick<VoiceSessionOptions, 'onTranscript' | 'onAnswer' | 'onSpeakerStart'> {
    return {
      onTranscript: (id, t) => this.addTurn(id, { heard: t.text, rejected: t.rejected, uplink: waveform(t.heard) }),
      onAnswer: (id, a) => {
        const turn = this.latestTurn(id);
        if (!turn || turn.answer !== undefined) return;
        Object.assign(turn, { answer: a.text, intent: a.intent, speaker: waveform(a.pcm) });
        this.emit({ type: 'turn', id, turn });
      },
      onSpeakerStart: (id, s) => {
        // The first audio of the latest answer; a ring or the operator's text streams too, and is no turn's.
        const turn = this.latestTurn(id);
        if (!turn || turn.operator || !turn.answer || turn.latencyMs !== undefined) return;
        turn.latencyMs = Math.round(s.atMs - s.endOfSpeechAtMs);
        this.emit({ type: 'turn', id, turn });
      },
    };
  }

  /** The service observers to give startCloud: the trace, and the device's microphone for its ring. */
  serviceObservers(): Pick<AisServiceOptions, 'onTrace' | 'onEvent' | 'onDeviceLost' | 'onDeviceReady'> {
    return {
      onTrace: (id, line) => {
        const list = this.traces.get(id) ?? [];
        this.traces.set(id, list);
        const trace = { at: Date.now(), line };
        list.push(trace);
        if (list.length > TRACE_KEEP) list.shift();
        this.emit({ type: 'trace', id, trace });
      },
      onEvent: (id: string, event: AisMessage) => {
        const name = event.header.name;
        if (name === 'MicrophoneOpened') this.listening.add(id);
        else if (name === 'MicrophoneClosed' || name === 'OpenMicrophoneTimedOut') this.listening.delete(id);
      },
      onDeviceReady: (id) => this.listening.delete(id),
      onDeviceLost: (id) => this.listening.delete(id),
    };
  }

  /** Starts reading the cloud's state (a change goes to subscribers within 250 ms). */
  attach(cloud: Cloud): void {
    this.cloud = cloud;
    this.timer = setInterval(() => this.publishState(), 250);
  }

  close(): void {
    clearInterval(this.timer);
    this.subscribers.clear();
  }

  /** The operator had `text` said on a device's speaker. */
  said(id: string, text: string): void {
    this.addTurn(id, { answer: text, operator: true });
  }

  /** Everything known now (a new page's start), then each change, to `subscriber`; returns the unsubscribe. */
  subscribe(subscriber: (event: MonitorEvent) => void): () => void {
    subscriber({ type: 'state', state: this.state() });
    for (const [id, list] of this.turns) for (const turn of list) subscriber({ type: 'turn', id, turn });
    for (const [id, list] of this.traces) for (const trace of list) subscriber({ type: 'trace', id, trace });
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  state(): CloudView {
    const cloud = this.cloud;
    if (!cloud) return { now: Date.now(), codes: [], devices: [] };
    const registry = cloud.registration.registry;
    const devices = registry.clientIds().map((id): DeviceView => {
      const state = cloud.service.deviceState(id);
      const connected = cloud.service.isConnected(id);
      const entry = registry.get(id)!;
      const card = cloud.cards.current(id);
      return {
        id, connected, connections: state?.connections ?? 0,
        attention: connected && this.listening.has(id) ? 'LISTENING' : state?.attention,
        ...cloud.alerts.volume(id),
        alerts: cloud.alerts.list(id).map((a) => ({
          token: a.token, type: a.type, label: a.label, dueAt: (a.scheduledTime - NTP_UNIX_OFFSET_S) * 1000, ringing: a.ringing, confirmed: a.confirmed,
        })),
        locale: cloud.locales.locale(id),
        localeRefused: cloud.locales.lastRefusal(id),
        endpoint: entry.iotEndpoint,
        registeredAt: entry.registeredAt,
        connectedEndpoints: cloud.endpoints.list(id).map((e) => ({ name: e.friendlyName, power: e.power, brightness: e.brightness, error: e.error })),
        notifications: cloud.notifications.list(id),
        card: card && cardLine(card),
      };
    });
    return { now: (cloud.alerts.nowSeconds() - NTP_UNIX_OFFSET_S) * 1000, codes: cloud.lwa.pendingUserCodes(), devices };
  }

  private publishState(): void {
    if (this.subscribers.size === 0) return;
    const state = this.state();
    // The clock moves on every call; a change is one of the rest.
    const text = JSON.stringify({ ...state, now: 0 });
    if (text === this.lastState) return;
    this.lastState = text;
    this.emit({ type: 'state', state });
  }

  private latestTurn(id: string): Turn | undefined {
    const list = this.turns.get(id);
    return list?.[list.length - 1];
  }

  private addTurn(id: string, fields: Omit<Turn, 'n' | 'at'>): void {
    const list = this.turns.get(id) ?? [];
    this.turns.set(id, list);
    const turn: Turn = { n: ++this.turnCount, at: Date.now(), ...fields };
    list.push(turn);
    if (list.length > TURNS_KEEP) list.shift();
    this.emit({ type: 'turn', id, turn });
  }

  private emit(event: MonitorEvent): void {
    for (const subscriber of this.subscribers) subscriber(event);
  }
}
