// Maps a directive name to its handler, one component per AIS namespace registering its own
// (the AiaDispatcher pattern). An unknown name is the caller's to answer with ExceptionEncountered (§3.1).

import type { AisMessage } from './message.js';

export interface DirectiveContext {
  /** Sequence number of the MQTT message on the directive topic. */
  sequenceNumber: number;
  /** 0-based position of the directive in its message's array (§3.1). */
  index: number;
}

/** Handles one directive. Synchronous, must not block; throws MalformedMessageError for a payload it cannot use. */
export type DirectiveHandler = (directive: AisMessage, context: DirectiveContext) => void;

export class Dispatcher {
  private readonly handlers = new Map<string, DirectiveHandler>();

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
}
