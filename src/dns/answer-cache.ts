/**
 * A bounded cache of DNS answers with per-entry expiry. Least recently used entries go first
 * when it is full; expired entries are dropped when next looked at. Not thread-shared state:
 * one instance per resolver.
 */
export class AnswerCache {
  readonly #max: number;
  readonly #entries = new Map<string, { readonly ips: readonly string[]; readonly expires: number }>();

  /** `max` entries at most (at least 1). */
  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** The live answer for `key`, or undefined when absent or expired. */
  get(key: string, now: number): readonly string[] | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    if (e.expires <= now) return undefined;
    // Re-insert so Map order tracks recency: the first key is always the least recently used.
    this.#entries.set(key, e);
    return e.ips;
  }

  /** Stores `ips` (possibly empty: a negative answer) for `ttlMs`. */
  set(key: string, ips: readonly string[], ttlMs: number, now: number): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { ips, expires: now + ttlMs });
  }

  /** Entries held, expired ones included until looked at. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
