import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { CidrList } from '../common/cidr.js';
import type { DnsConfig, NameserverSpec } from '../config/dns.js';
import { outboundDialer } from '../core/chain.js';
import type { Component } from '../core/component.js';
import { ProxyError } from '../core/errors.js';
import type { GeoData, RuleSets } from '../core/geo.js';
import { innerMetadata, type Metadata } from '../core/metadata.js';
import type { Dialer, Outbound } from '../core/outbound.js';
import type { Resolver } from '../core/resolver.js';
import { createSystemDialer } from '../transport/system-dialer.js';
import { domainSet } from './domain-table.js';
import { DnsResolver, type DnsPolicy } from './dns-resolver.js';
import { FakeIpPool } from './fake-ip.js';
import { HostMapping } from './host-mapping.js';
import { HostsLookup } from './hosts-lookup.js';
import { readHostsFile } from './hosts.js';
import { buildUpstream, type UpstreamEnv } from './upstream/build.js';
import type { Upstream } from './upstream/upstream.js';

/** The file in the home directory where fake-ip mappings are kept (profile.store-fake-ip). */
export const FAKE_IP_FILE = 'fakeip.json';

/** What building the DNS of a generation uses. */
export interface DnsBuildContext {
  readonly log: Logger;
  /** the generation's outbounds by name (`#proxy` suffixes) */
  readonly outbound: (name: string) => Outbound | undefined;
  /** routes a connection by the generation's rules (`#RULES`, `respect-rules`) */
  readonly route?: (meta: Metadata) => Promise<Outbound>;
  /** geo databases, for `geosite:` keys and the geoip / geosite fallback-filter */
  readonly geo?: GeoData;
  /** rule-providers, for `rule-set:` keys */
  readonly ruleSets?: RuleSets;
  /** where profile.store-fake-ip keeps its file */
  readonly homeDir?: string;
  /** extra trust anchors for DoT / DoH */
  readonly ca?: string | Buffer;
  /** the system hosts file (default /etc/hosts) */
  readonly hostsFile?: string;
  readonly resolvConf?: string;
  /** one upstream's timeout (default 5 s) */
  readonly timeoutMs?: number;
}

/** A resolver that answers IP literals only (how the bootstrap nameservers are dialed). */
const literalOnly: Resolver = {
  resolve4: async (h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? [h] : []),
  resolve6: async (h) => (h.includes(':') ? [h] : []),
  resolveIp: async (h) => (/^[\d.]+$|:/.test(h) ? h : undefined),
};

/**
 * The DNS of one generation (mihomo's resolver.DefaultResolver and friends): the main resolver
 * (nameserver, fallback, policy), the ones for proxy servers and DIRECT, hosts, the fake-ip
 * pools or the redir-host mapping. A Component: closed with its generation.
 */
export class DnsRuntime implements Component {
  readonly label = 'dns';
  readonly config: DnsConfig;
  readonly resolver: DnsResolver;
  /** proxy-server-nameserver (undefined: the main resolver) */
  readonly proxyServer?: DnsResolver;
  /** direct-nameserver (undefined: the main resolver) */
  readonly direct?: DnsResolver;
  readonly bootstrap: DnsResolver;
  readonly hosts: HostsLookup;
  readonly fakeIp?: { readonly v4: FakeIpPool; readonly v6?: FakeIpPool; readonly skip: (name: string) => boolean };
  readonly mapping?: HostMapping;
  readonly log: Logger;

  constructor(parts: Omit<DnsRuntime, 'label' | 'start' | 'close' | 'prepare' | 'resolvers'>) {
    this.config = parts.config;
    this.resolver = parts.resolver;
    this.proxyServer = parts.proxyServer;
    this.direct = parts.direct;
    this.bootstrap = parts.bootstrap;
    this.hosts = parts.hosts;
    this.fakeIp = parts.fakeIp;
    this.mapping = parts.mapping;
    this.log = parts.log;
  }

  get resolvers(): DnsResolver[] {
    return [this.resolver, this.bootstrap, ...(this.proxyServer ? [this.proxyServer] : []), ...(this.direct ? [this.direct] : [])];
  }

  async start(): Promise<void> {}

  /**
   * The one step where DNS prepares a connection's metadata before the rules run: a fake IP
   * is replaced by the domain it stands for (so no real lookup happens for proxied traffic);
   * with redir-host an address the listener answered is replaced by its name.
   */
  prepare(meta: Metadata): Metadata {
    const host = meta.destination.host;
    const f = this.fakeIp;
    let name: string | undefined;
    if (f) {
      const pool = f.v4.contains(host) ? f.v4 : f.v6?.contains(host) ? f.v6 : undefined;
      if (pool) {
        name = pool.reverse(host);
        if (!name) this.log.debug(`[DNS] fake DNS record ${host} missing`);
      }
    } else if (this.mapping) {
      name = this.mapping.name(host);
      // redir-host: the client's address is real: IP rules use it without a lookup (mihomo keeps DstIP)
      if (name) return { ...meta, destination: { host: name, port: meta.destination.port }, destinationIp: host };
    }
    return name ? { ...meta, destination: { host: name, port: meta.destination.port } } : meta;
  }

