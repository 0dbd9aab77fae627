// The cloud's side of connected endpoints (docs/protocol.md §4.10): what each device proxies, as its
// EndpointForwarding events say, kept across reconnects; the smart-home directives tunnelled to them.
//   AddOrUpdateReport               the device's endpoints replace the ones known (a state known for the same
//                                   endpointId stays until a report says otherwise); answered Alexa EventProcessed,
//                                   then Alexa ReportState to each (discovery carries no state)
//   Response, StateReport           the state in context.properties becomes the endpoint's
//   ChangeReport                    the same from payload.change.properties (a local change on the device)
//   ErrorResponse                   kept as the endpoint's last error and logged
//   control()                       TurnOn / TurnOff / SetBrightness to the endpoint the user named (its friendly
//                                   name), by voice (the assistant's endpoint action) or the operator
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../src/ports/log.js';
import type { AisMessage } from './service.js';
import type { AssistantAction, AssistantContext } from '../voice/assistant.js';

export interface CloudEndpoint {
  endpointId: string;
  friendlyName: string;
  /** The Alexa interfaces it declared. */
  interfaces: string[];
  power?: boolean;
  brightness?: number;
  /** The last ErrorResponse's type and message. */
  error?: string;
}

/** What the user asked an endpoint to do. */
export interface EndpointCommand {
  power?: boolean;
  brightness?: number;
}

export interface EndpointTransport {
  sendDirectives(clientId: string, directives: { name: string; payload?: Record<string, unknown> }[]): boolean;
}

type Forwarded = {
  event?: { header?: { namespace?: unknown; name?: unknown; eventCorrelationToken?: unknown }; endpoint?: { endpointId?: unknown }; payload?: Record<string, unknown> };
  context?: { properties?: unknown };
};

export class EndpointService {
  private readonly devices = new Map<string, Map<string, CloudEndpoint>>();
  private transport: EndpointTransport | undefined;

  constructor(private readonly options: { log: Logger }) {}

  attach(transport: EndpointTransport): void {
    this.transport = transport;
  }

  /** The service hooks this module handles; chains to the given ones. */
  serviceHooks(chain: { onEvent?(clientId: string, event: AisMessage): void } = {}) {
    return {
      onEvent: (clientId: string, event: AisMessage) => {
        if (event.header.name === 'EndpointForwarding') this.event(clientId, event.payload as Forwarded | undefined);
        chain.onEvent?.(clientId, event);
      },
    };
  }

  list(clientId: string): CloudEndpoint[] {
    return [...(this.devices.get(clientId)?.values() ?? [])].map((e) => ({ ...e, interfaces: [...e.interfaces] }));
  }

  /** The endpoint the user calls `name` (case and spacing aside). */
  find(clientId: string, name: string): CloudEndpoint | undefined {
    const wanted = name.trim().toLowerCase().replace(/\s+/g, ' ');
    return [...(this.devices.get(clientId)?.values() ?? [])].find((e) => e.friendlyName.toLowerCase() === wanted);
  }

  /** What the assistant needs to find an endpoint by name. */
  assistantContext(clientId: string): Pick<AssistantContext, 'endpoints'> {
    return { endpoints: this.list(clientId).map((e) => ({ name: e.friendlyName, power: e.power, brightness: e.brightness })) };
  }

  /** Carries out what the assistant decided. */
  act(clientId: string, actions: readonly AssistantAction[]): void {
    for (const a of actions) {
      if (a.kind !== 'endpoint') continue;
      const problem = this.control(clientId, a.name, a);
      if (problem) this.options.log.warn(`${clientId}: ${a.name} not controlled: ${problem}`);
    }
  }

  /** Sends `command` to the endpoint called `name`; returns why not, or undefined when sent. */
  control(clientId: string, name: string, command: EndpointCommand): string | undefined {
    const endpoint = this.find(clientId, name);
    if (!endpoint) return `${clientId} has no endpoint called ${JSON.stringify(name.slice(0, 40))}`;
    const send = (namespace: string, name: string, payload?: Record<string, unknown>) => this.send(clientId, endpoint, namespace, name, payload);
    let sent: boolean | undefined;
    if (command.brightness !== undefined) {
      if (!Number.isInteger(command.brightness) || command.brightness < 0 || command.brightness > 100) return `brightness expected 0..100, got ${command.brightness}`;
      if (!endpoint.interfaces.includes('Alexa.BrightnessController')) return `${endpoint.friendlyName} is not dimmable`;
      sent = send('Alexa.BrightnessController', 'SetBrightness', { brightness: command.brightness });
    } else if (command.power !== undefined) {
      sent = send('Alexa.PowerController', command.power ? 'TurnOn' : 'TurnOff');
    } else return 'nothing to do';
    return sent ? undefined : `${clientId} is not connected`;
  }

