// The emulator's embedded broker, restartable on the same port for tests that kill it mid-session.
import type { Aedes, AedesOptions } from 'aedes';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../emulator/broker.js';

export class AedesBroker {
  private running: EmbeddedBroker | undefined;
  port = 0;

  constructor(private readonly options: AedesOptions = {}) {}

  get broker(): Aedes {
    return this.running!.aedes;
  }

  /** Starts on `port` (default: the previous one, or a free one the first time). */
  async start(port = this.port): Promise<this> {
    this.running = await startEmbeddedBroker(port, this.options);
    this.port = this.running.port;
    return this;
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.close();
  }
}
