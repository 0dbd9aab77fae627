// A socket port whose network a test can cut and restore: cut() fails every open connection (as a pulled
// cable or a dead access point would, seen by the device as a socket error) and every new one until restore().
import type { Socket, SocketFactory, SocketOptions } from '../../src/ports/socket.js';

export interface CuttableNetwork {
  socket: SocketFactory;
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
}

export function cuttableNetwork(socket: SocketFactory): CuttableNetwork {
  const live = new Set<{ socket: Socket; options: SocketOptions }>();
  let down = false;
  const factory: SocketFactory = (options) => {
    if (down) {
      let closed = false;
      setTimeout(() => { if (!closed) options.onError(new Error('network unreachable (cut by the test)')); }, 20);
      return { read: () => 0, write: () => 0, close() { closed = true; } };
    }
    const entry = { options } as { socket: Socket; options: SocketOptions };
    entry.socket = socket({
      ...options,
      onError: (error) => { live.delete(entry); options.onError(error); },
      onClose: () => { live.delete(entry); options.onClose?.(); },
    });
    live.add(entry);
    return {
      read: (buffer) => entry.socket.read(buffer),
      write: (data, length) => entry.socket.write(data, length),
      close: () => { live.delete(entry); entry.socket.close(); },
    };
  };
  return {
    socket: factory,
    cut() {
      down = true;
      for (const entry of [...live]) {
        live.delete(entry);
        entry.socket.close();
        entry.options.onError(new Error('network cut by the test'));
      }
    },
    restore() { down = false; },
    get isCut() { return down; },
  };
}
