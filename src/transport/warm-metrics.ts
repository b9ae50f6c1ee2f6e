/** One pool's counters and gauges, as a metrics endpoint reads them. */
export interface WarmPoolMetrics {
  /** the pool key: server:port and the TLS options that tell pools apart */
  readonly key: string;
  /** take() calls answered with a warm connection */
  readonly hits: number;
  /** take() calls that found none (the caller dialed) */
  readonly misses: number;
  /** warm connections closed unused by the pool (expired by max-idle, or dropped on idle) */
  readonly wasted: number;
  /** warm connections the server closed (or broke) while parked; never handed out */
  readonly dropped: number;
  /** parked now */
  readonly size: number;
  /** handshakes under way now */
  readonly pending: number;
  /** the size the predictor aims at now */
  readonly target: number;
  /** estimated arrivals of new connections per second */
  readonly ratePerSec: number;
  /** smoothed dial + TLS handshake time (ms) */
  readonly handshakeMs: number;
  /** the refill time the target is sized for: the slowest recent handshake (ms) */
  readonly replacementMs: number;
  /** consecutive failed handshakes (0 when the server answers) */
  readonly failures: number;
  /** how long until the next attempt while backing off (ms; 0 when not) */
  readonly backoffMs: number;
}

/** The gauges a pool computes at snapshot time. */
export type WarmPoolGauges = Omit<WarmPoolMetrics, 'key' | 'hits' | 'misses' | 'wasted' | 'dropped'>;

/** The mutable counters of one pool; `snapshot` copies them with the gauges. */
export class WarmMetricsCounter {
  readonly key: string;
  hits = 0;
  misses = 0;
  wasted = 0;
  dropped = 0;

  constructor(key: string) {
    this.key = key;
  }

  /** A frozen copy: readers never see later changes. */
  snapshot(g: WarmPoolGauges): WarmPoolMetrics {
    return Object.freeze({ key: this.key, hits: this.hits, misses: this.misses, wasted: this.wasted, dropped: this.dropped, ...g });
  }
}
