import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCidr } from '../common/cidr.js';
import { isRecord, type Issues, type Path } from './issues.js';
import { boolLike, countLike, intLike, textLike, textListLike } from './values.js';

/**
 * The `dns` section (mihomo's RawDNS / parseDNS), the top-level `hosts` and
 * `profile.store-fake-ip`. Each nameserver entry is parsed here into a {@link NameserverSpec};
 * what needs the generation (proxies named by `#proxy`, geo data, rule-sets) is checked by the
 * build (dns/build.ts).
 */

/** How a nameserver is reached. */
export type NameserverNet = 'udp' | 'tcp' | 'tls' | 'https' | 'system' | 'rcode';

/** One parsed `nameserver` / `fallback` / `default-nameserver` / policy entry. */
export interface NameserverSpec {
  readonly net: NameserverNet;
  /** the server's host (IP or name; IPv6 without brackets); '' for system */
  readonly host: string;
  readonly port: number;
  /** DoH: the URL without its fragment; rcode: the rcode name */
  readonly url?: string;
  /** `#name`: the proxy or group the query is dialed through; `RULES`: routed by the rules */
  readonly proxy?: string;
  /** `#ecs=1.2.3.0/24` */
  readonly ecs?: { readonly ip: string; readonly prefix: number };
  /** `#skip-cert-verify=true` */
  readonly skipCertVerify: boolean;
  /** the entry as written, for logs */
  readonly raw: string;
}

/** One `nameserver-policy` entry after comma keys are split: a domain pattern, `geosite:x` or `rule-set:x`. */
export interface PolicySpec {
  readonly key: string;
  readonly servers: readonly NameserverSpec[];
}

/** One `hosts` entry: IPs, or a domain it is an alias of. */
export interface HostsSpec {
  readonly pattern: string;
  readonly ips: readonly string[];
  readonly alias?: string;
}

/** mihomo's `enhanced-mode`. */
export type EnhancedMode = 'normal' | 'fake-ip' | 'redir-host';

/** The DNS settings clash-ts acts on. */
export interface DnsConfig {
  readonly enable: boolean;
  /** `host:port` of the DNS listener (UDP and TCP); undefined: none */
  readonly listen?: string;
  readonly ipv6: boolean;
  readonly ipv6TimeoutMs: number;
  readonly useHosts: boolean;
  readonly useSystemHosts: boolean;
  readonly respectRules: boolean;
  readonly nameserver: readonly NameserverSpec[];
  readonly fallback: readonly NameserverSpec[];
  readonly fallbackFilter: {
    readonly geoip: boolean;
    readonly geoipCode: string;
    readonly ipcidr: readonly string[];
    readonly domain: readonly string[];
    readonly geosite: readonly string[];
  };
  readonly defaultNameserver: readonly NameserverSpec[];
  readonly proxyServerNameserver: readonly NameserverSpec[];
  readonly directNameserver: readonly NameserverSpec[];
  readonly directNameserverFollowPolicy: boolean;
  readonly nameserverPolicy: readonly PolicySpec[];
  readonly enhancedMode: EnhancedMode;
  readonly fakeIpRange: string;
  readonly fakeIpRange6?: string;
  readonly fakeIpFilter: readonly string[];
  readonly fakeIpFilterMode: 'blacklist' | 'whitelist';
  readonly fakeIpTtl: number;
  readonly cacheMaxSize: number;
  /** top-level `hosts` (plus mihomo's built-in `localhost`) */
  readonly hosts: readonly HostsSpec[];
  /** `profile.store-fake-ip` */
  readonly storeFakeIp: boolean;
}

