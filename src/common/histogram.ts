/**
 * A fixed-bucket histogram as Prometheus reads one: cumulative counts per upper bound, a sum
 * and a count. Recording is a short scan over the bounds and three adds, no allocation.
 */
export class Histogram {
  /** upper bounds, ascending (the +Inf bucket is implied) */
  readonly bounds: readonly number[];
  /** counts per bucket, not cumulative; the last one is +Inf */
  readonly #counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.#counts[i]++;
    this.sum += v;
    this.count++;
  }

  /** Adds `n` observations of total `sum` with the given per-bucket split (`perBucket` has bounds.length + 1 entries). */
  add(perBucket: readonly number[], sum: number): void {
    let n = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      this.#counts[i] += perBucket[i] ?? 0;
      n += perBucket[i] ?? 0;
    }
    this.sum += sum;
    this.count += n;
  }

  /** cumulative counts per bound, then +Inf (= count) */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.#counts) out.push((acc += c));
    return out;
  }
}
