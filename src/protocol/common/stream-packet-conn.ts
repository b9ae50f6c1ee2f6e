import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { PacketConn } from '../../core/outbound.js';

/** Where a framing hands the datagrams it decodes; `from` absent = the conn's fallback source. */
export interface DatagramSink {
  datagram(data: Buffer, from: Address | undefined): void;
}

/** How datagrams are framed on one stream (one object per conn; it may keep state). */
export interface PacketFraming {
  /** The bytes for one datagram to `to`; undefined, or a throw, drops the datagram. */
  encode(data: Buffer, to: Address): Buffer | undefined;
  /**
   * Feeds stream bytes, handing each complete datagram to `sink`. Returns true when the peer
   * ended the session in-band. Throws (a ProxyError) on bytes that are no frame.
   */
  decode(chunk: Buffer, sink: DatagramSink): boolean;
}

/** Datagrams queued on the stream past this are dropped by default: UDP is lossy, memory is not. */
const MAX_QUEUED = 1 << 20;

/**
 * The one PacketConn over a stream (Trojan UDP ASSOCIATE, VLESS UDP and XUDP, VMess, sing's
 * UoT on Shadowsocks): each `send` is one framed write; replies are decoded from the stream.
 * `fallback` is the source reported when a frame names none (a stream bound to one
 * destination).
 *
 * The conn closes once, on whichever comes first: `close()`, a decode error, an in-band end,
 * or the stream's end, error or close; the stream is destroyed then. The close listener is
 * told exactly once, with the first cause (an error, or none), whatever follows and in
 * whatever order, and also when it is set after the conn closed.
 */
export class StreamPacketConn implements PacketConn {
  readonly #stream: Duplex;
  readonly #framing: PacketFraming;
  readonly #fallback: Address;
  readonly #maxQueued: number;
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;
  #onClose: ((err?: Error) => void) | undefined;
  #closed = false;
  #notified = false;
  #closeErr: Error | undefined;

  constructor(stream: Duplex, framing: PacketFraming, fallback: Address, maxQueued = MAX_QUEUED) {
    this.#stream = stream;
    this.#framing = framing;
    this.#fallback = fallback;
    this.#maxQueued = maxQueued;
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onError);
    stream.on('close', this.#onEnd);
    if (stream.destroyed || stream.readableEnded) this.#finish(undefined);
  }

  send(data: Buffer, to: Address): void {
    const s = this.#stream;
    if (this.#closed || s.destroyed || s.writableEnded || s.writableLength > this.#maxQueued) return;
    let frame: Buffer | undefined;
    try {
      frame = this.#framing.encode(data, to);
    } catch {
      return; // an address or a size the framing cannot carry: dropped, as a router would
    }
    if (frame !== undefined) s.write(frame);
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) queueMicrotask(this.#notify);
  }

  close(): void {
    this.#finish(undefined);
  }

  #finish(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeErr = err;
    this.#stream.destroy();
    this.#notify();
  }

  readonly #notify = (): void => {
    const h = this.#onClose;
    if (h === undefined || this.#notified) return;
    this.#notified = true;
    h(this.#closeErr);
  };

  /** The framing's sink: bound once per conn. */
  readonly #sink: DatagramSink = {
    datagram: (data, from) => {
      if (!this.#closed) this.#onMessage?.(data, from ?? this.#fallback);
    },
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closed) return;
    let ended: boolean;
    try {
      ended = this.#framing.decode(chunk, this.#sink);
    } catch (err) {
      this.#finish(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (ended) this.#finish(undefined);
  };

  readonly #onEnd = (): void => this.#finish(undefined);
  readonly #onError = (err: Error): void => this.#finish(err);
}
