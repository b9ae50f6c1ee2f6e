import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import type { Address } from '../../core/address.js';
import type { ConnectionHandler, Inbound } from '../../core/inbound.js';
import type { InboundType } from '../../core/metadata.js';
import { HANDSHAKE_TIMEOUT_MS } from '../listener.js';
import { loadPem } from '../transport/tls-material.js';
import { startStreamServer } from '../transport/stream-server.js';
import { ServerContext } from './context.js';
import { serveShadowsocks, ssListenerState } from './shadowsocks.js';
import { serveTrojan, trojanRequestParser, trojanUsers } from './trojan.js';
import { serveVless, vlessRequestParser, vlessUsers } from './vless.js';
import { serveVmess, VmessUserTable } from './vmess.js';

/** The proxy-protocol listener types started here. */
export type ServerInboundType = 'vless' | 'trojan' | 'vmess' | 'shadowsocks';

/** How mihomo titles each type in its "proxy listening at" log line. */
export const SERVER_TITLES: Readonly<Record<ServerInboundType, string>> = {
  vless: 'Vless',
  trojan: 'Trojan',
  vmess: 'Vmess',
  shadowsocks: 'ShadowSocks',
};

const INBOUND_TYPES: Readonly<Record<ServerInboundType, InboundType>> = {
  vless: 'VLESS',
  trojan: 'TROJAN',
  vmess: 'VMESS',
  shadowsocks: 'SHADOWSOCKS',
};

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
}

/**
 * Starts a vless / trojan / vmess / shadowsocks listener: binds (TLS, ws-path, grpc-service-name
 * as configured), authenticates each client and hands its connection to the tunnel. Rejects on
 * bind errors or bad key material (CONFIG).
 */
export async function startServerInbound(o: ServerInboundOptions): Promise<Inbound> {
  const timeoutMs = o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const ctx = new ServerContext(o.name, INBOUND_TYPES[o.type], o.handler, o.log, timeoutMs);
  const serve = protocolFor(o, ctx);
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

function protocolFor(o: ServerInboundOptions, ctx: ServerContext): (stream: Duplex, source: Address | undefined) => void {
  switch (o.type) {
    case 'vless': {
      const parse = vlessRequestParser(vlessUsers(o.users));
      return (s, src) => serveVless(ctx, parse, s, src);
    }
    case 'trojan': {
      const parse = trojanRequestParser(trojanUsers(o.users));
      return (s, src) => serveTrojan(ctx, parse, s, src);
    }
    case 'vmess': {
      const table = new VmessUserTable(o.users);
      return (s, src) => serveVmess(ctx, table, s, src);
    }
    case 'shadowsocks': {
      const state = ssListenerState(o.cipher ?? '', o.password ?? '');
      return (s, src) => serveShadowsocks(ctx, state, s, src);
    }
  }
}
