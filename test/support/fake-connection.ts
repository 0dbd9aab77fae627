// A connection stand-in for the device's namespace components in portable tests: records the events they
// send, runs directives through its dispatcher as AisConnection does. Portable: imports nothing but src/.
import { Dispatcher } from '../../src/ais/dispatcher.js';
import type { AisMessage } from '../../src/ais/message.js';

export class FakeConnection {
  readonly dispatcher = new Dispatcher();
  /** "Name {payload JSON}" per event sent. */
  readonly events: string[] = [];
  sendEvent(name: string, payload?: Record<string, unknown>): boolean {
    this.events.push(payload === undefined ? name : `${name} ${JSON.stringify(payload)}`);
    return true;
  }
  publishMicrophone(_body?: Uint8Array, _length?: number): boolean { return true; }
  reportException(): void {}
  rewindSpeaker(): void {}
  /** Runs a directive as the connection does; returns the error a handler threw (it becomes ExceptionEncountered). */
  directive(name: string, payload: Record<string, unknown>): Error | undefined {
    const message: AisMessage = { header: { name, messageId: 'm' }, payload };
    try {
      this.dispatcher.handlerFor(name)!(message, { sequenceNumber: 0, index: 0 });
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }
}
