import { isIPv4 } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatAddress, type Address } from '../core/address.js';
import { errorMessage, ProxyError } from '../core/errors.js';
import type { Dialer, PacketConn } from '../core/outbound.js';
import type { Resolver } from '../core/resolver.js';
import { connectAny, type RaceGroup } from './dual-stack.js';
import { dialLiteral } from './literal-dial.js';
import { SystemPacketConn, type UdpFamilyPolicy } from './system-udp.js';

/** mihomo's `ip-version`: which address families an outbound may dial, and which goes first. */
export type IpVersion = 'dual' | 'ipv4' | 'ipv6' | 'ipv4-prefer' | 'ipv6-prefer';

/** Every IpVersion, in mihomo's order. */
export const IP_VERSIONS: readonly IpVersion[] = ['dual', 'ipv4', 'ipv6', 'ipv4-prefer', 'ipv6-prefer'];

/** Options of {@link createSystemDialer}. */
export interface SystemDialerOptions {
  readonly resolver: Resolver;
  /** default 'dual': both families race, the first connection wins */
  readonly ipVersion?: IpVersion;
  /** bound on a whole TCP dial, resolution included; default 5000 (mihomo's DefaultTCPTimeout) */
  readonly connectTimeoutMs?: number;
  /** the preferred family's head start in the *-prefer modes; default 300 (mihomo's) */
  readonly fallbackDelayMs?: number;
}

const UDP_POLICY: Record<IpVersion, UdpFamilyPolicy> = {
  dual: 'prefer4', // mihomo's DIRECT resolves UDP destinations with ResolveIP: IPv4 first
  ipv4: 'ipv4',
  ipv6: 'ipv6',
  'ipv4-prefer': 'prefer4',
  'ipv6-prefer': 'prefer6',
};

/**
 * The dialer of this host's own sockets. TCP: resolve (through `resolver`, never the libuv
 * pool), then connect with mihomo's ip-version semantics: single-family modes walk that
 * family's IPs in order; the others race both families, a `*-prefer` mode giving its family a
 * `fallbackDelayMs` head start; an IPv4 literal is dialed at once ({@link dialLiteral}). Errors are ProxyErrors naming the address: RESOLVE_FAILED,
 * DIAL_FAILED (`cause` keeps the socket error and its `.code`), DIAL_TIMEOUT, ABORTED.
 * UDP: a {@link SystemPacketConn}. The caller must attach its own 'error' listener to the
 * returned socket right away.
 */
