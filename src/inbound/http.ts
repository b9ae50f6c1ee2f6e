import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TcpReply } from '../core/inbound.js';
import { parseBasicCredentials } from './auth.js';
import { sourceOf, type InboundContext } from './context.js';
import { parseSimpleConnect } from './connect-head.js';
import { forwardRequest } from './http-forward.js';
import { endToEndHeaders, parseConnectTarget, parseForwardTarget, removeHeader } from './http-headers.js';

/**
 * The longest request head (request line and headers together) the HTTP inbound reads: a longer
 * one is answered 431 and closed. node:http's default, set here so no runtime flag changes it.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The challenge sent with 407. */
const PROXY_AUTHENTICATE = 'Basic realm="clash-ts"';

/** What a client connection learned so far: once authenticated, it stays so (as mihomo). */
interface ConnState {
  user: string | undefined;
  trusted: boolean;
}

function swallow(): void {}

/**
 * A request line without a version is HTTP/0.9 to node:http, which then serves it; Go's
 * ReadRequest (mihomo's HTTP inbound) refuses it as malformed. We answer 400 and close: a
 * proxy request is HTTP/1.x (our answers would otherwise begin `HTTP/0.9 …`, which no client reads).
 */
function isHttp09(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 0;
}

/** Whether node:http is writing a response on this socket right now. */
function isBusy(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;
}

/**
 * The HTTP proxy side of an inbound: CONNECT tunnels, absolute-form forwarding with keep-alive,
 * Upgrade pass-through, Basic proxy auth. node:http parses; connections arrive through
 * `accept(socket)` (the listener or the mixed sniffer owns accepting).
 */
export class HttpProxy {
  readonly #ctx: InboundContext;
  readonly #server: Server;
  readonly #conns = new Map<Socket, ConnState>();

