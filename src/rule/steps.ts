import { ipWords } from '../common/cidr.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { CidrTrie } from './cidr-trie.js';
import { ruleHost } from './destination.js';
import { DomainIndex } from './domain-index.js';
import { DomainRule, DomainSuffixRule } from './domain.js';
import { IpCidrRule } from './ip.js';

/**
 * One stride of the compiled rule list: a single rule, or a block standing for a run of rules
 * [start, end) matched by one table lookup. `find` returns the smallest matching rule index
 * ≥ `from` within the stride, or -1.
 */
export interface Step {
  readonly start: number;
  readonly end: number;
  /** reaching this step needs the destination IP (every rule in a block agrees) */
  readonly needsIp: boolean;
  find(meta: Metadata, ip: string | undefined, from: number): number;
}

/** Runs shorter than this stay single rules: a short linear scan beats a hash probe per label. */
export const MIN_BLOCK = 8;

class SingleStep implements Step {
  readonly end: number;
  constructor(
    readonly rule: Rule,
    readonly start: number,
  ) {
    this.end = start + 1;
  }
  /** read per match: a RULE-SET's need follows its provider's current set */
  get needsIp(): boolean {
    return this.rule.needsIp;
  }
  find(meta: Metadata, ip: string | undefined): number {
    return this.rule.match(meta, ip) ? this.start : -1;
  }
}

class DomainBlock implements Step {
  readonly needsIp = false;
  readonly index = new DomainIndex();
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}
  find(meta: Metadata, _ip: string | undefined, from: number): number {
    return this.index.lookup(ruleHost(meta), from);
  }
}

class CidrBlock implements Step {
  readonly trie = new CidrTrie();
  constructor(
    readonly start: number,
    readonly end: number,
    readonly source: boolean,
    readonly needsIp: boolean,
  ) {}
  find(meta: Metadata, ip: string | undefined, from: number): number {
    const text = this.source ? meta.source.host : ip;
    const words = text === undefined ? undefined : ipWords(text);
    return words === undefined ? -1 : this.trie.lookup(words, from);
  }
}

const isDomainKind = (r: Rule) => r instanceof DomainRule || r instanceof DomainSuffixRule;

/**
 * IP-CIDR rules join a run only with rules that read the same IP and agree on no-resolve:
 * a no-resolve rule before the first resolving rule must still see the unresolved state.
 */
function cidrKey(r: Rule): string | undefined {
  return r instanceof IpCidrRule ? `${r.source}:${r.needsIp}` : undefined;
}

/** The end of the run starting at `i` of rules that `same` groups together. */
function runEnd(rules: readonly Rule[], i: number, same: (r: Rule) => boolean): number {
  let j = i + 1;
  while (j < rules.length && same(rules[j])) j++;
  return j;
}

/**
 * Compiles a rule list into steps, turning each long run of consecutive DOMAIN/DOMAIN-SUFFIX
 * rules into one hashed block and each long run of like IP-CIDR rules into one trie block.
 * Order is preserved: blocks answer with the first matching index, as a scan would.
 */
export function compileSteps(rules: readonly Rule[]): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < rules.length; ) {
    const rule = rules[i];
    const key = cidrKey(rule);
    const end = isDomainKind(rule)
      ? runEnd(rules, i, isDomainKind)
      : key !== undefined
        ? runEnd(rules, i, (r) => cidrKey(r) === key)
        : i + 1;
    if (end - i < MIN_BLOCK) {
      for (; i < end; i++) steps.push(new SingleStep(rules[i], i));
      continue;
    }
    if (isDomainKind(rule)) {
      const block = new DomainBlock(i, end);
      for (let k = i; k < end; k++) {
        const r = rules[k];
        if (r instanceof DomainRule) block.index.addExact(r.payload, k);
        else block.index.addSuffix(r.payload, k);
      }
      steps.push(block);
    } else {
      const first = rule as IpCidrRule;
      const block = new CidrBlock(i, end, first.source, first.needsIp);
      for (let k = i; k < end; k++) block.trie.insert((rules[k] as IpCidrRule).cidr, k);
      steps.push(block);
    }
    i = end;
  }
  return steps;
}
