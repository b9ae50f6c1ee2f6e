import type { Duplex } from 'node:stream';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Outbound, PacketConn } from '../../core/outbound.js';
import type { GroupDefinition, OutboundLookup, SelectableGroup } from '../registry.js';
import type { SelectionStore } from '../selection-store.js';

/**
 * mihomo's `select` group: the user's choice among its members, kept in the process's
 * SelectionStore (so it survives reloads); the first member until one is chosen.
 */
export class SelectGroup implements SelectableGroup {
  readonly type = 'Selector';
  readonly selectable = true;
  readonly name: string;
  readonly members: readonly string[];
  readonly #lookup: OutboundLookup;
  readonly #store: SelectionStore;

  constructor(name: string, members: readonly string[], lookup: OutboundLookup, store: SelectionStore) {
    if (members.length === 0) throw new Error(`group ${name} has no members`);
    this.name = name;
    this.members = members;
    this.#lookup = lookup;
    this.#store = store;
  }

  /** UDP works when the selected member carries it. */
  get udp(): boolean {
    return this.#current().udp;
  }

  now(): string {
    const chosen = this.#store.get(this.name);
    return chosen !== undefined && this.members.includes(chosen) ? chosen : this.members[0];
  }

  pick(_meta: Metadata): Outbound {
    return this.#current();
  }

  dialTcp(meta: Metadata, opts: DialOptions): Promise<Duplex> {
    return this.#current().dialTcp(meta, opts);
  }

  dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
    return this.#current().dialUdp(meta, opts);
  }

  async close(): Promise<void> {}

  #current(): Outbound {
    const name = this.now();
    const o = this.#lookup(name);
    if (!o) throw new Error(`group ${this.name}: member ${name} does not exist`);
    return o;
  }
}

/** `type: select`. */
export const selectDefinition: GroupDefinition = {
  type: 'select',
  create: (spec, ctx) => ({ group: new SelectGroup(spec.name, spec.proxies, ctx.lookup, ctx.selections) }),
};
