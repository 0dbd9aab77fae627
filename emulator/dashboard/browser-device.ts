// The device in the browser, served by the dashboard's server (hosts/browser): its page, the compiled core and
// browser host as ES modules as tsc wrote them (no bundler), the npm packages the core imports (by the page's
// import map), libopus's WebAssembly, and config.json: the device's configuration pointing at this same origin for
// Login with Amazon and AIS registration (the cloud's own handlers, beside the dashboard's) and at the broker's
// MQTT over WebSocket. The device gets its identity as any device does: the user links it with the code it shows.
import { readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceConfig } from '../../src/app/device.js';
import { sendJson, type RouteHandler } from '../http.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
};
const packageDir = (specifier: string) => dirname(fileURLToPath(import.meta.resolve(specifier)));
/** URL prefix under /device/ → the folder it is read from; only these are served. */
const FOLDERS: [string, string][] = [
  ['build/src/', join(ROOT, 'build', 'src')],
  ['build/hosts/browser/', join(ROOT, 'build', 'hosts', 'browser')],
  ['lib/@noble/hashes/', packageDir('@noble/hashes/sha2.js')],
  ['lib/@noble/ciphers/', packageDir('@noble/ciphers/aes.js')],
  ['lib/tweetnacl/', packageDir('tweetnacl')],
];
const FILES: Record<string, string> = {
  '': join(ROOT, 'hosts', 'browser', 'page', 'index.html'),
  'device.css': join(ROOT, 'hosts', 'browser', 'page', 'device.css'),
  'ring.css': join(ROOT, 'emulator', 'dashboard', 'page', 'ring.css'),
  'opus.wasm': fileURLToPath(import.meta.resolve('@evan/opus/wasm/opus.wasm')),
};
/** tweetnacl is a classic script that sets self.nacl; this module hands it to the core's `import nacl from 'tweetnacl'`. */
const NACL_MODULE = 'export default self.nacl;\n';
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface BrowserDeviceOptions {
  /** The device configuration for a client id, as for any device of this cloud. */
  config(clientId: string): DeviceConfig;
  mqttWebSocketUrl: string;
}

export function browserDeviceRoutes(options: BrowserDeviceOptions): RouteHandler {
  const cache = new Map<string, Buffer>();
  const send = (response: Parameters<RouteHandler>[1], type: string, body: Buffer | string) => {
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.end(body);
  };
  const file = (path: string): Buffer | undefined => {
    if (!cache.has(path)) {
      try {
        cache.set(path, readFileSync(path));
      } catch {
        return undefined;
      }
    }
    return cache.get(path);
  };
  /** The file a path under /device/ names, or undefined. */
  const resolve = (rest: string): string | undefined => {
    if (FILES[rest] !== undefined) return FILES[rest];
    const folder = FOLDERS.find(([prefix]) => rest.startsWith(prefix));
    if (!folder) return undefined;
    const inside = normalize(join(folder[1], rest.slice(folder[0].length)));
    // Only .js files inside the folder: no `..` out of it.
    return inside.startsWith(folder[1] + sep) && extname(inside) === '.js' ? inside : undefined;
  };
  const config = (response: Parameters<RouteHandler>[1], id: string, host: string | undefined) => {
    if (!CLIENT_ID.test(id)) return sendJson(response, 400, { ok: false, message: 'id expected 1-64 of [A-Za-z0-9_-]' });
    const origin = `http://${host}`;
    const device = options.config(id);
    sendJson(response, 200, {
      // Over WebSocket the device proves its client id with the MQTT password issued at registration, not a certificate.
      device: { ...device, mqttTls: undefined, lwa: { ...device.lwa, baseUrl: origin, tls: undefined }, registration: { ...device.registration, baseUrl: origin, tls: undefined } },
      mqttWebSocketUrl: options.mqttWebSocketUrl,
    });
  };
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://page');
    if (request.method !== 'GET' || !url.pathname.startsWith('/device/')) return false;
    const rest = decodeURIComponent(url.pathname.slice('/device/'.length));
    if (rest === 'config.json') config(response, url.searchParams.get('id') ?? '', request.headers.host);
    else if (rest === 'lib/tweetnacl.mjs') send(response, TYPES['.mjs'], NACL_MODULE);
    else {
      const path = resolve(rest);
      const body = path === undefined ? undefined : file(path);
      if (path === undefined || body === undefined) sendJson(response, 404, { ok: false, message: `no ${url.pathname}` });
      else send(response, TYPES[extname(path)] ?? 'application/octet-stream', body);
    }
    return true;
  };
}
