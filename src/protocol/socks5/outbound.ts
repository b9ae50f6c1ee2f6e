import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { unmapIPv4, type Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { Dialer, Outbound, PacketConn } from '../../core/outbound.js';
import type { TlsOptions } from '../../transport/tls.js';
import type { WarmPoolLookup } from '../../transport/warm-connect.js';
import { proxyDialer } from '../common/dial-options.js';
import { proxyTls } from '../common/proxy-tls.js';
import { withServerStream } from '../common/server-stream.js';
import type { ProxyDefinition } from '../registry.js';
import { socks5Handshake, type Socks5Auth } from './client-handshake.js';
import { SOCKS5 } from './codec/handshake.js';
import { socks5Schema, type Socks5Options } from './options.js';
import { Socks5PacketConn } from './packet-conn.js';

/** Everything a SOCKS5 outbound needs, resolved from its options. */
export interface Socks5OutboundConfig {
  readonly name: string;
  readonly server: Address;
  /** the system dialer (or an ip-version one); a chain hop in the dial options wins */
  readonly dialer: Dialer;
  readonly auth?: Socks5Auth;
  readonly tls?: TlsOptions;
  /** warm TLS connections to the proxy (clash-ts extension) */
  readonly warmPool?: WarmPoolLookup;
  /** relay UDP through UDP ASSOCIATE (mihomo `udp`, default false) */
  readonly udp: boolean;
  /** bound on dial + TLS + handshake; default 5000 */
  readonly timeoutMs?: number;
}

const ANY_V4: Address = { host: '0.0.0.0', port: 0 };

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/**
 * The relay address of a UDP association. BND.ADDR 0.0.0.0 / :: means "this server", so the
 * IP the control connection reached is used; through a chain hop that socket is the hop's,
 * so the configured server name is used instead.
 */
function relayAddress(bound: Address, raw: Duplex, viaHop: boolean, server: Address): Address {
  if (!isUnspecified(bound.host)) return bound;
  const ip = viaHop ? undefined : (raw as Partial<Socket>).remoteAddress;
  return { host: ip ? unmapIPv4(ip) : server.host, port: bound.port };
}

/**
 * A SOCKS5 proxy client (mihomo's `Socks5` adapter). `dialTcp` resolves after the server's
 * CONNECT reply with the server stream itself; bytes that followed the reply are put back on
 * it. Waiting for the reply costs a round trip before the first client byte, but lets the
 * tunnel report a refusal to its client as a refusal. `dialUdp` makes a UDP ASSOCIATE.
 */
export function createSocks5Outbound(c: Socks5OutboundConfig): Outbound {
  const timeoutMs = c.timeoutMs ?? 5000;
  const serverOf = (dialer: Dialer | undefined) => ({ name: c.name, server: c.server, dialer: dialer ?? c.dialer, tls: c.tls, warmPool: c.warmPool, timeoutMs });
  return {
    name: c.name,
    type: 'Socks5',
    udp: c.udp,
    dialTcp(meta, opts): Promise<Duplex> {
      return withServerStream(serverOf(opts.dialer), opts.signal, async (stream, _raw, signal) => {
        await socks5Handshake(stream, SOCKS5.CMD_CONNECT, meta.destination, c.auth, signal);
        return stream;
      });
    },
    async dialUdp(_meta, opts): Promise<PacketConn> {
      if (!c.udp) throw new ProxyError('UNSUPPORTED', `proxy "${c.name}": UDP is off (udp: true enables UDP ASSOCIATE)`);
      const dialer = opts.dialer ?? c.dialer;
      return withServerStream(serverOf(dialer), opts.signal, async (stream, raw, signal) => {
        // DST 0.0.0.0:0: our UDP source is not known before the first send (as mihomo asks)
        const bound = await socks5Handshake(stream, SOCKS5.CMD_UDP_ASSOCIATE, ANY_V4, c.auth, signal);
        const relay = relayAddress(bound, raw, opts.dialer !== undefined, c.server);
        const inner = await dialer.dialUdp(signal);
        return new Socks5PacketConn(c.name, stream, inner, relay, isIP(relay.host) !== 0);
      });
    },
    close: async () => undefined,
  };
}

/**
 * `type: socks5` proxies. As mihomo: a non-empty username turns on RFC 1929 authentication;
 * with `tls: true` the certificate is checked for `server` unless `skip-cert-verify`, or
 * pinned by `fingerprint`.
 */
export const socks5Definition: ProxyDefinition<Socks5Options> = {
  type: 'socks5',
  schema: socks5Schema,
  create(o, deps) {
    return createSocks5Outbound({
      name: o.name,
      server: { host: o.server, port: o.port },
      dialer: proxyDialer(o, deps),
      auth: o.username ? { username: o.username, password: o.password ?? '' } : undefined,
      ...proxyTls(o, o.server, deps),
      udp: o.udp ?? false,
    });
  },
};
