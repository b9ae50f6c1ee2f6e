import type { Logger } from '../../common/log.js';
import type { ConnectionHandler, Inbound } from '../../core/inbound.js';
import { ProxyError } from '../../core/errors.js';
import { HANDSHAKE_TIMEOUT_MS } from '../listener.js';
import { loadPem } from '../transport/tls-material.js';
import { startStreamServer } from '../transport/stream-server.js';
import type { ConnectionLimits } from '../limits.js';
import { ServerContext } from './context.js';
import { SERVER_PROTOCOLS } from './protocols.js';

/** The proxy-protocol listener types started here (see SERVER_PROTOCOLS). */
export type ServerInboundType = 'vless' | 'trojan' | 'vmess' | 'shadowsocks';

/** Everything needed to start one server listener (a validated `listeners:` entry + the tunnel). */
export interface ServerInboundOptions {
  readonly name: string;
  readonly type: ServerInboundType;
  readonly listen: string;
  readonly port: number;
  /** vless / vmess: uuid; trojan: password */
  readonly users: readonly { readonly name: string; readonly secret: string }[];
  readonly wsPath?: string;
  readonly grpcServiceName?: string;
  /** PEM text or file paths */
  readonly certificate?: string;
  readonly privateKey?: string;
  /** shadowsocks */
  readonly cipher?: string;
  readonly password?: string;
  readonly handler: ConnectionHandler;
  readonly log: Logger;
  /** handshake deadline override (tests) */
  readonly handshakeTimeoutMs?: number;
  /** max-connections / max-connections-per-ip (default: none) */
  readonly limits?: ConnectionLimits;
}

/**
 * Starts a vless / trojan / vmess / shadowsocks listener: binds (TLS, ws-path, grpc-service-name
 * as configured), authenticates each client and hands its connection to the tunnel. Rejects on
 * bind errors or bad key material (CONFIG).
 */
export async function startServerInbound(o: ServerInboundOptions): Promise<Inbound> {
  const timeoutMs = o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const protocol = SERVER_PROTOCOLS.get(o.type);
  if (!protocol) throw new ProxyError('CONFIG', `listener type ${o.type} cannot be served`);
  const ctx = new ServerContext(o.name, protocol.inboundType, o.handler, o.log, timeoutMs);
  const serve = protocol.prepare(o, ctx);
  const tls =
    o.certificate !== undefined && o.privateKey !== undefined
      ? { cert: loadPem(o.certificate, 'certificate'), key: loadPem(o.privateKey, 'private-key') }
      : undefined;
  const server = await startStreamServer({
    name: o.name,
    listen: o.listen,
    port: o.port,
    tls,
    wsPath: o.wsPath,
    grpcServiceName: o.grpcServiceName,
    log: o.log,
    handshakeTimeoutMs: timeoutMs,
    limits: o.limits,
    onStream: serve,
  });
  const address = server.address();
  ctx.port = address.port;
  return {
    name: o.name,
    address: () => address,
    async close() {
      ctx.destroyPending();
      await server.close();
    },
  };
}
