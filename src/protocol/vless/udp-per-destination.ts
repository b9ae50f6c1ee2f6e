import { formatAddress, type Address } from '../../core/address.js';
import type { PacketConn } from '../../core/outbound.js';

/** Streams one conn keeps open at most; datagrams to further destinations are dropped. */
const MAX_STREAMS = 16;
/** Datagrams queued per destination while its stream is being opened. */
const MAX_QUEUED = 16;

interface Leg {
  conn: PacketConn | undefined;
  queue: Buffer[] | undefined;
}

/**
 * A PacketConn for protocols whose UDP stream is bound to one destination (plain VLESS UDP):
 * one stream per destination, opened on the first datagram to it. mihomo sends every datagram
 * of the session to the first destination instead; separate streams deliver each where it was
 * addressed. The conn closes when the first stream closes, or on `close()`.
 */
export class PerDestinationPacketConn implements PacketConn {
  readonly #open: (to: Address) => Promise<PacketConn>;
  readonly #legs = new Map<string, Leg>();
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;
  #onClose: ((err?: Error) => void) | undefined;
  #closed = false;

  /** `first` is the already open stream to `to`. */
  constructor(first: PacketConn, to: Address, open: (to: Address) => Promise<PacketConn>) {
    this.#open = open;
    this.#legs.set(formatAddress(to), { conn: first, queue: undefined });
    this.#wire(first, true);
  }

  #wire(conn: PacketConn, primary: boolean): void {
    conn.onMessage((data, from) => this.#onMessage?.(data, from));
    conn.onClose((err) => {
      if (primary) this.#finish(err);
      else for (const [k, leg] of this.#legs) if (leg.conn === conn) this.#legs.delete(k);
    });
  }

  send(data: Buffer, to: Address): void {
    if (this.#closed) return;
    const key = formatAddress(to);
    const leg = this.#legs.get(key);
    if (leg?.conn) return leg.conn.send(data, to);
    if (leg) {
      if (leg.queue!.length < MAX_QUEUED) leg.queue!.push(data);
      return;
    }
    if (this.#legs.size >= MAX_STREAMS) return;
    const fresh: Leg = { conn: undefined, queue: [data] };
    this.#legs.set(key, fresh);
    this.#open(to).then(
      (conn) => {
        if (this.#closed || this.#legs.get(key) !== fresh) return conn.close();
        fresh.conn = conn;
        this.#wire(conn, false);
        const q = fresh.queue ?? [];
        fresh.queue = undefined;
        for (const d of q) conn.send(d, to);
      },
      () => {
        // a failed leg is forgotten; a later datagram tries again
        if (this.#legs.get(key) === fresh) this.#legs.delete(key);
      },
    );
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
  }

  close(): void {
    this.#finish(undefined);
  }

  #finish(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const leg of this.#legs.values()) leg.conn?.close();
    this.#legs.clear();
    this.#onClose?.(err);
  }
}
