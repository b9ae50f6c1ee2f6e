/** Options of a {@link SaltFilter}. */
export interface SaltFilterOptions {
  /** how long a salt is remembered at least (SIP022 asks for 60 s) */
  readonly ttlMs?: number;
  /** salts per generation; past it the generations rotate early (bounds memory) */
  readonly maxPerGeneration?: number;
  /** clock, for tests */
  readonly now?: () => number;
}

/**
 * Remembers the salts of recent TCP sessions so a replayed request is refused. Two exact sets
 * (no false positives, as SIP022 requires, unlike the Bloom filters of older servers) swap
 * every `ttlMs`: a salt lives between one and two periods. Memory is bounded by
 * `maxPerGeneration`: a flood of new salts rotates early, which shortens how long they are
 * remembered but never refuses a fresh one.
 */
export class SaltFilter {
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  #current = new Set<string>();
  #previous = new Set<string>();
  #rotatedAt: number;

  constructor(opts: SaltFilterOptions = {}) {
    this.#ttl = opts.ttlMs ?? 60_000;
    this.#max = opts.maxPerGeneration ?? 100_000;
    this.#now = opts.now ?? Date.now;
    this.#rotatedAt = this.#now();
  }

  /** Records `salt`; false when it was seen recently (a replay). */
  add(salt: Buffer): boolean {
    const now = this.#now();
    if (now - this.#rotatedAt >= this.#ttl || this.#current.size >= this.#max) {
      this.#previous = now - this.#rotatedAt >= 2 * this.#ttl ? new Set() : this.#current;
      this.#current = new Set();
      this.#rotatedAt = now;
    }
    const key = salt.toString('base64');
    if (this.#current.has(key) || this.#previous.has(key)) return false;
    this.#current.add(key);
    return true;
  }

  /** salts remembered (tests) */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}

const WINDOW = 2048;
const WORDS = WINDOW / 32;

/**
 * SIP022's sliding-window filter for UDP packet ids: accepts each id once, and refuses ids
 * more than 2048 behind the newest seen. `check` first, `add` once the packet authenticated.
 */
export class SlidingWindow {
  #last = -1;
  readonly #bits = new Uint32Array(WORDS);

  /** Whether `id` is new and within the window. */
  check(id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 0) return false;
    if (id > this.#last) return true;
    if (this.#last - id >= WINDOW) return false;
    const slot = id % WINDOW;
    return (this.#bits[slot >>> 5] & (1 << (slot & 31))) === 0;
  }

  /** Marks `id` seen (after `check` passed). */
  add(id: number): void {
    if (id > this.#last) {
      const gap = id - this.#last;
      if (gap >= WINDOW) this.#bits.fill(0);
      else for (let k = this.#last + 1; k < id; k++) this.#clear(k % WINDOW);
      this.#last = id;
      this.#clear(id % WINDOW);
    }
    const slot = id % WINDOW;
    this.#bits[slot >>> 5] |= 1 << (slot & 31);
  }

  #clear(slot: number): void {
    this.#bits[slot >>> 5] &= ~(1 << (slot & 31));
  }
}
