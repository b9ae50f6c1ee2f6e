import type { Logger } from '../common/log.js';
import { LIMIT_LOG_INTERVAL_MS, OncePerInterval } from '../common/once-per-interval.js';
import { formatAddress, type Address } from '../core/address.js';
import { errorMessage, hasCode } from '../core/errors.js';
import type { UdpWriteBack } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import type { PacketConn } from '../core/outbound.js';
import type { UdpSniff } from '../core/sniffer.js';
import { dialErrorLine, routeLine } from './log-line.js';
import { loopRefusal } from './loop-guard.js';
import type { RoutingSource, RoutingTable } from './routing.js';
import type { TrackedConnection, Tracker } from './tracker.js';

/** What the NAT table needs. */
export interface NatOptions {
  /** the live generation: a session is routed by the one live at its first datagram */
  readonly routing: RoutingSource;
  readonly tracker: Tracker;
  readonly log: Logger;
  /** a session with no packet either way for this long is closed */
  readonly timeoutMs: number;
  /** at most this many sessions at once (default {@link MAX_NAT_SESSIONS}) */
  readonly maxSessions?: number;
  /**
   * resolves a name the client reached through a fake IP, so a reply from that name's address
   * can carry the fake IP back (the host's resolver; without it only replies naming the domain
   * are restored)
   */
  readonly resolveIp?: (host: string) => Promise<string | undefined>;
}

/** Datagrams that arrive while a session is still dialing are queued, up to this many. */
const MAX_PENDING = 64;

/** Reply sources one session maps back to the address its client used, at most. */
const MAX_RESTORES = 256;

const addrKey = (a: Address): string => `${a.host.toLowerCase()}|${a.port}`;

/**
 * The NAT table holds at most this many sessions: a datagram that would open one more is
 * dropped (logged once per interval), existing sessions go on. Each costs a socket (an fd).
 */
export const MAX_NAT_SESSIONS = 16_384;

interface Session {
  readonly key: string;
  readonly client: Address;
  readonly writeBack: UdpWriteBack;
  pc: PacketConn | undefined;
  pending: { data: Buffer; to: Address }[] | undefined;
  record: TrackedConnection | undefined;
  /** the sniffer's read of the first datagrams (QUIC Initial), while the session waits to be routed */
  sniff: UdpSniff | undefined;
  /**
   * reply source (`host|port`) → the address the client sent to, for destinations the tunnel's
   * prepare step rewrote (a fake IP mapped back to its name): the reply carries the fake IP
   */
  restore: Map<string, Address> | undefined;
  /** names to look up once the session is dialed (the first datagrams wait for them) */
  toResolve: { to: Address; clientTo: Address }[] | undefined;
  /** the generation that routed it, held until the session ends */
  readonly table: RoutingTable;
  last: number;
  closed: boolean;
}

/**
 * UDP sessions, keyed like mihomo by inbound and client address: the first datagram routes the
 * session and dials a PacketConn; later datagrams reuse it; replies go back through the inbound.
 * A session keeps the generation that routed it until it ends.
 */
export class NatTable {
  readonly #opts: NatOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #max: number;
  readonly #fullLog: OncePerInterval;

