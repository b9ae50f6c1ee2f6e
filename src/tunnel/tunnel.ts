import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { errorMessage, hasCode, ProxyError } from '../core/errors.js';
import type { ConnectionHandler, TcpReply, UdpWriteBack } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import { dialErrorLine, routeLine } from './log-line.js';
import { NatTable } from './nat.js';
import { pipe, type PipeOptions } from './pipe.js';
import type { Route, Router } from './route.js';
import type { TrackedConnection, Tracker } from './tracker.js';

/** What the tunnel needs, handed in by app.ts. */
export interface TunnelOptions {
  readonly router: Router;
  readonly tracker: Tracker;
  readonly log: Logger;
  /** TCP relay idle timeout (no bytes either way) */
  readonly tcpIdleTimeoutMs?: number;
  /** UDP session idle timeout (mihomo: 60 s) */
  readonly udpTimeoutMs?: number;
}

const DEFAULT_TCP_IDLE_MS = 10 * 60_000;
const DEFAULT_UDP_TIMEOUT_MS = 60_000;

function swallow(): void {}

/**
 * The connection handler every inbound feeds: route, dial, reply, relay, track, log.
 * TCP goes through the one relay (pipe.ts); UDP through the NAT table (nat.ts).
 */
export class Tunnel implements ConnectionHandler {
  readonly #router: Router;
  readonly #tracker: Tracker;
  readonly #log: Logger;
  readonly #idleMs: number;
  readonly #nat: NatTable;

  constructor(opts: TunnelOptions) {
    this.#router = opts.router;
    this.#tracker = opts.tracker;
    this.#log = opts.log;
    this.#idleMs = opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_MS;
    this.#nat = new NatTable({
      router: opts.router,
      tracker: opts.tracker,
      log: opts.log,
      timeoutMs: opts.udpTimeoutMs ?? DEFAULT_UDP_TIMEOUT_MS,
    });
  }

  handleTcp(conn: Duplex, meta: Metadata, reply?: TcpReply): void {
    conn.on('error', swallow); // the relay reports errors; before it starts, a reset must not crash us
    this.#tcp(conn, meta, reply).catch((err: unknown) => {
      this.#log.error(`[TCP] ${meta.destination.host}: internal error: ${errorMessage(err)}`);
      conn.destroy();
    });
  }

  handleUdp(data: Buffer, meta: Metadata, writeBack: UdpWriteBack): void {
    this.#nat.handle(data, meta, writeBack);
  }

  /** Stops UDP sessions; TCP connections are closed through the tracker. */
  close(): void {
    this.#nat.close();
  }

  async #tcp(conn: Duplex, meta: Metadata, reply: TcpReply | undefined): Promise<void> {
    const abort = new AbortController();
    // A shared reason: abort() without one builds a DOMException (with a stack) every time.
    const onClientGone = (): void => abort.abort(CLIENT_CLOSED);
    conn.on('close', onClientGone);
    let route: Route;
    try {
      route = await this.#router.route(meta);
    } catch (err) {
      conn.off('close', onClientGone);
      this.#log.warn(`[TCP] route ${meta.destination.host} error: ${errorMessage(err)}`);
      reply?.failed(err as Error);
      conn.destroy();
      return;
    }
    let remote: Duplex;
    try {
      remote = await route.outbound.dialTcp(meta, { signal: abort.signal });
    } catch (err) {
      conn.off('close', onClientGone);
      if (hasCode(err, 'REJECTED')) this.#logRoute(meta, route);
      else if (abort.signal.aborted) this.#log.debug(dialErrorLine('TCP', meta, route, 'client closed'));
      else this.#log.warn(dialErrorLine('TCP', meta, route, errorMessage(err)));
      if (!conn.destroyed) reply?.failed(err as Error);
      conn.destroy();
      return;
    }
    conn.off('close', onClientGone);
    if (conn.destroyed) {
      remote.destroy();
      return;
    }
    this.#logRoute(meta, route);
    const record = this.#tracker.track(new TcpRecord(meta, route, conn, remote, this.#tracker, this.#idleMs));
    reply?.connected();
    pipe(conn, remote, record, record);
  }

  /** The per-connection info line, formatted only when someone will see it. */
  #logRoute(meta: Metadata, route: Route): void {
    if (this.#log.enabled('info')) this.#log.info(routeLine('TCP', meta, route, this.#router.mode));
  }
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

  constructor(meta: Metadata, route: Route, conn: Duplex, remote: Duplex, tracker: Tracker, idleTimeoutMs: number) {
    this.metadata = meta;
    this.chains = route.chains;
    this.rule = route.rule?.type ?? '';
    this.rulePayload = route.rule?.payload ?? '';
    this.destinationIp = route.ip;
    this.idleTimeoutMs = idleTimeoutMs;
    this.#conn = conn;
    this.#remote = remote;
    this.#tracker = tracker;
  }

  get start(): Date {
    return new Date(this.#startMs);
  }

  /** Closes both legs (API / shutdown). */
  close(): void {
    this.#conn.destroy();
    this.#remote.destroy();
  }

  /** The relay is over: keep the bytes in the totals, drop the record. */
  onClose(): void {
    this.#tracker.remove(this);
  }
}
