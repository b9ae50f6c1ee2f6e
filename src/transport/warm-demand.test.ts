import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DemandEstimator, poissonCdf, poissonQuantile } from './warm-demand.js';

/** Feeds `perSec` evenly spaced arrivals for `secs` seconds starting at `t0`; returns the end time. */
function feed(d: DemandEstimator, t0: number, perSec: number, secs: number): number {
  const n = Math.round(perSec * secs);
  for (let k = 0; k < n; k++) d.arrive(t0 + (k * 1000) / perSec);
  return t0 + secs * 1000;
}

test('no arrivals ever: target 0 even with min > 0', () => {
  const d = new DemandEstimator(0);
  assert.equal(d.target(5000, 2, 8), 0);
});

test('steady rate converges; target covers arrivals during one handshake with headroom', () => {
  const d = new DemandEstimator(0);
  d.handshake(300, 0);
  const end = feed(d, 0, 20, 20);
  const rate = d.rate(end);
  assert.ok(rate > 18 && rate < 22, `rate ${rate}`);
  // 20/s * 0.3 s = 6 expected; Poisson(6) exceeds 17 with probability < 1e-4 (16: 2.1e-4)
  assert.equal(d.target(end, 0, 64), 17);
  assert.equal(d.target(end, 0, 8), 8);
  assert.equal(d.target(end, 20, 64), 20);
});

test('a burst is followed within one window, before the EWMA catches up', () => {
  const d = new DemandEstimator(0);
  const t = feed(d, 0, 1, 10);
  const before = d.rate(t);
  for (let k = 0; k < 50; k++) d.arrive(t + k * 5); // 200/s for 250 ms
  const during = d.rate(t + 250);
  assert.ok(during > 100, `burst rate ${during} (before ${before})`);
});

test('falling demand shrinks the target; a long idle holds nothing', () => {
  const d = new DemandEstimator(0, { idleAfterMs: 30_000 });
  d.handshake(500, 0);
  let t = feed(d, 0, 50, 10);
  const high = d.target(t, 1, 100);
  t = feed(d, t, 1, 10);
  const low = d.target(t, 1, 100);
  assert.ok(low < high, `${low} < ${high}`);
  assert.ok(low >= 1);
  assert.equal(d.target(t + 28_000, 1, 100) >= 1, true, 'still within the idle window: min held');
  assert.equal(d.target(t + 31_000, 1, 100), 0);
});

test('handshake time is smoothed and ignores garbage', () => {
  const d = new DemandEstimator(0, { initialHandshakeMs: 250 });
  assert.equal(d.handshakeMs(), 250);
  d.handshake(100, 0);
  d.handshake(Number.NaN, 0);
  d.handshake(-5, 0);
  assert.equal(d.handshakeMs(), 100);
  d.handshake(200, 0);
  assert.ok(Math.abs(d.handshakeMs() - 130) < 1e-9);
});

test('a very long gap decays in O(1) (no loop per empty window)', () => {
  const d = new DemandEstimator(0);
  feed(d, 0, 100, 5);
  const t0 = performance.now();
  assert.equal(d.rate(1e15), 0);
  assert.ok(performance.now() - t0 < 50);
});

test('a start from silence is followed within one window, not at the EWMA pace', () => {
  const d = new DemandEstimator(0);
  d.handshake(100, 0);
  const t = feed(d, 0, 100, 1.5);
  // the EWMA alone would say 30/s after one closed window
  const rate = d.rate(t);
  assert.ok(rate >= 90, `rate ${rate}`);
  assert.ok(d.target(t, 0, 1000) >= 20, `target ${d.target(t, 0, 1000)}`);
});

test('a slow handshake sizes the pool for the peak hold, then ages out', () => {
  const d = new DemandEstimator(0, { peakHoldMs: 10_000 });
  let t = 0;
  for (let s = 0; s < 10; s++) {
    t = feed(d, t, 100, 1);
    d.handshake(100, t);
  }
  // 100/s x 0.1 s = 10 expected: Poisson(10) exceeds 24 with probability < 1e-4
  assert.equal(d.target(t, 0, 1000), 24);
  d.handshake(600, t);
  // smoothed: 0.7 x 100 + 0.3 x 600 = 250, but the peak (600) sizes: 60 expected -> 91
  assert.equal(d.handshakeMs(), 250);
  assert.equal(d.target(t, 0, 1000), 91);
  for (let s = 0; s < 12; s++) {
    t = feed(d, t, 100, 1);
    d.handshake(100, t);
  }
  assert.equal(d.target(t, 0, 1000), 24, 'peak forgotten after the hold');
});