  /** One smart-home directive to `endpoint`, tunnelled; false when the device is not connected. */
  private send(clientId: string, endpoint: CloudEndpoint, namespace: string, name: string, payload: Record<string, unknown> = {}): boolean {
    return this.transport?.sendDirectives(clientId, [{
      name: 'EndpointForwarding',
      payload: { directive: { header: { namespace, name, messageId: randomUUID(), payloadVersion: '3', correlationToken: randomUUID() }, endpoint: { endpointId: endpoint.endpointId }, payload } },
    }]) ?? false;
  }

  private event(clientId: string, forwarded: Forwarded | undefined): void {
    const log = this.options.log;
    const header = forwarded?.event?.header;
    if (typeof header?.name !== 'string' || typeof header.namespace !== 'string') return log.warn(`${clientId}: EndpointForwarding without event.header namespace and name; ignored`);
    const known = this.devices.get(clientId) ?? new Map<string, CloudEndpoint>();
    this.devices.set(clientId, known);
    const payload = forwarded!.event!.payload ?? {};
    const endpointId = forwarded!.event!.endpoint?.endpointId;
    const endpoint = typeof endpointId === 'string' ? known.get(endpointId) : undefined;
    switch (header.name) {
      case 'AddOrUpdateReport': {
        const listed = Array.isArray(payload.endpoints) ? payload.endpoints as Record<string, unknown>[] : [];
        const next = new Map<string, CloudEndpoint>();
        for (const e of listed) {
          if (typeof e?.endpointId !== 'string' || typeof e.friendlyName !== 'string') continue;
          const interfaces = (Array.isArray(e.capabilities) ? e.capabilities as { interface?: unknown }[] : []).map((c) => String(c?.interface));
          const before = known.get(e.endpointId);
          next.set(e.endpointId, { endpointId: e.endpointId, friendlyName: e.friendlyName, interfaces, power: before?.power, brightness: before?.brightness });
        }
        known.clear();
        for (const [id, e] of next) known.set(id, e);
        log.info(`${clientId}: endpoints ${[...next.values()].map((e) => `${e.friendlyName} (${e.interfaces.filter((i) => i !== 'Alexa').join(', ')})`).join('; ') || '(none)'}`);
        this.transport?.sendDirectives(clientId, [{
          name: 'EndpointForwarding',
          payload: { directive: { header: { namespace: 'Alexa', name: 'EventProcessed', messageId: randomUUID(), payloadVersion: '3', eventCorrelationToken: header.eventCorrelationToken } } },
        }]);
        for (const e of next.values()) this.send(clientId, e, 'Alexa', 'ReportState');
        return;
      }
      case 'Response':
      case 'StateReport':
      case 'ChangeReport': {
        if (!endpoint) return log.warn(`${clientId}: ${header.name} for unknown endpoint ${JSON.stringify(endpointId)}; ignored`);
        const change = (payload.change as { properties?: unknown } | undefined)?.properties;
        for (const list of [forwarded!.context?.properties, change]) {
          if (!Array.isArray(list)) continue;
          for (const p of list as { namespace?: unknown; name?: unknown; value?: unknown }[]) {
            if (p?.namespace === 'Alexa.PowerController' && p.name === 'powerState') endpoint.power = p.value === 'ON';
            if (p?.namespace === 'Alexa.BrightnessController' && p.name === 'brightness' && typeof p.value === 'number') endpoint.brightness = p.value;
          }
        }
        endpoint.error = undefined;
        return log.info(`${clientId}: ${endpoint.friendlyName} ${endpoint.power ? 'on' : 'off'}${endpoint.brightness === undefined ? '' : `, brightness ${endpoint.brightness} %`} (${header.name})`);
      }
      case 'ErrorResponse': {
        const error = `${String(payload.type)}: ${String(payload.message ?? '')}`.slice(0, 200);
        if (endpoint) endpoint.error = error;
        return log.warn(`${clientId}: endpoint ${JSON.stringify(endpointId)} refused: ${error}`);
      }
      default:
        return log.warn(`${clientId}: EndpointForwarding ${header.namespace}.${header.name} not handled; ignored`);
    }
  }
}
