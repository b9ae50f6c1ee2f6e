import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from '../../common/log.js';
import { watchOwnServer } from '../../common/own-endpoints.js';
import { unmapIPv4, type Address } from '../../core/address.js';
import { readHead } from '../../transport/http-head.js';
import { ConnectionLimiter, NO_LIMITS, type ConnectionLimits } from '../limits.js';
import { GrpcAcceptor } from './grpc-accept.js';
import { acceptWebSocket } from './ws-accept.js';

function swallow(): void {}

/** How one server listener accepts client streams. */
export interface StreamServerOptions {
  /** the listener name, for logs */
  readonly name: string;
  readonly listen: string;
  readonly port: number;
  /** serve TLS with these PEMs */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** also accept WebSocket upgrades on this path */
  readonly wsPath?: string;
  /** also accept gRPC (gun) streams of this service */
  readonly grpcServiceName?: string;
  readonly log: Logger;
  /** TLS handshake + transport handshake deadline */
  readonly handshakeTimeoutMs: number;
  /** max-connections / max-connections-per-ip (default: none) */
  readonly limits?: ConnectionLimits;
  /** a client stream, carrying the proxy protocol's bytes (after TLS / ws / gun) */
  readonly onStream: (stream: Duplex, source: Address | undefined) => void;
}

/** A bound stream server. */
export interface StreamServer {
  address(): Address;
  /** stops accepting; connections still in their transport handshake are destroyed */
  close(): Promise<void>;
}

const GET = Buffer.from('GET ');
const PRI = Buffer.from('PRI ');

/**
 * Binds a TCP (optionally TLS) server whose connections carry the proxy protocol directly, or,
 * when configured, a WebSocket or a gRPC transport on the same port: the first bytes after TLS
 * decide (`GET ` → WebSocket, the HTTP/2 preface → gRPC, anything else → raw), as mihomo serves
 * ws-path and grpc-service-name next to plain clients.
 */
export async function startStreamServer(o: StreamServerOptions): Promise<StreamServer> {
  const pending = new Map<Duplex, NodeJS.Timeout>();
  const grpc = o.grpcServiceName !== undefined ? new GrpcAcceptor(o.grpcServiceName, o.onStream, o.handshakeTimeoutMs) : undefined;
  const limiter = new ConnectionLimiter(o.name, o.limits ?? NO_LIMITS, o.log);
  const sniff = o.wsPath !== undefined || grpc !== undefined;
  let closed = false;

  const hold = (sock: Duplex): void => {
    const timer = setTimeout(() => sock.destroy(), o.handshakeTimeoutMs);
    timer.unref();
    pending.set(sock, timer);
    sock.once('close', () => release(sock));
  };
  const release = (sock: Duplex): void => {
    const t = pending.get(sock);
    if (t === undefined) return;
    clearTimeout(t);
    pending.delete(sock);
  };

  const route = (sock: net.Socket): void => {
    if (closed) return void sock.destroy();
    const ip = sock.remoteAddress;
    const source = ip !== undefined && sock.remotePort !== undefined ? { host: unmapIPv4(ip), port: sock.remotePort } : undefined;
    if (!sniff) {
      release(sock);
      return o.onStream(sock, source);
    }
    // TLS already said which: ALPN h2 is gRPC, without touching a byte
    if (grpc !== undefined && (sock as tls.TLSSocket).alpnProtocol === 'h2') {
      release(sock);
      return grpc.accept(sock);
    }
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      // a prefix of one of the two magic strings: wait for more
      if (head.length < 4 && (GET.subarray(0, head.length).equals(head) || PRI.subarray(0, head.length).equals(head))) return;
      sock.off('data', onData);
      sock.pause();
      sock.unshift(head);
      const first4 = head.subarray(0, 4);
      if (grpc !== undefined && first4.equals(PRI)) {
        release(sock);
        return grpc.accept(sock);
      }
      if (o.wsPath !== undefined && first4.equals(GET)) return void upgrade(sock, source, o.wsPath);
      release(sock);
      o.onStream(sock, source);
    };
    sock.on('data', onData);
  };

  const upgrade = async (sock: net.Socket, source: Address | undefined, path: string): Promise<void> => {
    const ctl = new AbortController();
    sock.once('close', () => ctl.abort());
    try {
      const req = await readHead(sock, ctl.signal);
      const stream = acceptWebSocket(sock, req, path);
      release(sock);
      if (stream !== undefined) o.onStream(stream, source);
    } catch (err) {
      o.log.debug(`[${o.name}] WebSocket handshake: ${(err as Error).message}`);
      sock.destroy();
    }
  };

  const onSocket = (sock: net.Socket): void => {
    sock.on('error', swallow);
    if (closed || !limiter.admit(sock, sock.remoteAddress)) return void sock.destroy();
    sock.setNoDelay(true);
    // under TLS the handshakeTimeout bounds this socket; the TLS socket is held from 'secure'
    if (o.tls === undefined) {
      hold(sock);
      route(sock);
    }
  };
  let server: net.Server;
  if (o.tls !== undefined) {
    const alpn = grpc !== undefined ? ['h2', 'http/1.1'] : o.wsPath !== undefined ? ['http/1.1'] : undefined;
    const t = tls.createServer({ cert: o.tls.cert, key: o.tls.key, allowHalfOpen: true, handshakeTimeout: o.handshakeTimeoutMs, ALPNProtocols: alpn });
    t.on('connection', onSocket);
    t.on('secureConnection', (sock: tls.TLSSocket) => {
      sock.on('error', swallow);
      hold(sock);
      route(sock);
    });
    t.on('tlsClientError', (err) => o.log.debug(`[${o.name}] TLS: ${err.message}`));
    server = t;
  } else {
    server = net.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
  }
  watchOwnServer(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // not exclusive: node:cluster workers (`workers: N`) share the socket through the primary
    server.listen({ host: o.listen, port: o.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => o.log.error(`[${o.name}] listener: ${err.message}`));
  const bound = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: () => ({ host: bound.address, port: bound.port }),
    close() {
      closing ??= (async () => {
        closed = true;
        server.close(swallow);
        grpc?.close();
        for (const [sock, timer] of pending) {
          clearTimeout(timer);
          sock.destroy();
        }
        pending.clear();
        await new Promise((r) => setImmediate(r));
      })();
      return closing;
    },
  };
}
