import type { Socket } from 'node:net';
import type { InboundContext } from './context.js';
import { SOCKS4, SOCKS5 } from './socks-codec.js';
import { handleSocks } from './socks.js';

/**
 * Reads the first bytes of a new connection and dispatches on the first one: 0x05 → SOCKS5,
 * 0x04 → SOCKS4/4a, anything else → `http` (a mixed inbound) or closed (a SOCKS-only one).
 * No byte is lost: both get what was read as their first buffer (HTTP puts it back with
 * `unshift` when node:http is to parse it).
 */
export function sniffAndDispatch(ctx: InboundContext, socket: Socket, http: HttpAccept | undefined): void {
  new Sniffer(ctx, socket, http);
}

/** The HTTP side of a mixed inbound: takes a connection and the bytes already read from it. */
export type HttpAccept = (socket: Socket, first: Buffer) => void;

/** Listeners bound once per connection; gone as soon as the first chunk is in. */
class Sniffer {
  readonly #ctx: InboundContext;
  readonly #socket: Socket;
  readonly #http: HttpAccept | undefined;

  constructor(ctx: InboundContext, socket: Socket, http: HttpAccept | undefined) {
    this.#ctx = ctx;
    this.#socket = socket;
    this.#http = http;
    socket.on('readable', this.#onReadable);
    socket.on('end', this.#onEnd);
  }

  #onReadable = (): void => {
    const first = this.#socket.read() as Buffer | null;
    if (first === null || first.length === 0) return;
    this.#socket.off('readable', this.#onReadable);
    this.#socket.off('end', this.#onEnd);
    if (first[0] === SOCKS5.VERSION || first[0] === SOCKS4.VERSION) {
      handleSocks(this.#ctx, this.#socket, first);
    } else if (this.#http !== undefined) {
      this.#http(this.#socket, first);
    } else {
      this.#socket.destroy();
    }
  };

  /** Closed before saying anything. */
  #onEnd = (): void => {
    this.#socket.destroy();
  };
}
