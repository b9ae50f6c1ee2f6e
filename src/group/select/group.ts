import type { Duplex } from 'node:stream';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Outbound, PacketConn } from '../../core/outbound.js';
import type { ProxyProvider } from '../../core/provider.js';
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
  readonly #own: readonly string[];
  readonly #providers: readonly ProxyProvider[];
  /** the providers' proxies by name, rebuilt after a provider changes */
  #fromProviders: { names: readonly string[]; byName: ReadonlyMap<string, Outbound> } | undefined;
  readonly #lookup: OutboundLookup;
  readonly #store: SelectionStore;

  constructor(name: string, members: readonly string[], lookup: OutboundLookup, store: SelectionStore, providers: readonly ProxyProvider[] = []) {
    if (members.length === 0 && providers.length === 0) throw new Error(`group ${name} has no members`);
    this.name = name;
    this.#own = members;
    this.#providers = providers;
    this.#lookup = lookup;
    this.#store = store;
    for (const p of providers) p.onChange(() => (this.#fromProviders = undefined));
  }

  /** its `proxies`, then the proxies of the providers it `use`s (a name already listed is skipped) */
  get members(): readonly string[] {
    return this.#providers.length === 0 ? this.#own : this.#provided().names;
  }

  #provided(): { names: readonly string[]; byName: ReadonlyMap<string, Outbound> } {
    if (this.#fromProviders) return this.#fromProviders;
    const names = [...this.#own];
    const seen = new Set(names);
    const byName = new Map<string, Outbound>();
    for (const p of this.#providers) {
      for (const o of p.proxies()) {
        if (seen.has(o.name)) continue;
        seen.add(o.name);
        names.push(o.name);
        byName.set(o.name, o);
      }
    }
    this.#fromProviders = { names, byName };
    return this.#fromProviders;
  }

  /** UDP works when the selected member carries it. */
  get udp(): boolean {
    return this.#current().udp;
  }

  now(): string {
    const chosen = this.#store.get(this.name);
    const members = this.members;
    return chosen !== undefined && members.includes(chosen) ? chosen : (members[0] ?? '');
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
    if (name === '') throw new Error(`group ${this.name} has no members yet (its providers have not loaded)`);
    const o = this.#providers.length > 0 && !this.#own.includes(name) ? this.#provided().byName.get(name) : this.#lookup(name);
    if (!o) throw new Error(`group ${this.name}: member ${name} does not exist`);
    return o;
  }
}

/** `type: select`. */
export const selectDefinition: GroupDefinition = {
  type: 'select',
  create(spec, ctx) {
    const providers = (spec.use ?? []).map((u) => {
      const p = ctx.providers.get(u);
      if (!p) throw new Error(`provider ${u} does not exist`);
      return p;
    });
    return { group: new SelectGroup(spec.name, spec.proxies, ctx.lookup, ctx.selections, providers) };
  },
};
