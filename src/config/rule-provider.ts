import { z } from 'zod';
import type { Rule } from '../core/rule.js';
import { type Issues, type Located, type Path, isRecord, locate } from './issues.js';
import { countLike, nameLike, textLike, textListLike } from './values.js';

/** Where an http rule-provider's copy goes without `path`: HOMEDIR/rules/md5(url) (mihomo). */
export const RULE_PROVIDER_CACHE_DIR = 'rules';

const KNOWN_KEYS = new Set(['type', 'behavior', 'format', 'path', 'url', 'proxy', 'interval', 'size-limit', 'payload', 'header']);

const schema = z.object({
  type: z.enum(['file', 'http', 'inline'], { message: 'unsupported vehicle type: must be file, http or inline' }),
  behavior: z.enum(['domain', 'ipcidr', 'classical'], { message: 'unsupported behavior type: must be domain, ipcidr or classical' }),
  format: z.enum(['', 'yaml', 'text', 'mrs'], { message: 'unsupported format type: must be yaml, text or mrs' }).default('yaml'),
  path: textLike.optional(),
  url: textLike.optional(),
  proxy: textLike.optional(),
  /** seconds; 0 = no periodic update */
  interval: countLike.default(0),
  'size-limit': countLike.default(0),
  payload: z.array(textLike).optional(),
  header: z.record(z.string(), textListLike).optional(),
});

/** A validated `rule-providers` entry. */
export interface RuleProviderConfig extends Located {
  readonly name: string;
  readonly type: 'file' | 'http' | 'inline';
  readonly behavior: 'domain' | 'ipcidr' | 'classical';
  readonly format: 'yaml' | 'text' | 'mrs';
  /** `path` as written (resolved against the home dir when built); http: absent = rules/md5(url) */
  readonly file?: string;
  readonly url?: string;
  /** the outbound an http provider fetches through (default DIRECT) */
  readonly proxy?: string;
  readonly intervalSec: number;
  /** bytes; 0 = no limit */
  readonly sizeLimit: number;
  /** inline: the entries as written */
  readonly payload?: readonly string[];
  readonly header: Readonly<Record<string, readonly string[]>>;
}

/**
 * Validates `rule-providers` (name → provider), every problem at once. The payloads (inline
 * entries, files, fetches) are read when the provider loads, a bad entry skipped with a warning.
 * `outboundKnown` checks `proxy:`.
 */
