import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { CidrList } from '../common/cidr.js';
import type { Logger } from '../common/log.js';
import { watchOwnServer } from '../common/own-endpoints.js';
import { unmapIPv4, type Address } from '../core/address.js';
import type { ConnectionHandler, Inbound } from '../core/inbound.js';
import { Authenticator, type InboundUser } from './auth.js';
import { InboundContext, ownErrors } from './context.js';
import { ConnectionLimiter, NO_LIMITS, type ConnectionLimits } from './limits.js';
import { HttpProxy } from './http.js';
import { sniffAndDispatch } from './mixed.js';
import { startSocksUdp, type SocksUdpRelay } from './socks-udp.js';

function swallow(): void {}

/** How long a client may take from connecting to finishing its handshake (first request). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Everything needed to start one HTTP / SOCKS / mixed listener. */
export interface InboundOptions {
  /** DEFAULT-MIXED / DEFAULT-HTTP / DEFAULT-SOCKS / listeners[].name */
  readonly name: string;
  readonly type: 'mixed' | 'http' | 'socks';
  /** host to bind: '127.0.0.1', '0.0.0.0', '::' (dual stack), '::1'… */
  readonly listen: string;
  /** 0 = ephemeral */
  readonly port: number;
  /** SOCKS5 UDP ASSOCIATE relay on the same port number (ignored for type 'http') */
  readonly udp: boolean;
  /**
   * Another process binds the UDP relay on this port (the cluster's one UDP worker, so that a
   * UDP flow stays in one process): announce it in ASSOCIATE replies, bind nothing.
   */
  readonly udpBoundElsewhere?: boolean;
  /** empty = no auth */
  readonly users: readonly InboundUser[];
  /** sources that need no auth */
  readonly skipAuthPrefixes: CidrList;
  /** when set, sources outside are refused */
  readonly lanAllowedIps?: CidrList;
  /** when set, sources inside are refused */
  readonly lanDisallowedIps?: CidrList;
  readonly handler: ConnectionHandler;
  readonly log: Logger;
  /** handshake deadline override (tests); HANDSHAKE_TIMEOUT_MS by default */
  readonly handshakeTimeoutMs?: number;
  /** max-connections / max-connections-per-ip (default: none) */
  readonly limits?: ConnectionLimits;
}

/**
 * Whether a client at `ip` may connect, with mihomo's semantics (its IsRemoteAddrDisAllowed,
 * which despite the name answers "allowed"): allowed iff the IP is inside `lan-allowed-ips`
 * AND not inside `lan-disallowed-ips`. There is no loopback exemption: 127.0.0.1 is judged
 * like any other source (mihomo's default allowed list, 0.0.0.0/0 + ::/0, covers it).
 * IPv4-mapped IPv6 is unmapped first; an unknown address is refused. mihomo applies the lists
 * only to the default listeners (port / socks-port / mixed-port, and listeners without their
 * own users): callers express that by leaving both lists undefined.
 */
export function isSourceAllowed(ip: string | undefined, allowed?: CidrList, disallowed?: CidrList): boolean {
  if (allowed === undefined && disallowed === undefined) return true;
  if (ip === undefined) return false;
  const src = unmapIPv4(ip);
  if (allowed !== undefined && !allowed.contains(src)) return false;
  return disallowed === undefined || !disallowed.contains(src);
}

/** Binds the listener (and its UDP relay), then serves until `close()`. Rejects on bind errors. */
export async function startInbound(opts: InboundOptions): Promise<Inbound> {
  const ctx = new InboundContext({
    name: opts.name,
    handler: opts.handler,
    log: opts.log,
    auth: new Authenticator(opts.users, opts.skipAuthPrefixes),
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
  });
  const http = opts.type === 'socks' ? undefined : new HttpProxy(ctx);
  const allowed = (ip: string | undefined): boolean => isSourceAllowed(ip, opts.lanAllowedIps, opts.lanDisallowedIps);
  const limiter = new ConnectionLimiter(opts.name, opts.limits ?? NO_LIMITS, opts.log);

  const onConnection = (socket: Socket): void => {
    ownErrors(socket);
    if (ctx.closed || !allowed(socket.remoteAddress) || !limiter.admit(socket, socket.remoteAddress)) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    ctx.track(socket);
    socket.on('close', ctx.releaseOnClose);
    if (opts.type === 'http') http!.accept(socket);
    else sniffAndDispatch(ctx, socket, http?.acceptFirst);
  };
  // allowHalfOpen: a client's FIN must reach the remote as a FIN, not close our side.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  server.on('error', (err) => opts.log.error(`[${opts.name}] listener: ${err.message}`));
  watchOwnServer(server);
  await listen(server, opts.listen, opts.port);
  const bound = server.address();
  const address: Address = typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : { host: opts.listen, port: opts.port };
  ctx.port = address.port;
  ctx.fixedLocal = fixedLocalAddress(address);

  let udp: SocksUdpRelay | undefined;
  if (opts.udp && opts.type !== 'http' && opts.udpBoundElsewhere) ctx.udpPort = address.port;
  else if (opts.udp && opts.type !== 'http') {
    try {
      udp = await startSocksUdp(ctx, opts.listen, address.port, allowed);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    ctx.udpPort = udp.port;
  }

  let closing: Promise<void> | undefined;
  return {
    name: opts.name,
    address: () => address,
    close(): Promise<void> {
      closing ??= (async () => {
        ctx.closed = true;
        // Not awaiting server.close()'s callback: it waits for every accepted connection,
        // including those the tunnel now owns. The listening handle itself closes right away.
        server.close(swallow);
        ctx.destroyPending();
        http?.close();
        await udp?.close();
        await new Promise((resolve) => setImmediate(resolve));
      })();
      return closing;
    },
  };
}

/** The local address every connection to a listener bound at `bound` has, when that is one
 * IP (unmapped, as clients are told); undefined for a wildcard, whose connections differ. */
export function fixedLocalAddress(bound: Address): Address | undefined {
  const host = unmapIPv4(bound.host);
  if (isIP(host) === 0 || host === '0.0.0.0' || host === '::') return undefined;
  return { host, port: bound.port };
}

/**
 * net.Server.listen as a promise; `::` binds dual-stack (ipv6Only false is the default). Not
 * `exclusive`: in a node:cluster worker (`workers: N`) the socket is shared through the primary.
 */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
