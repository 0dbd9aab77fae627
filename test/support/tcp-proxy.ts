// A TCP relay a test can cut, for a device in another process (xsrun, a child Node process): the device connects
// to the relay's port, the relay to the target. cut() resets every relayed connection and refuses new ones until
// restore(), as a pulled cable or a dead access point would look to the device (cuttable-network.ts does the
// same for an in-process socket port).
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const live = new Set<Socket>();
  let down = false;
  const track = (socket: Socket) => {
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer({ noDelay: true }, (device) => {
    track(device);
    if (down) return void device.resetAndDestroy();
    const upstream = connect({ port: targetPort, host: targetHost, noDelay: true });
    track(upstream);
    device.pipe(upstream);
    upstream.pipe(device);
    device.on('close', () => upstream.destroy());
    upstream.on('close', () => device.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      down = true;
      for (const socket of [...live]) socket.resetAndDestroy();
    },
    restore() { down = false; },
    close() {
      for (const socket of [...live]) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
