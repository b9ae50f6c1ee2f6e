import { isIP } from 'node:net';
import type { HostsSpec } from '../config/dns.js';
import { DomainTable } from './domain-table.js';
import type { HostsTable } from './hosts.js';

/** What the hosts say about a name: its addresses, and the alias chain that led there. */
export interface HostsAnswer {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  /** the names followed from the asked one (empty when it was listed itself) */
  readonly cnames: readonly string[];
  /** set when the chain ends at a name the hosts do not list: resolve that one */
  readonly resolveAs?: string;
}

/**
 * The `hosts` section (with wildcards and aliases, `use-hosts`) over the system's hosts file
 * (`use-system-hosts`), as mihomo consults them before any nameserver.
 */
export class HostsLookup {
  readonly #table = new DomainTable<HostsSpec>();
  readonly #system: HostsTable | undefined;

  constructor(specs: readonly HostsSpec[], system?: HostsTable) {
    for (const s of specs) this.#table.set(s.pattern, s);
    this.#system = system;
  }

  lookup(name: string): HostsAnswer | undefined {
    const cnames: string[] = [];
    let at = name.toLowerCase().replace(/\.$/, '');
    for (let hops = 0; hops < 8; hops++) {
      const spec = this.#table.get(at);
      if (spec && spec.alias === undefined) return split(spec.ips, cnames);
      if (spec?.alias !== undefined) {
        cnames.push(spec.alias);
        at = spec.alias;
        continue;
      }
      const sys = this.#system?.get(at);
      if (sys) return { v4: sys.v4, v6: sys.v6, cnames };
      return cnames.length > 0 ? { v4: [], v6: [], cnames, resolveAs: at } : undefined;
    }
    return undefined;
  }
}

function split(ips: readonly string[], cnames: readonly string[]): HostsAnswer {
  return { v4: ips.filter((i) => isIP(i) === 4), v6: ips.filter((i) => isIP(i) === 6), cnames };
}
