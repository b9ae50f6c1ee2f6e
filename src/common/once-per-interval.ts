/** A limit that is hit logs at most once per this interval, with how often it was hit. */
export const LIMIT_LOG_INTERVAL_MS = 10_000;

/**
 * Rate-limits one log line: the first hit logs at once, later hits within the interval are only
 * counted, and the next line after the interval says how many there were. A flood of refused
 * connections thus costs one line per interval, never one per connection.
 */
export class OncePerInterval {
  #last = Number.NEGATIVE_INFINITY;
  #count = 0;

  constructor(
    readonly intervalMs: number,
    readonly emit: (hits: number) => void,
    readonly now: () => number = () => performance.now(),
  ) {}

  hit(): void {
    this.#count++;
    const t = this.now();
    if (t - this.#last < this.intervalMs) return;
    this.#last = t;
    const n = this.#count;
    this.#count = 0;
    this.emit(n);
  }
}
