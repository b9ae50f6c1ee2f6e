import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { errorMessage, ProxyError } from '../../core/errors.js';
import { decode, encode, MAX_MESSAGE, type Message } from '../wire.js';
import { reasonText } from './udp.js';
import { onAbort, type Upstream } from './upstream.js';

/** What a DoH upstream needs. */
export interface DohUpstreamOptions {
  /** `https://host:port/path` (or `http://` for plain DoH) */
  readonly url: URL;
  /**
   * Opens one connection to the server: for https a TLS socket offering `alpn` (h2 first,
   * http/1.1 as well); for http a plain one.
   */
  readonly connect: (alpn: readonly string[], signal: AbortSignal) => Promise<Duplex>;
  /** RFC 8484 GET (`?dns=`, cacheable; the default) or POST (the message as the body) */
  readonly method?: 'GET' | 'POST';
  /** only HTTP/1.1 (keep-alive); default: HTTP/2 when the server offers it */
  readonly http1Only?: boolean;
}

const TYPE = 'application/dns-message';

/**
 * DNS over HTTPS (RFC 8484): HTTP/2 on one kept session (node:http2) when the server's ALPN
 * offers h2, else HTTP/1.1 on keep-alive connections (node:http with our own sockets, so the
 * query can go through a proxy). GET or POST.
 */
export function dohUpstream(o: DohUpstreamOptions): Upstream {
  const method = o.method ?? 'GET';
  const tls = o.url.protocol === 'https:';
  const address = o.url.href;
  let mode: 'h2' | 'h1' | undefined = !tls || o.http1Only ? 'h1' : undefined;
  let session: http2.ClientHttp2Session | undefined;
  let opening: Promise<http2.ClientHttp2Session | undefined> | undefined;
  /** a socket dialed for h2 that came back http/1.1: the agent's first connection */
  let spare: Duplex | undefined;
  const agent = new DialAgent((signal) => {
    const s = spare;
    spare = undefined;
    return s ? Promise.resolve(s) : o.connect(['http/1.1'], signal);
  });

  function h2Session(signal: AbortSignal): Promise<http2.ClientHttp2Session | undefined> {
    if (session && !session.closed && !session.destroyed) return Promise.resolve(session);
    opening ??= o
      .connect(['h2', 'http/1.1'], signal)
      .then((sock) => {
        if ((sock as TLSSocket).alpnProtocol !== 'h2') {
          mode = 'h1';
          spare = sock;
          return undefined;
        }
        mode = 'h2';
        const s = http2.connect(o.url.origin, { createConnection: () => sock });
        s.on('error', () => undefined);
        s.on('close', () => {
          if (session === s) session = undefined;
        });
        s.on('goaway', () => {
          if (session === s) session = undefined;
        });
        // a peer that goes away (the server, or the proxy the session rides on) ends the socket;
        // over a Duplex that is not a net.Socket http2 may not notice: the next query would wait
        // its whole timeout on a dead session
        const gone = (): void => {
          if (session === s) session = undefined;
          if (!s.destroyed) s.destroy();
        };
        sock.once('end', gone);
        sock.once('close', gone);
        sock.once('error', gone);
        s.setTimeout(60_000, () => s.close());
        s.unref();
        session = s;
        return s;
      })
      .finally(() => (opening = undefined));
    return opening;
  }

  function target(wire: Buffer): string {
    if (method === 'POST') return o.url.pathname + o.url.search;
    const sep = o.url.search === '' ? '?' : '&';
    return `${o.url.pathname}${o.url.search}${sep}dns=${wire.toString('base64url')}`;
  }

  async function viaH2(s: http2.ClientHttp2Session, wire: Buffer, signal: AbortSignal): Promise<Buffer> {
    const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': target(wire), accept: TYPE };
    if (method === 'POST') headers['content-type'] = TYPE;
    const req = s.request(headers, { endStream: method === 'GET', signal });
    if (method === 'POST') req.end(wire);
    return new Promise<Buffer>((resolve, reject) => {
        req.on('response', (h) => {
          const status = Number(h[':status']);
          if (status !== 200) {
            req.close();
            reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: HTTP status ${status}`));
          }
        });
        collect(req, resolve, reject, address);
    });
  }

  function viaH1(wire: Buffer, signal: AbortSignal): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { accept: TYPE, host: o.url.host };
      if (method === 'POST') Object.assign(headers, { 'content-type': TYPE, 'content-length': wire.length });
      const req = http.request({ agent, method, path: target(wire), headers, signal, host: o.url.hostname, port: o.url.port || (tls ? 443 : 80) });
      req.on('error', (err) => reject(new ProxyError(signal.aborted ? 'ABORTED' : 'RESOLVE_FAILED', `dns ${address}: ${errorMessage(err)}`)));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: HTTP status ${res.statusCode}`));
          return;
        }
        collect(res, resolve, reject, address);
      });
      req.end(method === 'POST' ? wire : undefined);
    });
  }

  return {
    address,
    async exchange(q, signal) {
      // RFC 8484: id 0, so GET answers can be cached by HTTP caches
      const wire = encode({ ...q, id: 0 });
      let off = (): void => undefined;
      const abort = new Promise<never>((_, reject) => {
        off = onAbort(signal, (why) => reject(new ProxyError('ABORTED', `dns ${address}: ${reasonText(why)}`)));
      });
      const ask = async (): Promise<Buffer> => {
        if (mode !== 'h1') {
          const s = await h2Session(signal);
          if (s) return viaH2(s, wire, signal);
        }
        return viaH1(wire, signal);
      };
      let body: Buffer;
      try {
        body = await Promise.race([ask(), abort]);
      } finally {
        off();
      }
      const m = decode(body);
      return { ...m, id: q.id };
    },
    close() {
      session?.destroy();
      session = undefined;
      spare?.destroy();
      spare = undefined;
      agent.destroy();
    },
  };
}

/** Reads a body of at most one DNS message. */
function collect(src: NodeJS.ReadableStream & { destroy(): void }, resolve: (b: Buffer) => void, reject: (e: Error) => void, address: string): void {
  const parts: Buffer[] = [];
  let size = 0;
  src.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_MESSAGE) {
      src.destroy();
      reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: response too large`));
      return;
    }
    parts.push(c);
  });
  src.on('end', () => resolve(Buffer.concat(parts)));
  src.on('error', (err: Error) => reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: ${errorMessage(err)}`)));
}

/** A keep-alive agent whose connections come from our dial (the system's sockets or a proxy's). */
class DialAgent extends http.Agent {
  readonly #dial: (signal: AbortSignal) => Promise<Duplex>;

  constructor(dial: (signal: AbortSignal) => Promise<Duplex>) {
    super({ keepAlive: true, maxSockets: 8, maxFreeSockets: 4, timeout: 60_000 });
    this.#dial = dial;
  }

  override createConnection(_opts: unknown, cb?: (err: Error | null, sock: Duplex) => void): undefined {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(new Error('connect timeout')), 10_000);
    this.#dial(ctl.signal).then(
      (s) => {
        clearTimeout(t);
        cb?.(null, s);
      },
      (err: Error) => {
        clearTimeout(t);
        cb?.(err, undefined as unknown as Duplex);
      },
    );
    return undefined;
  }
}
