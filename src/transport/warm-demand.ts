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
  /** how long a slow handshake keeps sizing the pool (ms): the target covers the slowest
   * replacement seen over about this long, not just the smoothed one */
  readonly peakHoldMs: number;
}

/** Defaults: 1 s windows, alpha 0.3 (about 3 s memory), idle after 60 s, 300 ms handshake, 10 s peak hold. */
export const DEMAND_DEFAULTS: DemandTuning = { windowMs: 1000, alpha: 0.3, idleAfterMs: 60_000, initialHandshakeMs: 300, peakHoldMs: 10_000 };

/** The chance, per replacement, that more arrivals come than the target holds. */
export const DRY_TAIL = 1e-4;

/**
 * The smallest k with P(N > k) <= tail for N ~ Poisson(mean): summed exactly up to a mean of
 * 500 (e^-500 is still a normal double), by the normal approximation above.
 */
export function poissonQuantile(mean: number, tail: number): number {
  if (!(mean > 0)) return 0;
  if (mean > 500) return Math.ceil(mean + 3.72 * Math.sqrt(mean)); // z for 1e-4; the bench never gets here
  let p = Math.exp(-mean);
  let cdf = p;
  let k = 0;
  const bound = Math.ceil(mean + 20 * Math.sqrt(mean) + 20);
  while (1 - cdf > tail && k < bound) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/** How unlikely a window's count must be under the average before the average is dropped. */
export const FALL_TAIL = 1e-3;

/**
 * P(N <= k) for N ~ Poisson(mean): summed in log space up to a mean of 200, by the normal
 * approximation (with continuity correction) above.
 */
export function poissonCdf(k: number, mean: number): number {
  if (!(mean > 0)) return 1;
  if (k < 0) return 0;
  if (mean > 200) return normalCdf((k + 0.5 - mean) / Math.sqrt(mean));
  let cdf = 0;
  let logTerm = -mean; // log P(N = 0)
  for (let i = 0; i <= k; i++) {
    if (i > 0) logTerm += Math.log(mean / i);
    cdf += Math.exp(logTerm);
    if (i > mean && Math.exp(logTerm) < 1e-17) break; // the rest adds nothing
  }
  return Math.min(1, cdf);
}

/** The standard normal CDF (Abramowitz-Stegun 7.1.26 erf; error under 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Estimates one pool's arrival rate of new connections and turns it into a target size.
 *
 * Arrivals are counted in fixed windows; each closed window feeds an EWMA of the rate. Rising
 * demand is followed at once: the rate used is the larger of the EWMA and the last closed
 * window (so a start or a step is taken within one window, not the EWMA's ~3 s), and a burst (the
 * open window already running well above the average) is taken before its window even closes.
 * Falling demand decays through the EWMA, so the pool shrinks smoothly; a fall no Poisson
 * jitter explains (a window with a count under 1e-3 likely at the average) restarts the EWMA
 * from that window, so a stopped load stops refills within one window.
 *
 * The target covers the arrivals that may come while one replacement handshake runs: the count
 * that a Poisson arrival process exceeds with probability at most 1e-4 (DRY_TAIL), so ordinary
 * jitter in arrivals does not empty the pool (the >= 99.8% hit goal). Three standard deviations
 * over the mean, the earlier rule, is too thin for the small counts of a low rate or a fast
 * handshake: at 2.5 expected it runs dry 0.4% of the time. The replacement time is the slowest handshake of the last
 * `peakHoldMs`, not the smoothed one: a stall (CPU contention, a lost SYN) delays every refill
 * at once while arrivals keep coming, and a pool sized for the average runs dry exactly then.
 * Holding more costs nothing while each connection is still taken before it expires, so the
 * target is also capped at the arrivals expected within one max-idle: more than that would only
 * expire unused (waste).
 */
export class DemandEstimator {
  readonly #t: DemandTuning;
  #windowStart: number;
  #count = 0;
  #ewma = 0;
  /** the rate of the last closed window (0 once a further window closed empty) */
  #lastWindowRate = 0;
  #lastArrival = Number.NEGATIVE_INFINITY;
  #handshakeMs: number | undefined;
  /** slowest handshake in the current and the previous half of the peak hold */
  #peakNow = 0;
  #peakBefore = 0;
  #peakSince = Number.NEGATIVE_INFINITY;

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

  /** Records one measured dial + TLS handshake time (smoothed for display; kept as a peak for sizing). */
  handshake(ms: number, now: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#handshakeMs = this.#handshakeMs === undefined ? ms : 0.7 * this.#handshakeMs + 0.3 * ms;
    this.#rollPeak(now);
    if (ms > this.#peakNow) this.#peakNow = ms;
  }

  /** The smoothed handshake time (ms), or the assumed one before any measurement. */
  handshakeMs(): number {
    return this.#handshakeMs ?? this.#t.initialHandshakeMs;
  }

  /** The time a refill is planned to take (ms): the slowest handshake of the last peak hold,
   * at least the smoothed one. */
  replacementMs(now: number): number {
    this.#rollPeak(now);
    return Math.max(this.handshakeMs(), this.#peakNow, this.#peakBefore);
  }

  /** The estimated arrival rate (per second) at `now`, burst-aware. */
  rate(now: number): number {
    this.#roll(now);
    const elapsed = Math.max(now - this.#windowStart, this.#t.windowMs / 4);
    const current = (this.#count * 1000) / elapsed;
    // a burst: enough arrivals in the open window, at over twice the average rate
    const burst = this.#count >= 3 && current > 2 * this.#ewma;
    return burst ? current : Math.max(this.#ewma, this.#lastWindowRate);
  }

  /** Whether nothing arrived for `idleAfterMs` (the pool should then hold nothing). */
  idle(now: number): boolean {
    return now - this.#lastArrival >= this.#t.idleAfterMs;
  }

  /**
   * How many warm connections to hold at `now`, clamped to [min, max]; 0 when idle. With
   * `maxIdleMs`, no more than the arrivals expected within one max-idle (beyond `min`).
   */
  target(now: number, min: number, max: number, maxIdleMs = Number.POSITIVE_INFINITY): number {
    if (this.idle(now) || max <= 0) return 0;
    const rate = this.rate(now);
    const expected = (rate * this.replacementMs(now)) / 1000;
    const cover = expected > 0 ? poissonQuantile(expected, DRY_TAIL) : 0;
    const usable = Number.isFinite(maxIdleMs) ? Math.floor((rate * maxIdleMs) / 1000) : cover;
    return Math.min(max, Math.max(min, Math.min(cover, usable)));
  }

  /** Closes the windows that ended before `now` into the EWMA (empty ones count as zero). */
  #roll(now: number): void {
    const w = this.#t.windowMs;
    if (now - this.#windowStart < w) return;
    const closed = Math.floor((now - this.#windowStart) / w);
    const a = this.#t.alpha;
    this.#lastWindowRate = closed > 1 ? 0 : (this.#count * 1000) / w;
    // a window far below the average (a Poisson count that low has under a 1e-3 chance) means
    // the load fell: start over from it instead of decaying for ~20 s while refilling for nobody
    if (poissonCdf(this.#count, (this.#ewma * w) / 1000) < FALL_TAIL) this.#ewma = (this.#count * 1000) / w;
    else this.#ewma = a * ((this.#count * 1000) / w) + (1 - a) * this.#ewma;
    // the further empty windows decay the average geometrically (bounded: no loop per window)
    if (closed > 1) {
      // the further windows were empty: as unlikely as above, or a plain decay
      if (poissonCdf(0, (this.#ewma * w) / 1000) < FALL_TAIL) this.#ewma = 0;
      else this.#ewma *= Math.pow(1 - a, Math.min(closed - 1, 1000));
    }
    if (this.#ewma < 1e-3) this.#ewma = 0;
    this.#count = 0;
    this.#windowStart += closed * w;
  }

  /** Moves the peak hold on by half-periods: the peak covers between one half and a whole hold. */
  #rollPeak(now: number): void {
    const half = this.#t.peakHoldMs / 2;
    if (now - this.#peakSince < half) return;
    this.#peakBefore = now - this.#peakSince < 2 * half ? this.#peakNow : 0;
    this.#peakNow = 0;
    this.#peakSince = now;
  }
}
