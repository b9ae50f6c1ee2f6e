const EMPTY = Buffer.alloc(0);

/**
 * Received bytes not yet decoded, as the buffers they arrived in plus a cursor. Taking bytes
 * that lie within one buffer returns a view; only a span crossing buffers is copied, so a
 * decoder never concatenates whole reads.
 */
export class ByteQueue {
  #bufs: Buffer[] = [];
  /** index of the first live buffer in #bufs */
  #head = 0;
  /** bytes of #bufs[#head] already taken */
  #offset = 0;
  /** bytes available */
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.#bufs.push(b);
    this.length += b.length;
  }

  /** The byte `i` positions ahead, without taking it (i < length). */
  peekByte(i: number): number {
    let at = this.#offset + i;
    for (let k = this.#head; ; k++) {
      const b = this.#bufs[k];
      if (at < b.length) return b[at];
      at -= b.length;
    }
  }

  /** Takes `n` bytes (n <= length): a view when they lie in one buffer, else a copy. */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.#bufs[this.#head];
    if (first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const b = this.#bufs[this.#head];
      const m = Math.min(n - filled, b.length - this.#offset);
      b.copy(out, filled, this.#offset, this.#offset + m);
      filled += m;
      this.#advance(m);
    }
    return out;
  }

  /** Takes `n` bytes (n <= length) as views appended to `out`: no copy at all. */
  takeViews(n: number, out: Buffer[]): void {
    while (n > 0) {
      const b = this.#bufs[this.#head];
      const m = Math.min(n, b.length - this.#offset);
      out.push(b.subarray(this.#offset, this.#offset + m));
      n -= m;
      this.#advance(m);
    }
  }

  /** Takes everything left (views). */
  drain(out: Buffer[]): void {
    this.takeViews(this.length, out);
  }

  #advance(n: number): void {
    this.length -= n;
    this.#offset += n;
    if (this.#offset < this.#bufs[this.#head].length) return;
    this.#offset = 0;
    this.#head++;
    if (this.#head === this.#bufs.length) {
      this.#bufs.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64) {
      this.#bufs = this.#bufs.slice(this.#head);
      this.#head = 0;
    }
  }
}
