import { z } from 'zod';
import { MIHOMO_PROXY_TYPES, type ProxyRegistry } from '../protocol/registry.js';
import { type Issues, type Located, type Path, isRecord, locate } from './issues.js';
import { RESERVED_PROXY_NAMES } from './names.js';
import { nameLike } from './values.js';

/** What every `proxies` entry has, whatever its type. */
export const proxyHeadSchema = z.object({ name: nameLike, type: z.string().min(1, { message: 'missing' }) });

/**
 * One validated proxy: its name, its `type`, and `options`, the output of the type's own schema
 * from the registry (the whole mapping, validated), which its ProxyDefinition builds from.
 */
export type ProxyConfig = z.output<typeof proxyHeadSchema> & {
  readonly options: { readonly name: string };
  /** mihomo's `dialer-proxy`: the proxy or group this one reaches its server through */
  readonly dialerProxy?: string;
} & Located;

/** The valid proxies, and every name declared (also of invalid entries, so that groups and rules
 * naming them get no second, misleading "not found" error). */
export interface ParsedProxies {
  readonly proxies: ProxyConfig[];
  readonly declared: ReadonlySet<string>;
}

/**
 * Validates `proxies`. A type in the registry is checked with its schema; a type mihomo knows
 * but we have not built yet is an error, as is an unknown type: skipping a proxy would leave
 * every group and rule that names it broken in a less clear way.
 */
export function parseProxies(raw: unknown, registry: ProxyRegistry, issues: Issues): ParsedProxies {
  const out: ProxyConfig[] = [];
  const declared = new Set<string>();
  if (!Array.isArray(raw)) {
    issues.error(['proxies'], 'expected a list');
    return { proxies: out, declared };
  }
  const seen = new Map<string, string>();
  raw.forEach((item, i) => {
    const at = ['proxies', i];
    const p = parseProxyEntry(item, at, registry, issues, (name) => {
      if (RESERVED_PROXY_NAMES.has(name)) return `proxy name ${name} is reserved`;
      const first = seen.get(name);
      if (first !== undefined) return `duplicate proxy name "${name}" (also ${first})`;
      seen.set(name, locate(issues, at).path);
      declared.add(name);
      return undefined;
    }, { dialerProxy: true });
    if (p) out.push(p);
  });
  return { proxies: out, declared };
}

/**
 * Validates one proxy mapping at `at` (a `proxies` entry, or a provider's payload entry: both
 * take this one path). `claim` checks the name (reserved, duplicate) and returns the problem,
 * if any. Every problem goes to `issues`; undefined when the entry is not valid.
 */
export function parseProxyEntry(
  item: unknown,
  at: Path,
  registry: ProxyRegistry,
  issues: Issues,
  claim: (name: string) => string | undefined,
  opts: { readonly dialerProxy?: boolean } = {},
): ProxyConfig | undefined {
  if (!isRecord(item)) return void issues.error(at, 'expected a mapping');
  const head = proxyHeadSchema.safeParse(item);
  if (!head.success) return void issues.zod(at, head.error);
  const { name, type } = head.data;
  const problem = claim(name);
  if (problem !== undefined) return void issues.error([...at, 'name'], problem);
  const def = registry.get(type);
  if (!def) {
    const message = MIHOMO_PROXY_TYPES.includes(type)
      ? `proxy type ${type} not supported yet (proxy "${name}")`
      : `unknown proxy type ${type} (proxy "${name}")`;
    return void issues.error([...at, 'type'], message);
  }
  // mihomo's proxy chains: ignoring the key would send this proxy's traffic out directly. A
  // config proxy may name one (checked for existence and cycles by the loader), and so may a
  // provider's proxy (checked by the provider when it loads: provider/payload.ts)
  const via = item['dialer-proxy'];
  if (via !== undefined && via !== '') {
    if (!opts.dialerProxy) return void issues.error([...at, 'dialer-proxy'], `dialer-proxy is not allowed here (proxy "${name}")`);
    if (typeof via !== 'string') return void issues.error([...at, 'dialer-proxy'], `dialer-proxy must be a name (proxy "${name}")`);
  }
  let r: ReturnType<typeof def.schema.safeParse>;
  try {
    r = def.schema.safeParse(item);
  } catch (err) {
    // a protocol schema that throws is a bug there; it must not crash loading
    return void issues.error(at, `proxy "${name}": ${(err as Error)?.message ?? String(err)}`);
  }
  if (!r.success) return void issues.zod(at, r.error);
  return { name, type, options: r.data, ...(typeof via === 'string' && via !== '' && { dialerProxy: via }), ...locate(issues, at) };
}
