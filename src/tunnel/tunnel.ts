import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { errorMessage, hasCode } from '../core/errors.js';
import type { ConnectionHandler, TcpReply, UdpWriteBack } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import { dialErrorLine, routeLine } from './log-line.js';
import { NatTable } from './nat.js';
import { pipe } from './pipe.js';
import type { Route, Router } from './route.js';
import type { Tracker } from './tracker.js';

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
    const onClientGone = (): void => abort.abort();
    conn.once('close', onClientGone);
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
      if (hasCode(err, 'REJECTED')) this.#log.info(routeLine('TCP', meta, route, this.#router.mode));
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
    this.#log.info(routeLine('TCP', meta, route, this.#router.mode));
    const record = this.#tracker.add({
      metadata: meta,
      chains: route.chains,
      rule: route.rule?.type ?? '',
      rulePayload: route.rule?.payload ?? '',
      destinationIp: route.ip,
      close: () => {
        conn.destroy();
        remote.destroy();
      },
    });
    reply?.connected();
    pipe(conn, remote, record, {
      idleTimeoutMs: this.#idleMs,
      onClose: () => this.#tracker.remove(record),
    });
  }
}
