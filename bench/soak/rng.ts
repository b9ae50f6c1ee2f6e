/** The soak's seeded randomness: every size, interval and payload byte follows from `--seed`. */

/** mulberry32: a small, fast 32-bit generator; the same seed gives the same sequence. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** an integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** a child generator (one per tunnel, flow…), so adding one does not shift the others */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
  /** `n` bytes from this generator */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(this.next() * 4294967296), i);
    for (; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}