const rawSchema = z.looseObject({
  enable: boolLike.default(false),
  'prefer-h3': boolLike.default(false),
  listen: textLike.optional(),
  ipv6: boolLike.default(false),
  'ipv6-timeout': intLike.pipe(z.number().min(0)).default(100),
  'use-hosts': boolLike.default(true),
  'use-system-hosts': boolLike.default(true),
  'respect-rules': boolLike.default(false),
  nameserver: textListLike.default([]),
  fallback: textListLike.default([]),
  'fallback-filter': z
    .looseObject({
      geoip: boolLike.default(true),
      'geoip-code': textLike.default('CN'),
      ipcidr: textListLike.default([]),
      domain: textListLike.default([]),
      geosite: textListLike.default([]),
    })
    .default({ geoip: true, 'geoip-code': 'CN', ipcidr: [], domain: [], geosite: [] }),
  'default-nameserver': textListLike.optional(),
  'proxy-server-nameserver': textListLike.default([]),
  'direct-nameserver': textListLike.default([]),
  'direct-nameserver-follow-policy': boolLike.default(false),
  'nameserver-policy': z.record(z.string(), z.unknown()).optional(),
  'enhanced-mode': z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['normal', 'fake-ip', 'redir-host'])).default('redir-host'),
  'fake-ip-range': textLike.default('198.18.0.1/16'),
  'fake-ip-range6': textLike.optional(),
  'fake-ip-filter': textListLike.default([]),
  'fake-ip-filter-mode': z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['blacklist', 'whitelist'])).default('blacklist'),
  'fake-ip-ttl': countLike.default(1),
  'cache-algorithm': textLike.optional(),
  'cache-max-size': countLike.default(4096),
});

const DOMAIN_PATTERN = /^(?:\+\.|\*\.|\.)?(?:[a-z0-9_*-]{1,63}\.)*[a-z0-9_*-]{1,63}\.?$/i;

/** Whether `s` is a domain pattern mihomo's domain trie takes (`a.b`, `+.a.b`, `*.a.b`, `.a.b`). */
export function isDomainPattern(s: string): boolean {
  return s.length > 0 && s.length <= 253 && DOMAIN_PATTERN.test(s);
}

/**
 * One nameserver entry as mihomo's parseNameServer reads it: a bare IP (UDP), `udp://`,
 * `tcp://`, `tls://`, `https://` (and `http://`), `system`, `rcode://name`; the fragment holds
 * the proxy name and `key=value` params. Throws an Error worded as mihomo's.
 */
export function parseNameserver(entry: string, idx: number, respectRules: boolean): NameserverSpec {
  let s = entry.trim();
  if (s === 'system' || s === 'system://') s = 'system://';
  else if (isIP(s) === 6) s = `udp://[${s}]`;
  else if (!s.includes('://')) s = `udp://${s}`;
  const scheme = s.slice(0, s.indexOf('://')).toLowerCase();
  const hashAt = s.indexOf('#');
  const fragment = hashAt >= 0 ? s.slice(hashAt + 1) : '';
  const body = hashAt >= 0 ? s.slice(0, hashAt) : s;
  let proxy: string | undefined;
  const params = new Map<string, string>();
  for (const part of fragment.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) proxy = decodeURIComponent(part);
    else params.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  if (respectRules && proxy === undefined) proxy = 'RULES';
  const fail = (why: string): never => {
    throw new Error(`DNS NameServer[${idx}] format error: ${why}`);
  };
  let ecs: NameserverSpec['ecs'];
  const ecsText = params.get('ecs');
  if (ecsText !== undefined) {
    const c = parseCidr(decodeURIComponent(ecsText));
    if (!c) fail(`invalid ecs ${JSON.stringify(ecsText)}`);
    const [ip, bits] = decodeURIComponent(ecsText).split('/');
    ecs = { ip, prefix: Number(bits ?? (isIP(ip) === 6 ? 128 : 32)) };
  }
  const skipCertVerify = ['true', '1'].includes((params.get('skip-cert-verify') ?? '').toLowerCase());
  const base = { proxy, ecs, skipCertVerify, raw: entry };
  const defaults: Record<string, number> = { udp: 53, tcp: 53, tls: 853, https: 443, http: 80 };
  switch (scheme) {
    case 'system':
      return { net: 'system', host: '', port: 0, ...base };
    case 'rcode': {
      const name = body.slice('rcode://'.length);
      if (!['success', 'format_error', 'server_failure', 'name_error', 'not_implemented', 'refused'].includes(name)) {
        throw new Error(`unsupported RCode type: ${name}`);
      }
      return { net: 'rcode', host: '', port: 0, url: name, ...base, proxy: undefined };
    }
    case 'udp':
    case 'tcp':
    case 'tls':
    case 'https':
    case 'http': {
      let u: URL;
      try {
        u = new URL(scheme === 'https' || scheme === 'http' ? body : `http://${body.slice(scheme.length + 3)}`);
      } catch {
        return fail(`invalid address ${JSON.stringify(body)}`);
      }
      const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
      if (host === '') fail('missing host');
      const port = u.port === '' ? defaults[scheme] : Number(u.port);
      if (scheme === 'https' || scheme === 'http') {
        const url = `${scheme}://${u.host.includes(':') || u.port !== '' ? u.host : `${u.host}:${port}`}${u.pathname === '/' ? '/dns-query' : u.pathname}${u.search}`;
        return { net: 'https', host, port, url, ...base };
      }
      return { net: scheme, host, port, ...base };
    }
    case 'quic':
    case 'dhcp':
      return fail(`${scheme} nameservers are not supported in clash-ts`);
    default:
      throw new Error(`DNS NameServer[${idx}] unsupport scheme: ${scheme}`);
  }
}

