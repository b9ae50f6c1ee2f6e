import type { RuleSets } from '../core/geo.js';
import type { RuleProvider } from './provider.js';

/** A generation's rule-providers by name: what RULE-SET rules and DNS `rule-set:` keys ask (core/geo.ts RuleSets). */
export class RuleProviderSet implements RuleSets {
  readonly #byName: ReadonlyMap<string, RuleProvider>;
  constructor(providers: Iterable<RuleProvider>) {
    this.#byName = new Map([...providers].map((p) => [p.name, p]));
  }
  get(name: string): RuleProvider | undefined {
    return this.#byName.get(name);
  }
  /** every provider, in config order */
  all(): RuleProvider[] {
    return [...this.#byName.values()];
  }
  get size(): number {
    return this.#byName.size;
  }
}
