import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { Logger } from '../common/log.js';
import { errorMessage, ProxyError } from '../core/errors.js';
import type { Resolver } from '../core/resolver.js';
import { AnswerCache } from './answer-cache.js';
import { readHostsFile, type HostsTable } from './hosts.js';
import { withSignal } from './with-signal.js';

/** Options of {@link createSystemResolver}; every tuning knob has a sensible default. */
export interface SystemResolverOptions {
  /** false: resolve6 always answers [] (mihomo's `ipv6: false`) */
  readonly ipv6: boolean;
  readonly log?: Logger;
  /** read once, at creation; default /etc/hosts */
  readonly hostsFile?: string;
  /** bound on one query, all retries included; default 5000 */
  readonly timeoutMs?: number;
  /** DNS servers (`ip` or `ip:port`, `[v6]:port`); default: the system's, from /etc/resolv.conf */
  readonly servers?: readonly string[];
  /** cached names × families; default 4096 */
  readonly cacheSize?: number;
  /** answer TTLs are clamped into [minTtlMs, maxTtlMs]; defaults 5 s and 10 min */
  readonly minTtlMs?: number;
  readonly maxTtlMs?: number;
  /** how long "no such name / no records" is remembered; default 10 s */
  readonly negativeTtlMs?: number;
}

/** A Resolver on the system's DNS servers, closed with the app. */
export interface SystemResolver extends Resolver {
  /** Turns IPv6 answers on or off (a reload's `ipv6`); cached answers stay. */
  setIpv6(on: boolean): void;
  /** Drops every cached answer (the next lookup of each name asks the servers). */
  flush(): void;
  /** Cancels queries under way and drops the cache; later lookups fail with RESOLVE_FAILED. */
  close(): void;
}

type Family = 4 | 6;

// c-ares answers "no such name" and "no records of that type" with these: both mean "none".
const EMPTY_CODES = new Set(['ENOTFOUND', 'ENODATA']);
const LABEL = /^[a-z0-9_-]{1,63}$/;

/**
 * Creates the resolver DIRECT and rules use. Lookups go: IP literal → hosts file → cache →
 * c-ares (`dns.promises.Resolver`, asynchronous sockets; never `dns.lookup`, whose getaddrinfo
 * calls queue on the 4-thread libuv pool and stall file I/O and each other). Concurrent lookups
 * of one name share one query.
 */
export function createSystemResolver(opts: SystemResolverOptions): SystemResolver {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const minTtl = opts.minTtlMs ?? 5_000;
  const maxTtl = Math.max(minTtl, opts.maxTtlMs ?? 600_000);
  const negativeTtl = opts.negativeTtlMs ?? 10_000;
  const hosts: HostsTable = readHostsFile(opts.hostsFile ?? '/etc/hosts');
  // Two tries, each getting half the budget: one lost UDP packet does not fail the lookup.
  const tries = 2;
  const cares = new dnsPromises.Resolver({ timeout: Math.max(1, Math.ceil(timeoutMs / tries)), tries });
  if (opts.servers) cares.setServers([...opts.servers]);
  const cache = new AnswerCache(opts.cacheSize ?? 4096);
  const inflight = new Map<string, Promise<readonly string[]>>();
  let closed = false;
  let ipv6 = opts.ipv6;
  const stats = { hits: 0, misses: 0 };

  function query(family: Family, name: string): Promise<readonly string[]> {
    const key = `${family}:${name}`;
    const running = inflight.get(key);
    if (running) return running;
    const p = new Promise<readonly string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new ProxyError('RESOLVE_FAILED', `resolve ${name}: timeout after ${timeoutMs}ms`));
      }, timeoutMs);
      timer.unref();
      const ask = family === 4 ? cares.resolve4(name, { ttl: true }) : cares.resolve6(name, { ttl: true });
      ask.then(
        (records) => {
          clearTimeout(timer);
          const ips = records.map((r) => r.address);
          const ttl = records.reduce((m, r) => Math.min(m, r.ttl), Infinity) * 1000;
          const keep = ips.length === 0 ? negativeTtl : Math.min(maxTtl, Math.max(minTtl, ttl));
          if (!closed) cache.set(key, ips, keep, Date.now());
          opts.log?.debug(`[DNS] ${name} ${family === 4 ? 'A' : 'AAAA'} --> [${ips.join(' ')}]`);
          resolve(ips);
        },
        (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          if (err.code !== undefined && EMPTY_CODES.has(err.code)) {
            if (!closed) cache.set(key, [], negativeTtl, Date.now());
            resolve([]);
            return;
          }
          const why = closed ? 'resolver closed' : errorMessage(err);
          reject(new ProxyError('RESOLVE_FAILED', `resolve ${name}: ${why}`, { cause: err }));
        },
      );
    });
    // Callers may all have given up (aborted): the shared promise must never be an unhandled
    // rejection. Each caller gets its own view below and handles that.
    p.catch(() => undefined).finally(() => {
      if (inflight.get(key) === p) inflight.delete(key);
    });
    inflight.set(key, p);
    return p;
  }

  async function lookup(family: Family, host: string, signal?: AbortSignal): Promise<string[]> {
    // IPv6 off means no IPv6 at all, literals included (as mihomo, which then cannot dial them).
    if (family === 6 && !ipv6) return [];
    const literal = isIP(host);
    if (literal !== 0) return literal === family ? [host] : [];
    const name = normalizeName(host);
    const fromHosts = hosts.get(name);
    if (fromHosts) return (family === 4 ? fromHosts.v4 : fromHosts.v6).slice();
    if (closed) throw new ProxyError('RESOLVE_FAILED', `resolve ${name}: resolver closed`);
    const key = `${family}:${name}`;
    const cached = cache.get(key, Date.now());
    if (cached) {
      stats.hits++;
      return cached.slice();
    }
    stats.misses++;
    const ips = await withSignal(query(family, name), signal, `resolve ${name}`);
    return ips.slice();
  }

  return {
    resolve4: (host, signal) => lookup(4, host, signal),
    resolve6: (host, signal) => lookup(6, host, signal),
    async resolveIp(host, signal) {
      if (isIP(host) !== 0) return host;
      // Ask both families at once, as mihomo does, but answer as soon as IPv4 has an address:
      // the AAAA answer still lands in the cache for the dial that usually follows.
      const v6 = ipv6 ? lookup(6, host, signal).catch(() => [] as string[]) : undefined;
      let v4: string[] = [];
      try {
        v4 = await lookup(4, host, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        opts.log?.debug(errorMessage(err));
      }
      if (v4.length > 0) return v4[0];
      const six = v6 ? await v6 : [];
      if (signal?.aborted) throw abortError(host, signal);
      return six[0];
    },
    stats: () => ({ ...stats }),
    setIpv6(on) {
      ipv6 = on;
    },
    flush() {
      cache.clear();
    },
    close() {
      if (closed) return;
      closed = true;
      cares.cancel();
      cache.clear();
    },
  };
}

/**
 * Lower-cases, drops the root dot, converts IDN to punycode and checks the name's shape, so
 * garbage never reaches the wire. Throws RESOLVE_FAILED for a malformed name.
 */
export function normalizeName(host: string): string {
  let name = host.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) name = domainToASCII(name);
  if (name === '' || name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) {
    throw new ProxyError('RESOLVE_FAILED', `resolve ${JSON.stringify(host.slice(0, 300))}: invalid domain name`);
  }
  return name;
}

function abortError(name: string, signal: AbortSignal): ProxyError {
  return new ProxyError('ABORTED', `resolve ${name}: aborted`, { cause: signal.reason });
}

