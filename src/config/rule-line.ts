import { z } from 'zod';
import { type Issues, type Located, locate } from './issues.js';
import { BUILTIN_OUTBOUNDS, GLOBAL_GROUP } from './names.js';

// Logic rules nest whole rules, commas included, in parentheses: split at top-level commas only.
const LOGIC = new Set(['AND', 'OR', 'NOT']);
// Types whose payload may hold commas without parentheses (regexes): as in mihomo, the target is
// the last field and the payload everything between.
const TAIL_TARGET = new Set(['SUB-RULE', 'DOMAIN-REGEX', 'PROCESS-NAME-REGEX', 'PROCESS-PATH-REGEX']);

/** Splits at commas outside parentheses; undefined when parentheses do not balance. */
function splitTopLevel(line: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return undefined;
    else if (c === ',' && depth === 0) {
      out.push(line.slice(from, i).trim());
      from = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  out.push(line.slice(from).trim());
  return out;
}

/**
 * One `rules` line split into its fields: `TYPE,PAYLOAD,TARGET[,params…]` or `MATCH,TARGET`.
 * The type is upper-cased; whether the payload means anything is the rule parser's business.
 */
export const ruleLineSchema = z.string().transform((raw, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const plain = raw.split(',').map((s) => s.trim());
  const type = plain[0].toUpperCase();
  if (type === '') return fail('format invalid: empty rule type');
  let payload = '';
  let target: string;
  let params: string[] = [];
  if (LOGIC.has(type)) {
    const parts = splitTopLevel(raw);
    if (!parts) return fail('format invalid: unbalanced parentheses');
    if (parts.length < 3) return fail(`format invalid: expected ${type},((RULE),…),TARGET`);
    // mihomo trims around every comma of the payload too; do the same so both read it alike
    payload = parts[1].split(',').map((s) => s.trim()).join(',');
    target = parts[2];
    params = parts.slice(3);
  } else if (TAIL_TARGET.has(type)) {
    if (plain.length < 3) return fail(`format invalid: expected ${type},PAYLOAD,TARGET`);
    payload = plain.slice(1, -1).join(',');
    target = plain[plain.length - 1];
  } else if (type === 'MATCH') {
    if (plain.length < 2) return fail('format invalid: expected MATCH,TARGET');
    target = plain[1];
    params = plain.slice(2);
  } else {
    if (plain.length < 3) return fail(`format invalid: expected ${type},PAYLOAD,TARGET`);
    payload = plain[1];
    target = plain[2];
    params = plain.slice(3);
  }
  if (target === '') return fail('format invalid: empty target');
  return { raw, type, payload, target, params: params.filter((p) => p !== '') };
});

/** One rule line, split, with where it was written. */
export type RuleLine = z.output<typeof ruleLineSchema> & Located;

/** The rule lines, and what the compiler made of each (same order; empty without a compiler). */
export interface ParsedRules<T> {
  readonly lines: RuleLine[];
  readonly compiled: T[];
}

/** Where a rule list sits and what its lines may name besides outbounds. */
export interface RulesWhere<S> {
  /** the list's path (default `rules`; `sub-rules.NAME` for a sub-rule set) */
  readonly base?: readonly (string | number)[];
  /** the names of the `sub-rules` sets, for SUB-RULE targets */
  readonly subRules?: ReadonlySet<string>;
  /** the names of the `rule-providers`, for RULE-SET payloads */
  readonly ruleProviders?: ReadonlySet<string>;
  /** handed to the compiler with each line (rule-providers, sub-rules) */
  readonly scope?: S;
}

/**
 * Validates `rules`: format and target of each line. With `compile` (the rule parser, handed in
 * so config/ need not import rule/), each line is also compiled, once: a throw is that line's
 * payload error, reported with every other config error.
 */
export function parseRules<T, S = unknown>(
  raw: unknown,
  targets: (name: string) => boolean,
  issues: Issues,
  compile?: (line: z.output<typeof ruleLineSchema>, scope?: S) => T,
  where: RulesWhere<S> = {},
): ParsedRules<T> {
  const out: RuleLine[] = [];
  const compiled: T[] = [];
  const base = where.base ?? ['rules'];
  if (!Array.isArray(raw)) {
    issues.error(base, 'expected a list');
    return { lines: out, compiled };
  }
  raw.forEach((item, i) => {
    const at = [...base, i];
    const r = ruleLineSchema.safeParse(item);
    if (!r.success) return issues.zod(at, r.error);
    const line = r.data;
    if (line.type === 'SUB-RULE') {
      // its target names a set of `sub-rules`, not an outbound
      if (!where.subRules?.has(line.target)) return issues.error(at, `sub-rule [${line.target}] not found`);
    } else if (!BUILTIN_OUTBOUNDS.includes(line.target) && line.target !== GLOBAL_GROUP && !targets(line.target)) {
      return issues.error(at, `unknown target "${line.target}"`);
    }
    if (line.type === 'RULE-SET' && !where.ruleProviders?.has(line.payload)) return issues.error(at, `rule set [${line.payload}] not found`);
    if (compile) {
      try {
        compiled.push(compile(line, where.scope));
      } catch (err) {
        return issues.error(at, err instanceof Error ? err.message : String(err));
      }
    }
    out.push({ ...line, ...locate(issues, at) });
  });
  return { lines: out, compiled };
}
