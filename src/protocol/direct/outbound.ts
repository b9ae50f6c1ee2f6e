import type { Dialer, Outbound } from '../../core/outbound.js';
import { createSystemDialer, type IpVersion } from '../../transport/system-dialer.js';
import type { OutboundDeps, ProxyDefinition } from '../registry.js';
import { directIpVersion, directSchema, type DirectOptions } from './options.js';

/**
 * An outbound that connects straight to the destination from this host. `ipVersion` other
 * than dual gets its own system dialer; otherwise the shared one from `deps` is used. A
 * `dialer` in the dial options (a proxy chain's previous hop) takes precedence.
 * The built-in DIRECT is `createDirect('DIRECT', deps)`.
 */
export function createDirect(name: string, deps: OutboundDeps, opts: { ipVersion?: IpVersion } = {}): Outbound {
  const own: Dialer =
    opts.ipVersion !== undefined && opts.ipVersion !== 'dual'
      ? createSystemDialer({ resolver: deps.resolver, ipVersion: opts.ipVersion })
      : deps.dialer;
  return {
    name,
    type: 'Direct',
    udp: true,
    dialTcp: (meta, o) => (o.dialer ?? own).dialTcp(meta.destination, o.signal),
    dialUdp: (_meta, o) => (o.dialer ?? own).dialUdp(o.signal),
    close: async () => undefined,
  };
}

/**
 * `type: direct` proxies. `interface-name` and `routing-mark` are accepted but ignored with a
 * warning: Node cannot bind a socket to a device (SO_BINDTODEVICE) or set SO_MARK, and
 * rejecting them would refuse configs mihomo loads (subscription converters emit them freely);
 * without a TUN inbound there is no routing loop for them to prevent.
 */
export const directDefinition: ProxyDefinition<DirectOptions> = {
  type: 'direct',
  schema: directSchema,
  create(o, deps) {
    const raw = o['ip-version'];
    const ipVersion = directIpVersion(raw);
    if (raw !== undefined && ipVersion === undefined) {
      deps.log.warn(`proxy "${o.name}": unknown ip-version ${JSON.stringify(raw)}, using dual`);
    }
    for (const key of ['interface-name', 'routing-mark'] as const) {
      if (o[key] !== undefined && o[key] !== '' && o[key] !== 0) {
        deps.log.warn(`proxy "${o.name}": ${key} is not supported here and is ignored`);
      }
    }
    return createDirect(o.name, deps, { ipVersion });
  },
};
