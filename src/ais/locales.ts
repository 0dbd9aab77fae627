// The device's locale (docs/protocol.md §4.3, System 1.1 as NXP's client has it): what the System capability
// declares, kept across reboots in storage (whose set() is atomic: after a power cut the old or the new locale,
// never a mix).
//   SetLocales {locales: [primary, …]}   the cloud sets it: stored, then LocalesReport {locales: [primary]}
//   request(locale)                      the user picks one on the device: LocalesChanged {locales: [locale]};
//                                        nothing is stored until the cloud answers with SetLocales, so a locale
//                                        the cloud refuses (it restates the old one, and says why in an
//                                        Exception) leaves the device as it was
// One locale at a time, as NXP's single wake-word model: the first of the list is taken.

import type { Logger } from '../ports/log.js';
import type { Storage } from '../ports/storage.js';
import { decodeUtf8, encodeUtf8 } from '../encoding/utf8.js';
import type { Dispatcher } from './dispatcher.js';
import { MalformedMessageError } from './message.js';

/** Where the locale persists. */
export const LOCALE_KEY = 'system.locale';

/** language-REGION, as AVS writes them (en-US, de-DE, fr-CA, es-419). */
const LOCALE_PATTERN = /^[a-z]{2,3}-(?:[A-Z]{2}|[0-9]{3})$/;

/** Why `value` is not a locale, or undefined. */
export function localeProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !LOCALE_PATTERN.test(value)) return `expected a locale like en-US, got ${JSON.stringify(value)?.slice(0, 40)}`;
  return undefined;
}

export interface LocalesConnection {
  readonly dispatcher: Dispatcher;
  sendEvent(name: string, payload?: Record<string, unknown>): boolean;
}

export interface LocalesOptions {
  storage: Storage;
  log: Logger;
  /** The locale before any was stored (the product's default). */
  defaultLocale: string;
  /** The locale changed (stored). */
  onChanged?(locale: string): void;
}

export class Locales {
  private connection: LocalesConnection | undefined;
  private pending: string | undefined;
  private value: string;

  constructor(private readonly options: LocalesOptions) {
    const problem = localeProblem(options?.defaultLocale);
    if (problem) throw new RangeError(`defaultLocale ${problem}`);
    this.value = this.stored() ?? options.defaultLocale;
  }

  /** The locale in use (declared in the System capability). */
  get locale(): string { return this.value; }

  /** The one the device asked for and the cloud has not answered yet. */
  get requested(): string | undefined { return this.pending; }

  /** Handles SetLocales on this connection's dispatcher. */
  attach(connection: LocalesConnection): void {
    this.connection = connection;
    this.pending = undefined;
    connection.dispatcher.register('SetLocales', (directive) => {
      const locales = directive.payload?.locales;
      if (!Array.isArray(locales) || locales.length === 0) throw new MalformedMessageError(`SetLocales locales expected a non-empty array, got ${JSON.stringify(locales)?.slice(0, 60)}`);
      const problem = localeProblem(locales[0]);
      if (problem) throw new MalformedMessageError(`SetLocales locales[0] ${problem}`);
      this.set(locales[0] as string);
      connection.sendEvent('LocalesReport', { locales: [this.value] });
    });
  }

  /** The user picked `locale`: asks the cloud (LocalesChanged); false when it is no locale or the connection is not ready. */
  request(locale: string): boolean {
    const problem = localeProblem(locale);
    if (problem) {
      this.options.log.warn(`locale not requested: ${problem}`);
      return false;
    }
    if (!this.connection?.sendEvent('LocalesChanged', { locales: [locale] })) return false;
    this.pending = locale;
    return true;
  }

  private set(locale: string): void {
    const refused = this.pending !== undefined && this.pending !== locale;
    if (refused) this.options.log.warn(`the cloud kept ${locale}, not the ${this.pending} asked for`);
    this.pending = undefined;
    if (locale === this.value) return;
    this.options.storage.set(LOCALE_KEY, encodeUtf8(locale));
    this.value = locale;
    this.options.log.info(`locale ${locale}`);
    this.options.onChanged?.(locale);
  }

  private stored(): string | undefined {
    const bytes = this.options.storage.get(LOCALE_KEY);
    if (!bytes) return undefined;
    const text = decodeUtf8(bytes, 0, bytes.length);
    if (localeProblem(text) === undefined) return text;
    this.options.log.warn(`stored locale unreadable; using ${this.options.defaultLocale}`);
    return undefined;
  }
}
