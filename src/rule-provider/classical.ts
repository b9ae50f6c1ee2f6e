import type { Rule } from '../core/rule.js';
import { parseRule, type RuleDeps } from '../rule/parse.js';
import type { RuleLineInput } from '../rule/rule-line.js';
import type { ClassicalCompiler } from './rule-set-data.js';

/** Types whose payload is everything after the first comma (mihomo's classical ruleParse). */
const WHOLE = new Set(['AND', 'OR', 'NOT', 'SUB-RULE', 'DOMAIN-REGEX', 'PROCESS-NAME-REGEX', 'PROCESS-PATH-REGEX']);

/** One classical entry (`TYPE,PAYLOAD[,param…]`, no target) as a rule line. */
export function classicalLine(entry: string): RuleLineInput {
  const items = entry.split(',');
  const type = items[0].trim().toUpperCase();
  if (items.length === 1) return { raw: entry, type: '', payload: entry, target: '', params: [] };
  if (WHOLE.has(type)) return { raw: entry, type, payload: items.slice(1).join(',').trim(), target: '', params: [] };
  const params = items.slice(2).map((p) => p.trim()).filter((p) => p !== '');
  return { raw: entry, type, payload: items[1].trim(), target: '', params };
}

/** The compiler of classical entries with the generation's RuleDeps (GEOIP, process rules… inside a set). */
export function classicalCompiler(deps: RuleDeps): ClassicalCompiler {
  return (entry: string): Rule => parseRule(classicalLine(entry), deps);
}
