import { parseDocument } from 'yaml';
import { Issues, isRecord, type Path } from '../config/issues.js';
import { RESERVED_PROXY_NAMES } from '../config/names.js';
import type { ProviderConfig } from '../config/load.js';
import { compileFilter, OVERRIDE_VALUE_KEYS } from '../config/provider.js';
import { parseProxyEntry, type ProxyConfig } from '../config/proxy.js';
import { ProxyError } from '../core/errors.js';
import type { ProxyRegistry } from '../protocol/registry.js';
import { parseShareLinks } from './share-links.js';

/** What a payload (a file, a fetch, an inline list) gave: proxies to build and the skipped entries. */
export interface PayloadResult {
  readonly proxies: ProxyConfig[];
  readonly warnings: string[];
}

// A subscription is a few hundred KB; this stops a runaway file before YAML parses it.
const MAX_PAYLOAD = 32 * 1024 * 1024;
const MAX_ALIAS_COUNT = 100_000;

/**
 * The proxy mappings of a payload text: mihomo's YAML with a `proxies:` list, or share links
 * (base64 or plain, one per line). Throws when the text is neither (the provider keeps its set).
 */
export function payloadMappings(text: string): { mappings: unknown[]; warnings: string[] } {
  if (text.length > MAX_PAYLOAD) throw new ProxyError('CONFIG', `payload too large (${text.length} characters)`);
  let value: unknown;
  let yamlOk = false;
  try {
    const doc = parseDocument(text, { merge: true, prettyErrors: false });
    if (doc.errors.length === 0) {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      yamlOk = true;
    }
  } catch {
    yamlOk = false;
  }
  if (yamlOk && isRecord(value)) {
    if (!Array.isArray(value.proxies)) throw new ProxyError('CONFIG', 'the payload has no `proxies` list');
    return { mappings: value.proxies, warnings: [] };
  }
  const links = parseShareLinks(text);
  if (links.proxies.length === 0 && !text.includes('://') && !links.warnings.some((w) => w.includes('://'))) {
    throw new ProxyError('CONFIG', 'the payload is neither YAML with `proxies:` nor share links');
  }
  return { mappings: links.proxies, warnings: links.warnings };
}

/** The name made unique against `taken`: `name`, else `name-2`, `name-3`… */
function uniqueName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) {
    const n = `${name}-${i}`;
    if (!taken.has(n)) return n;
  }
}

/**
 * Filters, overrides and validates a provider's mappings (mihomo's order): for each `filter`
 * regex in turn, each entry not of an `exclude-type`, not matching `exclude-filter` and matching
 * that filter (an entry is taken once); then `override` (its keys set on the mapping, the name
 * prefixed, suffixed and renamed by each `proxy-name` rule); then the name made unique (against
 * `taken`: the config's own proxies and groups, and the provider's earlier entries); then the
 * mapping is validated exactly as a `proxies` entry. A bad entry is skipped with a warning.
 */
export function selectProxies(
  mappings: readonly unknown[],
  p: Pick<ProviderConfig, 'name' | 'filter' | 'excludeFilter' | 'excludeType' | 'override' | 'dialerProxy'>,
  registry: ProxyRegistry,
  taken: ReadonlySet<string>,
  base: Path,
  checkDialer?: (proxy: string, via: string) => string | undefined,
): PayloadResult {
  const warnings: string[] = [];
  const issues = new Issues(() => undefined);
  const filters = p.filter.length === 0 ? [undefined] : p.filter.map((f) => compileFilter(f));
  const exclude = p.excludeFilter === '' ? undefined : compileFilter(p.excludeFilter);
  const renames = (p.override['proxy-name'] ?? []).map((r) => ({ re: new RegExp(compileFilter(r.pattern).source, `${compileFilter(r.pattern).flags}g`), target: r.target }));
  const names = new Set(taken);
  const used = new Set<number>();
  const out: ProxyConfig[] = [];
  for (const filter of filters) {
    mappings.forEach((item, i) => {
      if (used.has(i)) return;
      if (!isRecord(item)) {
        used.add(i);
        issues.error([...base, i], 'expected a mapping');
        return;
      }
      const type = typeof item.type === 'string' ? item.type.toLowerCase() : undefined;
      const name = typeof item.name === 'string' || typeof item.name === 'number' ? String(item.name) : undefined;
      if (type !== undefined && p.excludeType.includes(type)) return;
      if (name !== undefined && exclude?.test(name)) return;
      if (filter !== undefined && (name === undefined || !filter.test(name))) return;
      used.add(i);
      const mapping: Record<string, unknown> = { ...item };
      // mihomo's order: the provider's dialer-proxy, then the override's keys
      if (p.dialerProxy !== undefined && p.dialerProxy !== '') mapping['dialer-proxy'] = p.dialerProxy;
      for (const key of OVERRIDE_VALUE_KEYS) if (p.override[key] !== undefined) mapping[key] = p.override[key];
      if (name !== undefined) {
        let n = `${p.override['additional-prefix'] ?? ''}${name}${p.override['additional-suffix'] ?? ''}`;
        for (const r of renames) n = n.replace(r.re, r.target);
        const unique = uniqueName(RESERVED_PROXY_NAMES.has(n) ? `${n}-${p.name}` : n, names);
        if (unique !== n) warnings.push(`proxy "${n}" renamed "${unique}" (the name is taken)`);
        mapping.name = unique;
      }
      const parsed = parseProxyEntry(
        mapping,
        [...base, i],
        registry,
        issues,
        (n) => {
          names.add(n);
          return undefined;
        },
        { dialerProxy: true },
      );
      // an entry's dialer-proxy must name an outbound of the config, and not lead back here
      const problem = parsed?.dialerProxy !== undefined ? (checkDialer?.(parsed.name, parsed.dialerProxy) ?? undefined) : undefined;
      if (problem !== undefined) issues.error([...base, i, 'dialer-proxy'], problem);
      else if (parsed) out.push(parsed);
    });
  }
  for (const e of issues.errors()) warnings.push(`${e.path}: ${e.message}, skipped`);
  return { proxies: out, warnings };
}
