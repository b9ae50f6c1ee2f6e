/** Tuning of the demand estimate; every field has a default (see DEMAND_DEFAULTS). */
export interface DemandTuning {
  /** length of one counting window (ms) */
  readonly windowMs: number;
  /** EWMA weight of the newest window (0..1]: higher follows faster, lower smooths more */
  readonly alpha: number;
  /** with no arrival for this long the pool holds nothing, whatever `min` says (ms) */
  readonly idleAfterMs: number;
  /** handshake time assumed before the first one is measured (ms) */
  readonly initialHandshakeMs: number;
}

/** Defaults: 1 s windows, alpha 0.3 (about 3 s memory), idle after 60 s, 300 ms handshake. */
export const DEMAND_DEFAULTS: DemandTuning = { windowMs: 1000, alpha: 0.3, idleAfterMs: 60_000, initialHandshakeMs: 300 };

/**
 * Estimates one pool's arrival rate of new connections and turns it into a target size.
 *
 * Arrivals are counted in fixed windows; each closed window feeds an EWMA of the rate. A burst
 * (the open window already running well above the average) is taken at once instead of waiting
 * for the EWMA to catch up, so a load step fills the pool within one window; falling demand
 * decays through the EWMA, so the pool shrinks smoothly. The target covers the arrivals expected
 * while one replacement handshake runs, plus three standard deviations of a Poisson count, so
 * ordinary jitter in arrivals does not empty the pool (the >= 99.8% hit goal).
 */
export class DemandEstimator {
  readonly #t: DemandTuning;
  #windowStart: number;
  #count = 0;
  #ewma = 0;
  #lastArrival = Number.NEGATIVE_INFINITY;
  #handshakeMs: number | undefined;

  constructor(now: number, tuning: Partial<DemandTuning> = {}) {
    this.#t = { ...DEMAND_DEFAULTS, ...tuning };
    this.#windowStart = now;
  }

  /** Records one new connection wanted at `now`. */
  arrive(now: number): void {
    this.#roll(now);
    this.#count++;
    this.#lastArrival = now;
  }

  /** Records one measured dial + TLS handshake time; smoothed, so one slow dial does not dominate. */
  handshake(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#handshakeMs = this.#handshakeMs === undefined ? ms : 0.7 * this.#handshakeMs + 0.3 * ms;
  }

  /** The smoothed handshake time (ms), or the assumed one before any measurement. */
  handshakeMs(): number {
    return this.#handshakeMs ?? this.#t.initialHandshakeMs;
  }

  /** The estimated arrival rate (per second) at `now`, burst-aware. */
  rate(now: number): number {
    this.#roll(now);
    const elapsed = Math.max(now - this.#windowStart, this.#t.windowMs / 4);
    const current = (this.#count * 1000) / elapsed;
    // a burst: enough arrivals in the open window, at over twice the average rate
    const burst = this.#count >= 3 && current > 2 * this.#ewma;
    return burst ? current : this.#ewma;
  }

  /** Whether nothing arrived for `idleAfterMs` (the pool should then hold nothing). */
  idle(now: number): boolean {
    return now - this.#lastArrival >= this.#t.idleAfterMs;
  }

  /** How many warm connections to hold at `now`, clamped to [min, max]; 0 when idle. */
  target(now: number, min: number, max: number): number {
    if (this.idle(now) || max <= 0) return 0;
    const expected = (this.rate(now) * this.handshakeMs()) / 1000;
    const want = expected > 0 ? Math.ceil(expected + 3 * Math.sqrt(expected)) : 0;
    return Math.min(max, Math.max(min, want));
  }

  /** Closes the windows that ended before `now` into the EWMA (empty ones count as zero). */
  #roll(now: number): void {
    const w = this.#t.windowMs;
    if (now - this.#windowStart < w) return;
    const closed = Math.floor((now - this.#windowStart) / w);
    const a = this.#t.alpha;
    this.#ewma = a * ((this.#count * 1000) / w) + (1 - a) * this.#ewma;
    // the further empty windows decay the average geometrically (bounded: no loop per window)
    if (closed > 1) this.#ewma *= Math.pow(1 - a, Math.min(closed - 1, 1000));
    if (this.#ewma < 1e-3) this.#ewma = 0;
    this.#count = 0;
    this.#windowStart += closed * w;
  }
}
