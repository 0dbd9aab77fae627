// Notifications in the emulated cloud (docs/protocol.md §4.6): the "you have a notification" indicator is the
// attention state NOTIFICATION_AVAILABLE, AIS's SetIndicator. While a device has unread notifications:
//   add()                  SetAttentionState NOTIFICATION_AVAILABLE at once, unless an interaction shows
//                          (THINKING, SPEAKING, ALERTING): then its closing IDLE brings it
//   every IDLE the cloud   becomes NOTIFICATION_AVAILABLE (restingAttention, applied by the service to every
//   sends                  SetAttentionState IDLE), so answers, rings and a false wake leave the indicator on
//   a new connection       the indicator again after SynchronizeState
//   "what are my           the assistant reads them (assistantContext) and clears them (act), so the answer's
//   notifications"         closing IDLE is IDLE
// Kept in memory: a restarted emulator has none.
import type { Logger } from '../../src/ports/log.js';
import type { AssistantAction } from '../voice/assistant.js';

/** Notifications kept per device; the oldest go first. */
const KEEP = 20;

export interface NotificationTransport {
  sendDirectives(clientId: string, directives: { name: string; payload?: Record<string, unknown> }[]): boolean;
  deviceState(clientId: string): { attention?: string } | undefined;
}

export class NotificationService {
  private readonly unread = new Map<string, string[]>();
  private transport: NotificationTransport | undefined;

  constructor(private readonly options: { log: Logger }) {}

  attach(transport: NotificationTransport): void {
    this.transport = transport;
  }

  /** The service hooks this module handles; chains to the given ones. */
  serviceHooks(chain: { onDeviceReady?(clientId: string): void } = {}) {
    return {
      onDeviceReady: (clientId: string) => {
        if (this.list(clientId).length > 0) this.indicate(clientId);
        chain.onDeviceReady?.(clientId);
      },
      restingAttention: (clientId: string) => (this.list(clientId).length > 0 ? 'NOTIFICATION_AVAILABLE' : undefined),
    };
  }

  list(clientId: string): string[] {
    return [...(this.unread.get(clientId) ?? [])];
  }

  add(clientId: string, text: string): void {
    const list = this.unread.get(clientId) ?? [];
    this.unread.set(clientId, list);
    list.push(text);
    if (list.length > KEEP) list.shift();
    this.options.log.info(`${clientId}: notification ${JSON.stringify(text)} (${list.length} unread)`);
    const shown = this.transport?.deviceState(clientId)?.attention;
    if (shown === undefined || shown === 'IDLE' || shown === 'NOTIFICATION_AVAILABLE') this.indicate(clientId);
  }

  /** What the assistant needs to read them. */
  assistantContext(clientId: string): { notifications: string[] } {
    return { notifications: this.list(clientId) };
  }

  /** Carries out what the assistant decided: read notifications are gone. */
  act(clientId: string, actions: readonly AssistantAction[]): void {
    if (!actions.some((a) => a.kind === 'clearNotifications')) return;
    this.unread.delete(clientId);
    this.options.log.info(`${clientId}: notifications read`);
  }

  private indicate(clientId: string): void {
    this.transport?.sendDirectives(clientId, [{ name: 'SetAttentionState', payload: { state: 'NOTIFICATION_AVAILABLE' } }]);
  }
}
