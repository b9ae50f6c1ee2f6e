import { aged, minAnswerTtl, negativeTtl, RCODE, rcodeOf, type Message, type Question } from './wire.js';

/** Longest a record stays, whatever its TTL says (as resolvers cap it). */
const MAX_TTL_S = 7 * 24 * 3600;

interface Entry {
  readonly msg: Message;
  /** ms since the epoch */
  readonly stored: number;
  readonly expires: number;
}

/** The cache key of a question: name (case-folded), type, class. */
export function cacheKey(q: Question): string {
  const n = q.name.toLowerCase();
  return `${n.endsWith('.') ? n.slice(0, -1) : n}|${q.type}|${q.class ?? 'IN'}`;
}

/**
 * How long a reply may be kept, in seconds, or 0 when it must not be: a positive answer by
 * its smallest TTL, a negative one (NXDOMAIN, or NOERROR without records) by its SOA as RFC
 * 2308 says (no SOA: not cached), a failure never.
 */
export function cacheTtl(m: Message): number {
  const rc = rcodeOf(m);
  if (rc === RCODE.NOERROR && m.answers.length > 0) return Math.min(MAX_TTL_S, minAnswerTtl(m) ?? 0);
  if (rc === RCODE.NXDOMAIN || rc === RCODE.NOERROR) return Math.min(MAX_TTL_S, negativeTtl(m) ?? 0);
  return 0;
}

/**
 * The DNS answer cache (mihomo's lru cache): whole replies by question, bounded in entries,
 * the least recently used dropped first; an entry is handed out with its TTLs aged by the
 * time it has been kept, and never after it expired (no stale answers, no prefetch).
 */
export class MessageCache {
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  #hits = 0;
  #misses = 0;

  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** The live reply to `q` (TTLs aged), or undefined. */
  get(q: Question, now = Date.now()): Message | undefined {
    const key = cacheKey(q);
    const e = this.#entries.get(key);
    if (!e) {
      this.#misses++;
      return undefined;
    }
    this.#entries.delete(key);
    if (e.expires <= now) {
      this.#misses++;
      return undefined;
    }
    this.#entries.set(key, e);
    this.#hits++;
    return aged(e.msg, Math.floor((now - e.stored) / 1000));
  }

  /** When `q`'s entry expires (ms since the epoch), for logs. */
  expiry(q: Question): number | undefined {
    return this.#entries.get(cacheKey(q))?.expires;
  }

  /** Keeps `m` as the reply to `q` for its cache TTL (nothing when that is 0). */
  set(q: Question, m: Message, now = Date.now()): void {
    const ttl = cacheTtl(m);
    if (ttl <= 0) return;
    const key = cacheKey(q);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    const msg: Message = { ...m, additionals: m.additionals.filter((a) => a.type !== 'OPT') };
    this.#entries.set(key, { msg, stored: now, expires: now + ttl * 1000 });
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  clear(): void {
    this.#entries.clear();
  }
}
