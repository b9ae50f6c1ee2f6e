import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/**
 * One handshaken TLS connection waiting in a warm pool. While parked it is unref'd (a full pool
 * never keeps the process alive) and owns its 'error' events; anything arriving on it — data,
 * EOF, an error, a close — means the server gave up on it (no protocol we pool lets the server
 * speak first), and `onGone` is called once so the pool drops it.
 */
export class ParkedSocket {
  readonly sock: TLSSocket;
  readonly inner: Duplex;
  /** when it was parked (the pool's clock) */
  readonly at: number;
  readonly #onGone: (p: ParkedSocket) => void;
  #attached = true;

  constructor(sock: TLSSocket, inner: Duplex, at: number, onGone: (p: ParkedSocket) => void) {
    this.sock = sock;
    this.inner = inner;
    this.at = at;
    this.#onGone = onGone;
    setRef(inner, false);
    sock.unref();
    // a 'readable' listener keeps the socket reading, so a FIN is noticed while nobody consumes
    sock.on('readable', this.#gone).on('end', this.#gone).on('close', this.#gone).on('error', this.#gone);
    inner.on('error', this.#gone);
  }

  /** Open both ways, nothing unexpected buffered from the server. */
  usable(): boolean {
    const s = this.sock;
    return !s.destroyed && s.writable && !s.writableEnded && !s.readableEnded && s.readableLength === 0;
  }

  /** Detaches the pool and gives the socket to a caller, who now owns its events. */
  handOut(): TLSSocket {
    this.#detach();
    setRef(this.inner, true);
    this.sock.ref();
    return this.sock;
  }

  /** Detaches and destroys; a late 'error' is swallowed, never left unhandled. */
  discard(): void {
    this.#detach();
    this.sock.on('error', noop);
    this.inner.on('error', noop);
    this.sock.destroy();
    this.inner.destroy();
  }

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.sock.off('readable', this.#gone).off('end', this.#gone).off('close', this.#gone).off('error', this.#gone);
    this.inner.off('error', this.#gone);
  }

  readonly #gone = (): void => {
    if (this.#attached) this.#onGone(this);
  };
}

/** Keeps (or stops keeping) the process alive for a stream that has a handle (net.Socket). */
export function setRef(d: Duplex, on: boolean): void {
  const r = d as unknown as { ref?: () => unknown; unref?: () => unknown };
  if (on) r.ref?.();
  else r.unref?.();
}

function noop(): void {}
