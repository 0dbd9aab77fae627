// The dashboard's web server: plain HTTP on loopback by default (a loopback origin is a secure context for the
// browser, and nobody else can reach it), the page as static files from emulator/dashboard/page (no build step,
// no framework), live updates by server-sent events, the operator's actions as JSON POSTs.
//
// Access: the operator password (printed by the emulator at start) is posted once to /api/login and exchanged for
// a random session cookie (HttpOnly, SameSite=Strict, so another site's page can neither read it nor send it with
// a forged action). Wrong passwords are limited per address and logged, never the password itself.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../src/ports/log.js';
import { sendJson, startHttpServer, type RouteHandler } from '../http.js';
import { KeyedRateLimiter } from '../rate-limit.js';
import type { Operator, OperatorReply } from '../operator.js';
import type { CloudMonitor, MonitorEvent } from './monitor.js';

const PAGE_DIR = new URL('../../../emulator/dashboard/page/', import.meta.url);
const PAGES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/ring.css': { file: 'ring.css', type: 'text/css; charset=utf-8' },
};
const COOKIE = 'ais_dashboard';
/** Keep-alive comment on idle event streams, so proxies and the browser keep them open. */
const HEARTBEAT_MS = 15_000;

export interface DashboardOptions {
  /** The operator password. */
  password: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** More routes on the same server, tried after the dashboard's (the device in the browser, LWA, registration). */
  handlers?: RouteHandler[];
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

/** A new operator password: 16 random characters. */
export function newOperatorPassword(): string {
  return randomBytes(12).toString('base64url');
}

export async function startDashboard(options: DashboardOptions, monitor: CloudMonitor, operator: Operator, log: Logger): Promise<RunningDashboard> {
  const files = Object.fromEntries(Object.entries(PAGES).map(([path, page]) => [path, { ...page, body: readFileSync(new URL(page.file, PAGE_DIR)) }]));
  const passwordHash = createHash('sha256').update(options.password).digest();
  const sessions = new Set<string>();
  const attempts = new KeyedRateLimiter(10);
  const streams = new Set<ServerResponse>();

  const signedIn = (request: IncomingMessage) => {
    const cookie = request.headers.cookie?.split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1);
    return cookie !== undefined && sessions.has(cookie);
  };

  const login = (request: IncomingMessage, response: ServerResponse, body: Buffer) => {
    const address = request.socket.remoteAddress ?? '?';
    if (!attempts.take(address)) return sendJson(response, 429, { ok: false, message: 'too many attempts; wait a minute' });
    const given = (parseBody(body) as { password?: unknown } | undefined)?.password;
    // Hashes compared, so the comparison takes the same time whatever the length of the guess.
    if (typeof given !== 'string' || !timingSafeEqual(createHash('sha256').update(given).digest(), passwordHash)) {
      log.warn(`dashboard: wrong operator password from ${address}`);
      return sendJson(response, 401, { ok: false, message: 'wrong operator password' });
    }
    const session = randomBytes(24).toString('base64url');
    sessions.add(session);
    log.info(`dashboard: operator signed in from ${address}`);
    response.writeHead(204, { 'set-cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` });
    response.end();
  };

  const events = (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: MonitorEvent) => response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = monitor.subscribe(send);
    const heartbeat = setInterval(() => response.write(': still here\n\n'), HEARTBEAT_MS);
    streams.add(response);
    // The response's close, not the request's: a request closes as soon as its (empty) body has been read.
    response.on('close', () => {
      unsubscribe();
      clearInterval(heartbeat);
      streams.delete(response);
    });
  };

  const action = (response: ServerResponse, body: Buffer) => {
    const reply = act(operator, parseBody(body));
    log.info(`dashboard: ${reply.ok ? '' : 'refused: '}${reply.message}`);
    sendJson(response, reply.ok ? 200 : 400, reply);
  };

  const route = (request: IncomingMessage, response: ServerResponse, body: Buffer, path: string): void => {
    if (request.method === 'POST' && path === '/api/login') return login(request, response, body);
    if (!signedIn(request)) return sendJson(response, 401, { ok: false, message: 'sign in with the operator password first' });
    if (request.method === 'GET' && path === '/api/events') return events(response);
    if (request.method === 'POST' && path === '/api/action') return action(response, body);
    sendJson(response, 405, { ok: false, message: `${request.method} not allowed on ${path}` });
  };

  const handle: RouteHandler = (request, response, body) => {
    const path = (request.url ?? '/').split('?')[0];
    const page = files[path];
    if (request.method === 'GET' && page) {
      response.writeHead(200, { 'content-type': page.type, 'content-length': page.body.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      response.end(page.body);
      return true;
    }
    if (!path.startsWith('/api/')) return false;
    route(request, response, body, path);
    return true;
  };

  const host = options.host ?? '127.0.0.1';
  const server = await startHttpServer({ host, port: options.port ?? 0, handlers: [handle, ...(options.handlers ?? [])] });
  return {
    url: `${server.url}/`,
    close: async () => {
      for (const stream of streams) stream.end();
      await server.close();
    },
  };
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** One operator action from its JSON: `{action, id?, code?, seconds?, text?}`. */
function act(operator: Operator, request: unknown): OperatorReply {
  if (typeof request !== 'object' || request === null) return { ok: false, message: 'expected a JSON object {action, ...}' };
  const r = request as Record<string, unknown>;
  const text = (key: string) => (typeof r[key] === 'string' ? r[key] as string : '');
  switch (r.action) {
    case 'approve': return operator.approve(text('code'));
    case 'deny': return operator.deny(text('code'));
    case 'rotate': return operator.rotate(text('id'));
    case 'timer': return operator.timer(text('id'), Number(r.seconds));
    case 'cancel': return operator.cancel(text('id'), text('token'));
    case 'disconnect': return operator.disconnect(text('id'));
    case 'say': return operator.say(text('id'), text('text'));
    case 'notify': return operator.notify(text('id'), text('text'));
    default: return { ok: false, message: `unknown action ${JSON.stringify(r.action)} (approve, deny, rotate, timer, cancel, disconnect, say, notify)` };
  }
}
