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
}

/** Datagrams that arrive while a session is still dialing are queued, up to this many. */
const MAX_PENDING = 64;

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

  handle(data: Buffer, meta: Metadata, writeBack: UdpWriteBack): void {
    const key = `${meta.inbound.name}|${formatAddress(meta.source)}`;
    const s = this.#sessions.get(key);
    if (s) {
      s.last = Date.now();
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
      table: this.#opts.routing.current(),
      last: Date.now(),
      closed: false,
    };
    session.table.retain();
    // ── sniffer hook (src/sniffer/): QUIC Initial SNI from the first datagram(s); #open routes once it settles
    session.sniff = session.table.sniffer?.sniffUdp(meta, data);
    this.#sessions.set(key, session);
    this.#open(session, meta).catch((err: unknown) => {
      this.#opts.log.error(`[UDP] internal error: ${errorMessage(err)}`);
      this.#end(session);
    });
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
      s.writeBack.send(data, from, s.client);
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