  constructor(ctx: InboundContext) {
    this.#ctx = ctx;
    // requestTimeout 0: a long upload through the proxy is not a slow client; the handshake
    // deadline (InboundContext) bounds the wait for the first request instead.
    this.#server = createServer({ requestTimeout: 0, keepAliveTimeout: 5000, maxHeaderSize: MAX_HEADER_BYTES });
    // Let a client that half-closes after its request still get the response.
    (this.#server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.#server.on('request', this.#onRequest);
    this.#server.on('connect', this.#onConnect);
    this.#server.on('upgrade', this.#onUpgrade);
    this.#server.on('clientError', this.#onClientError);
  }

  /** Serves HTTP on a connection (its handshake deadline is already running). */
  accept = (socket: Socket): void => {
    this.#conns.set(socket, { user: undefined, trusted: false });
    socket.once('close', () => this.#conns.delete(socket));
    this.#server.emit('connection', socket);
  };

  /**
   * Serves a connection whose first bytes, `first`, were already read (the mixed sniffer): a
   * plain CONNECT ({@link parseSimpleConnect}) from a client that needs no credentials goes to
   * the tunnel at once, as node:http's 'connect' would have sent it; anything else goes to
   * node:http with the bytes put back.
   */
  acceptFirst = (socket: Socket, first: Buffer): void => {
    const connect = parseSimpleConnect(first);
    const source = connect === undefined ? undefined : sourceOf(socket);
    if (connect === undefined || source === undefined || this.#ctx.auth.required(source.host)) {
      socket.unshift(first);
      this.accept(socket);
      return;
    }
    this.#ctx.release(socket);
    if (first.length > connect.used) socket.unshift(first.subarray(connect.used));
    const meta = this.#ctx.meta('tcp', 'HTTPS', source, connect.target);
    this.#ctx.handler.handleTcp(socket, meta, new ConnectReply(socket, connect.httpVersion));
  };

  /** Closes idle client connections; busy ones close after their current response. */
  close(): void {
    for (const socket of this.#conns.keys()) if (!isBusy(socket)) socket.destroy();
  }

  /**
   * After each response on a connection that is now idle: once the inbound is closing it has
   * no future; otherwise the next request's head must arrive within the handshake deadline
   * (which also bounds a slow-header client; node's own headersTimeout needs server.listen).
   */
  #afterResponse = (socket: Socket): void => {
    if (socket.destroyed || isBusy(socket)) return;
    if (this.#ctx.closed) socket.end();
    else this.#ctx.track(socket);
  };

  #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    this.#ctx.release(socket);
    req.on('error', swallow);
    res.once('finish', () => this.#afterResponse(socket));
    if (isHttp09(req)) {
      res.shouldKeepAlive = false;
      return this.#answer(res, 400);
    }
    const user = this.#authenticate(req, socket);
    if (user === false) return this.#deny(req, res);
    const target = parseForwardTarget(req.url);
    if (target === undefined) return this.#answer(res, 400);
    const source = sourceOf(socket);
    if (source === undefined) return void socket.destroy();
    const meta = this.#ctx.meta('tcp', 'HTTP', source, target.address, user);
    forwardRequest(this.#ctx, req, res, target, meta);
  };

  #onConnect = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    this.#takeOver(socket);
    if (isHttp09(req)) return this.#rawAnswer(socket, req, '400 Bad Request');
    const user = this.#authenticate(req, socket);
    if (user === false) return this.#denyRaw(req, socket);
    const target = parseConnectTarget(req.url);
    const source = sourceOf(socket);
    if (target === undefined || source === undefined) return this.#rawAnswer(socket, req, '400 Bad Request');
    if (head.length > 0) socket.unshift(head);
    const meta = this.#ctx.meta('tcp', 'HTTPS', source, target, user);
    this.#ctx.handler.handleTcp(socket, meta, new ConnectReply(socket, req.httpVersion));
  };

  /**
   * `Connection: Upgrade` (WebSocket…): the request is rewritten to origin-form, put back in
   * front of the client's bytes, and the raw connection goes to the tunnel; from there the
   * origin's 101 and everything after flow through untouched.
   */
  #onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    this.#takeOver(socket);
    if (isHttp09(req)) return this.#rawAnswer(socket, req, '400 Bad Request');
    const user = this.#authenticate(req, socket);
    if (user === false) return this.#denyRaw(req, socket);
    const target = parseForwardTarget(req.url);
    const source = sourceOf(socket);
    if (target === undefined || source === undefined) return this.#rawAnswer(socket, req, '400 Bad Request');
    const headers = endToEndHeaders(req.rawHeaders, true);
    removeHeader(headers, 'host'); // absolute-form: Host is the target's authority (RFC 9112)
    headers.unshift('Host', target.authority);
    let text = `${req.method} ${target.path} HTTP/${req.httpVersion}\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    socket.unshift(head.length > 0 ? Buffer.concat([Buffer.from(`${text}\r\n`, 'latin1'), head]) : Buffer.from(`${text}\r\n`, 'latin1'));
    const meta = this.#ctx.meta('tcp', 'HTTP', source, target.address, user);
    this.#ctx.handler.handleTcp(socket, meta, new UpgradeReply(socket, req.httpVersion));
  };

  #onClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
    this.#ctx.log.debug(`[${this.#ctx.name}] bad HTTP request from ${socket.remoteAddress ?? '?'}: ${err.code ?? err.message}`);
    // A response in flight on this socket must not get a 400 spliced into it: just close.
    if (socket.writable && err.code !== 'ECONNRESET' && !isBusy(socket)) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroySoon();
    } else {
      socket.destroy();
    }
  };

  /** The raw socket leaves node:http (CONNECT, Upgrade): it is the tunnel's from here on. */
  #takeOver(socket: Socket): void {
    this.#ctx.release(socket);
    this.#conns.delete(socket);
    socket.setTimeout(0); // node:http's keep-alive timer must not cut a tunnel
  }

  /**
   * Checks proxy credentials. Returns the user name (undefined when none is needed) or false
   * when the request must be refused. Success is remembered for the connection, as mihomo does.
   */
  #authenticate(req: IncomingMessage, socket: Socket): string | undefined | false {
    const state = this.#conns.get(socket) ?? { user: undefined, trusted: false };
    if (state.trusted) return state.user;
    const ip = sourceOf(socket)?.host ?? '';
    if (!this.#ctx.auth.required(ip)) return undefined;
    const cred = parseBasicCredentials(req.headers['proxy-authorization']);
    if (cred === undefined || !this.#ctx.auth.verify(cred.username, cred.password)) {
      if (cred !== undefined) this.#ctx.log.info(`Auth failed from ${socket.remoteAddress}:${socket.remotePort}`);
      return false;
    }
    state.trusted = true;
    state.user = cred.username;
    return cred.username;
  }

  /** Like mihomo: no credentials → 407 with a challenge; wrong ones → 403. */
  #deny(req: IncomingMessage, res: ServerResponse): void {
    if (req.headers['proxy-authorization'] === undefined) {
      res.writeHead(407, { 'Proxy-Authenticate': PROXY_AUTHENTICATE, 'Content-Length': '0' });
      res.end();
    } else {
      this.#answer(res, 403);
    }
  }

  #denyRaw(req: IncomingMessage, socket: Socket): void {
    if (req.headers['proxy-authorization'] === undefined) {
      this.#rawAnswer(socket, req, '407 Proxy Authentication Required', `Proxy-Authenticate: ${PROXY_AUTHENTICATE}\r\n`);
    } else {
      this.#rawAnswer(socket, req, '403 Forbidden');
    }
  }

  #answer(res: ServerResponse, status: number): void {
    res.writeHead(status, { 'Content-Length': '0' });
    res.end();
  }

  /** A final answer on a socket node:http no longer manages, then close. */
  #rawAnswer(socket: Socket, req: IncomingMessage, status: string, extra = ''): void {
    socket.end(`HTTP/${req.httpVersion === '1.0' ? '1.0' : '1.1'} ${status}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  }
}

/** The common answer, encoded once (it is written for every CONNECT). */
const ESTABLISHED_11 = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');

/** CONNECT's answer: `200 Connection established` once the outbound is up, else 502. */
class ConnectReply implements TcpReply {
  constructor(
    readonly socket: Socket,
    readonly version: string,
  ) {}
  connected(): void {
    this.socket.write(this.version === '1.1' ? ESTABLISHED_11 : `HTTP/${this.version} 200 Connection established\r\n\r\n`);
  }
  failed(): void {
    this.socket.end(`HTTP/${this.version} 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
}

/** An Upgrade needs no answer of ours on success (the origin's 101 comes through); 502 if not. */
class UpgradeReply extends ConnectReply {
  override connected(): void {}
}