  async close(): Promise<void> {
    for (const r of this.resolvers) r.close();
    this.fakeIp?.v4.close();
    this.fakeIp?.v6?.close();
  }
}

/**
 * Builds the DNS of a generation from `dns` (and `hosts`): every nameserver entry becomes an
 * upstream dialed the way its suffix says; geosite / rule-set keys ask `ctx.geo` /
 * `ctx.ruleSets`, and are config errors when those were not handed in. Collects every problem.
 */
export function buildDns(c: DnsConfig, ctx: DnsBuildContext): { runtime?: DnsRuntime; issues: { path: string; message: string }[] } {
  const issues: { path: string; message: string }[] = [];
  const systemHosts = c.useSystemHosts ? readHostsFile(ctx.hostsFile ?? '/etc/hosts') : undefined;
  const hosts = new HostsLookup(c.useHosts ? c.hosts : c.hosts.filter((h) => h.pattern === 'localhost'), systemHosts);
  const systemDialer = createSystemDialer({ resolver: literalOnly });
  const base = { log: ctx.log, systemDialer, ca: ctx.ca, resolvConf: ctx.resolvConf };
  const timeoutMs = ctx.timeoutMs;

  // default-nameserver: plain IPs, dialed directly; it resolves the names of the others
  const bootEnv: UpstreamEnv = { ...base, dialerFor: () => systemDialer };
  const boot = c.defaultNameserver.map((s) => buildUpstream(s, bootEnv));
  const bootstrap = new DnsResolver({ main: boot, ipv6: c.ipv6, hosts, log: ctx.log, timeoutMs, cacheSize: 256 });
  const bootDialer = createSystemDialer({ resolver: bootstrap });

  const dialerFor = (path: string) => (spec: NameserverSpec): Dialer => {
    const name = spec.proxy;
    if (name === undefined || name === 'DIRECT') return bootDialer;
    if (name === 'RULES') {
      const route = ctx.route;
      if (!route) return bootDialer;
      return {
        // the server's own name is resolved first (as mihomo does for respect-rules): routing by
        // the name would ask this very resolver, which is waiting for the answer
        dialTcp: async (to, signal) => {
          const ip = (await bootstrap.resolveIp(to.host, signal)) ?? to.host;
          const meta = innerMetadata({ host: ip, port: to.port }, 'tcp');
          return (await route(meta)).dialTcp(meta, { signal });
        },
        dialUdp: async (signal) => {
          const meta = innerMetadata({ host: spec.host, port: spec.port }, 'udp');
          return (await route(meta)).dialUdp(meta, { signal });
        },
      };
    }
    if (!ctx.outbound(name)) issues.push({ path, message: `proxy ${name} not found` });
    return outboundDialer(() => {
      const o = ctx.outbound(name);
      if (!o) throw new ProxyError('CONFIG', `proxy ${name} not found`);
      return o;
    });
  };
  const make = (list: readonly NameserverSpec[], path: string): Upstream[] => {
    const env: UpstreamEnv = { ...base, dialerFor: dialerFor(path) };
    return list.map((s) => buildUpstream(s, env));
  };

  const policy: DnsPolicy[] = [];
  for (const p of c.nameserverPolicy) {
    const path = `dns.nameserver-policy["${p.key}"]`;
    const match = domainMatcher(p.key, 'dns.nameserver-policy', path, ctx, issues);
    if (match) policy.push({ match, upstreams: make(p.servers, path) });
  }
  const ipFilters: ((ip: string) => boolean)[] = [];
  const domainFilters: ((name: string) => boolean)[] = [];
  if (c.fallback.length > 0) {
    const ff = c.fallbackFilter;
    if (ff.geoip) {
      const geo = ctx.geo;
      if (!geo) issues.push({ path: 'dns.fallback-filter.geoip', message: 'load GeoIP dns fallback filter error, dns.fallback-filter.geoip needs the GeoIP database (set geoip: false or drop fallback)' });
      else {
        const code = ff.geoipCode;
        // mihomo's DnsFallbackFilter: an address outside geoip-code (and not a LAN one) asks the fallback
        ipFilters.push((ip) => {
          const codes = geo.ipCodes(ip);
          return !codes.includes('private') && !codes.includes('lan') && !codes.includes(code);
        });
      }
    }
    if (ff.ipcidr.length > 0) {
      const list = CidrList.parse(ff.ipcidr);
      ipFilters.push((ip) => list.contains(ip));
    }
    if (ff.domain.length > 0) {
      const set = domainSet(ff.domain);
      domainFilters.push((n) => set.has(n));
    }
    ff.geosite.forEach((g, i) => {
      const m = domainMatcher(`geosite:${g}`, 'dns.fallback-filter.geosite', `dns.fallback-filter.geosite[${i}]`, ctx, issues);
      if (m) domainFilters.push(m);
    });
  }

  const resolver = new DnsResolver({
    main: make(c.nameserver, 'dns.nameserver'),
    fallback: make(c.fallback, 'dns.fallback'),
    policy,
    fallbackIpFilters: ipFilters,
    fallbackDomainFilters: domainFilters,
    hosts,
    ipv6: c.ipv6,
    ipv6TimeoutMs: c.ipv6TimeoutMs,
    cacheSize: c.cacheMaxSize,
    log: ctx.log,
    timeoutMs,
  });
  const proxyServer =
    c.proxyServerNameserver.length > 0
      ? new DnsResolver({ main: make(c.proxyServerNameserver, 'dns.proxy-server-nameserver'), hosts, ipv6: c.ipv6, log: ctx.log, timeoutMs, cacheSize: c.cacheMaxSize })
      : undefined;
  const direct =
    c.directNameserver.length > 0
      ? new DnsResolver({
          main: make(c.directNameserver, 'dns.direct-nameserver'),
          policy: c.directNameserverFollowPolicy ? policy : undefined,
          hosts,
          ipv6: c.ipv6,
          log: ctx.log,
          timeoutMs,
          cacheSize: c.cacheMaxSize,
        })
      : undefined;

  let fakeIp: DnsRuntime['fakeIp'];
  let mapping: HostMapping | undefined;
  if (c.enhancedMode === 'fake-ip') {
    const file = c.storeFakeIp && ctx.homeDir !== undefined ? join(ctx.homeDir, FAKE_IP_FILE) : undefined;
    const matchers = c.fakeIpFilter
      .map((f, i) => (/^(geosite|rule-set):/i.test(f) ? domainMatcher(f, 'dns.fake-ip-filter', `dns.fake-ip-filter[${i}]`, ctx, issues) : undefined))
      .filter((m): m is (n: string) => boolean => m !== undefined);
    const plain = domainSet(c.fakeIpFilter.filter((f) => !/^(geosite|rule-set):/i.test(f)));
    const listed = (n: string) => plain.has(n) || matchers.some((m) => m(n));
    const skip = c.fakeIpFilterMode === 'whitelist' ? (n: string) => !listed(n) : listed;
    try {
      const v4 = new FakeIpPool(c.fakeIpRange, { file });
      const v6 = c.fakeIpRange6 ? new FakeIpPool(c.fakeIpRange6, { file: file ? `${file.replace(/\.json$/, '')}6.json` : undefined }) : undefined;
      fakeIp = { v4, v6, skip };
    } catch (err) {
      issues.push({ path: 'dns.fake-ip-range', message: (err as Error).message });
    }
  } else if (c.enhancedMode === 'redir-host') {
    mapping = new HostMapping();
  }
  const runtime = new DnsRuntime({ config: c, resolver, proxyServer, direct, bootstrap, hosts, fakeIp, mapping, log: ctx.log });
  if (issues.length > 0) {
    void runtime.close();
    return { issues };
  }
  return { runtime, issues };
}

