import { z } from 'zod';
import { MIHOMO_PROXY_TYPES, type ProxyRegistry } from '../protocol/registry.js';
import { type Issues, type Located, isRecord, locate } from './issues.js';
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
    if (!isRecord(item)) return issues.error(at, 'expected a mapping');
    const head = proxyHeadSchema.safeParse(item);
    if (!head.success) return issues.zod(at, head.error);
    const { name, type } = head.data;
    if (RESERVED_PROXY_NAMES.has(name)) return issues.error([...at, 'name'], `proxy name ${name} is reserved`);
    const first = seen.get(name);
    if (first !== undefined) return issues.error([...at, 'name'], `duplicate proxy name "${name}" (also ${first})`);
    const loc = locate(issues, at);
    seen.set(name, loc.path);
    declared.add(name);
    const def = registry.get(type);
    if (!def) {
      const message = MIHOMO_PROXY_TYPES.includes(type)
        ? `proxy type ${type} not supported yet (proxy "${name}")`
        : `unknown proxy type ${type} (proxy "${name}")`;
      return issues.error([...at, 'type'], message);
    }
    const via = item['dialer-proxy'];
    if (via !== undefined && via !== '' && typeof via !== 'string') return issues.error([...at, 'dialer-proxy'], `dialer-proxy must be a name (proxy "${name}")`);
    let r: ReturnType<typeof def.schema.safeParse>;
    try {
      r = def.schema.safeParse(item);
    } catch (err) {
      // a protocol schema that throws is a bug there; it must not crash loading
      return issues.error(at, `proxy "${name}": ${(err as Error)?.message ?? String(err)}`);
    }
    if (!r.success) return issues.zod(at, r.error);
    out.push({ name, type, options: r.data, ...(typeof via === 'string' && via !== '' && { dialerProxy: via }), ...loc });
  });
  return { proxies: out, declared };
}
