import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../common/log.js';
import { LIMIT_LOG_INTERVAL_MS, OncePerInterval } from '../common/once-per-interval.js';
import { unmapIPv4, type Address } from '../core/address.js';
import type { ConnectionHandler } from '../core/inbound.js';
import type { InboundType, Metadata, Network } from '../core/metadata.js';
import type { Authenticator } from './auth.js';
import { encodeReply, SOCKS5 } from './socks-codec.js';

/** What the protocol handlers of one inbound share: identity, the tunnel, auth, and the
 * bookkeeping of connections that are still ours (in their handshake). */
export interface InboundContextOptions {
  readonly name: string;
  readonly handler: ConnectionHandler;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly handshakeTimeoutMs: number;
}

function swallow(): void {}

/**
 * The runtime state of one started inbound. A client connection is "pending" from accept until
 * it is handed to the tunnel: pending ones get a handshake deadline and are destroyed by
 * `destroyPending()` when the inbound closes; handed-off ones belong to the tunnel.
 */
export class InboundContext {
  readonly name: string;
  readonly handler: ConnectionHandler;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly handshakeTimeoutMs: number;
  /** the bound TCP port (known after listen) */
  port = 0;
  /** the bound UDP relay port, when SOCKS5 UDP is enabled and bound */
  udpPort: number | undefined;
  /** set by close(): no new work is accepted */
  closed = false;
  /** the local address of every accepted connection, when the listener is bound to one IP
   * (not a wildcard); set after listen */
  fixedLocal: Address | undefined;
  /** the last SOCKS5 success reply and the BND address it carries (one per listener in practice) */
  #succeeded: { readonly bind: Address; readonly reply: Buffer } | undefined;
  /** connections in their handshake → their deadline (monotonic ms). Every entry gets the same
   * timeout, so insertion order is deadline order and one timer for the oldest serves all. */
  readonly #pending = new Map<Socket, number>();
  #sweepTimer: NodeJS.Timeout | undefined;
  /** connections we keep without a deadline: SOCKS5 UDP ASSOCIATE control connections */
  readonly #held = new Set<Socket>();
  /** handshake timeouts are a limit: logged once per interval with a count, not per connection */
  readonly #timeoutLog: OncePerInterval;
  #lastTimedOut = '?';

  constructor(o: InboundContextOptions) {
    this.name = o.name;
    this.handler = o.handler;
    this.log = o.log;
    this.auth = o.auth;
    this.handshakeTimeoutMs = o.handshakeTimeoutMs;
    this.#timeoutLog = new OncePerInterval(LIMIT_LOG_INTERVAL_MS, (n) =>
      this.log.debug(`[${this.name}] handshake timeout: closed ${n === 1 ? '1 connection' : `${n} connections`} since the last report (the last from ${this.#lastTimedOut})`),
    );
    const pending = this.#pending;
    this.releaseOnClose = function (this: Socket): void {
      pending.delete(this);
    };
  }

  /** Starts the handshake deadline of a freshly accepted (or again idle) connection. */
  track(socket: Socket): void {
    if (this.#pending.has(socket)) return;
    this.#pending.set(socket, performance.now() + this.handshakeTimeoutMs);
    if (this.#sweepTimer === undefined) this.#armSweep(this.handshakeTimeoutMs);
  }

  /** The connection left its handshake (handed to the tunnel, or closed): stop its clock;
   * it is no longer ours to time out or to destroy on close. */
  release(socket: Socket): void {
    this.#pending.delete(socket);
  }

  /** The 'close' listener of accepted connections (`this` is the socket): `release` as one
   * function per inbound instead of a closure per connection. */
  readonly releaseOnClose: (this: Socket) => void;

  /** Whether the connection is still in its handshake. */
  isPending(socket: Socket): boolean {
    return this.#pending.has(socket);
  }

  #armSweep(ms: number): void {
    this.#sweepTimer = setTimeout(this.#sweep, ms);
    this.#sweepTimer.unref();
  }

  /** Destroys the connections whose deadline passed (the oldest first), then waits for the next. */
  #sweep = (): void => {
    this.#sweepTimer = undefined;
    const now = performance.now();
    for (const [socket, deadline] of this.#pending) {
      if (deadline > now) {
        this.#armSweep(Math.ceil(deadline - now));
        return;
      }
      this.#pending.delete(socket);
      this.#lastTimedOut = socket.remoteAddress ?? '?';
      this.#timeoutLog.hit();
      socket.destroy();
    }
  };

  /** Keeps a connection that stays ours for its life (no deadline) until it closes. */
  hold(socket: Socket): void {
    this.release(socket);
    this.#held.add(socket);
    socket.once('close', () => this.#held.delete(socket));
  }

  /** Destroys every connection still ours: in its handshake, or held (used by close()). */
  destroyPending(): void {
    clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const pending = [...this.#pending.keys()];
    this.#pending.clear();
    for (const socket of pending) socket.destroy();
    for (const socket of this.#held) socket.destroy();
    this.#held.clear();
  }

  /** The SOCKS5 `succeeded` reply carrying `bind`, encoded once and reused while `bind` is the same. */
  socks5Succeeded(bind: Address): Buffer {
    const last = this.#succeeded;
    if (last !== undefined && last.bind.host === bind.host && last.bind.port === bind.port) return last.reply;
    const reply = encodeReply(SOCKS5.REP_SUCCEEDED, bind);
    this.#succeeded = { bind, reply };
    return reply;
  }

  /** Builds the Metadata of a new connection or datagram (fresh UUID, unmapped source). */
  meta(network: Network, type: InboundType, source: Address, destination: Address, user?: string): Metadata {
    return {
      id: randomUUID(),
      network,
      inbound: user === undefined ? { type, name: this.name, port: this.port } : { type, name: this.name, port: this.port, user },
      source,
      destination,
    };
  }
}

/** The client address of a connected socket, IPv4-mapped IPv6 unmapped; undefined once closed. */
export function sourceOf(socket: Socket): Address | undefined {
  const ip = socket.remoteAddress;
  const port = socket.remotePort;
  if (ip === undefined || port === undefined) return undefined;
  return { host: unmapIPv4(ip), port };
}

/** Owns a socket's 'error' events for its whole life: an unowned 'error' kills the process.
 * Whoever takes the socket later adds its own listener; this one only keeps us alive. */
export function ownErrors(socket: Socket): void {
  socket.on('error', swallow);
}
