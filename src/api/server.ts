/**
 * One bound controller socket (TCP or Unix): auth, CORS, /ui, the routes, errors as mihomo's
 * `{"message": …}`, and the streams (chunked or WebSocket) it must drop when it closes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { watchOwnServer } from '../common/own-endpoints.js';
import { ConfigError } from '../core/config-issue.js';
import { errorMessage } from '../core/errors.js';
import { authorized, isUpgrade } from './auth.js';
import type { ApiContext } from './context.js';
import { answerPreflight, applyCors } from './cors.js';
import { ApiError, MESSAGES, sendError } from './http.js';
import type { Router, StreamHandler, StreamRequest } from './router.js';
import { ChunkedSink, WsSink, type StreamSink } from './streams.js';
import { serveUi } from './ui.js';

/** A WebSocket client may send nothing the API reads; anything big is refused by ws. */
const WS_MAX_PAYLOAD = 64 * 1024;
/** After close(): requests under way get this long before their sockets are cut. */
const CLOSE_GRACE_MS = 2000;

export interface ApiServerOptions {
  readonly router: Router;
  /** undefined until the control plane exists (503 meanwhile) */
  readonly context: () => ApiContext | undefined;
  /** a Unix socket: no secret asked (mihomo's rule: filesystem permissions guard it) */
  readonly trusted: boolean;
}

export class ApiServer {
  readonly server: Server;
  readonly #o: ApiServerOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD });
  readonly #sinks = new Set<StreamSink>();
  #closing: Promise<void> | undefined;

  constructor(o: ApiServerOptions) {
    this.#o = o;
    this.server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000 }, (req, res) => void this.#request(req, res));
    watchOwnServer(this.server); // the loop guard refuses proxying to the controller (tunnel/loop-guard.ts)
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head));
    this.server.on('clientError', (_err, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Binds host:port or a Unix socket path; rejects on a bind error. */
  listen(target: { host: string; port: number } | { path: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('path' in target) this.server.listen(target.path, done);
      else this.server.listen(target.port, target.host === '' ? undefined : target.host, done);
    });
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (req.url ?? '/').split('?')[0];
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://controller');
    } catch {
      return sendError(res, 400, MESSAGES.badRequest);
    }
    const api = this.#o.context();
    if (!api) return sendError(res, 503, 'the core is starting');
    const settings = api.settings();
    if (answerPreflight(req, res, settings.cors)) return;
    applyCors(req, res, settings.cors);
    if (settings.uiDir !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      if (raw === '/ui') {
        res.writeHead(307, { Location: '/ui/' });
        res.end();
        return;
      }
      if (raw.startsWith('/ui/')) return serveUi(req, res, settings.uiDir, raw.slice(4));
    }
    if (!this.#o.trusted && !authorized(req, url, settings.secret)) return sendError(res, 401, MESSAGES.unauthorized);
    const m = this.#o.router.match(req.method ?? 'GET', url.pathname);
    if (!m.route) return sendError(res, m.otherMethod ? 405 : 404, m.otherMethod ? 'Method Not Allowed' : MESSAGES.notFound);
    const { route, params } = m;
    try {
      if (route.handle) await route.handle({ req, res, url, params, api });
      else if (route.stream) {
        route.check?.(url);
        this.#feed({ req, url, params, api }, route.stream, new ChunkedSink(res));
      } else sendError(res, 404, MESSAGES.notFound);
    } catch (err) {
      this.#fail(res, err, api);
    }
  }

  #fail(res: ServerResponse, err: unknown, api: ApiContext): void {
    if (err instanceof ApiError) sendError(res, err.status, err.message);
    else if (err instanceof ConfigError) sendError(res, 400, err.message);
    else {
      api.log.warn(`controller: ${errorMessage(err)}`);
      sendError(res, 500, errorMessage(err));
    }
    if (!res.headersSent) res.destroy();
  }

  #feed(r: StreamRequest, stream: StreamHandler, sink: StreamSink): void {
    this.#sinks.add(sink);
    sink.onClose(() => this.#sinks.delete(sink));
    if (this.#closing) return sink.close();
    const stop = stream(r, sink);
    if (stop) sink.onClose(stop);
    else if (!sink.closed) sink.close();
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refuse = (status: number, reason: string, message: string) => {
      const body = JSON.stringify({ message }) + '\n';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://controller');
    } catch {
      return refuse(400, 'Bad Request', MESSAGES.badRequest);
    }
    const api = this.#o.context();
    if (!api || this.#closing) return refuse(503, 'Service Unavailable', 'the core is starting');
    if (!isUpgrade(req)) return refuse(400, 'Bad Request', MESSAGES.badRequest);
    if (!this.#o.trusted && !authorized(req, url, api.settings().secret)) return refuse(401, 'Unauthorized', MESSAGES.unauthorized);
    const m = this.#o.router.match(req.method ?? 'GET', url.pathname);
    const stream = m.route?.stream;
    if (!m.route || !stream) return refuse(404, 'Not Found', MESSAGES.notFound);
    try {
      m.route.check?.(url);
    } catch (err) {
      return refuse(400, 'Bad Request', err instanceof Error ? err.message : MESSAGES.badRequest);
    }
    const params = m.params;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#feed({ req, url, params, api }, stream, new WsSink(ws, socket)));
  }

  /** Stops listening, ends every stream, lets other requests finish for a moment, then cuts them. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const s of [...this.#sinks]) s.close();
      const cut = setTimeout(() => this.server.closeAllConnections(), CLOSE_GRACE_MS);
      this.server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      this.server.closeIdleConnections();
      for (const c of this.#wss.clients) c.terminate();
    });
    return this.#closing;
  }
}
