import { Duplex, type DuplexOptions } from 'node:stream';

/**
 * One end of an in-memory connection. What is written to one end is read from the other;
 * `end()` on one end is the other's `'end'` (half-close); destroying one end destroys the other
 * (like a reset, but without an error, so neither owner gets an unexpected 'error').
 */
class PairEnd extends Duplex {
  /** set once by duplexPair(), right after both ends exist */
  peer!: PairEnd;
  /** the write callback held back while the peer's read buffer is full (backpressure) */
  #pendingWrite: ((err?: Error | null) => void) | null = null;

  constructor(opts: DuplexOptions) {
    super(opts);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (peer.destroyed) {
      cb(new Error('the other end of the pair is destroyed'));
      return;
    }
    // push() returns false when the reader's buffer is past its high-water mark: hold our
    // callback so our writer sees backpressure until the reader asks for more (_read).
    if (peer.push(chunk)) cb();
    else this.#pendingWrite = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    cb();
  }

  override _read(): void {
    // The reader (us) wants more: release the peer's held write, if any.
    const peer = this.peer;
    const cb = peer.#pendingWrite;
    if (cb !== null) {
      peer.#pendingWrite = null;
      cb();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#pendingWrite = null;
    // Propagate the teardown without an error: the other end's owner learns from 'close'.
    if (!this.peer.destroyed) this.peer.destroy();
    cb(err);
  }
}

/**
 * Two connected in-memory Duplex streams (Node 20 has no `stream.duplexPair`).
 * Backpressure is honoured both ways, half-close and destroy propagate, chunks are passed by
 * reference (no copies). Used where an API wants a socket but the bytes stay in-process, e.g.
 * handing an HTTP request to the tunnel while `http.request` talks to the other end.
 */
export function duplexPair(opts: Omit<DuplexOptions, 'read' | 'write' | 'final' | 'destroy'> = {}): [Duplex, Duplex] {
  const o: DuplexOptions = { allowHalfOpen: true, ...opts };
  const a = new PairEnd(o);
  const b = new PairEnd(o);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
