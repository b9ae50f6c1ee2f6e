import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { errorMessage, ProxyError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Dialer, Outbound, PacketConn } from '../../core/outbound.js';
import type { StreamLayer } from '../../core/stream-layer.js';
import { hostPort } from '../../transport/build.js';
import { buildPlugin } from '../../transport/plugin/index.js';
import type { TlsOptions } from '../../transport/tls.js';
import { proxyDialer } from '../common/dial-options.js';
import type { OutboundDeps, ProxyDefinition } from '../registry.js';
import { findMethod, type MethodSpec } from './codec/methods.js';
import { uotDestination } from './codec/uot.js';
import { ssSchema, type SsOptions } from './options.js';
import { clientKeys, clientPacketCrypto, clientStream, type ClientKeys } from './session.js';
import { SsPacketConn } from './udp-conn.js';
import { uotPacketConn } from './uot-conn.js';

/** Builds the SIP003 plugin layer of a proxy; undefined when it has none. */
export type PluginBuilder = (o: SsOptions, deps: OutboundDeps) => StreamLayer | undefined;

/** Test hooks. */
export interface SsExtras {
  /** replaces the plugin wiring (tests of the plugin call site) */
  readonly plugin?: PluginBuilder;
  /** trust anchors for a plugin's TLS (v2ray-plugin with tls, private CA in tests) */
  readonly ca?: TlsOptions['ca'];
}

/**
 * A Shadowsocks outbound. TCP: dial the server (ip-version honoured), apply the plugin layer if
 * any, then the method's stream codec; the request header rides in the first write with the
 * first client bytes. UDP: per-datagram encryption to the server over the dialer's UDP, or,
 * with `udp-over-tcp`, sing's UoT (version 1 or 2) on one Shadowsocks stream.
 */
export function createShadowsocks(o: SsOptions, deps: OutboundDeps, extras: SsExtras = {}): Outbound {
  const name = o.name;
  const label = `proxy "${name}"`;
  const server: Address = { host: o.server, port: o.port };
  const addr = hostPort(o.server, o.port);
  const found = findMethod(o.cipher.trim());
  if ('unsupported' in found) throw new ProxyError('CONFIG', `${found.unsupported} (${label})`);
  const spec: MethodSpec = found;
  const keys: ClientKeys = clientKeys(spec, o.password ?? '');
  const own: Dialer = proxyDialer(o, deps);
  const plugin = extras.plugin ? extras.plugin(o, deps) : pluginLayer(o, deps, extras.ca);
  const uot = o['udp-over-tcp'] === true;
  const uotVersion: 1 | 2 = o['udp-over-tcp-version'] === 2 ? 2 : 1;

  async function connect(dest: Address, opts: DialOptions): Promise<Duplex> {
    let inner: Duplex;
    try {
      inner = await (opts.dialer ?? own).dialTcp(server, opts.signal);
      if (plugin) inner = await plugin.wrap(inner, opts.signal);
    } catch (err) {
      const code = err instanceof ProxyError ? err.code : 'DIAL_FAILED';
      throw new ProxyError(code, `${addr} connect error: ${errorMessage(err)}`, { cause: err });
    }
    try {
      return clientStream(inner, keys, dest, label);
    } catch (err) {
      inner.destroy();
      throw new ProxyError('PROTOCOL', `${addr} connect error: ${errorMessage(err)}`, { cause: err });
    }
  }

  return {
    name,
    type: 'Shadowsocks',
    udp: o.udp === true,
    dialTcp: (meta: Metadata, opts: DialOptions) => connect(meta.destination, opts),
    async dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
      if (o.udp !== true) throw new ProxyError('UNSUPPORTED', `${label} has udp disabled`);
      if (uot) return uotPacketConn(await connect(uotDestination(uotVersion), opts), uotVersion, meta.destination);
      let inner: PacketConn;
      try {
        inner = await (opts.dialer ?? own).dialUdp(opts.signal);
      } catch (err) {
        const code = err instanceof ProxyError ? err.code : 'DIAL_FAILED';
        throw new ProxyError(code, `${addr} connect error: ${errorMessage(err)}`, { cause: err });
      }
      return new SsPacketConn(inner, clientPacketCrypto(keys), server, deps.log, label);
    },
    close: async () => undefined,
  };
}

/**
 * The one plugin call site: SIP003 obfs / v2ray-plugin as a stream layer applied to the TCP
 * stream to the server, under the Shadowsocks cipher (transport/plugin/ builds it).
 */
function pluginLayer(o: SsOptions, deps: OutboundDeps, ca: TlsOptions['ca']): StreamLayer | undefined {
  const plugin = o.plugin?.trim() ?? '';
  if (plugin === '') return undefined;
  return buildPlugin(plugin, o['plugin-opts'] ?? {}, { server: o.server, port: o.port, log: deps.log, proxyName: o.name, ca });
}

/** `type: ss` proxies. The dial keys warn in {@link proxyDialer}; `smux` cannot be honoured here. */
export const shadowsocksDefinition: ProxyDefinition<SsOptions> = {
  type: 'ss',
  schema: ssSchema,
  create(o, deps) {
    if ((o.smux as { enabled?: unknown } | undefined)?.enabled === true) deps.log.warn(`proxy "${o.name}": smux is not supported here and is ignored`);
    return createShadowsocks(o, deps);
  },
};
