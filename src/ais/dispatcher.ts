// Directives to their handlers (AIS §3.1): one component per AIS namespace registers its own, and the
// dispatcher runs a directive message's array in order and answers for what no handler can:
//   - a body or entry that is not a directive, or an unknown name        → ExceptionEncountered MALFORMED_MESSAGE
//   - a handler that rejects its payload (throws MalformedMessageError)  → ExceptionEncountered MALFORMED_MESSAGE
//   - a handler that throws anything else: a bug on our side, logged as one → ExceptionEncountered INTERNAL_ERROR
// The entry that failed is named by its index and the rest still run (§3.1).

import type { Logger } from '../ports/log.js';
import { checkMessage, MalformedMessageError, parseMessageArray, type AisMessage } from './message.js';
import { traceLine } from './trace.js';

export interface DirectiveContext {
  /** Sequence number of the MQTT message on the directive topic. */
  sequenceNumber: number;
  /** 0-based position of the directive in its message's array (§3.1). */
  index: number;
}

/** Handles one directive. Synchronous, must not block; throws MalformedMessageError for a payload it cannot use. */
export type DirectiveHandler = (directive: AisMessage, context: DirectiveContext) => void;

/** The codes of ExceptionEncountered (§4.3). */
export type ExceptionCode = 'MALFORMED_MESSAGE' | 'INTERNAL_ERROR';

export interface DispatcherOptions {
  log: Logger;
  /** Sends ExceptionEncountered about entry `index` (or the whole message) of directive message `sequenceNumber`. */
  report(code: ExceptionCode, description: string, sequenceNumber: number, index?: number): void;
  /** After each directive: false stops the rest (a handler ended the connection). */
  proceed?(): boolean;
  trace?: boolean;
}

export class Dispatcher {
  private readonly handlers = new Map<string, DirectiveHandler>();

  /** Without options it only registers (components under test call handlerFor themselves). */
  constructor(private readonly options?: DispatcherOptions) {}

  register(name: string, handler: DirectiveHandler): void {
    if (this.handlers.has(name)) throw new RangeError(`a handler for directive ${name} is already registered`);
    this.handlers.set(name, handler);
  }

  handlerFor(name: string): DirectiveHandler | undefined {
    return this.handlers.get(name);
  }

  get names(): string[] {
    return [...this.handlers.keys()];
  }

  /** One opened message of the directive topic: `bytes[offset, offset + length)`. */
  dispatch(sequenceNumber: number, bytes: Uint8Array, offset: number, length: number): void {
    const options = this.options;
    if (!options) throw new TypeError('Dispatcher.dispatch needs the dispatcher made with options (log, report)');
    let entries: unknown[];
    try {
      entries = parseMessageArray(bytes, offset, length, 'directives');
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      return options.report('MALFORMED_MESSAGE', error.message, sequenceNumber);
    }
    if (options.trace) options.log.info(traceLine('in', 'directive', sequenceNumber, { directives: entries }, length));
    for (let index = 0; index < entries.length; index++) {
      this.run(entries[index], sequenceNumber, index, options);
      if (options.proceed && !options.proceed()) return;
    }
  }

  private run(entry: unknown, sequenceNumber: number, index: number, options: DispatcherOptions): void {
    let directive: AisMessage;
    try {
      directive = checkMessage(entry, index);
    } catch (error) {
      return options.report('MALFORMED_MESSAGE', (error as Error).message, sequenceNumber, index);
    }
    const name = directive.header.name;
    const handler = this.handlers.get(name);
    if (!handler) return options.report('MALFORMED_MESSAGE', `unknown directive ${name}`, sequenceNumber, index);
    try {
      handler(directive, { sequenceNumber, index });
    } catch (error) {
      if (error instanceof MalformedMessageError) return options.report('MALFORMED_MESSAGE', error.message, sequenceNumber, index);
      // Our fault, not the cloud's: say so in the log (with where it was thrown) and tell the service we failed.
      const stack = error instanceof Error && error.stack ? ` at ${error.stack.split('\n')[1]?.trim() ?? '?'}` : '';
      options.log.error(`bug: the ${name} handler threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}${stack}`);
      options.report('INTERNAL_ERROR', `${name} could not be handled`, sequenceNumber, index);
    }
  }
}
