import { z } from 'zod';
import { ExpectedStatus } from '../health/expected-status.js';
import { type Issues, type Located, type Path, isRecord, locate } from './issues.js';
import { boolLike, countLike, intLike, nameLike, textLike, textListLike } from './values.js';
import { providerDialerCycle, type DialerGraph } from './proxy-group.js';

/** The name mihomo keeps for its own provider of the config's `proxies`. */
export const RESERVED_PROVIDER_NAME = 'default';

/** Where an http provider's copy goes when `path` is not set: HOMEDIR/proxies/md5(url) (mihomo). */
export const PROVIDER_CACHE_DIR = 'proxies';

/**
 * A regex as mihomo's configs write them (Go's regexp2): a leading inline flag group such as
 * `(?i)` becomes a JavaScript flag, since Node's RegExp does not read it. Throws on bad syntax.
 */
export function compileFilter(source: string): RegExp {
  const m = /^\(\?([imsx]+)\)/.exec(source);
  const flags = m ? [...new Set(m[1].replace('x', ''))].join('') : '';
  return new RegExp(m ? source.slice(m[0].length) : source, flags);
}

const regexText = textLike.superRefine((s, ctx) => {
  for (const part of s.split('`')) {
    try {
      compileFilter(part);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regex ${JSON.stringify(part)}: ${(err as Error).message}` });
    }
  }
});

const renameRule = z.object({
  pattern: textLike.superRefine((s, ctx) => {
    try {
      compileFilter(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regex: ${(err as Error).message}` });
    }
  }),
  target: textLike.default(''),
});

/**
 * mihomo's `override`: keys set on every proxy of the provider (before each is validated like a
 * `proxies` entry), plus the name changes. `dialer-proxy` is checked like the provider's own.
 */
const overrideSchema = z
  .object({
    tfo: boolLike.optional(),
    mptcp: boolLike.optional(),
    udp: boolLike.optional(),
    'udp-over-tcp': boolLike.optional(),
    up: textLike.optional(),
    down: textLike.optional(),
    'skip-cert-verify': boolLike.optional(),
    'interface-name': textLike.optional(),
    'routing-mark': intLike.optional(),
    'ip-version': textLike.optional(),
    'dialer-proxy': textLike.optional(),
    'additional-prefix': textLike.optional(),
    'additional-suffix': textLike.optional(),
    'proxy-name': z.array(renameRule).optional(),
  })
  .strict();

/** The keys `override` sets on each proxy mapping as they are (not the name changes). */
export const OVERRIDE_VALUE_KEYS = ['tfo', 'mptcp', 'udp', 'udp-over-tcp', 'up', 'down', 'dialer-proxy', 'skip-cert-verify', 'interface-name', 'routing-mark', 'ip-version'] as const;

