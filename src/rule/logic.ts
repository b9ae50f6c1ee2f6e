import { errorMessage } from '../core/errors.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { splitLogicPayload, subRuleLine } from './logic-payload.js';
import { quote, ruleError } from './rule-error.js';
import type { RuleLineInput } from './rule-line.js';

/** The three logic rule kinds; also their mihomo type names. */
export type LogicKind = 'AND' | 'OR' | 'NOT';

/** Parses one sub-rule line one nesting level deeper (parse.ts supplies it, bounding depth). */
export type NestedRuleParser = (line: RuleLineInput) => Rule;

/** How mihomo prints a sub-rule inside a logic payload: `(DomainSuffix,baidu.com)`. */
function show(r: Rule): string {
  return `(${r.type},${r.payload})`;
}

/**
 * AND, OR, NOT over sub-rules, nestable. Sub-rules see the same destination IP, so a logic
 * rule needs the IP when any sub-rule does.
 */
export class LogicRule implements Rule {
  readonly payload: string;
  readonly needsIp: boolean;
  constructor(
    readonly type: LogicKind,
    readonly rules: readonly Rule[],
    readonly target: string,
  ) {
    if (type === 'NOT' && rules.length !== 1) {
      throw ruleError(`NOT needs exactly one sub-rule, got ${rules.length}`);
    }
    this.needsIp = rules.some((r) => r.needsIp);
    // mihomo's API shows a rebuilt payload, not the text as written.
    this.payload =
      type === 'NOT'
        ? `(!${show(rules[0])})`
        : `(${rules.map(show).join(type === 'AND' ? ' && ' : ' || ')})`;
  }

  match(meta: Metadata, ip: string | undefined): boolean {
    const rules = this.rules;
    if (this.type === 'NOT') return !rules[0].match(meta, ip);
    if (this.type === 'AND') {
      for (let i = 0; i < rules.length; i++) if (!rules[i].match(meta, ip)) return false;
      return true;
    }
    for (let i = 0; i < rules.length; i++) if (rules[i].match(meta, ip)) return true;
    return false;
  }
}

/** Builds an AND/OR/NOT rule from its line; every sub-rule error names the sub-rule. */
export function parseLogic(kind: LogicKind, line: RuleLineInput, parseNested: NestedRuleParser): LogicRule {
  const subs = splitLogicPayload(kind, line.payload).map((text) => {
    const subLine = subRuleLine(kind, text);
    try {
      return parseNested(subLine);
    } catch (err) {
      throw ruleError(`${errorMessage(err)} (in ${kind} sub-rule ${quote(`(${text})`)})`, err);
    }
  });
  return new LogicRule(kind, subs, line.target);
}