export function parseRuleProviders(raw: unknown, issues: Issues, outboundKnown: (name: string) => boolean): RuleProviderConfig[] {
  const out: RuleProviderConfig[] = [];
  if (!isRecord(raw)) {
    issues.error(['rule-providers'], 'expected a mapping of rule-provider names');
    return out;
  }
  for (const [name, item] of Object.entries(raw)) {
    const at: Path = ['rule-providers', name];
    if (!nameLike.safeParse(name).success) {
      issues.error(at, 'a rule-provider needs a name');
      continue;
    }
    if (!isRecord(item)) {
      issues.error(at, 'expected a mapping');
      continue;
    }
    const label = ` (rule-provider "${name}")`;
    for (const key of Object.keys(item)) if (!KNOWN_KEYS.has(key)) issues.warn([...at, key], `unknown rule-provider key ${key}, ignored${label}`);
    const r = schema.safeParse(item);
    if (!r.success) {
      issues.zod(at, r.error);
      continue;
    }
    const d = r.data;
    const format = d.format === '' ? 'yaml' : d.format;
    let ok = true;
    const fail = (path: Path, message: string): void => {
      issues.error(path, message + label);
      ok = false;
    };
    if (d.type === 'http') {
      if (d.url === undefined || d.url === '') fail([...at, 'url'], 'an http rule-provider needs a url');
      else if (!/^https?:\/\//i.test(d.url) || !URL.canParse(d.url)) fail([...at, 'url'], `url ${JSON.stringify(d.url)} is not an http(s) URL`);
      if (d.proxy !== undefined && d.proxy !== '' && !outboundKnown(d.proxy)) fail([...at, 'proxy'], `proxy "${d.proxy}" not found`);
    }
    if (d.type === 'file' && (d.path === undefined || d.path === '')) fail([...at, 'path'], 'a file rule-provider needs a path');
    if (d.type === 'inline' && d.payload === undefined) fail([...at, 'payload'], 'an inline rule-provider needs a payload');
    if (d.type !== 'inline' && format === 'mrs' && d.behavior === 'classical') fail([...at, 'format'], 'the mrs format holds domain and ipcidr rule-sets only');
    if (d.type !== 'inline' && d.payload !== undefined) issues.warn([...at, 'payload'], `payload is read only by inline rule-providers, ignored${label}`);
    if (!ok) continue;
    out.push({
      name,
      type: d.type,
      behavior: d.behavior,
      format,
      ...(d.path !== undefined && d.path !== '' && { file: d.path }),
      ...(d.url !== undefined && { url: d.url }),
      ...(d.proxy !== undefined && d.proxy !== '' && { proxy: d.proxy }),
      intervalSec: d.interval,
      sizeLimit: d['size-limit'],
      ...(d.type === 'inline' && { payload: d.payload }),
      header: d.header ?? {},
      ...locate(issues, at),
    });
  }
  return out;
}

/**
 * What rule lines may refer to besides outbounds, handed to the rule compiler with each line:
 * the rule-providers by name (RULE-SET) and the sub-rule sets (SUB-RULE). `subRules` is filled
 * while the load compiles them, so a SUB-RULE looks its set up when it first matches.
 */
export interface RuleScope {
  readonly ruleProviders: ReadonlyMap<string, { readonly behavior: 'domain' | 'ipcidr' | 'classical' }>;
  readonly subRules: Map<string, readonly Rule[]>;
  readonly subRuleNames: ReadonlySet<string>;
}

/** The raw `sub-rules` mapping: name → list; problems reported. */
export function subRuleSets(raw: unknown, issues: Issues): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  if (raw === undefined) return out;
  if (!isRecord(raw)) {
    issues.error(['sub-rules'], 'expected a mapping of sub-rule names');
    return out;
  }
  for (const [name, list] of Object.entries(raw)) {
    if (name === '') {
      issues.error(['sub-rules'], 'sub-rule name is empty');
      continue;
    }
    if (!Array.isArray(list)) {
      issues.error(['sub-rules', name], 'expected a list of rules');
      continue;
    }
    out.set(name, list);
  }
  return out;
}

/** Refuses sub-rule sets that reach themselves through SUB-RULE lines (mihomo: circular references). */
export function checkSubRuleCycles(edges: ReadonlyMap<string, readonly string[]>, issues: Issues): void {
  const state = new Map<string, 1 | 2>(); // 1 = on the path, 2 = done
  const reported = new Set<string>();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 2) return;
    if (state.get(n) === 1) {
      const cycle = [...path.slice(path.indexOf(n)), n];
      const key = [...cycle].sort().join('\0');
      if (!reported.has(key)) {
        reported.add(key);
        issues.error(['sub-rules', n], `sub-rule error: circular references [${cycle.join('->')}]`);
      }
      return;
    }
    state.set(n, 1);
    for (const m of edges.get(n) ?? []) visit(m, [...path, n]);
    state.set(n, 2);
  };
  for (const n of edges.keys()) visit(n, []);
}

/** mihomo's find-process-mode. */
export type FindProcessMode = 'off' | 'strict' | 'always';

/** Reads `find-process-mode` (default strict, as mihomo); an unknown value is an error. */
export function parseFindProcessMode(raw: unknown, issues: Issues): FindProcessMode {
  if (raw === undefined) return 'strict';
  const v = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (v === 'off' || v === 'strict' || v === 'always') return v;
  issues.error(['find-process-mode'], 'invalid find process mode: must be off, strict or always');
  return 'strict';
}
