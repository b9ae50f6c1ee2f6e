import { z } from 'zod';
import { ExpectedStatus } from '../health/expected-status.js';
import { compileFilter, compilePattern, excludedTypes, filterNames } from './group-filter.js';
import { type Issues, type Located, type Path, isRecord, locate } from './issues.js';
import { BUILTIN_OUTBOUNDS, RESERVED_GROUP_NAMES } from './names.js';
import { boolLike, countLike, nameLike, textLike } from './values.js';

/** mihomo's group types: one we have not built is "not supported yet", any other unknown. */
const MIHOMO_GROUP_TYPES = new Set(['select', 'url-test', 'fallback', 'load-balance', 'relay']);

/**
 * A group type as the loader validates it: its `type`, and the schema of its own keys (url-test's
 * `tolerance`, load-balance's `strategy`), whose output the group receives as `options`. Handed
 * in through LoadOptions.groupTypes, so config/ needs nothing from group/.
 */
export interface GroupTypeSchema {
  readonly type: string;
  /** the keys only this type reads, validated over the whole mapping (unknown keys are ignored) */
  readonly schema?: z.ZodType<Record<string, unknown>>;
  /** the keys `schema` reads, so they are not reported as unknown */
  readonly keys?: readonly string[];
}

/** Every key mihomo reads from a group, whatever its type (GroupCommonOption). */
const commonSchema = z.object({
  name: nameLike,
  type: z.string(),
  proxies: z.array(nameLike).optional(),
  use: z.array(nameLike).optional(),
  url: textLike.optional(),
  interval: countLike.optional(),
  timeout: countLike.optional(),
  'max-failed-times': countLike.optional(),
  lazy: boolLike.optional(),
  'disable-udp': boolLike.optional(),
  filter: textLike.optional(),
  'exclude-filter': textLike.optional(),
  'exclude-type': textLike.optional(),
  'expected-status': textLike.optional(),
  'include-all': boolLike.optional(),
  'include-all-proxies': boolLike.optional(),
  'include-all-providers': boolLike.optional(),
  hidden: boolLike.optional(),
  icon: textLike.optional(),
});

const COMMON_KEYS = new Set(Object.keys(commonSchema.shape));
/** mihomo's dial keys on a group: deprecated there (set them on the proxy), ignored with a warning here. */
const GROUP_DIAL_KEYS = new Set(['interface-name', 'routing-mark']);
/** The keys of the provider machinery: refused until proxy-providers are built. */
const PROVIDER_KEYS = new Set(['use', 'include-all-providers']);

/** A validated group: members are proxies, other groups or built-ins, in order. */
export interface GroupConfig extends Located {
  readonly name: string;
  readonly type: string;
  /** `proxies` as written, then (include-all / include-all-proxies) every proxy `filter` keeps, sorted by name */
  readonly proxies: readonly string[];
  /** the proxy-providers it takes members from */
  readonly use: readonly string[];
  /** the health-check test URL, when written */
  readonly url?: string;
  /** seconds between health checks, when written (0 = none) */
  readonly interval?: number;
  /** ms a URL test may take, when written */
  readonly timeout?: number;
  readonly lazy?: boolean;
  readonly maxFailedTimes?: number;
  readonly disableUdp: boolean;
  /** `filter` patterns (for provider proxies; applied to include-all here) */
  readonly filter?: string;
  readonly excludeFilter?: string;
  readonly excludeType?: string;
  readonly expectedStatus?: string;
  readonly hidden: boolean;
  readonly icon?: string;
  /** the output of the type's own schema */
  readonly options: Readonly<Record<string, unknown>>;
}

/** The valid groups, and every group name declared (see ParsedProxies). */
export interface ParsedGroups {
  readonly groups: GroupConfig[];
  readonly declared: ReadonlySet<string>;
}

/** What parseGroups needs besides the raw list. */
export interface GroupParseOptions {
  /** the group types that can be built (default: select only) */
  readonly types?: readonly (string | GroupTypeSchema)[];
  /** every proxy name of `proxies:`, in config order (include-all takes them sorted) */
  readonly proxyOrder?: readonly string[];
  /** the declared proxy-providers; undefined while providers are not built (then `use` is refused) */
  readonly providers?: ReadonlySet<string>;
}

