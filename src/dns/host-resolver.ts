import { isIP } from 'node:net';
import type { HostsSpec } from '../config/dns.js';
import type { Metadata } from '../core/metadata.js';
import type { Resolver } from '../core/resolver.js';
import { HostsLookup } from './hosts-lookup.js';
import type { DnsRuntime } from './runtime.js';
import type { SystemResolver } from './system-resolver.js';

type Pick3 = (rt: DnsRuntime) => Resolver;

/**
 * How the fake-ip pools of a cluster stay one: the primary's pools (the DNS listener's) are the
 * `owner`, told of each new mapping; a worker's are a `replica`: they keep no store file and
 * take the primary's mappings ({@link HostResolver.applyFakeIp}).
 */
export type FakeIpRole = { readonly owner: (ip: string, domain: string) => void } | 'replica';

/**
 * The one Resolver of the host, used by every dial, rule and health check: it answers from the
 * live generation's DNS when `dns.enable` is on (swapped in at the generation swap with
 * {@link use}) and from the system resolver otherwise. Views for proxy servers
 * (proxy-server-nameserver) and DIRECT (direct-nameserver) fall back to the main resolver.
 */
export class HostResolver implements Resolver {
  readonly system: SystemResolver;
  #rt: DnsRuntime | undefined;
  /** `hosts` of a config with DNS off (mihomo still answers them) */
  #hosts: HostsLookup | undefined;
  /** for proxy servers' own names */
  readonly proxyServer: Resolver;
  /** for DIRECT's destinations */
  readonly direct: Resolver;

  readonly #fakeIpRole: FakeIpRole | undefined;

  constructor(system: SystemResolver, fakeIpRole?: FakeIpRole) {
    this.system = system;
    this.#fakeIpRole = fakeIpRole;
    this.proxyServer = this.#view((rt) => rt.proxyServer ?? rt.resolver);
    this.direct = this.#view((rt) => rt.direct ?? rt.resolver);
  }

  /**
   * Answer-cache hits and misses of the backing in use (/metrics): the live DNS's main resolver,
   * or the system resolver's. A reload with DNS on starts a new cache, so the counters restart
   * (a Prometheus counter reset).
   */
  stats(): { hits: number; misses: number } {
    if (this.#rt) {
      const s = this.#rt.resolver.cache.stats;
      return { hits: s.hits, misses: s.misses };
    }
    return this.system.stats?.() ?? { hits: 0, misses: 0 };
  }

  /** the live DNS's ipv6-timeout (undefined with DNS off: the dialer's own delay) */
  get aaaaWaitMs(): number | undefined {
    return this.#rt?.resolver.aaaaWaitMs;
  }

  /** the live generation's DNS, when enabled */
  get runtime(): DnsRuntime | undefined {
    return this.#rt;
  }

  /**
   * Swaps the backing (the generation swap): the new DNS, or undefined for the system
   * resolver with `hosts`. A fake-ip pool over the same range takes over the old mappings.
   */
  use(rt: DnsRuntime | undefined, hosts?: readonly HostsSpec[]): void {
    const old = this.#rt;
    // the old pools are done: save them now, so their file is never written after the new one's
    old?.fakeIp?.v4.close();
    old?.fakeIp?.v6?.close();
    if (rt?.fakeIp && old?.fakeIp) {
      rt.fakeIp.v4.cloneFrom(old.fakeIp.v4);
      if (rt.fakeIp.v6 && old.fakeIp.v6) rt.fakeIp.v6.cloneFrom(old.fakeIp.v6);
    }
    const role = this.#fakeIpRole;
    for (const pool of rt?.fakeIp ? [rt.fakeIp.v4, rt.fakeIp.v6] : []) {
      if (!pool || role === undefined) continue;
      if (role === 'replica') pool.detachStore();
      else pool.onAssign = role.owner;
    }
    this.#rt = rt;
    const extra = (hosts ?? []).filter((h) => h.pattern !== 'localhost');
    this.#hosts = rt || extra.length === 0 ? undefined : new HostsLookup(extra);
  }

