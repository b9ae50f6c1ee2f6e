import { z } from 'zod';
import { type Issues, type Located, type Path, isRecord, locate } from './issues.js';
import { BUILTIN_OUTBOUNDS, RESERVED_GROUP_NAMES } from './names.js';
import { boolLike, nameLike } from './values.js';

/** mihomo's other group types: recognised, reported as not supported yet. */
const LATER_TYPES = new Set(['url-test', 'fallback', 'load-balance', 'relay']);

// Keys that change which members a group has: ignoring them would route through the wrong
// proxies, so they are errors until supported.
const UNSAFE_KEYS = new Set([
  'include-all', 'include-all-proxies', 'filter', 'exclude-filter', 'exclude-type',
]);

// Health-check and UI keys that mean nothing to a select group (templates set them everywhere).
const INERT_KEYS = new Set([
  'name', 'type', 'proxies', 'url', 'interval', 'timeout', 'lazy', 'hidden', 'icon', 'max-failed-times',
  'expected-status', 'tolerance', 'strategy', 'use', 'include-all-providers',
]);

/** One `proxy-groups` entry of a supported type; `use` lists proxy-providers whose proxies follow `proxies`. */
export const groupSchema = z
  .object({
    name: nameLike,
    type: z.string(),
    proxies: z.array(nameLike).default([]),
    use: z.array(nameLike).default([]),
    'include-all-providers': boolLike.default(false),
  })
  .transform((r) => ({ name: r.name, type: r.type, proxies: r.proxies, use: r.use, includeAllProviders: r['include-all-providers'] }));

/** A validated group: its members are proxies, other groups or built-ins, in order. */
export type GroupConfig = z.output<typeof groupSchema> & Located;

/** The valid groups, and every group name declared (see ParsedProxies). */
export interface ParsedGroups {
  readonly groups: GroupConfig[];
  readonly declared: ReadonlySet<string>;
}

/** Validates `proxy-groups` against the declared proxy names and the group types that can be built. */
export function parseGroups(
  raw: unknown,
  proxyNames: ReadonlySet<string>,
  issues: Issues,
  types: readonly string[] = ['select'],
  providerNames: ReadonlySet<string> = new Set(),
): ParsedGroups {
  const groups: GroupConfig[] = [];
  const declared = new Set<string>();
  if (!Array.isArray(raw)) {
    issues.error(['proxy-groups'], 'expected a list');
    return { groups, declared };
  }
  // first pass: names, so members may refer to groups defined later in the file
  const names: (string | undefined)[] = raw.map((item, i) => {
    const parsed = isRecord(item) ? nameLike.safeParse(item.name) : undefined;
    if (!parsed?.success) return undefined;
    const name = parsed.data;
    const at = ['proxy-groups', i, 'name'];
    let problem: string | undefined;
    if (RESERVED_GROUP_NAMES.has(name)) problem = `group name ${name} is reserved`;
    else if (proxyNames.has(name)) problem = `group name "${name}" is already a proxy name`;
    else if (declared.has(name)) problem = `duplicate group name "${name}"`;
    if (problem !== undefined) {
      issues.error(at, problem);
      return undefined;
    }
    declared.add(name);
    return name;
  });
  const exists = (n: string) => proxyNames.has(n) || declared.has(n) || BUILTIN_OUTBOUNDS.includes(n);
  const paths = new Map<string, Path>();

  raw.forEach((item, i) => {
    const at = ['proxy-groups', i];
    if (!isRecord(item)) return issues.error(at, 'expected a mapping');
    const label = typeof item.name === 'string' ? ` (group "${item.name}")` : '';
    const type = item.type;
    if (type === undefined) return issues.error([...at, 'type'], `missing type${label}`);
    if (typeof type !== 'string') return issues.error([...at, 'type'], `type must be a string${label}`);
    if (!types.includes(type)) {
      const message = LATER_TYPES.has(type) ? `group type ${type} not supported yet` : `unknown group type ${type}`;
      return issues.error([...at, 'type'], message + label);
    }
    let ok = true;
    for (const key of Object.keys(item)) {
      if (UNSAFE_KEYS.has(key)) {
        issues.error([...at, key], `group option ${key} not supported yet${label}`);
        ok = false;
      } else if (!INERT_KEYS.has(key)) {
        issues.warn([...at, key], `group option ${key} not supported yet, ignored${label}`);
      }
    }
    const r = groupSchema.safeParse(item);
    if (!r.success) return issues.zod(at, r.error);
    // include-all-providers: every provider, in name order (as mihomo)
    const use = r.data.includeAllProviders ? [...new Set([...r.data.use, ...[...providerNames].sort()])] : r.data.use;
    if (r.data.proxies.length === 0 && use.length === 0) return issues.error([...at, 'proxies'], `group has no proxies${label}`);
    r.data.use.forEach((u, j) => {
      if (!providerNames.has(u)) {
        issues.error([...at, 'use', j], `provider "${u}" not found${label}`);
        ok = false;
      }
    });
    r.data.proxies.forEach((m, j) => {
      if (!exists(m)) {
        issues.error([...at, 'proxies', j], `proxy "${m}" not found${label}`);
        ok = false;
      }
    });
    if (!ok || names[i] === undefined) return;
    paths.set(r.data.name, at);
    groups.push({ ...r.data, use, ...locate(issues, at) });
  });
  reportCycles(groups, paths, issues);
  return { groups, declared };
}

/** Reports each group reference cycle once (a group that, through members, contains itself). */
function reportCycles(groups: readonly GroupConfig[], paths: ReadonlyMap<string, Path>, issues: Issues): void {
  const byName = new Map(groups.map((g) => [g.name, g]));
  const state = new Map<string, 'open' | 'done'>();
  for (const start of groups) {
    if (state.has(start.name)) continue;
    // iterative DFS: a long chain of groups must not overflow the stack
    const stack: { g: GroupConfig; next: number }[] = [{ g: start, next: 0 }];
    state.set(start.name, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next >= top.g.proxies.length) {
        state.set(top.g.name, 'done');
        stack.pop();
        continue;
      }
      const member = byName.get(top.g.proxies[top.next++]);
      if (!member) continue;
      const s = state.get(member.name);
      if (s === 'open') {
        const from = stack.findIndex((f) => f.g.name === member.name);
        const cycle = [...stack.slice(from).map((f) => f.g.name), member.name].join(' -> ');
        issues.error(paths.get(member.name) ?? ['proxy-groups'], `group reference cycle: ${cycle}`);
      } else if (s === undefined) {
        state.set(member.name, 'open');
        stack.push({ g: member, next: 0 });
      }
    }
  }
}
