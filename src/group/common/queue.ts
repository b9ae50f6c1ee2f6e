/**
 * The generation's queue of URL tests: at most `limit` run at once, the rest wait in order. So
 * 2,000 proxies in 50 checking groups never open 2,000 test connections in one tick: checks are
 * staggered by the queue, whatever their timers say.
 */
export class ProbeQueue {
  readonly limit: number;
  #running = 0;
  #peak = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit = 16) {
    this.limit = Math.max(1, limit);
  }

  /** the most tests that ran at once so far */
  get peak(): number {
    return this.#peak;
  }

  /** Runs `job` once a slot is free; resolves or rejects as it does. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    if (this.#running > this.#peak) this.#peak = this.#running;
    try {
      return await job();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