test('no more is held than arrives within one max-idle (it would expire unused); min still holds', () => {
  // 4 s windows, no smoothing: one arrival every 2 s reads as exactly 0.5/s
  const d = new DemandEstimator(0, { alpha: 1, windowMs: 4000 });
  d.handshake(2000, 0);
  for (let k = 0; k < 10; k++) d.arrive(k * 2000);
  const t = 20_001;
  // covering a 2 s handshake at 0.5/s: 1 expected, Poisson(1) exceeds 6 with probability < 1e-4
  assert.equal(d.target(t, 0, 100), 6, 'no max-idle given: uncapped');
  assert.equal(d.target(t, 0, 100, 3000), 1, '1.5 arrivals per 3 s: 1');
  assert.equal(d.target(t, 0, 100, 1000), 0, '0.5 arrivals per 1 s: none');
  assert.equal(d.target(t, 2, 100, 1000), 2, 'min wins');
});

test('poissonQuantile: the smallest count exceeded with probability at most the tail', () => {
  // independent check by summing the pmf with factorials
  const tailAbove = (mean: number, k: number): number => {
    let cdf = 0;
    let logFact = 0;
    for (let i = 0; i <= k; i++) {
      if (i > 0) logFact += Math.log(i);
      cdf += Math.exp(-mean + i * Math.log(mean) - logFact);
    }
    return 1 - cdf;
  };
  for (const mean of [0.3, 1, 2.5, 6, 10, 40, 120]) {
    const k = poissonQuantile(mean, 1e-4);
    assert.ok(tailAbove(mean, k) <= 1e-4, `mean ${mean}: P(N > ${k}) = ${tailAbove(mean, k)}`);
    assert.ok(tailAbove(mean, k - 1) > 1e-4, `mean ${mean}: ${k - 1} would do`);
  }
  assert.equal(poissonQuantile(0, 1e-4), 0);
  assert.equal(poissonQuantile(Number.NaN, 1e-4), 0);
  // above the exact range: the normal approximation, still above the mean
  assert.ok(poissonQuantile(1000, 1e-4) > 1100);
});

test('a stopped load stops the target within one window; Poisson jitter does not', () => {
  const d = new DemandEstimator(0);
  d.handshake(300, 0);
  let t = feed(d, 0, 200, 10);
  assert.ok(d.target(t, 0, 1000) > 60);
  // one empty window after 200/s: no Poisson jitter explains it
  t += 1000;
  assert.equal(d.rate(t + 1), 0);
  assert.equal(d.target(t + 1, 0, 1000), 0);
  // at 20/s a window of 12 is ordinary jitter (P(N <= 12) = 0.04): the EWMA just moves
  const e = new DemandEstimator(0);
  const u = feed(e, 0, 20, 10);
  for (let k = 0; k < 12; k++) e.arrive(u + k * 80);
  const r = e.rate(u + 1000);
  assert.ok(r > 15 && r < 20, `rate ${r}`);
});

test('poissonCdf: exact sums and the normal approximation agree with direct sums', () => {
  const direct = (k: number, mean: number): number => {
    let cdf = 0;
    let logFact = 0;
    for (let i = 0; i <= k; i++) {
      if (i > 0) logFact += Math.log(i);
      cdf += Math.exp(-mean + i * Math.log(mean) - logFact);
    }
    return cdf;
  };
  for (const [k, mean] of [[0, 1], [3, 2.5], [12, 20], [150, 180], [250, 300], [300, 300]] as const) {
    const got = poissonCdf(k, mean);
    const want = direct(k, mean);
    // exact below a mean of 200; the normal approximation within 0.01 above
    assert.ok(Math.abs(got - want) < (mean > 200 ? 0.01 : 1e-9), `P(N <= ${k} | ${mean}) = ${got}, want ${want}`);
  }
  assert.equal(poissonCdf(5, 0), 1);
  assert.equal(poissonCdf(-1, 3), 0);
});