export function createSystemDialer(opts: SystemDialerOptions): Dialer {
  const version = opts.ipVersion ?? 'dual';
  const timeoutMs = opts.connectTimeoutMs ?? 5000;
  const fallbackDelayMs = opts.fallbackDelayMs ?? 300;
  const resolver = opts.resolver;

  // An IPv4 literal resolves to itself in every mode but ipv6-only (where it has no address):
  // it skips resolution and the race. IPv6 literals take the general path, since a resolver
  // with IPv6 disabled answers them with nothing.
  const literalsDirect = version !== 'ipv6';

  function dialTcp(to: Address, signal: AbortSignal): Promise<Duplex> {
    if (literalsDirect && isIPv4(to.host)) return dialLiteral(to, signal, timeoutMs);
    return dialResolved(to, signal);
  }

  async function dialResolved(to: Address, signal: AbortSignal): Promise<Duplex> {
    const label = formatAddress(to);
    if (signal.aborted) throw new ProxyError('ABORTED', `dial tcp ${label}: aborted`, { cause: signal.reason });
    // One controller for the whole dial, aborted by the caller or by our timer; which one
    // fired decides the error code.
    const ctl = new AbortController();
    let timedOut = false;
    const onAbort = () => ctl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    // A resolver that ignores its signal must not outlive the dial: race it against the abort.
    const aborted = new Promise<never>((_, reject) => {
      ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const groups = await Promise.race([resolveGroups(to, ctl.signal), aborted]);
      return await connectAny(label, groups, to.port, fallbackDelayMs, ctl.signal);
    } catch (err) {
      if (timedOut) {
        throw new ProxyError('DIAL_TIMEOUT', `dial tcp ${label}: i/o timeout after ${timeoutMs}ms`, { cause: err });
      }
      if (signal.aborted) throw new ProxyError('ABORTED', `dial tcp ${label}: aborted`, { cause: signal.reason });
      throw err instanceof ProxyError ? err : new ProxyError('DIAL_FAILED', `dial tcp ${label}: ${errorMessage(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** The IPs to try, grouped by family, primary first, as `version` asks. */
  async function resolveGroups(to: Address, signal: AbortSignal): Promise<RaceGroup[]> {
    const want4 = version !== 'ipv6';
    const want6 = version !== 'ipv4';
    const errors: unknown[] = [];
    const ask = (p: Promise<string[]>) =>
      p.catch((err: unknown) => {
        errors.push(err);
        return [] as string[];
      });
    let v4: string[] = [];
    let v6: string[] = [];
    if (want4 && want6) [v4, v6] = await bothFamilies(ask(resolver.resolve4(to.host, signal)), ask(resolver.resolve6(to.host, signal)), fallbackDelayMs, resolver.aaaaWaitMs);
    else if (want4) v4 = await ask(resolver.resolve4(to.host, signal));
    else v6 = await ask(resolver.resolve6(to.host, signal));
    if (signal.aborted) throw signal.reason;
    if (v4.length === 0 && v6.length === 0) {
      const family = version === 'ipv4' ? 'IPv4 ' : version === 'ipv6' ? 'IPv6 ' : '';
      const why = errors.length > 0 ? errors.map(errorMessage).join('; ') : `no ${family}address for ${to.host}`;
      throw new ProxyError('RESOLVE_FAILED', `dial tcp ${formatAddress(to)}: ${why}`, { cause: errors[0] });
    }
    const g4: RaceGroup = { ips: v4, primary: version !== 'ipv6-prefer' };
    const g6: RaceGroup = { ips: v6, primary: version !== 'ipv4-prefer' };
    const groups = version === 'ipv6-prefer' ? [g6, g4] : [g4, g6];
    const usable = groups.filter((g) => g.ips.length > 0);
    // A lone family is primary whatever the preference: nothing to wait for.
    return usable.length === 1 ? [{ ips: usable[0].ips, primary: true }] : usable;
  }

  return {
    dialTcp,
    async dialUdp(signal: AbortSignal): Promise<PacketConn> {
      if (signal.aborted) throw new ProxyError('ABORTED', 'dial udp: aborted', { cause: signal.reason });
      return new SystemPacketConn(resolver, UDP_POLICY[version]);
    },
  };
}

/**
 * Waits for both families' answers, but once one family has addresses the other gets at most
 * `graceMs` more: a DNS server that never answers AAAA must not stall every IPv4 dial until
 * the lookup timeout (RFC 8305's resolution delay). When A answered first, AAAA gets
 * `aaaaWaitMs` instead when the resolver names one (mihomo's dns.ipv6-timeout).
 */
async function bothFamilies(a4: Promise<string[]>, a6: Promise<string[]>, graceMs: number, aaaaWaitMs?: number): Promise<[string[], string[]]> {
  let v4: string[] | undefined;
  let v6: string[] | undefined;
  const p4 = a4.then((ips) => (v4 = ips));
  const p6 = a6.then((ips) => (v6 = ips));
  await Promise.race([p4, p6]);
  if ((v4 ?? v6 ?? []).length === 0) {
    await Promise.all([p4, p6]);
  } else {
    const wait = v4 !== undefined && v4.length > 0 && v6 === undefined ? (aaaaWaitMs ?? graceMs) : graceMs;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, wait)));
    await Promise.race([Promise.all([p4, p6]), grace]);
    clearTimeout(timer);
  }
  return [v4 ?? [], v6 ?? []];
}
