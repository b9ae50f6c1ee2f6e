import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { ProxyError } from '../core/errors.js';
import type { Dialer } from '../core/outbound.js';
import type { StreamLayer } from '../core/stream-layer.js';
import { FramedDuplex } from './framed-duplex.js';
import { GunCodec } from './gun-codec.js';
import { checkResponse, h2Session } from './h2-session.js';

/** grpc-opts, resolved. */
export interface GrpcLayerOptions {
  /** grpc-service-name; mihomo's default GunService when empty */
  readonly serviceName: string;
  /** :authority (servername, or server:port) */
  readonly authority: string;
  readonly userAgent?: string;
  /** https over TLS; http: cleartext HTTP/2 with prior knowledge */
  readonly scheme: 'http' | 'https';
}

/** Opens one gun stream on `session`: a Duplex of raw bytes, gun-framed on the wire. */
export function openGun(session: http2.ClientHttp2Session, o: GrpcLayerOptions): FramedDuplex {
  const stream = session.request(
    {
      ':method': 'POST',
      ':path': `/${o.serviceName || 'GunService'}/Tun`,
      ':authority': o.authority,
      ':scheme': o.scheme,
      'content-type': 'application/grpc',
      'user-agent': o.userAgent || 'grpc-go/1.36.0',
      te: 'trailers',
    },
    { endStream: false },
  );
  checkResponse(stream, 'grpc', true);
  return new FramedDuplex(stream, new GunCodec());
}

/** gun over a fresh HTTP/2 session on `inner` (closed with the stream) as a StreamLayer. */
export function grpcLayer(o: GrpcLayerOptions): StreamLayer {
  return {
    async wrap(inner) {
      const session = h2Session(inner, o.scheme, o.authority);
      const d = openGun(session, o);
      d.on('close', () => session.close());
      session.once('close', () => d.destroy());
      return d;
    },
  };
}

/** Sessions live this long without streams before they are closed (default). */
const IDLE_MS = 60_000;

interface PoolEntry {
  readonly session: Promise<http2.ClientHttp2Session>;
  streams: number;
  idle?: NodeJS.Timeout;
}

/**
 * HTTP/2 sessions to one proxy server, shared by gun streams as mihomo shares its transport:
 * one session per dialer (a proxy chain's hop gets its own), reopened when it closed or got a
 * GOAWAY, closed after a minute without streams.
 */
export class GrpcPool {
  readonly #o: GrpcLayerOptions;
  readonly #below: readonly StreamLayer[];
  readonly #server: { readonly host: string; readonly port: number };
  readonly #log: Logger;
  readonly #idleMs: number;
  readonly #entries = new Map<Dialer, PoolEntry>();
  #closed = false;

  constructor(o: GrpcLayerOptions, below: readonly StreamLayer[], ctx: { server: string; port: number; log: Logger; grpcIdleMs?: number }) {
    this.#idleMs = ctx.grpcIdleMs ?? IDLE_MS;
    this.#o = o;
    this.#below = below;
    this.#server = { host: ctx.server, port: ctx.port };
    this.#log = ctx.log;
  }

  /** A gun stream on a live session through `dialer`, dialing one if needed. */
  async open(dialer: Dialer, signal: AbortSignal): Promise<Duplex> {
    if (this.#closed) throw new ProxyError('ABORTED', 'grpc transport closed');
    let e = this.#entries.get(dialer);
    if (e) {
      const s = await e.session.catch(() => undefined);
      if (!s || s.closed || s.destroyed) {
        if (this.#entries.get(dialer) === e) this.#entries.delete(dialer);
        e = undefined;
      }
    }
    if (!e) {
      e = { session: this.#connect(dialer, signal), streams: 0 };
      this.#entries.set(dialer, e);
      const entry = e;
      const forget = (): void => {
        if (this.#entries.get(dialer) === entry) this.#entries.delete(dialer);
      };
      // closed: reopen next time; GOAWAY: no new streams on it, the open ones finish
      entry.session.then((s) => {
        s.once('close', forget);
        s.once('goaway', () => {
          this.#log.debug(`grpc: ${this.#o.authority} sent GOAWAY`);
          forget();
        });
      }, forget);
    }
    const session = await e.session;
    const entry = e;
    entry.streams++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    const d = openGun(session, this.#o);
    d.once('close', () => {
      if (--entry.streams > 0 || session.closed) return;
      entry.idle = setTimeout(() => session.close(), this.#idleMs).unref();
    });
    return d;
  }

  async #connect(dialer: Dialer, signal: AbortSignal): Promise<http2.ClientHttp2Session> {
    let s = await dialer.dialTcp(this.#server, signal);
    for (const layer of this.#below) s = await layer.wrap(s, signal);
    return h2Session(s, this.#o.scheme, this.#o.authority);
  }

  /** Closes every session (streams on them are cut). */
  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) {
      if (e.idle) clearTimeout(e.idle);
      void e.session.then((s) => s.destroy(), () => undefined);
    }
    this.#entries.clear();
  }
}
