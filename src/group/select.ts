import type { Metadata } from '../core/metadata.js';
import type { DialOptions, Outbound, PacketConn, ProxyGroup } from '../core/outbound.js';
import type { Duplex } from 'node:stream';

/** Finds an outbound by name; groups resolve members lazily so they may reference each other. */
export type OutboundLookup = (name: string) => Outbound | undefined;

/**
 * mihomo's `select` group: the user's choice among its members; the first member until the
 * REST API (a later issue) lets users switch it.
 */
export class SelectGroup implements ProxyGroup {
  readonly type = 'Selector';
  readonly name: string;
  readonly members: readonly string[];
  readonly #lookup: OutboundLookup;
  #selected: string;

  constructor(name: string, members: readonly string[], lookup: OutboundLookup) {
    if (members.length === 0) throw new Error(`group ${name} has no members`);
    this.name = name;
    this.members = members;
    this.#lookup = lookup;
    this.#selected = members[0];
  }

  /** UDP works when the selected member carries it. */
  get udp(): boolean {
    return this.#current().udp;
  }

  now(): string {
    return this.#selected;
  }

  /** Switches the selection; false when `name` is not a member. */
  select(name: string): boolean {
    if (!this.members.includes(name)) return false;
    this.#selected = name;
    return true;
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
    const o = this.#lookup(this.#selected);
    if (!o) throw new Error(`group ${this.name}: member ${this.#selected} does not exist`);
    return o;
  }
}
