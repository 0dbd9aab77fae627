// The socket port in the browser: MQTT over WebSocket (subprotocol "mqtt", binary frames) to the emulator's broker.
// The core's MQTT client sees a byte stream: frames are queued as they come and read() copies from them; the
// host and port the core asks for are replaced by the one WebSocket URL the page was given.
import type { Socket, SocketFactory, SocketOptions } from '../../src/ports/socket.js';

/** Bytes the socket takes before write() says to wait (WebSocket's bufferedAmount). */
const HIGH_WATER = 64 * 1024;

export function webSocketFactory(url: string): SocketFactory {
  return (options: SocketOptions): Socket => {
    const ws = new WebSocket(url, 'mqtt');
    ws.binaryType = 'arraybuffer';
    const queue: Uint8Array[] = [];
    let head = 0;
    let closed = false;
    let waitingForRoom = false;
    const fail = (error: Error) => {
      if (closed) return;
      closed = true;
      options.onError(error);
    };
    ws.onopen = () => options.onConnect();
    ws.onmessage = (event) => {
      const chunk = new Uint8Array(event.data as ArrayBuffer);
      queue.push(chunk);
      options.onReadable(queue.reduce((n, c) => n + c.length, 0) - head);
    };
    ws.onerror = () => fail(new Error(`WebSocket to ${url} failed`));
    ws.onclose = (event) => {
      if (closed) return;
      closed = true;
      if (event.wasClean) options.onClose?.();
      else options.onError(new Error(`WebSocket to ${url} closed (${event.code})`));
    };
    const drained = () => {
      if (closed || !waitingForRoom) return;
      if (ws.bufferedAmount > HIGH_WATER / 2) return void setTimeout(drained, 10);
      waitingForRoom = false;
      options.onWritable?.(HIGH_WATER - ws.bufferedAmount);
    };
    return {
      read(buffer: Uint8Array): number {
        let n = 0;
        while (n < buffer.length && queue.length > 0) {
          const chunk = queue[0];
          const take = Math.min(buffer.length - n, chunk.length - head);
          buffer.set(chunk.subarray(head, head + take), n);
          n += take;
          head += take;
          if (head === chunk.length) {
            queue.shift();
            head = 0;
          }
        }
        return n;
      },
      write(data: Uint8Array, length = data.length): number {
        if (closed || ws.readyState !== WebSocket.OPEN) return 0;
        ws.send(data.slice(0, length));
        const room = HIGH_WATER - ws.bufferedAmount;
        if (room <= 0 && !waitingForRoom) {
          waitingForRoom = true;
          setTimeout(drained, 10);
        }
        return room;
      },
      close(): void {
        closed = true;
        ws.close();
      },
    };
  };
}
