import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import { LIMIT_LOG_INTERVAL_MS, OncePerInterval } from '../../common/once-per-interval.js';
import type { Address } from '../../core/address.js';
import type { ConnectionHandler } from '../../core/inbound.js';
import type { InboundType, Metadata, Network } from '../../core/metadata.js';

function swallow(): void {}

/** What every server-protocol listener shares: identity, the tunnel, handshake bookkeeping. */
export class ServerContext {
  /** the bound port (known after listen) */
  port = 0;
  /** set by close(): streams still in their handshake are destroyed, new ones refused */
  closed = false;
  readonly #pending = new Map<Duplex, NodeJS.Timeout>();
  /** handshake timeouts are a limit: logged once per interval with a count, not per connection */
  readonly #timeoutLog = new OncePerInterval(LIMIT_LOG_INTERVAL_MS, (n) =>
    this.log.debug(`[${this.name}] handshake timeout: closed ${n === 1 ? '1 connection' : `${n} connections`} since the last report`),
  );

  constructor(
    readonly name: string,
    readonly type: InboundType,
    readonly handler: ConnectionHandler,
    readonly log: Logger,
    readonly handshakeTimeoutMs: number,
  ) {}

  /** A client stream entered its protocol handshake: it dies if not done in time. */
  track(stream: Duplex): void {
    if (this.closed) return void stream.destroy();
    const timer = setTimeout(this.#onDeadline, this.handshakeTimeoutMs, stream);
    timer.unref();
    this.#pending.set(stream, timer);
    stream.once('close', () => this.release(stream));
  }

  /** The handshake is over (handed to the tunnel, or failed): no deadline any more. */
  release(stream: Duplex): void {
    const timer = this.#pending.get(stream);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#pending.delete(stream);
  }

  #onDeadline = (stream: Duplex): void => {
    this.#pending.delete(stream);
    this.#timeoutLog.hit();
    stream.destroy();
  };

  /** Refuses a client: logs why (debug: scanners are routine) and closes its stream. */
  refuse(stream: Duplex, source: Address | undefined, why: string): void {
    this.release(stream);
    this.log.debug(`[${this.name}] ${source ? `${source.host}:${source.port}` : '?'} refused: ${why}`);
    stream.destroy();
  }

  /** Destroys every stream still in its handshake (used by close()). */
  destroyPending(): void {
    this.closed = true;
    for (const [stream, timer] of this.#pending) {
      clearTimeout(timer);
      stream.destroy();
    }
    this.#pending.clear();
  }

  /**
   * Hands a client stream whose request was read (and which readRequest left unread) to the
   * tunnel. `onConnected` runs when the tunnel connected, before relaying (a response header).
   * A client FIN that arrived right behind the request may already have ended the stream; the
   * relay (tunnel/pipe.ts) passes such an early end on itself.
   */
  handTcp(stream: Duplex, meta: Metadata, onConnected?: () => void): void {
    this.handler.handleTcp(stream, meta, {
      connected: () => {
        onConnected?.();
        stream.resume();
      },
      failed: swallow,
    });
  }

  /** Metadata of a new connection or datagram (fresh id; source 0.0.0.0:0 when unknown). */
  meta(network: Network, source: Address | undefined, destination: Address, user?: string): Metadata {
    const inbound = user === undefined ? { type: this.type, name: this.name, port: this.port } : { type: this.type, name: this.name, port: this.port, user };
    return { id: randomUUID(), network, inbound, source: source ?? { host: '0.0.0.0', port: 0 }, destination };
  }
}
