// The cloud's side of the device's locale (docs/protocol.md §4.3, System 1.1 as NXP's client has it). The
// emulator serves only locales it has a recogniser for: pocketsphinx's US English model (emulator/voice/asr.ts).
//   LocalesChanged {locales}   the user picked one on the device: a recognised one is confirmed with SetLocales
//                              {locales: [it]}; any other is refused: SetLocales restates the device's current
//                              locale and an Exception INVALID_REQUEST says why, so the device keeps what it had
//   LocalesReport {locales}    the device's locale after a SetLocales: it is the device's from now on
//   set()                      the operator sets one: refused here, with the reason, when there is no recogniser
// The current locale before any report is the one the System capability declared.
import type { Logger } from '../../src/ports/log.js';
import type { AisMessage } from './service.js';

/** Locales the emulator can recognise speech in. */
export const RECOGNISED_LOCALES: readonly string[] = ['en-US'];

export interface LocaleTransport {
  sendDirectives(clientId: string, directives: { name: string; payload?: Record<string, unknown> }[]): boolean;
  deviceState(clientId: string): { capabilities?: Record<string, unknown>[] } | undefined;
}

/** Why the emulator cannot serve `locale`, or undefined. */
export function localeRefusal(locale: string): string | undefined {
  if (RECOGNISED_LOCALES.includes(locale)) return undefined;
  return `no recogniser for ${JSON.stringify(locale.slice(0, 20))}: this cloud recognises ${RECOGNISED_LOCALES.join(', ')} only`;
}

export class LocaleService {
  private readonly reported = new Map<string, string>();
  private readonly refusals = new Map<string, string>();
  private transport: LocaleTransport | undefined;

  constructor(private readonly options: { log: Logger }) {}

  attach(transport: LocaleTransport): void {
    this.transport = transport;
  }

  /** The service hooks this module handles; chains to the given ones. */
  serviceHooks(chain: { onEvent?(clientId: string, event: AisMessage): void } = {}) {
    return {
      onEvent: (clientId: string, event: AisMessage) => {
        this.event(clientId, event);
        chain.onEvent?.(clientId, event);
      },
    };
  }

  /** The device's locale: the last it reported, else what its System capability declares. */
  locale(clientId: string): string | undefined {
    const reported = this.reported.get(clientId);
    if (reported) return reported;
    const system = this.transport?.deviceState(clientId)?.capabilities?.find((c) => c.interface === 'System') as
      { configurations?: { locale?: unknown; locales?: unknown } } | undefined;
    const declared = system?.configurations?.locale ?? (Array.isArray(system?.configurations?.locales) ? system!.configurations!.locales[0] : undefined);
    return typeof declared === 'string' ? declared : undefined;
  }

  /** The last locale refused for this device, with the reason. */
  lastRefusal(clientId: string): string | undefined {
    return this.refusals.get(clientId);
  }

  /** Sets the device's locale (SetLocales); returns why not, or undefined when sent. */
  set(clientId: string, locale: string): string | undefined {
    const refusal = localeRefusal(locale);
    if (refusal) return refusal;
    return this.transport?.sendDirectives(clientId, [{ name: 'SetLocales', payload: { locales: [locale] } }]) ? undefined : `${clientId} is not connected`;
  }

  private event(clientId: string, event: AisMessage): void {
    const name = event.header.name;
    if (name !== 'LocalesChanged' && name !== 'LocalesReport') return;
    const locales = event.payload?.locales;
    const first = Array.isArray(locales) && typeof locales[0] === 'string' ? locales[0] : undefined;
    if (!first) return this.options.log.warn(`${clientId}: ${name} without a locales array; ignored`);
    if (name === 'LocalesReport') {
      this.reported.set(clientId, first);
      return this.options.log.info(`${clientId}: locale ${first}`);
    }
    const refusal = localeRefusal(first);
    if (!refusal) {
      this.transport?.sendDirectives(clientId, [{ name: 'SetLocales', payload: { locales: [first] } }]);
      return this.options.log.info(`${clientId}: asks for locale ${first}: granted`);
    }
    this.refusals.set(clientId, `${first}: ${refusal}`);
    this.options.log.warn(`${clientId}: asks for locale ${first}: refused, ${refusal}`);
    const current = this.locale(clientId) ?? RECOGNISED_LOCALES[0];
    this.transport?.sendDirectives(clientId, [
      { name: 'SetLocales', payload: { locales: [current] } },
      { name: 'Exception', payload: { code: 'INVALID_REQUEST', description: `LocalesChanged ${first}: ${refusal}` } },
    ]);
  }
}
