import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { errorMessage, hasCode, ProxyError } from '../core/errors.js';
import type { ConnectionHandler, TcpReply, UdpWriteBack } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import type { DialStats } from './dial-stats.js';
import { dialErrorLine, routeLine } from './log-line.js';
import { loopRefusal } from './loop-guard.js';
import { NatTable } from './nat.js';
import { pipe, type PipeOptions } from './pipe.js';
import { reportDial, type Route } from './route.js';
import type { RoutingSource, RoutingTable } from './routing.js';
import type { TrackedConnection, Tracker } from './tracker.js';

/** What the tunnel needs, handed in by the host. */
export interface TunnelOptions {
  /** the live config generation: read once per connection, so a reload applies to the next one */
  readonly routing: RoutingSource;
  readonly tracker: Tracker;
  readonly log: Logger;
  /** TCP relay idle timeout (no bytes either way) */
  readonly tcpIdleTimeoutMs?: number;
  /**
   * Bound on a whole outbound TCP dial: TCP connect, TLS, transport and protocol handshakes,
   * every hop of a chain (mihomo's DefaultTCPTimeout, 5 s, given to DialContext)
   */
  readonly tcpDialTimeoutMs?: number;
  /** UDP session idle timeout (mihomo: 60 s) */
  readonly udpTimeoutMs?: number;
  /** TCP dial latencies per leaf proxy (/metrics) */
  readonly dialStats?: DialStats;
  /**
   * Prepares a connection's metadata before the rules run: DNS maps a fake IP (or a
   * redir-host address) back to its domain here. One call per connection / datagram.
   */
  readonly prepare?: (meta: Metadata) => Metadata;
  /** resolves the name behind a fake IP a UDP client used, so replies carry that fake IP (nat.ts) */
  readonly resolveIp?: (host: string) => Promise<string | undefined>;
}

const DEFAULT_TCP_IDLE_MS = 10 * 60_000;
const DEFAULT_TCP_DIAL_TIMEOUT_MS = 5000;
const DEFAULT_UDP_TIMEOUT_MS = 60_000;

function swallow(): void {}

/**
 * The connection handler every inbound feeds: route, dial, reply, relay, track, log.
 * TCP goes through the one relay (pipe.ts); UDP through the NAT table (nat.ts). It outlives
 * configs: each connection takes the generation live when it arrives and holds it until it
 * ends, so a reload never changes the outbound of a connection already routed.
 */
export class Tunnel implements ConnectionHandler {
  readonly #routing: RoutingSource;
  readonly #tracker: Tracker;
  readonly #log: Logger;
  #idleMs: number;
  readonly #dialTimeoutMs: number;
  /** the abort reason of every dial past its bound (allocated once per tunnel) */
  readonly #dialTimedOut: ProxyError;
  readonly #nat: NatTable;
  readonly #dialStats: DialStats | undefined;
  readonly #prepare: (meta: Metadata) => Metadata;

