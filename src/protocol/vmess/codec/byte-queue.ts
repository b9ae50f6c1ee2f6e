/**
 * Bytes received but not yet decoded, kept as the buffers they arrived in: views are handed out
 * when a request sits inside one buffer, and bytes are copied only when it spans several.
 */
export class ByteQueue {
  readonly #bufs: Buffer[] = [];
  #length = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.#bufs.push(b);
    this.#length += b.length;
  }

  /** Removes and returns the next `n` bytes (n ≤ length). */
  take(n: number): Buffer {
    if (n > this.#length) throw new RangeError(`take(${n}) with ${this.#length} queued`);
    this.#length -= n;
    const first = this.#bufs[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.#bufs.shift();
      else this.#bufs[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const b = this.#bufs[0];
      const k = Math.min(b.length, n - at);
      b.copy(out, at, 0, k);
      at += k;
      if (k === b.length) this.#bufs.shift();
      else this.#bufs[0] = b.subarray(k);
    }
    return out;
  }

  /** Everything queued as one buffer, without consuming it (joins the parts once). */
  peekAll(): Buffer {
    if (this.#bufs.length > 1) {
      const all = Buffer.concat(this.#bufs, this.#length);
      this.#bufs.length = 0;
      this.#bufs.push(all);
    }
    return this.#bufs[0] ?? Buffer.alloc(0);
  }

  /** Takes everything queued. */
  takeAll(): Buffer {
    return this.take(this.#length);
  }
}
