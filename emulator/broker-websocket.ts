// MQTT over WebSocket for the embedded broker: the `mqtt` subprotocol in binary frames, what a browser can speak.
// Each connection becomes a byte stream handed to aedes behind the same guard as TCP (broker.ts handleGuarded), so
// the AIS access rules and the per-client limits are the same. Identity: a WebSocket client presents no client
// certificate, so a registered client id proves itself with the MQTT password issued at its registration (username =
// the client id), as on the plain port; AWS IoT's WebSocket endpoint likewise authenticates by a credential, not a
// certificate.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { handleGuarded } from './broker.js';
import { checkLimits, type ClientLimits } from './connection-guard.js';

export interface MqttWebSocketListener {
  /** ws://127.0.0.1:PORT/mqtt */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const MQTT_WEBSOCKET_PATH = '/mqtt';

/** Serves `aedes` over WebSocket on 127.0.0.1:`port` (0 = a free port) at /mqtt. */
export async function serveMqttOverWebSocket(aedes: Aedes, port: number, guard: { limits?: ClientLimits; onDenied?(line: string): void } = {}): Promise<MqttWebSocketListener> {
  const limits = checkLimits(guard.limits);
  const server: Server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' });
    response.end(`MQTT over WebSocket: connect to ${MQTT_WEBSOCKET_PATH} with the "mqtt" subprotocol\n`);
  });
  const sockets = new WebSocketServer({
    server, path: MQTT_WEBSOCKET_PATH,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  sockets.on('connection', (socket, request) => {
    const stream = Object.assign(createWebSocketStream(socket), { remoteAddress: request.socket.remoteAddress });
    handleGuarded(aedes, stream, limits, guard.onDenied);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${bound}${MQTT_WEBSOCKET_PATH}`,
    port: bound,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
