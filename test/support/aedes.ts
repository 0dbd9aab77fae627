// An in-process aedes broker on a loopback port, for tests that need a real broker without Debian packages.
import { Aedes, type AedesOptions } from 'aedes';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export class AedesBroker {
  private server: Server | undefined;
  broker!: Aedes;
  port = 0;

  constructor(private readonly options: AedesOptions = {}) {}

  /** Starts on `port` (0: a free one) and resolves when listening. */
  async start(port = this.port): Promise<this> {
    this.broker = await Aedes.createBroker(this.options);
    const server = createServer(this.broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Closes the listener, drops every client connection and the broker. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