/** Validates `proxy-groups` against the declared proxy names and the group types that can be built. */
export function parseGroups(raw: unknown, proxyNames: ReadonlySet<string>, issues: Issues, o: GroupParseOptions | readonly string[] = {}): ParsedGroups {
  const opts: GroupParseOptions = Array.isArray(o) ? { types: o as readonly string[] } : (o as GroupParseOptions);
  const types = new Map<string, GroupTypeSchema>((opts.types ?? ['select']).map((t) => (typeof t === 'string' ? [t, { type: t }] : [t.type, t])));
  const allProxies = [...(opts.proxyOrder ?? [...proxyNames])].sort();
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
    const def = types.get(type);
    if (!def) {
      const message = MIHOMO_GROUP_TYPES.has(type) ? `group type ${type} not supported yet` : `unknown group type ${type}`;
      return issues.error([...at, 'type'], message + label);
    }
    let ok = true;
    const fail = (path: Path, message: string) => {
      issues.error(path, message + label);
      ok = false;
    };
    const own = new Set(def.keys ?? []);
    for (const key of Object.keys(item)) {
      if (PROVIDER_KEYS.has(key) && opts.providers === undefined) fail([...at, key], `group option ${key} not supported yet`);
      else if (GROUP_DIAL_KEYS.has(key)) issues.warn([...at, key], `group option ${key} is deprecated in mihomo (set it on the proxy), ignored${label}`);
      else if (!COMMON_KEYS.has(key) && !own.has(key)) issues.warn([...at, key], `group option ${key} not supported yet, ignored${label}`);
    }
    const r = commonSchema.safeParse(item);
    if (!r.success) return issues.zod(at, r.error);
    const c = r.data;
    let extra: Record<string, unknown> = {};
    if (def.schema) {
      const t = def.schema.safeParse(item);
      if (!t.success) {
        issues.zod(at, t.error);
        ok = false;
      } else extra = t.data;
    }
    const patterns = checkPatterns(c, at, fail);
    if (c['expected-status'] !== undefined) {
      try {
        ExpectedStatus.parse(c['expected-status']);
      } catch (err) {
        fail([...at, 'expected-status'], (err as Error).message);
      }
    }
    if (c.url !== undefined && c.url.trim() !== '' && !/^https?:\/\/[^/]/i.test(c.url.trim())) fail([...at, 'url'], `url ${JSON.stringify(c.url)} is not an http(s) URL`);
    const use = opts.providers === undefined ? [] : [...(c.use ?? [])];
    const includeProxies = c['include-all'] === true || c['include-all-proxies'] === true;
    const includeProviders = c['include-all'] === true || c['include-all-providers'] === true;
    if (includeProviders && opts.providers !== undefined) use.splice(0, use.length, ...[...opts.providers].sort());
    use.forEach((u, j) => {
      if (!opts.providers?.has(u)) fail([...at, 'use', j], `proxy provider "${u}" not found`);
    });
    const proxies = [...(c.proxies ?? [])];
    proxies.forEach((m, j) => {
      if (!exists(m)) fail([...at, 'proxies', j], `proxy "${m}" not found`);
    });
    if (includeProxies) {
      const have = new Set(proxies);
      for (const n of filterNames(allProxies, patterns)) if (!have.has(n)) proxies.push(n);
      if (proxies.length === 0 && use.length === 0) proxies.push('COMPATIBLE');
    }
    if (proxies.length === 0 && use.length === 0 && ok) return issues.error([...at, 'proxies'], `\`use\` or \`proxies\` missing${label}`);
    if (!ok || names[i] === undefined) return;
    paths.set(c.name, at);
    groups.push({
      name: c.name,
      type: c.type,
      proxies,
      use,
      ...(c.url !== undefined && c.url.trim() !== '' && { url: c.url.trim() }),
      ...(c.interval !== undefined && { interval: c.interval }),
      ...(c.timeout !== undefined && c.timeout > 0 && { timeout: c.timeout }),
      ...(c.lazy !== undefined && { lazy: c.lazy }),
      ...(c['max-failed-times'] !== undefined && c['max-failed-times'] > 0 && { maxFailedTimes: c['max-failed-times'] }),
      disableUdp: c['disable-udp'] ?? false,
      ...(c.filter !== undefined && c.filter !== '' && { filter: c.filter }),
      ...(c['exclude-filter'] !== undefined && c['exclude-filter'] !== '' && { excludeFilter: c['exclude-filter'] }),
      ...(c['exclude-type'] !== undefined && c['exclude-type'] !== '' && { excludeType: c['exclude-type'] }),
      ...(c['expected-status'] !== undefined && { expectedStatus: c['expected-status'] }),
      hidden: c.hidden ?? false,
      ...(c.icon !== undefined && { icon: c.icon }),
      options: extra,
      ...locate(issues, at),
    });
  });
  reportCycles(groups, paths, issues);
  return { groups, declared };
}