  constructor(opts: NatOptions) {
    this.#opts = opts;
    this.#max = opts.maxSessions ?? MAX_NAT_SESSIONS;
    this.#fullLog = new OncePerInterval(LIMIT_LOG_INTERVAL_MS, (n) =>
      opts.log.warn(`[UDP] NAT table full (${this.#max} sessions): dropped ${n === 1 ? '1 packet' : `${n} packets`} of new sessions since the last report`),
    );
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1000, Math.floor(opts.timeoutMs / 4)));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * One datagram from the client. `clientTo` is the address the client really sent it to when
   * the tunnel's prepare step rewrote `meta.destination` (a fake IP → its domain): replies from
   * that domain (or the address it resolves to) go back from `clientTo`, as the client expects.
   */
  handle(data: Buffer, meta: Metadata, writeBack: UdpWriteBack, clientTo?: Address): void {
    const key = `${meta.inbound.name}|${formatAddress(meta.source)}`;
    const s = this.#sessions.get(key);
    if (s) {
      s.last = Date.now();
      if (clientTo) this.#remember(s, meta, clientTo);
      if (s.pc) {
        if (s.record) s.record.upload += data.length;
        s.pc.send(data, meta.destination);
      } else if (s.pending && s.pending.length < MAX_PENDING) {
        s.pending.push({ data, to: meta.destination });
        s.sniff?.push(data); // sniffer hook: a later Initial datagram of the session
      }
      return;
    }
    if (this.#sessions.size >= this.#max) {
      this.#fullLog.hit();
      return;
    }
    const session: Session = {
      key,
      client: meta.source,
      writeBack,
      pc: undefined,
      pending: [{ data, to: meta.destination }],
      record: undefined,
      sniff: undefined,
      restore: undefined,
      toResolve: undefined,
      table: this.#opts.routing.current(),
      last: Date.now(),
      closed: false,
    };
    session.table.retain();
    if (clientTo) this.#remember(session, meta, clientTo);
    // ── sniffer hook (src/sniffer/): QUIC Initial SNI from the first datagram(s); #open routes once it settles
    session.sniff = session.table.sniffer?.sniffUdp(meta, data);
    this.#sessions.set(key, session);
    this.#open(session, meta).catch((err: unknown) => {
      this.#opts.log.error(`[UDP] internal error: ${errorMessage(err)}`);
      this.#end(session);
    });
  }

  /**
   * Records where replies for a rewritten destination come from: the domain itself (proxies that
   * answer with the name), the real address the client did not ask for (redir-host keeps it in
   * `destinationIp`), else the address the name resolves to (looked up once per name, as mihomo
   * resolves such a datagram's name before sending it).
   */
  #remember(s: Session, meta: Metadata, clientTo: Address): void {
    const to = meta.destination;
    const k = addrKey(to);
    s.restore ??= new Map();
    if (s.restore.has(k)) return;
    if (s.restore.size >= MAX_RESTORES) s.restore.clear();
    s.restore.set(k, clientTo);
    const direct = meta.destinationIp;
    if (direct !== undefined) {
      if (direct !== clientTo.host) s.restore.set(addrKey({ host: direct, port: to.port }), clientTo);
      return;
    }
    if (!this.#opts.resolveIp) return;
    if (s.pc) void this.#lookup(s, to, clientTo);
    else (s.toResolve ??= []).push({ to, clientTo }); // after the dial: a REJECTed name is never looked up
  }

  #lookup(s: Session, to: Address, clientTo: Address): Promise<void> {
    return this.#opts.resolveIp!(to.host).then(
      (ip) => {
        if (ip !== undefined && !s.closed) s.restore?.set(addrKey({ host: ip, port: to.port }), clientTo);
      },
      () => undefined, // the outbound's own dial reports a name that does not resolve
    );
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const s of [...this.#sessions.values()]) this.#end(s);
  }

  async #open(s: Session, meta: Metadata): Promise<void> {
    const { log, tracker } = this.#opts;
    if (s.sniff) meta = await s.sniff.done; // sniffer hook: the metadata to route by
    s.sniff = undefined;
    const router = s.table.router;
    const route = await router.route(meta);
    const loop = loopRefusal(meta, route);
    if (loop !== undefined) {
      log.warn(dialErrorLine('UDP', meta, route, loop));
      this.#end(s);
      return;
    }
    let pc: PacketConn;
    try {
      pc = await route.outbound.dialUdp(meta, { signal: AbortSignal.timeout(this.#opts.timeoutMs) });
    } catch (err) {
      if (hasCode(err, 'REJECTED')) log.info(routeLine('UDP', meta, route, router.mode));
      else log.warn(dialErrorLine('UDP', meta, route, errorMessage(err)));
      this.#end(s);
      return;
    }
    // the first datagrams leave once the reply addresses they expect are known (a cached lookup)
    const toResolve = s.toResolve;
    s.toResolve = undefined;
    if (toResolve) await Promise.all(toResolve.map((r) => this.#lookup(s, r.to, r.clientTo)));
    if (s.closed) {
      pc.close();
      return;
    }
    log.info(routeLine('UDP', meta, route, router.mode));
    const record = tracker.add({
      metadata: meta,
      chains: route.chains,
      rule: route.rule?.type ?? '',
      rulePayload: route.rule?.payload ?? '',
      destinationIp: route.ip,
      close: () => this.#end(s),
    });
    s.record = record;
    s.pc = pc;
    pc.onMessage((data, from) => {
      s.last = Date.now();
      record.download += data.length;
      s.writeBack.send(data, (s.restore && s.restore.get(addrKey(from))) ?? from, s.client);
    });
    pc.onClose(() => this.#end(s));
    const pending = s.pending ?? [];
    s.pending = undefined;
    for (const p of pending) {
      record.upload += p.data.length;
      pc.send(p.data, p.to);
    }
  }

  #end(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    if (this.#sessions.get(s.key) === s) this.#sessions.delete(s.key);
    s.pending = undefined;
    s.pc?.close();
    if (s.record) this.#opts.tracker.remove(s.record);
    s.table.release();
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#opts.timeoutMs;
    for (const s of [...this.#sessions.values()]) if (s.last < cutoff && s.pc) this.#end(s);
  }
}
