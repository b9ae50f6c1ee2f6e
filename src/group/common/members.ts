import { compileFilter, compilePattern, excludedTypes } from '../../config/group-filter.js';
import type { Outbound } from '../../core/outbound.js';
import type { GroupContext, GroupSpec } from '../registry.js';

/** mihomo's placeholder member of a group its filters left empty: it rejects. */
export const COMPATIBLE = 'COMPATIBLE';

/**
 * A group's members, as mihomo resolves them: the `proxies` it names (include-all already
 * expanded by the loader), then the proxies of the providers it `use`s that `filter` keeps;
 * then `exclude-type` and `exclude-filter` drop from all of them. Nothing left: COMPATIBLE.
 * Names are looked up on first use (a member may be a group defined later) and the list is
 * cached until a provider it uses changes.
 */
export class Members {
  readonly #spec: GroupSpec;
  readonly #ctx: GroupContext;
  readonly #filter: RegExp[];
  readonly #exclude: RegExp | undefined;
  readonly #types: string[];
  #list: readonly Outbound[] | undefined;
  #names: readonly string[] = [];
  readonly #unwatch: (() => void)[] = [];
  readonly #listeners = new Set<() => void>();

  constructor(spec: GroupSpec, ctx: GroupContext) {
    this.#spec = spec;
    this.#ctx = ctx;
    this.#filter = compileFilter(spec.filter);
    this.#exclude = spec.excludeFilter ? compilePattern(spec.excludeFilter) : undefined;
    this.#types = excludedTypes(spec.excludeType);
    if (spec.proxies.length === 0 && (spec.use ?? []).length === 0) throw new Error('`use` or `proxies` missing');
    for (const name of spec.use ?? []) {
      const p = ctx.providers.get(name);
      if (!p) throw new Error(`proxy provider ${name} not found`);
      this.#unwatch.push(
        p.onChange(() => {
          this.#list = undefined;
          for (const l of this.#listeners) l();
        }),
      );
    }
  }

  /** the members now, in order (never empty) */
  list(): readonly Outbound[] {
    if (this.#list === undefined) {
      this.#list = this.#resolve();
      this.#names = this.#list.map((o) => o.name);
    }
    return this.#list;
  }

  /** their names */
  names(): readonly string[] {
    this.list();
    return this.#names;
  }

  /** Tells `listener` when a provider changed the list; returns the remover. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A connection used the group: the providers it takes members from count as used (their lazy checks). */
  touch(): void {
    for (const name of this.#spec.use ?? []) this.#ctx.providers.get(name)?.touch();
  }

  /** Stops following the providers. */
  close(): void {
    for (const u of this.#unwatch.splice(0)) u();
    this.#listeners.clear();
  }

  #resolve(): Outbound[] {
    const out: Outbound[] = [];
    const seen = new Set<string>();
    const add = (o: Outbound | undefined) => {
      if (o && !seen.has(o.name)) {
        seen.add(o.name);
        out.push(o);
      }
    };
    for (const n of this.#spec.proxies) add(this.#ctx.lookup(n));
    for (const name of this.#spec.use ?? []) {
      const ps = this.#ctx.providers.get(name)?.proxies() ?? [];
      if (this.#filter.length === 0) ps.forEach(add);
      else for (const re of this.#filter) for (const p of ps) if (re.test(p.name)) add(p);
    }
    const kept = out.filter((o) => !this.#types.includes(o.type.toLowerCase()) && !(this.#exclude?.test(o.name) ?? false));
    if (kept.length > 0) return kept;
    const compatible = this.#ctx.lookup(COMPATIBLE);
    if (!compatible) throw new Error(`group ${this.#spec.name} has no members`);
    return [compatible];
  }
}
