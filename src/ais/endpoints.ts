// Connected endpoints (docs/protocol.md §4.10): the EndpointForwarding interface NXP's client declares, which
// tunnels Alexa smart-home (payload version 3) messages for the endpoints the device proxies: a lamp on a GPIO,
// its own light ring. Both directions carry one AIS message named EndpointForwarding:
//   event      {event: {header: {namespace, name, messageId, payloadVersion: "3", correlationToken? |
//               eventCorrelationToken?}, endpoint?: {endpointId}, payload}, context?: {properties: [...]}}
//   directive  {directive: {header: {namespace, name, messageId, payloadVersion, correlationToken},
//               endpoint: {endpointId}, payload}}
// What the device sends and answers:
//   on each connection           Alexa.Discovery AddOrUpdateReport {endpoints: [...]} (the cloud answers Alexa
//                                EventProcessed with its eventCorrelationToken)
//   Alexa.PowerController        TurnOn / TurnOff
//   Alexa.BrightnessController   SetBrightness {brightness 0–100} / AdjustBrightness {brightnessDelta −100–100};
//                                a brightness above 0 turns the endpoint on, 0 turns it off (a dimmer's knob)
//   Alexa ReportState            Alexa StateReport
//   each of those                Alexa Response with the new state as context properties (a state report), or
//                                Alexa ErrorResponse {type, message}: NO_SUCH_ENDPOINT, INVALID_DIRECTIVE,
//                                VALUE_OUT_OF_RANGE
//   set() (a local change)       Alexa ChangeReport {change: {cause: {type: PHYSICAL_INTERACTION}, properties}}
// A directive without its header or endpoint is malformed (ExceptionEncountered, as for any directive).

import type { Logger } from '../ports/log.js';
import type { Dispatcher } from './dispatcher.js';
import { MalformedMessageError } from './message.js';

export interface EndpointState {
  power: boolean;
  /** 0–100. */
  brightness: number;
}

export interface EndpointDeclaration {
  /** Unique on the device (1–32 of [a-z0-9-]); the endpointId is `<clientId>::<id>`. */
  id: string;
  /** What the user calls it ("lamp"). */
  friendlyName: string;
  description: string;
  /** Alexa display categories, e.g. LIGHT. */
  displayCategories: string[];
  /** Declares Alexa.BrightnessController beside Alexa.PowerController. */
  dimmable: boolean;
  initial?: EndpointState;
  /** Makes the hardware show `state` (a GPIO, a PWM duty, the ring's LEDs). Must not block. */
  apply(state: EndpointState): void;
}

export interface EndpointsConnection {
  readonly dispatcher: Dispatcher;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean;
}

export interface EndpointForwardingOptions {
  /** The device's client id: endpoint ids start with it, as NXP's do. */
  clientId: string;
  endpoints: EndpointDeclaration[];
  log: Logger;
  /** A new message id or correlation token. */
  newId(): string;
  /** Wall time, Unix ms, or NaN while unknown (timeOfSample). */
  nowUtcMs(): number;
  manufacturerName?: string;
}

const ID_PATTERN = /^[a-z0-9-]{1,32}$/;
const PAYLOAD_VERSION = '3';

interface Held {
  declaration: EndpointDeclaration;
  endpointId: string;
  state: EndpointState;
}

type Header = { namespace?: unknown; name?: unknown; correlationToken?: unknown };

export class EndpointForwarding {
  private readonly held = new Map<string, Held>();
  private connection: EndpointsConnection | undefined;
  private readonly options: EndpointForwardingOptions;

  constructor(options: EndpointForwardingOptions) {
    if (typeof options?.clientId !== 'string' || !Array.isArray(options.endpoints)) throw new TypeError('EndpointForwarding needs options.clientId and endpoints');
    this.options = options;
    for (const declaration of options.endpoints) {
      if (!ID_PATTERN.test(declaration.id)) throw new RangeError(`endpoint id expected 1-32 of [a-z0-9-], got ${JSON.stringify(declaration.id)}`);
      const endpointId = `${options.clientId}::${declaration.id}`;
      if (this.held.has(endpointId)) throw new RangeError(`endpoint ${declaration.id} declared twice`);
      const state = { power: declaration.initial?.power ?? false, brightness: declaration.initial?.brightness ?? 100 };
      this.held.set(endpointId, { declaration, endpointId, state });
      declaration.apply({ ...state });
    }
  }

  /** The AIS capability (version 1.0, no configurations). */
  capability(): Record<string, unknown> {
    return { type: 'AisInterface', interface: 'EndpointForwarding', version: '1.0' };
  }

  /** Handles EndpointForwarding directives on this connection's dispatcher. */
  attach(connection: EndpointsConnection): void {
    this.connection = connection;
    connection.dispatcher.register('EndpointForwarding', (directive) => this.directive(directive.payload));
  }

  /** The connection is ready: discovery (AddOrUpdateReport) with every endpoint. */
  connected(): void {
    const endpoints = [...this.held.values()].map((h) => this.describe(h));
    this.send({ namespace: 'Alexa.Discovery', name: 'AddOrUpdateReport', eventCorrelationToken: this.options.newId() }, undefined, { endpoints });
  }

  /** The state of endpoint `id` (its short id), or undefined. */
  state(id: string): EndpointState | undefined {
    const held = this.held.get(`${this.options.clientId}::${id}`);
    return held && { ...held.state };
  }

