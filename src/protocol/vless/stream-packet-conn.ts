import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { PacketConn } from '../../core/outbound.js';

/** How datagrams are framed on one stream. */
export interface PacketFraming {
  /** the bytes for one datagram to `to` (may be several frames) */
  encode(data: Buffer, to: Address): Buffer;
  /** feeds stream bytes; the datagrams complete so far and whether the server ended the session */
  decode(chunk: Buffer): { packets: readonly { data: Buffer; from?: Address }[]; ended?: boolean };
}

/** Datagrams queued on the stream past this are dropped: UDP is lossy, memory is not. */
const MAX_QUEUED = 1 << 20;

/**
 * A PacketConn over one stream (Trojan UDP ASSOCIATE, VLESS UDP, XUDP): each `send` is one
 * framed write; replies are decoded from the stream. `fallback` is the source reported when a
 * frame names none (a VLESS stream bound to one destination). A decode error, the stream's end
 * or its close closes the conn; `close()` destroys the stream.
 */
export class StreamPacketConn implements PacketConn {
  readonly #stream: Duplex;
  readonly #framing: PacketFraming;
  readonly #fallback: Address;
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;
  #onClose: ((err?: Error) => void) | undefined;
  #closed = false;
  #closeErr: Error | undefined;

  constructor(stream: Duplex, framing: PacketFraming, fallback: Address) {
    this.#stream = stream;
    this.#framing = framing;
    this.#fallback = fallback;
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onError);
    stream.on('close', this.#onStreamClose);
  }

  send(data: Buffer, to: Address): void {
    if (this.#closed || this.#stream.destroyed || this.#stream.writableEnded) return;
    if (this.#stream.writableLength > MAX_QUEUED) return;
    let frame: Buffer;
    try {
      frame = this.#framing.encode(data, to);
    } catch {
      return; // an address that cannot be encoded: the datagram is dropped, as a router would
    }
    this.#stream.write(frame);
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) queueMicrotask(() => handler(this.#closeErr));
  }

  close(): void {
    this.#finish(undefined);
  }

  #finish(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeErr = err;
    this.#stream.destroy();
    this.#onClose?.(err);
  }

  readonly #onData = (chunk: Buffer): void => {
    let r: ReturnType<PacketFraming['decode']>;
    try {
      r = this.#framing.decode(chunk);
    } catch (err) {
      this.#finish(err as Error);
      return;
    }
    const h = this.#onMessage;
    if (h) for (const p of r.packets) h(p.data, p.from ?? this.#fallback);
    if (r.ended) this.#finish(undefined);
  };

  readonly #onEnd = (): void => this.#finish(undefined);
  readonly #onError = (err: Error): void => this.#finish(err);
  readonly #onStreamClose = (): void => this.#finish(undefined);
}
