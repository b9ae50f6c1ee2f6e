/**
 * mihomo's sniff-failure list: destinations (IP:port) whose sniffing failed, counted, so that a
 * destination that failed more than five times in a row is not sniffed again for a while (a
 * server-first protocol must not wait for bytes that never come on every connection). An LRU
 * of 128 entries, each forgotten 10 minutes after its last failure.
 */
export class SkipCache {
  readonly #max: number;
  readonly #ageMs: number;
  readonly #entries = new Map<string, { count: number; at: number }>();

  constructor(max = 128, ageMs = 600_000) {
    this.#max = max;
    this.#ageMs = ageMs;
  }

  /** failures recorded for `key` (0 once expired) */
  count(key: string, now = Date.now()): number {
    const e = this.#entries.get(key);
    if (!e) return 0;
    if (now - e.at > this.#ageMs) {
      this.#entries.delete(key);
      return 0;
    }
    return e.count;
  }

  /** one more failure (the count stops at 6: enough to skip) */
  fail(key: string, now = Date.now()): void {
    const count = Math.min(this.count(key, now) + 1, 6);
    this.#entries.delete(key);
    this.#entries.set(key, { count, at: now });
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
