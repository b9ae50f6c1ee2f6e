import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DemandEstimator } from './warm-demand.js';

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
  d.handshake(300);
  const end = feed(d, 0, 20, 20);
  const rate = d.rate(end);
  assert.ok(rate > 18 && rate < 22, `rate ${rate}`);
  // 20/s * 0.3 s = 6 expected; + 3 sqrt(6) = 13.3 → 14, clamped by max
  assert.equal(d.target(end, 0, 64), 14);
  assert.equal(d.target(end, 0, 8), 8);
  assert.equal(d.target(end, 16, 64), 16);
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
  d.handshake(500);
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
  d.handshake(100);
  d.handshake(Number.NaN);
  d.handshake(-5);
  assert.equal(d.handshakeMs(), 100);
  d.handshake(200);
  assert.ok(Math.abs(d.handshakeMs() - 130) < 1e-9);
});

test('a very long gap decays in O(1) (no loop per empty window)', () => {
  const d = new DemandEstimator(0);
  feed(d, 0, 100, 5);
  const t0 = performance.now();
  assert.equal(d.rate(1e15), 0);
  assert.ok(performance.now() - t0 < 50);
});
