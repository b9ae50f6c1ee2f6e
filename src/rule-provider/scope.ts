import type { Config } from '../config/load.js';
import type { ConfigIssue } from '../core/config-issue.js';
import { errorMessage } from '../core/errors.js';
import type { Rule } from '../core/rule.js';
import { parseRule, type RuleDeps } from '../rule/parse.js';
import type { RuleScope } from '../rule/ruleset.js';

/**
 * The scope of a Config whose rules were not compiled while it loaded (a Config object handed
 * to the host): its rule-providers, and its sub-rule sets compiled now with `deps`. Sets
 * `deps.scope`; problems are added to `issues`.
 */
export function compileScope(config: Config, deps: RuleDeps, issues: ConfigIssue[]): RuleScope {
  const subRules = new Map<string, readonly Rule[]>();
  const scope: RuleScope = {
    ruleProviders: new Map(config.ruleProviders.map((p) => [p.name, p])),
    subRules,
    subRuleNames: new Set(Object.keys(config.subRules)),
  };
  deps.scope = scope;
  for (const [name, lines] of Object.entries(config.subRules)) {
    const out: Rule[] = [];
    for (const line of lines) {
      try {
        out.push(parseRule(line, deps));
      } catch (err) {
        issues.push({ path: line.path, line: line.line, message: `${errorMessage(err)} in "${line.raw}"` });
      }
    }
    subRules.set(name, out);
  }
  return scope;
}
