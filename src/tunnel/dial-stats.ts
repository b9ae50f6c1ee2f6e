import { Histogram } from '../common/histogram.js';
import type { DialStatsView } from '../core/control-plane.js';

/** Dial latency buckets (seconds): loopback dials take well under a millisecond, remote handshakes seconds. */
export const DIAL_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** proxies counted one by one; dials through any other are counted as `other` */
export const MAX_DIAL_SERIES = 50;
export const OTHER = 'other';

interface Entry {
  readonly latency: Histogram;
  failures: number;
}

/**
 * How long the tunnel's dials took, per leaf proxy (the outbound that dialed), and how many
 * failed. The label set is bounded: the first MAX_DIAL_SERIES names seen keep their own series,
 * later ones share `other`, so a config with thousands of proxies cannot grow a scrape.
 */
export class DialStats {
  readonly #byName = new Map<string, Entry>();

  #entry(name: string): Entry {
    let e = this.#byName.get(name);
    if (e) return e;
    const key = this.#byName.size < MAX_DIAL_SERIES ? name : OTHER;
    e = this.#byName.get(key);
    if (!e) {
      e = { latency: new Histogram(DIAL_BUCKETS), failures: 0 };
      this.#byName.set(key, e);
    }
    return e;
  }

  /** a dial through `proxy` that connected after `ms` milliseconds */
  dialed(proxy: string, ms: number): void {
    this.#entry(proxy).latency.observe(ms / 1000);
  }

  /** a dial through `proxy` that failed (the client leaving first is not a failure) */
  failed(proxy: string): void {
    this.#entry(proxy).failures++;
  }

  views(): DialStatsView[] {
    return [...this.#byName].map(([proxy, e]) => ({ proxy, bounds: e.latency.bounds, cumulative: e.latency.cumulative(), sum: e.latency.sum, count: e.latency.count, failures: e.failures }));
  }
}
