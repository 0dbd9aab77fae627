// The emulator's MQTT broker: aedes in-process by default (the AIS cloud's AWS IoT stand-in).
import { Aedes, type AedesOptions } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';

export interface EmbeddedBroker {
  port: number;
  aedes: Aedes;
  close(): Promise<void>;
}

/** Starts aedes on 127.0.0.1:`port` (0 = a free port). */
export async function startEmbeddedBroker(port = 0, options: AedesOptions = {}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker(options);
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    aedes,
    close: async () => {
      // aedes.close() ends every client connection, so the listener can close.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