  constructor(opts: TunnelOptions) {
    this.#dialStats = opts.dialStats;
    this.#prepare = opts.prepare ?? ((m) => m);
    this.#routing = opts.routing;
    this.#tracker = opts.tracker;
    this.#log = opts.log;
    this.#idleMs = opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_MS;
    this.#dialTimeoutMs = opts.tcpDialTimeoutMs ?? DEFAULT_TCP_DIAL_TIMEOUT_MS;
    this.#dialTimedOut = new ProxyError('DIAL_TIMEOUT', `i/o timeout: no connection within ${this.#dialTimeoutMs}ms`);
    this.#nat = new NatTable({
      routing: opts.routing,
      tracker: opts.tracker,
      log: opts.log,
      timeoutMs: opts.udpTimeoutMs ?? DEFAULT_UDP_TIMEOUT_MS,
      resolveIp: opts.resolveIp,
    });
  }

  handleTcp(conn: Duplex, original: Metadata, reply?: TcpReply): void {
    // --- metadata preparation (DNS: fake IP / redir-host address → domain) ---
    const meta = this.#prepare(original);
    conn.on('error', swallow); // the relay reports errors; before it starts, a reset must not crash us
    const table = this.#routing.current();
    table.retain();
    this.#tcp(conn, meta, reply, table).catch((err: unknown) => {
      this.#log.error(`[TCP] ${meta.destination.host}: internal error: ${errorMessage(err)}`);
      conn.destroy();
      table.release();
    });
  }

  /** The idle timeout of connections relayed from now on (a config's `tcp-idle-timeout`); 0 = none. */
  set tcpIdleTimeoutMs(ms: number) {
    this.#idleMs = ms;
  }

  handleUdp(data: Buffer, meta: Metadata, writeBack: UdpWriteBack): void {
    // --- metadata preparation (DNS: fake IP / redir-host address → domain) ---
    const prepared = this.#prepare(meta);
    // a rewritten destination (fake IP → domain): replies must come back from what the client used
    const rewritten = prepared !== meta && prepared.destination.host !== meta.destination.host;
    this.#nat.handle(data, prepared, writeBack, rewritten ? meta.destination : undefined);
  }

  /** Stops UDP sessions; TCP connections are closed through the tracker. */
  close(): void {
    this.#nat.close();
  }

  /** Routes, dials and relays one connection; `table` is released once, when it is over. */
  async #tcp(conn: Duplex, meta: Metadata, reply: TcpReply | undefined, table: RoutingTable): Promise<void> {
    const abort = new AbortController();
    // A shared reason: abort() without one builds a DOMException (with a stack) every time.
    const onClientGone = (): void => abort.abort(CLIENT_CLOSED);
    conn.on('close', onClientGone);
    // ── sniffer hook (src/sniffer/): may answer the client first, reads its first bytes (left in
    // `conn` for the relay) and returns the metadata to route and dial by (sniffHost, override)
    const sniffing = table.sniffer?.sniffTcp(conn, meta, reply);
    if (sniffing) ({ meta, reply } = await sniffing);
    const router = table.router;
    let route: Route;
    try {
      route = await router.route(meta);
    } catch (err) {
      conn.off('close', onClientGone);
      this.#log.warn(`[TCP] route ${meta.destination.host} error: ${errorMessage(err)}`);
      reply?.failed(err as Error);
      conn.destroy();
      table.release();
      return;
    }
    const loop = loopRefusal(meta, route);
    if (loop !== undefined) {
      conn.off('close', onClientGone);
      this.#log.warn(dialErrorLine('TCP', meta, route, loop));
      reply?.failed(new ProxyError('REJECTED', loop));
      conn.destroy();
      table.release();
      return;
    }
    let remote: Duplex;
    const dialStart = this.#dialStats ? performance.now() : 0;
    // the whole dial is bounded, whatever the outbound does inside (a server that accepts and
    // never completes TLS would otherwise hold the client and two sockets for good)
    const deadline = setTimeout(abortDial, this.#dialTimeoutMs, abort, this.#dialTimedOut);
    try {
      remote = await route.outbound.dialTcp(meta, { signal: abort.signal });
      clearTimeout(deadline);
      reportDial(route);
      this.#dialStats?.dialed(route.outbound.name, performance.now() - dialStart);
    } catch (caught) {
      clearTimeout(deadline);
      conn.off('close', onClientGone);
      let err = caught;
      if (abort.signal.reason === this.#dialTimedOut) {
        err = this.#dialTimedOut;
        reportDial(route, err);
        this.#dialStats?.failed(route.outbound.name);
        this.#log.warn(dialErrorLine('TCP', meta, route, errorMessage(err)));
        if (!conn.destroyed) reply?.failed(err as Error);
        conn.destroy();
        table.release();
        return;
      }
      if (!abort.signal.aborted) {
        reportDial(route, err);
        if (!hasCode(err, 'REJECTED')) this.#dialStats?.failed(route.outbound.name);
      }
      if (hasCode(err, 'REJECTED')) this.#logRoute(meta, route, router.mode);
      else if (abort.signal.aborted) this.#log.debug(dialErrorLine('TCP', meta, route, 'client closed'));
      else this.#log.warn(dialErrorLine('TCP', meta, route, errorMessage(err)));
      if (!conn.destroyed) reply?.failed(err as Error);
      conn.destroy();
      table.release();
      return;
    }
    conn.off('close', onClientGone);
    if (conn.destroyed) {
      remote.destroy();
      table.release();
      return;
    }
    this.#logRoute(meta, route, router.mode);
    const record = this.#tracker.track(new TcpRecord(meta, route, conn, remote, this.#tracker, this.#idleMs, table));
    reply?.connected();
    pipe(conn, remote, record, record);
  }

  /** The per-connection info line, formatted only when someone will see it. */
  #logRoute(meta: Metadata, route: Route, mode: string): void {
    if (this.#log.enabled('info')) this.#log.info(routeLine('TCP', meta, route, mode));
  }
}

function abortDial(abort: AbortController, reason: ProxyError): void {
  abort.abort(reason);
}

/** The abort reason of every dial whose client left first (allocated once). */
const CLIENT_CLOSED = new ProxyError('ABORTED', 'client closed');

/**
 * One relayed TCP connection: its tracker record, the relay's byte counter and the relay's
 * options in one object, so a connection costs one allocation here rather than four.
 */
class TcpRecord implements TrackedConnection, PipeOptions {
  readonly metadata: Metadata;
  readonly chains: readonly string[];
  readonly rule: string;
  readonly rulePayload: string;
  readonly destinationIp: string | undefined;
  readonly idleTimeoutMs: number;
  upload = 0;
  download = 0;
  readonly #startMs = Date.now();
  readonly #conn: Duplex;
  readonly #remote: Duplex;
  readonly #tracker: Tracker;
  readonly #table: RoutingTable;

  constructor(meta: Metadata, route: Route, conn: Duplex, remote: Duplex, tracker: Tracker, idleTimeoutMs: number, table: RoutingTable) {
    this.metadata = meta;
    this.chains = route.chains;
    this.rule = route.rule?.type ?? '';
    this.rulePayload = route.rule?.payload ?? '';
    this.destinationIp = route.ip;
    this.idleTimeoutMs = idleTimeoutMs;
    this.#conn = conn;
    this.#remote = remote;
    this.#tracker = tracker;
    this.#table = table;
  }

  get start(): Date {
    return new Date(this.#startMs);
  }

  /** Closes both legs (API / shutdown). */
  close(): void {
    this.#conn.destroy();
    this.#remote.destroy();
  }

  /** The relay is over: keep the bytes in the totals, drop the record, let the generation go. */
  onClose(): void {
    this.#tracker.remove(this);
    this.#table.release();
  }
}
