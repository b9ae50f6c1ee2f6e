import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { CidrList } from '../common/cidr.js';
import type { Logger } from '../common/log.js';
import type { PortRange, SnifferConfig, SnifferType } from '../config/sniffer.js';
import { formatAddress } from '../core/address.js';
import type { TcpReply } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import type { Sniffer, TcpSniffed, UdpSniff } from '../core/sniffer.js';
import { DomainPatterns } from './domain-pattern.js';
import { NO_DATA, peekAndJudge, type PeekLimits } from './peek.js';
import { SNIFFERS, type SnifferDefinition } from './registry.js';
import { fail, more, type SniffResult } from './result.js';
import { SkipCache } from './skip-cache.js';

/** What the sniffer uses besides its config. */
export interface SnifferDeps {
  readonly log: Logger;
  /**
   * The DNS's IP → domain map (fake-ip pool, redir-host answers). Given, an IP it knows counts as
   * DNS-mapped (sniffed when `force-dns-mapping`), and only the others as pure IPs
   * (`parse-pure-ip`); without it every IP destination is a pure IP.
   */
  readonly hostByIp?: (ip: string) => string | undefined;
  /** TCP limits (defaults: mihomo's 1 s for the first byte, 2 s in all) */
  readonly tcp?: Partial<Omit<PeekLimits, 'maxBytes'>>;
  /** how long a UDP session waits for the rest of a ClientHello over several datagrams (default 300 ms) */
  readonly udpWaitMs?: number;
}

interface Enabled {
  readonly type: SnifferType;
  readonly def: SnifferDefinition;
  readonly ports: readonly PortRange[];
  readonly override: boolean;
}

const DEFAULT_FIRST_BYTE_MS = 1000;
const DEFAULT_TOTAL_MS = 2000;
const DEFAULT_UDP_WAIT_MS = 300;
/** a UDP session is fed at most this many datagrams while it waits */
const MAX_UDP_DATAGRAMS = 8;
/** failures after which a destination is not sniffed for a while (mihomo: more than 5) */
const SKIP_AFTER = 5;

const NOT_SNIFFED = undefined;

function portIn(ports: readonly PortRange[], port: number, fallback: number): boolean {
  if (ports.length === 0) return port === fallback;
  for (const r of ports) if (port >= r.from && port <= r.to) return true;
  return false;
}

/** Several sniffers on one port: the first host any names; `more` while one still may; else a failure. */
function anyOf(judges: readonly ((d: Buffer) => SniffResult)[]): (d: Buffer) => SniffResult {
  if (judges.length === 1) return judges[0];
  const done = new Set<number>();
  return (d) => {
    let need = Infinity;
    let reason = 'all sniffer failed';
    for (let i = 0; i < judges.length; i++) {
      if (done.has(i)) continue;
      const r = judges[i](d);
      if (r.kind === 'host') return r;
      if (r.kind === 'more') need = Math.min(need, r.atLeast);
      else {
        done.add(i);
        reason = r.reason;
      }
    }
    return need === Infinity ? fail(reason) : more(need);
  };
}

/**
 * The generation's sniffer: mihomo's sniffer dispatcher. It decides per connection whether to
 * sniff (the sniffers' ports, skip-src/dst-address, parse-pure-ip, force-dns-mapping,
 * force-domain, the failure list), reads the host, drops it by skip-domain, and puts it in the
 * metadata: `sniffHost` always (domain rules match it), the destination too when the
 * sniffer's override-destination is on.
 */
export class SnifferDispatcher implements Sniffer {
  readonly #log: Logger;
  readonly #tcp: readonly Enabled[];
  readonly #udp: readonly Enabled[];
  readonly #forceDomain: DomainPatterns;
  readonly #skipDomain: DomainPatterns;
  readonly #skipSrc: CidrList;
  readonly #skipDst: CidrList;
  readonly #forceDnsMapping: boolean;
  readonly #parsePureIp: boolean;
  readonly #hostByIp: ((ip: string) => string | undefined) | undefined;
  readonly #limits: Omit<PeekLimits, 'maxBytes'>;
  readonly #udpWaitMs: number;
  readonly #failures = new SkipCache();

  constructor(config: SnifferConfig, deps: SnifferDeps) {
    this.#log = deps.log;
    const enabled: Enabled[] = [];
    for (const s of config.sniff) {
      const def = SNIFFERS.get(s.type);
      if (def) enabled.push({ type: s.type, def, ports: s.ports, override: s.overrideDestination });
    }
    this.#tcp = enabled.filter((e) => e.def.network === 'tcp');
    this.#udp = enabled.filter((e) => e.def.network === 'udp');
    this.#forceDomain = new DomainPatterns(config.forceDomain);
    this.#skipDomain = new DomainPatterns(config.skipDomain);
    this.#skipSrc = CidrList.parse(config.skipSrcAddress);
    this.#skipDst = CidrList.parse(config.skipDstAddress);
    this.#forceDnsMapping = config.forceDnsMapping;
    this.#parsePureIp = config.parsePureIp;
    this.#hostByIp = deps.hostByIp;
    this.#limits = { firstByteMs: deps.tcp?.firstByteMs ?? DEFAULT_FIRST_BYTE_MS, totalMs: deps.tcp?.totalMs ?? DEFAULT_TOTAL_MS };
    this.#udpWaitMs = deps.udpWaitMs ?? DEFAULT_UDP_WAIT_MS;
  }

