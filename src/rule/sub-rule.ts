import { errorMessage } from '../core/errors.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { splitLogicPayload, subRuleLine } from './logic-payload.js';
import type { NestedRuleParser } from './logic.js';
import { quote, ruleError } from './rule-error.js';
import type { RuleLineInput } from './rule-line.js';
import type { RuleScope } from './ruleset.js';

/** How deep SUB-RULE sets may call each other at match time (cycles are refused at load). */
const MAX_SUB_DEPTH = 16;

/**
 * SUB-RULE,(CONDITION),NAME: when the condition matches, the sub-rule set NAME (`sub-rules:`)
 * is matched in order and its first matching rule's target carries the connection; no match
 * there and routing goes on after this line (as mihomo). The target is per connection:
 * `targetFor` tells the router which one (the set is read when first used, so sets may name
 * each other in any order).
 */
export class SubRule implements Rule {
  readonly type = 'SubRules';
  readonly payload: string;
  /** the sub-rule set's name (what the API shows as the proxy) */
  readonly target: string;
  readonly condition: Rule;
  readonly #scope: RuleScope;
  #set: readonly Rule[] | undefined;

  constructor(line: RuleLineInput, nested: NestedRuleParser, scope: RuleScope | undefined) {
    if (!scope || !scope.subRuleNames.has(line.target)) throw ruleError(`sub-rule [${line.target}] not found`);
    this.#scope = scope;
    this.target = line.target;
    this.payload = line.payload;
    const groups = splitLogicPayload('SUB-RULE', `(${line.payload})`);
    if (groups.length !== 1) throw ruleError('Sub-Rule rule must contain one rule');
    try {
      this.condition = nested(subRuleLine('SUB-RULE', groups[0]));
    } catch (err) {
      throw ruleError(`${errorMessage(err)} (in SUB-RULE condition ${quote(`(${groups[0]})`)})`, err);
    }
  }

  #rules(): readonly Rule[] {
    return (this.#set ??= this.#scope.subRules.get(this.target)) ?? [];
  }

  /** the condition or any rule of the set needs the destination IP */
  get needsIp(): boolean {
    return needsIpAt(this, 0);
  }

  match(meta: Metadata, ip: string | undefined): boolean {
    return this.targetFor(meta, ip) !== undefined;
  }

  /** The target of the first rule of the set that matches, or undefined (condition or set does not match). */
  targetFor(meta: Metadata, ip: string | undefined, depth = 0): string | undefined {
    if (depth > MAX_SUB_DEPTH || !this.condition.match(meta, ip)) return undefined;
    for (const r of this.#rules()) {
      if (r instanceof SubRule) {
        const t = r.targetFor(meta, ip, depth + 1);
        if (t !== undefined) return t;
      } else if (r.match(meta, ip)) return r.target;
    }
    return undefined;
  }

  /** the set's rules, for needsIp */
  get rules(): readonly Rule[] {
    return this.#rules();
  }
}

function needsIpAt(r: SubRule, depth: number): boolean {
  if (r.condition.needsIp) return true;
  if (depth > MAX_SUB_DEPTH) return false;
  return r.rules.some((x) => (x instanceof SubRule ? needsIpAt(x, depth + 1) : x.needsIp));
}