/** A domain predicate for a policy / filter key: a pattern, `geosite:x` or `rule-set:x`. */
function domainMatcher(key: string, what: string, path: string, ctx: DnsBuildContext, issues: { path: string; message: string }[]): ((name: string) => boolean) | undefined {
  if (key.startsWith('geosite:')) {
    const geo = ctx.geo;
    if (!geo) {
      issues.push({ path, message: `${what} ${key} needs the GeoSite database` });
      return undefined;
    }
    try {
      const set = geo.site(key.slice('geosite:'.length));
      return (n) => set.has(n);
    } catch (err) {
      issues.push({ path, message: `${what} ${key}: ${(err as Error).message}` });
      return undefined;
    }
  }
  if (key.startsWith('rule-set:')) {
    const name = key.slice('rule-set:'.length);
    if (!ctx.ruleSets) {
      issues.push({ path, message: `${what} ${key} needs the rule-providers` });
      return undefined;
    }
    const rs = ctx.ruleSets.get(name);
    if (!rs) {
      issues.push({ path, message: `not found rule-set: ${name}` });
      return undefined;
    }
    if (rs.behavior === 'ipcidr') {
      issues.push({ path, message: `rule provider type error, except domain,classical` });
      return undefined;
    }
    return (n) => rs.domains().has(n);
  }
  const set = domainSet([key]);
  return (n) => set.has(n);
}
