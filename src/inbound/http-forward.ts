import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { duplexPair } from '../common/duplex-pair.js';
import { errorMessage } from '../core/errors.js';
import type { TcpReply } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import type { InboundContext } from './context.js';
import { endToEndHeaders, removeHeader, type ForwardTarget } from './http-headers.js';

function swallow(): void {}

/**
 * Forwards one plain (absolute-form) HTTP request through the tunnel and streams the response
 * back. The tunnel gets one end of an in-memory pair as if it were the client's connection (it
 * routes, dials, relays, counts and logs as for any other); `http.request` writes the
 * origin-form request into the other end and parses the response from it.
 */
export function forwardRequest(
  ctx: InboundContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: ForwardTarget,
  meta: Metadata,
): void {
  const [local, remote] = duplexPair();
  const job = new ForwardJob(ctx, req, res, target, local);
  ctx.handler.handleTcp(remote, meta, job);
}

/** One forwarded request: the tunnel's reply callbacks and the two HTTP legs. */
class ForwardJob implements TcpReply {
  readonly #ctx: InboundContext;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #target: ForwardTarget;
  readonly #local: Duplex;
  #upstream: ClientRequest | undefined;
  #settled = false;

  constructor(ctx: InboundContext, req: IncomingMessage, res: ServerResponse, target: ForwardTarget, local: Duplex) {
    this.#ctx = ctx;
    this.#req = req;
    this.#res = res;
    this.#target = target;
    this.#local = local;
    local.on('error', swallow);
    // The tunnel closed its end without a verdict (or after it, before a response): 502.
    local.on('close', this.#onLocalClose);
    // The client went away mid-request: tear down the tunnel leg too.
    res.on('close', this.#onResClose);
  }

  connected(): void {
    if (this.#settled) return;
    this.#settled = true;
    const req = this.#req;
    const headers = endToEndHeaders(req.rawHeaders);
    // RFC 9112 §3.2.2: with an absolute-form target the proxy replaces Host with its authority.
    removeHeader(headers, 'host');
    headers.unshift('Host', this.#target.authority);
    // node:http re-frames a body it receives decoded; keep it chunked if the client chunked it.
    if (req.headers['transfer-encoding'] !== undefined) headers.push('Transfer-Encoding', 'chunked');
    // We already answered any `Expect: 100-continue` to the client ourselves.
    removeHeader(headers, 'expect');
    const upstream = httpRequest({
      method: req.method,
      path: this.#target.path,
      headers,
      setHost: false,
      createConnection: () => this.#local as never,
    });
    this.#upstream = upstream;
    upstream.on('response', this.#onResponse);
    upstream.on('error', this.#onUpstreamError);
    req.pipe(upstream);
  }

  failed(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#ctx.log.debug(`[${this.#ctx.name}] forward ${this.#target.address.host} failed: ${errorMessage(err)}`);
    this.#badGateway();
  }

  #onResponse = (upstreamRes: IncomingMessage): void => {
    const res = this.#res;
    if (res.headersSent || res.destroyed) {
      upstreamRes.destroy();
      return;
    }
    const headers = endToEndHeaders(upstreamRes.rawHeaders);
    // The inbound is closing: this is the connection's last response.
    if (this.#ctx.closed) headers.push('Connection', 'close');
    res.sendDate = false; // the origin's Date (or none) is passed through, not ours added
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
    upstreamRes.on('error', this.#onUpstreamError);
    upstreamRes.pipe(res);
  };

  #onUpstreamError = (err: Error): void => {
    this.#ctx.log.debug(`[${this.#ctx.name}] forward ${this.#target.address.host}: ${errorMessage(err)}`);
    if (!this.#res.headersSent) this.#badGateway();
    else this.#res.destroy();
    this.#local.destroy();
  };

  /** Before a response, a closed tunnel leg is a failed request; after, the upstream
   * response's own 'error' / end handles it. */
  #onLocalClose = (): void => {
    this.#settled = true;
    this.#badGateway();
  };

  #onResClose = (): void => {
    this.#upstream?.destroy();
    this.#local.destroy();
  };

  /** `502 Bad Gateway` and close: what a client sees for dial errors and REJECT alike. */
  #badGateway(): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(502, { Connection: 'close', 'Content-Length': '0' });
    res.end();
  }
}