/** Parses a list of nameservers, reporting each bad one at its path; duplicates dropped as mihomo. */
function nameservers(list: readonly string[], path: Path, respectRules: boolean, issues: Issues): NameserverSpec[] {
  const out: NameserverSpec[] = [];
  const quic: string[] = [];
  const dhcp: string[] = [];
  list.forEach((entry, i) => {
    const scheme = /^\s*([a-z0-9+.-]+):\/\//i.exec(entry)?.[1]?.toLowerCase();
    if (scheme === 'quic') {
      quic.push(entry.trim()); // Node has no QUIC: skipped, with one warning for the list
      return;
    }
    if (scheme === 'dhcp') {
      dhcp.push(entry.trim());
      entry = 'system'; // the system's nameservers are the ones DHCP gave this host, as a rule
    }
    try {
      const ns = parseNameserver(entry, i, respectRules);
      if (!out.some((o) => o.raw.trim() === ns.raw.trim() && o.proxy === ns.proxy)) out.push(ns);
    } catch (err) {
      issues.error([...path, i], (err as Error).message);
    }
  });
  if (quic.length > 0) issues.warn(path, `DNS over QUIC is not supported in clash-ts (Node.js has no QUIC), skipped: ${quic.join(', ')}`);
  if (dhcp.length > 0) issues.warn(path, `clash-ts does not ask DHCP for nameservers: ${dhcp.join(', ')} uses the system nameservers (/etc/resolv.conf) instead`);
  return out;
}

/** `hosts`: `name: ip`, `name: [ip, ip]`, `name: other.name` (an alias); wildcards as mihomo's trie. */
function parseHosts(raw: unknown, issues: Issues): HostsSpec[] {
  const out: HostsSpec[] = [{ pattern: 'localhost', ips: ['127.0.0.1'] }];
  if (raw === undefined) return out;
  if (!isRecord(raw)) {
    issues.error(['hosts'], 'hosts must be a mapping of names to addresses');
    return out;
  }
  for (const [pattern, value] of Object.entries(raw)) {
    const values = Array.isArray(value) ? value : [value];
    const texts = values.map((v) => (typeof v === 'string' || typeof v === 'number' ? String(v).trim() : undefined));
    if (!isDomainPattern(pattern)) {
      issues.error(['hosts', pattern], `invalid domain ${JSON.stringify(pattern)}`);
      continue;
    }
    if (texts.some((t) => t === undefined || t === '')) {
      issues.error(['hosts', pattern], `${JSON.stringify(value)} is not a valid value`);
      continue;
    }
    const list = texts as string[];
    if (list.every((t) => isIP(t) !== 0)) {
      const key = pattern.toLowerCase();
      const i = out.findIndex((h) => h.pattern === key);
      if (i >= 0) out.splice(i, 1);
      out.push({ pattern: key, ips: list });
    } else if (list.length === 1 && isDomainPattern(list[0]) && !/[*+]/.test(list[0])) {
      out.push({ pattern: pattern.toLowerCase(), ips: [], alias: list[0].toLowerCase().replace(/\.$/, '') });
    } else {
      issues.error(['hosts', pattern], `${JSON.stringify(value)} is not a valid value`);
    }
  }
  // mihomo: an alias chain that comes back to its start is an error
  for (const h of out) {
    let at = h.alias;
    for (let hops = 0; at !== undefined && hops < 16; hops++) {
      if (at === h.pattern) {
        issues.error(['hosts', h.pattern], `${h.pattern}, there is a cycle in domain name mapping`);
        break;
      }
      at = out.find((o) => o.pattern === at)?.alias;
    }
  }
  return out;
}