  sniffTcp(conn: Duplex, meta: Metadata, reply: TcpReply | undefined): Promise<TcpSniffed> | undefined {
    if (meta.network !== 'tcp' || meta.sniffHost !== undefined) return NOT_SNIFFED;
    const port = meta.destination.port;
    const on = this.#tcp.filter((e) => portIn(e.ports, port, e.def.defaultPort));
    if (on.length === 0) return NOT_SNIFFED;
    const force = this.#shouldSniff(meta);
    if (force === undefined) return NOT_SNIFFED;
    const dst = formatAddress(meta.destination);
    if (!force && this.#failures.count(dst) > SKIP_AFTER) {
      this.#log.debug(`[Sniffer] Skip sniffing[${dst}] due to multiple failures`);
      return NOT_SNIFFED;
    }
    return this.#tcpSniff(conn, meta, reply, on, force, dst);
  }

  async #tcpSniff(conn: Duplex, meta: Metadata, reply: TcpReply | undefined, on: readonly Enabled[], force: boolean, dst: string): Promise<TcpSniffed> {
    // The client speaks only after the proxy protocol's success reply: answer first, as mihomo.
    reply?.connected();
    const maxBytes = Math.max(...on.map((e) => e.def.maxPeek));
    let r: SniffResult;
    try {
      r = await peekAndJudge(conn, anyOf(on.map((e) => e.def.open())), { ...this.#limits, maxBytes });
    } catch (err) {
      r = fail(String(err));
    }
    if (r.kind !== 'host') {
      if (!force) this.#failures.fail(dst);
      if (r.kind === 'fail' && r.reason === NO_DATA) {
        this.#log.warn(`[Sniffer] [${meta.destination.host}] [${on.map((e) => e.def.protocol).join(',')}] may not have any sent data, Consider adding skip`);
      } else {
        this.#log.debug(`[Sniffer] All sniffing sniff failed with from [${formatAddress(meta.source)}] to [${dst}]`);
      }
      return { meta, reply: undefined };
    }
    if (this.#skipDomain.has(r.host)) {
      this.#log.debug(`[Sniffer] Skip sni[${r.host}]`);
      return { meta, reply: undefined };
    }
    this.#failures.delete(dst);
    // with several sniffers on a port, the first in config order that listens there decides override
    return { meta: this.#replace(meta, r.host, on[0].override), reply: undefined };
  }

  sniffUdp(meta: Metadata, first: Buffer): UdpSniff | undefined {
    if (meta.network !== 'udp' || meta.sniffHost !== undefined) return NOT_SNIFFED;
    const on = this.#udp.filter((e) => portIn(e.ports, meta.destination.port, e.def.defaultPort));
    if (on.length === 0 || this.#shouldSniff(meta) === undefined) return NOT_SNIFFED;
    const judge = anyOf(on.map((e) => e.def.open()));
    const override = on[0].override;
    const r = judge(first);
    if (r.kind === 'fail') return NOT_SNIFFED; // not QUIC: route at once
    if (r.kind === 'host') return { push: () => {}, done: Promise.resolve(this.#udpResult(meta, r.host, override)) };
    let settle!: (m: Metadata) => void;
    const done = new Promise<Metadata>((resolve) => (settle = resolve));
    let settled = false;
    let fed = 1;
    const end = (m: Metadata): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      settle(m);
    };
    const timer = setTimeout(() => end(meta), this.#udpWaitMs);
    return {
      done,
      push: (data) => {
        if (settled) return;
        if (++fed > MAX_UDP_DATAGRAMS) return end(meta);
        const next = judge(data);
        if (next.kind === 'host') end(this.#udpResult(meta, next.host, override));
        else if (next.kind === 'fail') end(meta);
      },
    };
  }

  #udpResult(meta: Metadata, host: string, override: boolean): Metadata {
    if (this.#skipDomain.has(host)) {
      this.#log.debug(`[Sniffer] Skip sni[${host}]`);
      return meta;
    }
    return this.#replace(meta, host, override);
  }

  /**
   * mihomo's shouldOverride: undefined = do not sniff; true = sniff, forced by force-domain (a
   * failure then is not counted); false = sniff.
   */
  #shouldSniff(meta: Metadata): boolean | undefined {
    const host = meta.destination.host;
    const ip = isIP(host) !== 0 ? host : meta.destinationIp;
    if (ip !== undefined && this.#skipDst.size > 0 && this.#skipDst.contains(ip)) return undefined;
    if (this.#skipSrc.size > 0 && this.#skipSrc.contains(meta.source.host)) return undefined;
    if (ip !== host) return this.#forceDomain.has(host) ? true : undefined; // a domain destination
    const mapped = this.#hostByIp?.(ip);
    if (mapped === undefined) return this.#parsePureIp ? false : undefined;
    const forced = this.#forceDomain.has(mapped);
    return forced || this.#forceDnsMapping ? forced : undefined;
  }

  /** mihomo's replaceDomain: `sniffHost` always; the destination host too when overriding. */
  #replace(meta: Metadata, host: string, override: boolean): Metadata {
    if (!override) return { ...meta, sniffHost: host };
    const old = meta.destination.host;
    if (this.#log.enabled('debug')) {
      this.#log.debug(
        `[Sniffer] Sniff ${meta.network.toUpperCase()} [${formatAddress(meta.source)}]-->[${formatAddress(meta.destination)}] success, replace domain [${old}]-->[${host}]`,
      );
    }
    const ip = isIP(old) !== 0 ? old : meta.destinationIp;
    const next: Metadata = { ...meta, sniffHost: host, destination: { host, port: meta.destination.port } };
    return ip !== undefined ? { ...next, destinationIp: ip } : next;
  }
}

/** The generation's sniffer, or undefined when `sniffer.enable` is off or no sniffer is on. */
export function createSniffer(config: SnifferConfig, deps: SnifferDeps): Sniffer | undefined {
  if (!config.enable || config.sniff.length === 0) return undefined;
  return new SnifferDispatcher(config, deps);
}
