import { quote, ruleError } from './rule-error.js';
import type { RuleLineInput } from './rule-line.js';

/**
 * How deep AND/OR/NOT may nest inside each other. Real configs nest two or three levels; the
 * bound turns a hostile line into an error instead of deep recursion or (length × depth) work.
 */
export const MAX_LOGIC_DEPTH = 32;

/** Deepest parenthesis nesting in one payload: each logic level opens two, plus slack. */
export const MAX_PAREN_DEPTH = 2 * MAX_LOGIC_DEPTH + 4;

/** The texts inside the top-level `( )` groups of `text`, skipping whatever lies between them. */
function topLevelGroups(kind: string, text: string): string[] {
  const groups: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x28 /* ( */) {
      if (depth === 0) start = i + 1;
      if (++depth > MAX_PAREN_DEPTH) {
        throw ruleError(`${kind} payload nests parentheses deeper than ${MAX_PAREN_DEPTH} levels`);
      }
    } else if (c === 0x29 /* ) */) {
      if (depth === 0) throw ruleError(`${kind} payload ${quote(text)} has a ')' without its '('`);
      if (--depth === 0) groups.push(text.slice(start, i));
    }
  }
  if (depth !== 0) throw ruleError(`${kind} payload ${quote(text)} is missing a ')'`);
  return groups;
}

/**
 * Splits an AND/OR/NOT payload into its sub-rule texts as mihomo reads them: the groups
 * directly inside one outer pair, `((DOMAIN,a.com),(NETWORK,UDP))`, or the top-level groups
 * when there is no outer pair, `(DOMAIN,a.com),(NETWORK,UDP)`.
 */
export function splitLogicPayload(kind: string, payload: string): string[] {
  let groups = topLevelGroups(kind, payload);
  if (groups.length === 1 && groups[0].length === payload.length - 2) {
    groups = topLevelGroups(kind, groups[0]);
  }
  if (groups.length === 0) {
    throw ruleError(`${kind} payload ${quote(payload)} has no sub-rule, expected ((TYPE,PAYLOAD),…)`);
  }
  return groups;
}

/** Types that cannot stand inside a logic rule (mihomo refuses them too). */
const NOT_NESTABLE: ReadonlySet<string> = new Set(['MATCH', 'SUB-RULE']);

/** Types whose payload is everything after the first comma: nested logic, regexes with commas. */
const WHOLE_PAYLOAD: ReadonlySet<string> = new Set(['AND', 'OR', 'NOT', 'DOMAIN-REGEX']);

/**
 * One sub-rule text, `TYPE,PAYLOAD[,param…]`, as a rule line without target. The type is
 * trimmed and upper-cased like a top-level line (mihomo takes it verbatim inside logic rules,
 * so this only accepts more).
 */
export function subRuleLine(kind: string, text: string): RuleLineInput {
  const comma = text.indexOf(',');
  if (comma < 0) {
    throw ruleError(`${kind} sub-rule ${quote(`(${text})`)} is not (TYPE,PAYLOAD)`);
  }
  const type = text.slice(0, comma).trim().toUpperCase();
  if (NOT_NESTABLE.has(type)) throw ruleError(`rule type ${type} is not allowed inside ${kind}`);
  const rest = text.slice(comma + 1);
  if (WHOLE_PAYLOAD.has(type)) return { raw: text, type, payload: rest.trim(), target: '', params: [] };
  const fields = rest.split(',').map((f) => f.trim());
  return { raw: text, type, payload: fields[0], target: '', params: fields.slice(1) };
}