const healthCheckSchema = z
  .object({
    enable: boolLike.default(false),
    url: textLike.default(''),
    /** seconds; mihomo's 300 when enabled without one */
    interval: countLike.optional(),
    /** ms */
    timeout: countLike.default(5000),
    lazy: boolLike.default(true),
    'expected-status': textLike
      .default('')
      .superRefine((s, ctx) => {
        if (s.trim() === '' || s.trim() === '*') return;
        try {
          ExpectedStatus.parse(s);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
  })
  .transform((h) => ({
    enable: h.enable,
    url: h.url,
    interval: h.interval ?? (h.enable ? 300 : 0),
    timeout: h.timeout === 0 ? 5000 : h.timeout,
    lazy: h.lazy,
    expectedStatus: h['expected-status'].trim(),
  }));

/** A provider's health-check settings (parsed and kept; the groups run the checks). */
export type ProviderHealthCheck = z.output<typeof healthCheckSchema>;

const KNOWN_KEYS = new Set([
  'type', 'path', 'url', 'proxy', 'interval', 'filter', 'exclude-filter', 'exclude-type', 'dialer-proxy', 'size-limit',
  'payload', 'health-check', 'override', 'header',
]);

const providerSchema = z.object({
  type: z.enum(['file', 'http', 'inline'], { message: 'type must be file, http or inline' }),
  path: textLike.optional(),
  url: textLike.optional(),
  proxy: textLike.optional(),
  /** seconds; 0 = no periodic update */
  interval: countLike.default(0),
  filter: regexText.default(''),
  'exclude-filter': regexText.default(''),
  'exclude-type': textLike.default(''),
  'size-limit': countLike.default(0),
  'dialer-proxy': textLike.optional(),
  payload: z.array(z.unknown()).optional(),
  'health-check': healthCheckSchema.optional(),
  override: overrideSchema.optional(),
  header: z.record(z.string(), textListLike).optional(),
});

/** A validated `proxy-providers` entry. */
export interface ProviderConfig extends Located {
  readonly name: string;
  readonly type: 'file' | 'http' | 'inline';
  /** `path` as written (resolved against the home dir when built); http: absent = proxies/md5(url) */
  readonly file?: string;
  readonly url?: string;
  /** the outbound an http provider fetches through (default DIRECT) */
  readonly proxy?: string;
  readonly intervalSec: number;
  /** mihomo's filters: split at backquotes, a proxy is kept when any matches (none = all) */
  readonly filter: readonly string[];
  readonly excludeFilter: string;
  /** lower-cased types to drop (`exclude-type: ss|http`) */
  readonly excludeType: readonly string[];
  /** bytes; 0 = no limit */
  readonly sizeLimit: number;
  /** mihomo's provider `dialer-proxy`: set on each of its proxies (then `override.dialer-proxy` wins) */
  readonly dialerProxy?: string;
  /** inline: the proxy mappings as written */
  readonly payload?: readonly unknown[];
  readonly healthCheck: ProviderHealthCheck;
  readonly override: z.output<typeof overrideSchema>;
  readonly header: Readonly<Record<string, readonly string[]>>;
}

/** The valid providers and every provider name declared (also of invalid entries). */
export interface ParsedProviders {
  readonly providers: ProviderConfig[];
  readonly declared: ReadonlySet<string>;
}

const DEFAULT_HEALTH = healthCheckSchema.parse({});

/**
 * Validates `proxy-providers` (a mapping of name → provider), every problem at once. The
 * payloads themselves (inline entries, files, fetches) are validated when the provider loads,
 * entry by entry, each bad one skipped with a warning. `outboundKnown` checks `proxy:`.
 */
export function parseProviders(
  raw: unknown,
  issues: Issues,
  outboundKnown: (name: string) => boolean,
  graph?: Omit<DialerGraph, 'providers'>,
): ParsedProviders {
  const providers: ProviderConfig[] = [];
  const declared = new Set<string>();
  if (!isRecord(raw)) {
    issues.error(['proxy-providers'], 'expected a mapping of provider names');
    return { providers, declared };
  }
  for (const [name, item] of Object.entries(raw)) {
    const at: Path = ['proxy-providers', name];
    if (!nameLike.safeParse(name).success) {
      issues.error(at, 'a provider needs a name');
      continue;
    }
    if (name === RESERVED_PROVIDER_NAME) {
      issues.error(at, `provider name ${name} is reserved`);
      continue;
    }
    declared.add(name);
    if (!isRecord(item)) {
      issues.error(at, 'expected a mapping');
      continue;
    }
    const p = parseOne(name, item, at, issues, outboundKnown);
    if (p) providers.push(p);
  }
  if (graph) checkProviderDialers(providers, graph, issues);
  return { providers, declared };
}

/** The dialer-proxy a provider sets on its proxies: its override's, else its own. */
export function providerDialerProxy(p: { readonly dialerProxy?: string; readonly override: { readonly 'dialer-proxy'?: string } }): string | undefined {
  const v = p.override['dialer-proxy'] ?? p.dialerProxy;
  return v === undefined || v === '' ? undefined : v;
}

/** A provider whose proxies would dial through a group that uses it: a config error naming the path. */
function checkProviderDialers(providers: readonly ProviderConfig[], graph: Omit<DialerGraph, 'providers'>, issues: Issues): void {
  const full: DialerGraph = { ...graph, providers: providers.map((p) => ({ name: p.name, dialerProxy: providerDialerProxy(p) })) };
  for (const p of providers) {
    const via = providerDialerProxy(p);
    if (via === undefined) continue;
    const cycle = providerDialerCycle(p.name, via, full);
    const key = p.override['dialer-proxy'] !== undefined ? ['override', 'dialer-proxy'] : ['dialer-proxy'];
    if (cycle) issues.error(['proxy-providers', p.name, ...key], `dialer-proxy cycle: ${cycle.join(' -> ')} (provider "${p.name}")`);
  }
}

function parseOne(
  name: string,
  item: Record<string, unknown>,
  at: Path,
  issues: Issues,
  outboundKnown: (name: string) => boolean,
): ProviderConfig | undefined {
  const label = ` (provider "${name}")`;
  for (const key of Object.keys(item)) {
    if (!KNOWN_KEYS.has(key)) issues.warn([...at, key], `unknown provider key ${key}, ignored${label}`);
  }
  let ok = true;
  const fail = (path: Path, message: string): void => {
    issues.error(path, message + label);
    ok = false;
  };
  const r = providerSchema.safeParse(item);
  if (!r.success) {
    issues.zod(at, r.error);
    return undefined;
  }
  const d = r.data;
  if (d.type === 'http') {
    if (d.url === undefined || d.url === '') fail([...at, 'url'], 'an http provider needs a url');
    else if (!/^https?:\/\//i.test(d.url) || !URL.canParse(d.url)) fail([...at, 'url'], `url ${JSON.stringify(d.url)} is not an http(s) URL`);
    if (d.proxy !== undefined && d.proxy !== '' && !outboundKnown(d.proxy)) fail([...at, 'proxy'], `proxy "${d.proxy}" not found`);
  }
  for (const [key, via] of [[['dialer-proxy'], d['dialer-proxy']], [['override', 'dialer-proxy'], d.override?.['dialer-proxy']]] as const) {
    if (via !== undefined && via !== '' && !outboundKnown(via)) fail([...at, ...key], `dialer-proxy "${via}" not found`);
  }
  if (d.type === 'file' && (d.path === undefined || d.path === '')) fail([...at, 'path'], 'a file provider needs a path');
  if (d.type === 'inline' && d.payload === undefined) fail([...at, 'payload'], 'an inline provider needs a payload');
  if (d.type !== 'inline' && d.payload !== undefined) issues.warn([...at, 'payload'], `payload is read only by inline providers, ignored${label}`);
  if (!ok) return undefined;
  return {
    name,
    type: d.type,
    ...(d.path !== undefined && d.path !== '' && { file: d.path }),
    ...(d.url !== undefined && { url: d.url }),
    ...(d.proxy !== undefined && d.proxy !== '' && { proxy: d.proxy }),
    intervalSec: d.interval,
    filter: d.filter === '' ? [] : d.filter.split('`'),
    excludeFilter: d['exclude-filter'],
    excludeType: d['exclude-type'] === '' ? [] : d['exclude-type'].split('|').map((t) => t.trim().toLowerCase()),
    sizeLimit: d['size-limit'],
    ...(d['dialer-proxy'] !== undefined && d['dialer-proxy'] !== '' && { dialerProxy: d['dialer-proxy'] }),
    ...(d.type === 'inline' && { payload: d.payload }),
    healthCheck: d['health-check'] ?? DEFAULT_HEALTH,
    override: d.override ?? {},
    header: d.header ?? {},
    ...locate(issues, at),
  };
}
