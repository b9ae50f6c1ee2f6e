import type { Dialer, Outbound } from '../../core/outbound.js';
import type { IpVersion } from '../../transport/system-dialer.js';
import { ipVersionDialer, proxyDialer } from '../common/dial-options.js';
import type { OutboundDeps, ProxyDefinition } from '../registry.js';
import { directSchema, type DirectOptions } from './options.js';

/**
 * An outbound that connects straight to the destination from this host. `ipVersion` other
 * than dual gets its own system dialer; otherwise the shared one from `deps` is used. A
 * `dialer` in the dial options (a proxy chain's previous hop) takes precedence.
 * The built-in DIRECT is `createDirect('DIRECT', deps)`.
 */
export function createDirect(name: string, deps: OutboundDeps, opts: { ipVersion?: IpVersion } = {}): Outbound {
  const own: Dialer = ipVersionDialer(opts.ipVersion, deps);
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
 * `type: direct` proxies, dialing through the shared dial keys (common/dial-options.ts):
 * `interface-name`, `routing-mark`, `tfo` and `mptcp` are accepted but ignored with a warning,
 * as for every proxy type: Node cannot bind a socket to a device (SO_BINDTODEVICE) or set
 * SO_MARK, and rejecting them would refuse configs mihomo loads (subscription converters emit
 * them freely); without a TUN inbound there is no routing loop for them to prevent.
 */
export const directDefinition: ProxyDefinition<DirectOptions> = {
  type: 'direct',
  schema: directSchema,
  create: (o, deps) => createDirect(o.name, { ...deps, dialer: proxyDialer(o, deps) }),
};
