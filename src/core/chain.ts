import type { Address } from './address.js';
import { innerMetadata } from './metadata.js';
import type { Dialer, Outbound } from './outbound.js';

/** Where a UDP hop's first datagrams go is only known once sent: the dial names no peer. */
const ANY_PEER: Address = { host: '0.0.0.0', port: 0 };

/**
 * A Dialer whose connections go through `via` (a proxy or a group), itself dialing through
 * `base` (the system dialer when absent): how a relay hop or a dialer-proxy reaches its server
 * with no protocol-specific code.
 */
export function outboundDialer(via: Outbound | (() => Outbound), base?: Dialer): Dialer {
  const get = typeof via === 'function' ? via : () => via;
  return {
    dialTcp: async (to, signal) => get().dialTcp(innerMetadata(to, 'tcp'), { signal, dialer: base }),
    dialUdp: async (signal) => get().dialUdp(innerMetadata(ANY_PEER, 'udp'), { signal, dialer: base }),
  };
}

/** The Dialer of the last hop of `hops`: each hop dialed through the ones before it, the first through `base`. */
export function chainDialer(hops: readonly Outbound[], base?: Dialer): Dialer | undefined {
  let d = base;
  for (const h of hops) d = outboundDialer(h, d);
  return d;
}