/** mihomo's nameserver-policy keys: comma lists split, `geosite:a,b` and `rule-set:a,b` too. */
function policyKeys(key: string): string[] {
  const lower = key.toLowerCase();
  for (const prefix of ['geosite:', 'rule-set:']) {
    if (lower.startsWith(prefix)) return key.slice(prefix.length).split(',').map((k) => prefix + k.trim());
  }
  return key.split(',').map((k) => k.trim());
}

/** Validates `dns`, `hosts` and `profile.store-fake-ip`; undefined when they have errors. */
export function parseDns(raw: unknown, issues: Issues, top: Record<string, unknown> = {}): DnsConfig | undefined {
  const r = rawSchema.safeParse(raw ?? {});
  if (!r.success) {
    issues.zod(['dns'], r.error);
    return undefined;
  }
  const d = r.data;
  const before = issues.errors().length;
  const rr = d['respect-rules'];
  if (d.enable && d.nameserver.length === 0) issues.error(['dns', 'nameserver'], 'if DNS configuration is turned on, NameServer cannot be empty');
  if (rr && d['proxy-server-nameserver'].length === 0) issues.error(['dns', 'respect-rules'], 'if “respect-rules” is turned on, “proxy-server-nameserver” cannot be empty');
  if (d['prefer-h3']) issues.warn(['dns', 'prefer-h3'], 'prefer-h3 is not supported in clash-ts (Node.js has no HTTP/3): DoH uses HTTP/2 or HTTP/1.1');
  if (d['cache-algorithm'] !== undefined && !['lru', ''].includes(d['cache-algorithm'])) issues.warn(['dns', 'cache-algorithm'], 'only the lru cache is built in clash-ts: lru is used');
  const nameserver = nameservers(d.nameserver, ['dns', 'nameserver'], rr, issues);
  // every entry skipped (quic://): as empty as mihomo's check means
  if (d.enable && d.nameserver.length > 0 && nameserver.length === 0 && issues.errors().length === before) {
    issues.error(['dns', 'nameserver'], 'if DNS configuration is turned on, NameServer cannot be empty');
  }
  const fallback = nameservers(d.fallback, ['dns', 'fallback'], rr, issues);
  const proxyServerNameserver = nameservers(d['proxy-server-nameserver'], ['dns', 'proxy-server-nameserver'], false, issues);
  const directNameserver = nameservers(d['direct-nameserver'], ['dns', 'direct-nameserver'], false, issues);
  const defaultList = d['default-nameserver'] ?? ['system'];
  if (d['default-nameserver'] !== undefined && defaultList.length === 0) issues.error(['dns', 'default-nameserver'], 'default nameserver should have at least one nameserver');
  const defaultNameserver = nameservers(defaultList, ['dns', 'default-nameserver'], false, issues);
  defaultNameserver.forEach((ns, i) => {
    if (ns.net !== 'system' && ns.net !== 'rcode' && isIP(ns.host) === 0) issues.error(['dns', 'default-nameserver', i], 'default nameserver should be pure IP');
  });
  const nameserverPolicy: PolicySpec[] = [];
  for (const [key, value] of Object.entries(d['nameserver-policy'] ?? {})) {
    const list = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
    if (!list) {
      issues.error(['dns', 'nameserver-policy', key], 'expected a nameserver or a list of nameservers');
      continue;
    }
    const servers = nameservers(list, ['dns', 'nameserver-policy', key], rr, issues);
    for (const k of policyKeys(key)) {
      if (!/^(geosite|rule-set):/i.test(k) && !isDomainPattern(k)) issues.error(['dns', 'nameserver-policy', key], `DNS ResoverRule invalid domain: ${k}`);
      else nameserverPolicy.push({ key: k.replace(/^(geosite|rule-set):/i, (p) => p.toLowerCase()), servers });
    }
  }
  const ff = d['fallback-filter'];
  ff.ipcidr.forEach((c, i) => {
    if (!parseCidr(c.trim())) issues.error(['dns', 'fallback-filter', 'ipcidr', i], `DNS FallbackIP[${i}] format error: invalid IP prefix ${JSON.stringify(c)}`);
  });
  ff.domain.forEach((c, i) => {
    if (!isDomainPattern(c)) issues.error(['dns', 'fallback-filter', 'domain', i], `DNS FallbackDomain[${i}] format error: ${c}`);
  });
  if (ff.geosite.length > 0) issues.warn(['dns', 'fallback-filter', 'geosite'], 'replace fallback-filter.geosite with nameserver-policy, it will be removed in the future');
  const range = parseCidr(d['fake-ip-range'].trim());
  if (!range || isIP(d['fake-ip-range'].split('/')[0]) !== 4) issues.error(['dns', 'fake-ip-range'], `invalid fake-ip-range ${JSON.stringify(d['fake-ip-range'])}`);
  const range6 = d['fake-ip-range6'];
  if (range6 !== undefined && (!parseCidr(range6.trim()) || isIP(range6.split('/')[0]) !== 6)) issues.error(['dns', 'fake-ip-range6'], `invalid fake-ip-range6 ${JSON.stringify(range6)}`);
  d['fake-ip-filter'].forEach((f, i) => {
    if (!/^(geosite|rule-set):/i.test(f) && !isDomainPattern(f)) issues.error(['dns', 'fake-ip-filter', i], `invalid domain ${JSON.stringify(f)}`);
  });
  if (d.listen !== undefined && d.listen !== '' && !/^(?:\[[0-9a-f:.]+\]|[^:\s]*):\d{1,5}$/i.test(d.listen.trim())) issues.error(['dns', 'listen'], `invalid listen address ${JSON.stringify(d.listen)}`);
  const hosts = parseHosts(top.hosts, issues);
  const profile = isRecord(top.profile) ? top.profile : {};
  const storeFakeIp = boolLike.safeParse(profile['store-fake-ip']).data ?? false;
  if (issues.errors().length > before) return undefined;
  return {
    enable: d.enable,
    listen: d.listen === undefined || d.listen.trim() === '' ? undefined : d.listen.trim(),
    ipv6: d.ipv6,
    ipv6TimeoutMs: d['ipv6-timeout'],
    useHosts: d['use-hosts'],
    useSystemHosts: d['use-system-hosts'],
    respectRules: rr,
    nameserver,
    fallback,
    fallbackFilter: { geoip: ff.geoip, geoipCode: ff['geoip-code'].toLowerCase(), ipcidr: ff.ipcidr.map((c) => c.trim()), domain: ff.domain, geosite: ff.geosite },
    defaultNameserver,
    proxyServerNameserver,
    directNameserver,
    directNameserverFollowPolicy: d['direct-nameserver-follow-policy'],
    nameserverPolicy,
    enhancedMode: d['enhanced-mode'],
    fakeIpRange: d['fake-ip-range'].trim(),
    fakeIpRange6: range6?.trim(),
    fakeIpFilter: d['fake-ip-filter'],
    fakeIpFilterMode: d['fake-ip-filter-mode'],
    fakeIpTtl: d['fake-ip-ttl'],
    cacheMaxSize: d['cache-max-size'] === 0 ? 4096 : d['cache-max-size'],
    hosts,
    storeFakeIp,
  };
}