  /** A local change (a button on the lamp): applied, and told to the cloud as a ChangeReport. */
  set(id: string, change: Partial<EndpointState>): void {
    const held = this.held.get(`${this.options.clientId}::${id}`);
    if (!held) throw new RangeError(`no endpoint ${JSON.stringify(id)}`);
    this.change(held, change);
    this.send({ namespace: 'Alexa', name: 'ChangeReport' }, held.endpointId,
      { change: { cause: { type: 'PHYSICAL_INTERACTION' }, properties: this.properties(held) } });
  }

  private directive(payload: Record<string, unknown> | undefined): void {
    const directive = payload?.directive as { header?: Header; endpoint?: { endpointId?: unknown }; payload?: Record<string, unknown> } | undefined;
    const header = directive?.header;
    if (typeof header?.namespace !== 'string' || typeof header.name !== 'string') {
      throw new MalformedMessageError('EndpointForwarding expected directive.header with namespace and name');
    }
    const token = typeof header.correlationToken === 'string' ? header.correlationToken : undefined;
    const what = `${header.namespace}.${header.name}`;
    if (what === 'Alexa.EventProcessed') return this.options.log.info('discovery accepted by the cloud');
    const endpointId = directive!.endpoint?.endpointId;
    if (typeof endpointId !== 'string') throw new MalformedMessageError(`EndpointForwarding ${what} expected directive.endpoint.endpointId`);
    const held = this.held.get(endpointId);
    const fail = (type: string, message: string, extra?: Record<string, unknown>) => {
      this.options.log.warn(`${what} for ${endpointId}: ${type}: ${message}`);
      this.send({ namespace: 'Alexa', name: 'ErrorResponse', correlationToken: token }, endpointId, { type, message, ...extra });
    };
    if (!held) return fail('NO_SUCH_ENDPOINT', `no endpoint ${endpointId.slice(0, 80)} on this device`);
    const args = directive!.payload ?? {};
    switch (what) {
      case 'Alexa.PowerController.TurnOn': this.change(held, { power: true }); break;
      case 'Alexa.PowerController.TurnOff': this.change(held, { power: false }); break;
      case 'Alexa.BrightnessController.SetBrightness':
      case 'Alexa.BrightnessController.AdjustBrightness': {
        if (!held.declaration.dimmable) return fail('INVALID_DIRECTIVE', `${held.declaration.friendlyName} is not dimmable`);
        const set = header.name === 'SetBrightness';
        const value = set ? args.brightness : args.brightnessDelta;
        const low = set ? 0 : -100;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > 100) {
          return fail('VALUE_OUT_OF_RANGE', `${set ? 'brightness' : 'brightnessDelta'} expected an integer ${low}..100, got ${JSON.stringify(value)?.slice(0, 20)}`,
            { validRange: { minimumValue: low, maximumValue: 100 } });
        }
        const brightness = set ? value : Math.max(0, Math.min(100, held.state.brightness + value));
        this.change(held, { brightness, power: brightness > 0 });
        break;
      }
      case 'Alexa.ReportState':
        return this.send({ namespace: 'Alexa', name: 'StateReport', correlationToken: token }, endpointId, {}, this.properties(held));
      default:
        return fail('INVALID_DIRECTIVE', `${what.slice(0, 80)} is not supported`);
    }
    this.send({ namespace: 'Alexa', name: 'Response', correlationToken: token }, endpointId, {}, this.properties(held));
  }

  private change(held: Held, change: Partial<EndpointState>): void {
    const state = held.state;
    if (change.power !== undefined) state.power = change.power;
    if (change.brightness !== undefined) state.brightness = change.brightness;
    this.options.log.info(`${held.declaration.friendlyName}: ${state.power ? 'on' : 'off'}${held.declaration.dimmable ? `, brightness ${state.brightness} %` : ''}`);
    held.declaration.apply({ ...state });
  }

  /** The endpoint's state as Alexa context properties (a state report). */
  private properties(held: Held): Record<string, unknown>[] {
    const ms = this.options.nowUtcMs();
    const timeOfSample = new Date(Number.isFinite(ms) ? ms : 0).toISOString();
    const property = (namespace: string, name: string, value: unknown) => ({ namespace, name, value, timeOfSample, uncertaintyInMilliseconds: 0 });
    const list = [property('Alexa.PowerController', 'powerState', held.state.power ? 'ON' : 'OFF')];
    if (held.declaration.dimmable) list.push(property('Alexa.BrightnessController', 'brightness', held.state.brightness));
    return list;
  }

  private describe(held: Held): Record<string, unknown> {
    const d = held.declaration;
    const controller = (name: string, property: string) => ({
      type: 'AlexaInterface', interface: name, version: '3', properties: { supported: [{ name: property }], proactivelyReported: true, retrievable: true },
    });
    return {
      endpointId: held.endpointId, friendlyName: d.friendlyName, description: d.description, displayCategories: d.displayCategories,
      manufacturerName: this.options.manufacturerName ?? 'ais-mcu',
      capabilities: [
        { type: 'AlexaInterface', interface: 'Alexa', version: '3' },
        controller('Alexa.PowerController', 'powerState'),
        ...(d.dimmable ? [controller('Alexa.BrightnessController', 'brightness')] : []),
      ],
    };
  }

  private send(header: Record<string, unknown>, endpointId: string | undefined, payload: Record<string, unknown>, properties?: Record<string, unknown>[]): void {
    const event: Record<string, unknown> = {
      header: { ...header, messageId: this.options.newId(), payloadVersion: PAYLOAD_VERSION },
      ...(endpointId === undefined ? {} : { endpoint: { endpointId } }),
      payload,
    };
    this.connection?.sendEvent('EndpointForwarding', properties ? { event, context: { properties } } : { event });
  }
}