/** Compiles `filter` and `exclude-filter` (errors reported); returns the filter patterns. */
function checkPatterns(c: z.output<typeof commonSchema>, at: Path, fail: (p: Path, m: string) => void): RegExp[] {
  let patterns: RegExp[] = [];
  try {
    patterns = compileFilter(c.filter);
  } catch (err) {
    fail([...at, 'filter'], `filter: ${(err as Error).message}`);
  }
  try {
    if (c['exclude-filter']) compilePattern(c['exclude-filter']);
  } catch (err) {
    fail([...at, 'exclude-filter'], `exclude-filter: ${(err as Error).message}`);
  }
  excludedTypes(c['exclude-type']);
  return patterns;
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

/**
 * mihomo's dialer-proxy chains: each proxy naming one must name a proxy or group that exists,
 * and no proxy may (through groups and other dialer-proxies) dial through itself.
 */
export function checkDialerProxies(raw: unknown, groups: readonly GroupConfig[], known: (name: string) => boolean, issues: Issues): void {
  const proxies: { name: string; dialerProxy: string; at: Path }[] = [];
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (isRecord(item) && typeof item.name === 'string' && typeof item['dialer-proxy'] === 'string' && item['dialer-proxy'] !== '') {
        proxies.push({ name: item.name, dialerProxy: item['dialer-proxy'], at: ['proxies', i] });
      }
    });
  }
  const edges = new Map<string, readonly string[]>();
  for (const g of groups) edges.set(g.name, g.proxies);
  for (const p of proxies) edges.set(p.name, [p.dialerProxy]);
  for (const p of proxies) {
    if (!known(p.dialerProxy)) {
      issues.error([...p.at, 'dialer-proxy'], `dialer-proxy "${p.dialerProxy}" not found (proxy "${p.name}")`);
      continue;
    }
    if (p.dialerProxy === p.name) {
      issues.error([...p.at, 'dialer-proxy'], `dialer-proxy cycle: ${p.name} -> ${p.name}`);
      continue;
    }
    // is p reachable from its dialer-proxy? (bounded: each name visited once)
    const seen = new Map<string, string | undefined>([[p.dialerProxy, undefined]]);
    const queue = [p.dialerProxy];
    let found = false;
    while (queue.length > 0 && !found) {
      const n = queue.shift()!;
      for (const m of edges.get(n) ?? []) {
        if (seen.has(m)) continue;
        seen.set(m, n);
        if (m === p.name) {
          found = true;
          break;
        }
        queue.push(m);
      }
    }
    if (!found) continue;
    const back: string[] = [];
    for (let n: string | undefined = seen.get(p.name); n !== undefined; n = seen.get(n)) back.push(n);
    const chain = [p.name, ...back.reverse(), p.name];
    issues.error([...p.at, 'dialer-proxy'], `dialer-proxy cycle: ${chain.join(' -> ')}`);
  }
}

/** What a dialer-proxy leads to: groups' members and providers, proxies' and providers' dialer-proxies. */
export interface DialerGraph {
  readonly groups: readonly { readonly name: string; readonly proxies: readonly string[]; readonly use?: readonly string[] }[];
  readonly proxies: readonly { readonly name: string; readonly dialerProxy?: string }[];
  /** a provider's `dialer-proxy` (or its override's), set on each of its proxies */
  readonly providers: readonly { readonly name: string; readonly dialerProxy?: string }[];
}

/**
 * A provider proxy dialing through `via` dials through itself when `via` leads (through group
 * members, groups' providers and dialer-proxies) back to a group that uses `provider`. Returns
 * that path, from the provider to itself, as names (`provider P`, then outbounds), or undefined
 * when there is none. Bounded: each node is visited once.
 */
export function providerDialerCycle(provider: string, via: string, graph: DialerGraph): string[] | undefined {
  const edges = new Map<string, string[]>();
  const add = (from: string, to: string) => {
    const list = edges.get(from);
    if (list) list.push(to);
    else edges.set(from, [to]);
  };
  for (const g of graph.groups) {
    for (const m of g.proxies) add(`o:${g.name}`, `o:${m}`);
    for (const u of g.use ?? []) add(`o:${g.name}`, `p:${u}`);
  }
  for (const p of graph.proxies) if (p.dialerProxy) add(`o:${p.name}`, `o:${p.dialerProxy}`);
  // the built-in GLOBAL (when the config defines none) may pick any proxy or group
  if (!graph.groups.some((g) => g.name === 'GLOBAL')) {
    for (const o of [...graph.proxies, ...graph.groups]) add('o:GLOBAL', `o:${o.name}`);
  }
  for (const p of graph.providers) if (p.dialerProxy && p.name !== provider) add(`p:${p.name}`, `o:${p.dialerProxy}`);
  const target = `p:${provider}`;
  const start = `o:${via}`;
  const from = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    if (n === target) {
      const path: string[] = [];
      for (let c: string | undefined = n; c !== undefined; c = from.get(c)) path.push(c);
      const label = (k: string) => (k.startsWith('p:') ? `provider ${k.slice(2)}` : k.slice(2));
      return [target, ...path.reverse()].map(label);
    }
    for (const m of edges.get(n) ?? []) {
      if (from.has(m)) continue;
      from.set(m, n);
      queue.push(m);
    }
  }
  return undefined;
}
