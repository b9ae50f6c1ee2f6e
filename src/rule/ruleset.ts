import type { RuleSetEntry, RuleSets } from '../core/geo.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { ruleError } from './rule-error.js';
import type { RuleLineInput } from './rule-line.js';

/**
 * What rule lines may name besides outbounds, known while the config loads (the loader hands it
 * to the compiler with each line): the rule-providers by behaviour, the sub-rule sets. The same
 * shape as config/rule-provider.ts RuleScope.
 */
export interface RuleScope {
  readonly ruleProviders: ReadonlyMap<string, { readonly behavior: 'domain' | 'ipcidr' | 'classical' }>;
  /** each set's compiled rules, filled while the load compiles them */
  readonly subRules: ReadonlyMap<string, readonly Rule[]>;
  readonly subRuleNames: ReadonlySet<string>;
}

/** The fields of RuleDeps a RULE-SET uses (rule/parse.ts). */
export interface RuleSetDeps {
  scope?: RuleScope;
  /** late-bound by the build: the generation's rule-providers */
  ruleSets?: RuleSets;
}

/**
 * RULE-SET,name,TARGET[,no-resolve][,src]: the connection is in the rule-provider's set. Until
 * the provider has loaded it matches nothing (the provider says so once in the log). The
 * provider's set may be swapped by a refresh at any time; each match reads the current one.
 */
export class RuleSetRule implements Rule {
  readonly type = 'RuleSet';
  readonly payload: string;
  readonly source: boolean;
  readonly noResolve: boolean;
  readonly #behavior: 'domain' | 'ipcidr' | 'classical';
  readonly #deps: RuleSetDeps;
  #entry: RuleSetEntry | undefined;

  constructor(line: RuleLineInput, deps: RuleSetDeps) {
    const name = line.payload;
    const p = deps.scope?.ruleProviders.get(name);
    if (!p) throw ruleError(`rule set [${name}] not found`);
    this.payload = name;
    this.target = line.target;
    this.source = line.params.includes('src');
    this.noResolve = this.source || line.params.includes('no-resolve');
    this.#behavior = p.behavior;
    this.#deps = deps;
  }

  readonly target: string;

  #lookup(): RuleSetEntry | undefined {
    if (this.#entry) return this.#entry;
    const sets = this.#deps.ruleSets;
    if (!sets) return undefined;
    this.#entry = sets.get(this.payload);
    return this.#entry;
  }

  /**
   * Whether reaching this rule resolves the destination: never with no-resolve or src; else as
   * the provider's set says once loaded (mihomo's ShouldResolveIP), and before that by its
   * behaviour (domain sets never do).
   */
  get needsIp(): boolean {
    if (this.noResolve) return false;
    const e = this.#lookup();
    if (e && e.loaded) return e.needsIp;
    return this.#behavior !== 'domain';
  }

  match(meta: Metadata, ip: string | undefined): boolean {
    const e = this.#lookup();
    if (!e) return false;
    if (!e.loaded) {
      e.notLoaded();
      return false;
    }
    if (!this.source) return e.match(meta, ip);
    // src: the source address stands in for the destination (mihomo swaps them)
    const swapped: Metadata = { ...meta, source: meta.destination, destination: { host: meta.source.host, port: meta.source.port } };
    return e.behavior === 'domain' ? e.match(meta, ip) : e.match(swapped, meta.source.host);
  }
}
