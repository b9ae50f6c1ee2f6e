import type { Duplex } from 'node:stream';
import { chainDialer } from '../../core/chain.js';
import { ProxyError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { isGroup, type DialOptions, type Outbound, type PacketConn } from '../../core/outbound.js';
import { GroupBase } from '../common/base.js';
import type { GroupContext, GroupDefinition, GroupDetails, GroupSpec } from '../registry.js';

/** Groups in a chain are followed down to the member they pick now (as mihomo unwraps them). */
function leaf(o: Outbound, meta: Metadata): Outbound {
  let cur = o;
  for (let depth = 0; isGroup(cur) && depth < 32; depth++) cur = cur.pick(meta);
  return cur;
}

/**
 * The whole chain as one outbound: the last hop, dialed through the hops before it, each
 * through the one before (the first through the caller's dialer or the system's). It carries
 * the last hop's name and type, so the connection's chains read `last`, then the relay.
 */
class Chain implements Outbound {
  readonly #hops: () => readonly Outbound[];
  readonly #relay: RelayGroup;

  constructor(relay: RelayGroup, hops: () => readonly Outbound[]) {
    this.#relay = relay;
    this.#hops = hops;
  }

  get name(): string {
    const hops = this.#hops();
    return hops[hops.length - 1].name;
  }

  get type(): string {
    const hops = this.#hops();
    return hops[hops.length - 1].type;
  }

  get udp(): boolean {
    return this.#relay.udp;
  }

  #resolve(meta: Metadata): Outbound[] {
    return this.#hops().map((h) => leaf(h, meta));
  }

  dialTcp(meta: Metadata, opts: DialOptions): Promise<Duplex> {
    const hops = this.#resolve(meta);
    const last = hops[hops.length - 1];
    return last.dialTcp(meta, { signal: opts.signal, dialer: chainDialer(hops.slice(0, -1), opts.dialer) });
  }

  dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
    const hops = this.#resolve(meta);
    // as mihomo's Relay.SupportUDP: every hop must carry UDP (the last one's datagrams ride the earlier ones')
    const without = hops.find((h) => !h.udp);
    if (without) return Promise.reject(new ProxyError('UNSUPPORTED', `relay ${this.#relay.name}: ${without.name} has no UDP`));
    const last = hops[hops.length - 1];
    return last.dialUdp(meta, { signal: opts.signal, dialer: chainDialer(hops.slice(0, -1), opts.dialer) });
  }

  async close(): Promise<void> {}
}

/**
 * mihomo's `relay` (API type Relay): its members in order form one chain, each hop dialed
 * through the previous one via the Dialer (no protocol code). UDP when every hop carries it
 * (and not `disable-udp`). A one-member relay is that member. `now` is the last hop.
 */
export class RelayGroup extends GroupBase {
  readonly type = 'Relay';
  readonly #chain: Chain;

  constructor(spec: GroupSpec, ctx: GroupContext) {
    super(spec, ctx);
    this.#chain = new Chain(this, () => this.list());
  }

  override get udp(): boolean {
    return !this.spec.disableUdp && this.list().every((o) => o.udp);
  }

  /** mihomo's Relay JSON: no `now` */
  override details(): GroupDetails {
    return { hidden: this.hidden, icon: this.icon };
  }

  now(): string {
    const list = this.list();
    return list[list.length - 1].name;
  }

  protected choose(_meta: Metadata | undefined, _touch: boolean): Outbound {
    const list = this.list();
    return list.length === 1 ? list[0] : this.#chain;
  }
}

/** `type: relay`. */
export const relayDefinition: GroupDefinition = {
  type: 'relay',
  create: (spec, ctx) => new RelayGroup(spec, ctx).built(),
};