  #view(pick: Pick3): Resolver {
    const backing = (): Resolver => (this.#rt ? pick(this.#rt) : this);
    return {
      get aaaaWaitMs() {
        return backing().aaaaWaitMs;
      },
      resolve4: (h, s) => (this.#rt ? backing().resolve4(h, s) : this.resolve4(h, s)),
      resolve6: (h, s) => (this.#rt ? backing().resolve6(h, s) : this.resolve6(h, s)),
      resolveIp: (h, s) => (this.#rt ? backing().resolveIp(h, s) : this.resolveIp(h, s)),
    };
  }

  #fromHosts(family: 4 | 6, host: string): string[] | undefined {
    if (!this.#hosts || isIP(host) !== 0) return undefined;
    const h = this.#hosts.lookup(host);
    if (!h || h.resolveAs) return undefined;
    return (family === 4 ? h.v4 : h.v6).slice();
  }

  resolve4(host: string, signal?: AbortSignal): Promise<string[]> {
    if (this.#rt) return this.#rt.resolver.resolve4(host, signal);
    const h = this.#fromHosts(4, host);
    return h ? Promise.resolve(h) : this.system.resolve4(host, signal);
  }

  resolve6(host: string, signal?: AbortSignal): Promise<string[]> {
    if (this.#rt) return this.#rt.resolver.resolve6(host, signal);
    const h = this.#fromHosts(6, host);
    return h ? Promise.resolve(h) : this.system.resolve6(host, signal);
  }

  resolveIp(host: string, signal?: AbortSignal): Promise<string | undefined> {
    if (this.#rt) return this.#rt.resolver.resolveIp(host, signal);
    const h = this.#fromHosts(4, host) ?? this.#fromHosts(6, host);
    return h && h.length > 0 ? Promise.resolve(h[0]) : this.system.resolveIp(host, signal);
  }

  /** The general `ipv6` key: the system resolver's (the DNS section has its own `ipv6`). */
  setIpv6(on: boolean): void {
    this.system.setIpv6(on);
  }

  /** Drops every cached answer (POST /cache/dns/flush). */
  flush(): void {
    this.system.flush();
    for (const r of this.#rt?.resolvers ?? []) r.flush();
  }

  /** Forgets every fake-ip mapping (POST /cache/fakeip/flush). */
  flushFakeIp(): void {
    this.#rt?.fakeIp?.v4.flush();
    this.#rt?.fakeIp?.v6?.flush();
  }

  /** Every fake-ip mapping of the live pools, as [address, domain] (for a new cluster worker). */
  fakeIpEntries(): [string, string][] {
    const f = this.#rt?.fakeIp;
    return f ? [...f.v4.entries(), ...(f.v6?.entries() ?? [])] : [];
  }

  /** Takes mappings another process's pools handed out (a cluster worker's copy); `replace`: all of them. */
  applyFakeIp(entries: readonly (readonly [string, string])[], replace: boolean): void {
    const f = this.#rt?.fakeIp;
    if (!f) return;
    if (replace) {
      f.v4.flush();
      f.v6?.flush();
    }
    for (const [ip, domain] of entries) if (!f.v4.assign(ip, domain)) f.v6?.assign(ip, domain);
  }

  /** The name the live DNS handed out `ip` for (a fake IP, or a redir-host answer); for the sniffer. */
  hostByIp(ip: string): string | undefined {
    const rt = this.#rt;
    if (!rt) return undefined;
    const f = rt.fakeIp;
    if (f) return f.v4.reverse(ip) ?? f.v6?.reverse(ip);
    return rt.mapping?.name(ip);
  }

  /** The tunnel's metadata step (see DnsRuntime.prepare): identity when DNS is off. */
  prepare(meta: Metadata): Metadata {
    return this.#rt ? this.#rt.prepare(meta) : meta;
  }

  close(): void {
    this.#rt = undefined;
    this.system.close();
  }
}
