import { errorMessage } from '../core/errors.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { ruleHost } from '../rule/destination.js';
import { compileSteps, type Step } from '../rule/steps.js';
import { HashedDomainSet } from './domain-set.js';
import { RangeIpSet } from './ip-set.js';
import { forEachTextEntry, MAX_NAMED_SKIPS, showLine, textEntries } from './payload.js';

/** mihomo's rule-provider behaviours. */
export type RuleBehavior = 'domain' | 'ipcidr' | 'classical';

/** How mihomo's API names a behaviour. */
export const BEHAVIOR_NAMES: Readonly<Record<RuleBehavior, string>> = { domain: 'Domain', ipcidr: 'IPCIDR', classical: 'Classical' };

/** One loaded copy of a rule-set: swapped whole when the provider refreshes. */
export interface RuleSetData {
  readonly behavior: RuleBehavior;
  /** entries loaded (mihomo's ruleCount) */
  readonly count: number;
  /** matching may need the destination IP (ipcidr with entries; classical with an IP rule) */
  readonly needsIp: boolean;
  /** the connection matches (`ip`: the destination IP when known) */
  match(meta: Metadata, ip: string | undefined): boolean;
  /** a domain (lower case) is in the set: domain sets, and classical sets through their rules */
  hasDomain(domain: string): boolean;
  /** an IP is in the set: ipcidr sets, and classical sets through their rules */
  hasIp(ip: string): boolean;
}

/** Compiles one classical entry (`DOMAIN-SUFFIX,x`, `IP-CIDR,1.2.3.0/24,no-resolve`). */
export type ClassicalCompiler = (entry: string) => Rule;

/** What building a set made of the entries: the set and the entries it refused. */
export interface BuiltSet {
  readonly data: RuleSetData;
  /** `"entry": why` of refused entries, the first few only */
  readonly refused: string[];
  readonly refusedCount: number;
}

class Refusals {
  readonly named: string[] = [];
  count = 0;
  add(entry: string, why: string): void {
    this.count++;
    if (this.named.length < MAX_NAMED_SKIPS) this.named.push(`${showLine(entry)}: ${why}`);
  }
}

export class DomainSetData implements RuleSetData {
  readonly behavior = 'domain';
  readonly needsIp = false;
  constructor(readonly set: HashedDomainSet) {}
  get count(): number {
    return this.set.count;
  }
  match(meta: Metadata): boolean {
    return this.set.has(ruleHost(meta));
  }
  hasDomain(domain: string): boolean {
    return this.set.has(domain);
  }
  hasIp(): boolean {
    return false;
  }
}

export class IpSetData implements RuleSetData {
  readonly behavior = 'ipcidr';
  readonly needsIp: boolean;
  constructor(
    readonly set: RangeIpSet,
    readonly count: number,
  ) {
    this.needsIp = count > 0;
  }
  match(_meta: Metadata, ip: string | undefined): boolean {
    return ip !== undefined && this.set.has(ip);
  }
  hasDomain(): boolean {
    return false;
  }
  hasIp(ip: string): boolean {
    return this.set.has(ip);
  }
}

const QUERY_META = (host: string): Metadata => ({
  id: '',
  network: 'tcp',
  inbound: { type: 'INNER', name: '', port: 0 },
  source: { host: '0.0.0.0', port: 0 },
  destination: { host, port: 0 },
});

export class ClassicalSetData implements RuleSetData {
  readonly behavior = 'classical';
  readonly needsIp: boolean;
  readonly count: number;
  readonly #steps: readonly Step[];
  constructor(readonly rules: readonly Rule[]) {
    this.count = rules.length;
    this.needsIp = rules.some((r) => r.needsIp);
    // long runs of domain / CIDR rules become one hashed or trie step, as in the rule list
    this.#steps = compileSteps(rules);
  }
  match(meta: Metadata, ip: string | undefined): boolean {
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) if (steps[i].find(meta, ip, 0) >= 0) return true;
    return false;
  }
  hasDomain(domain: string): boolean {
    return this.match(QUERY_META(domain), undefined);
  }
  hasIp(ip: string): boolean {
    return this.match(QUERY_META(ip), ip);
  }
}

/** The set a provider holds before its first load: matches nothing. */
export function emptySet(behavior: RuleBehavior): RuleSetData {
  if (behavior === 'domain') return new DomainSetData(new HashedDomainSet());
  if (behavior === 'ipcidr') return new IpSetData(new RangeIpSet().finish(), 0);
  return new ClassicalSetData([]);
}

/** Types a classical rule-set may not hold (mihomo's classical strategy refuses them). */
const NOT_IN_CLASSICAL = new Set(['MATCH', 'RULE-SET', 'SUB-RULE']);

/**
 * Builds a set from yaml/text entries. Each refused entry is named (the first few) and
 * skipped, as mihomo warns and goes on.
 */
export function buildSet(behavior: RuleBehavior, entries: readonly string[], classical?: ClassicalCompiler): BuiltSet {
  const refused = new Refusals();
  let data: RuleSetData;
  if (behavior === 'domain') {
    const set = new HashedDomainSet();
    for (const e of entries) {
      const why = set.insert(e);
      if (why !== undefined) refused.add(e, `invalid domain (${why})`);
    }
    data = new DomainSetData(set);
  } else if (behavior === 'ipcidr') {
    const set = new RangeIpSet();
    for (const e of entries) {
      const why = e.includes('/') ? set.insert(e) : 'no prefix length';
      if (why !== undefined) refused.add(e, `invalid IP-CIDR (${why})`);
    }
    data = new IpSetData(set.finish(), set.count);
  } else {
    if (!classical) throw new Error('classical rule-set without a rule compiler');
    const rules: Rule[] = [];
    for (const e of entries) {
      const type = e.split(',', 1)[0].trim().toUpperCase();
      if (NOT_IN_CLASSICAL.has(type)) {
        refused.add(e, `unsupported rule type on classical rule-set: ${type}`);
        continue;
      }
      try {
        rules.push(classical(e));
      } catch (err) {
        refused.add(e, errorMessage(err));
      }
    }
    data = new ClassicalSetData(rules);
  }
  return { data, refused: refused.named, refusedCount: refused.count };
}

/**
 * Builds a set from a text payload (one entry a line). A domain set is filled straight from the
 * text, line ranges into the hashed table, with no string per entry; the other behaviours go
 * through their entries.
 */
export function buildTextSet(behavior: RuleBehavior, text: string, classical?: ClassicalCompiler): BuiltSet {
  if (behavior !== 'domain') return buildSet(behavior, textEntries(text).entries, classical);
  const refused = new Refusals();
  const set = new HashedDomainSet();
  forEachTextEntry(text, (t, from, to) => {
    const why = set.insertRange(t, from, to);
    if (why !== undefined) refused.add(t.slice(from, to), `invalid domain (${why})`);
  });
  return { data: new DomainSetData(set), refused: refused.named, refusedCount: refused.count };
}
