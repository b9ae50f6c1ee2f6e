/**
 * Name resolution as the core needs it. Implementations must not use the libuv threadpool
 * (`dns.lookup`) on the hot path: a slow lookup there stalls every other lookup and file read.
 */
export interface Resolver {
  /** IPv4 addresses of `host` (an IP literal resolves to itself); empty when none. */
  resolve4(host: string, signal?: AbortSignal): Promise<string[]>;
  /** IPv6 addresses of `host`; empty when none or when IPv6 is disabled. */
  resolve6(host: string, signal?: AbortSignal): Promise<string[]>;
  /** One IP for rule matching (IPv4 first, as mihomo); undefined when the name does not resolve. */
  resolveIp(host: string, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * How long a dial to a name waits for AAAA once A has answered (mihomo's `dns.ipv6-timeout`);
   * absent: the dialer's own resolution delay
   */
  readonly aaaaWaitMs?: number;
  /** answers served from the cache (hits) and names that had to be asked (misses), since start */
  stats?(): { hits: number; misses: number };
}
