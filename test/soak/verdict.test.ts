/** The soak's verdict on made-up series: the slope and its spread, and each leak check failing when it should. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sample } from '../../bench/soak/sampler.js';
import { judge, leastSquares, MIN_SLOPE_MINUTES, WARMUP_MINUTES } from '../../bench/soak/verdict.js';

function sample(t: number, phase: Sample['phase'], over: Partial<Sample> = {}): Sample {
  return {
    t, phase, rssMB: 100, fds: 40, processes: 1, heapUsedMB: 20, heapTotalMB: 30, externalMB: 5, arrayBuffersMB: 2, handles: 16, timers: 3,
    tracker: 0, poolSize: 0, poolHits: 0, poolMisses: 0, poolWasted: 0, loopP50ms: 1, loopP99ms: 2, loopMaxms: 3, gcCount: 0, gcMaxms: 0, ...over,
  };
}

/** minutes of load sampled every 10 s, RSS = 100 + slopeMBh·hours (+ a wobble) */
function run(minutes: number, slopeMBh: number, end: Partial<Sample> = {}): Sample[] {
  const s = [sample(0, 'start')];
  for (let t = 10; t <= minutes * 60; t += 10) s.push(sample(t, 'load', { rssMB: 100 + (slopeMBh * t) / 3600 + (t % 20 === 0 ? 0.3 : -0.3), tracker: 500 }));
  s.push(sample(minutes * 60 + 70, 'end', end));
  return s;
}

test('least squares: slope and standard error of a known line', () => {
  const xs = [0, 1, 2, 3, 4];
  const exact = leastSquares(xs, xs.map((x) => 2 + 3 * x));
  assert.ok(Math.abs(exact.slope - 3) < 1e-12 && Math.abs(exact.intercept - 2) < 1e-12 && exact.stderr < 1e-12);
  const noisy = leastSquares(xs, [2, 5.5, 7.5, 11.5, 13.5]);
  // by hand: slope 29/10 = 2.9, intercept 2.2, residuals -0.2, 0.4, -0.5, 0.6, -0.3 → SSR 0.9; stderr = sqrt(0.9 / 3 / 10)
  assert.ok(Math.abs(noisy.slope - 2.9) < 1e-9, String(noisy.slope));
  assert.ok(Math.abs(noisy.stderr - Math.sqrt(0.9 / 30)) < 1e-9, String(noisy.stderr));
});

test('a long clean run passes; growth above 1 MB/h fails; a short run is not judged', () => {
  const minutes = WARMUP_MINUTES + MIN_SLOPE_MINUTES + 5;
  const ok = judge(run(minutes, 0.2), {}, 0, 1000);
  assert.equal(ok.checks[0].result, 'pass', ok.checks[0].value);
  assert.ok(Math.abs(ok.rssFit.slope - 0.2) < 0.2, String(ok.rssFit.slope));
  assert.ok(ok.leaksOk);
  const leaky = judge(run(minutes, 5), {}, 0, 1000);
  assert.equal(leaky.checks[0].result, 'fail');
  assert.ok(Math.abs(leaky.rssFit.slope - 5) < 0.3, String(leaky.rssFit.slope));
  const short = judge(run(2, 50), {}, 0, 1000);
  assert.equal(short.checks[0].result, 'not judged');
  assert.match(short.checks[0].note ?? '', /not meaningful below 60 min/);
  assert.ok(short.leaksOk, 'growth is no leak check');
});

test('each leak check fails on its own', () => {
  const bad = (end: Partial<Sample>, errors: Record<string, number> = {}, corrupted = 0, verified = 1000) => {
    const v = judge(run(2, 0), errors, corrupted, verified);
    const v2 = judge(run(2, 0, end), errors, corrupted, verified);
    return { clean: v.leaksOk, failed: v2.checks.filter((c) => c.result === 'fail').map((c) => c.name), leaksOk: v2.leaksOk };
  };
  assert.deepEqual(bad({ fds: 43 }).failed, ['open fds, end (load stopped, settled) vs start']);
  assert.equal(bad({ fds: 42 }).leaksOk, true, '±2 is within the goal');
  assert.deepEqual(bad({ handles: 13 }).failed, ['active handles (libuv, timers excluded), end vs start']);
  assert.deepEqual(bad({ tracker: 1 }).failed, ['tracker entries after the load stopped']);
  assert.deepEqual(bad({}, {}, 1).failed, ['bytes corrupted']);
  assert.deepEqual(bad({}, { 'tunnel ss: ECONNRESET': 1 }).failed, ['load errors (every kind counts as unexplained)']);
  assert.deepEqual(bad({}, {}, 0, 0).failed, ['bytes verified end to end']);
  for (const end of [{ fds: 43 }, { handles: 13 }, { tracker: 1 }]) assert.equal(bad(end).leaksOk, false);
  const loop = judge(run(2, 0).map((s) => (s.phase === 'load' ? { ...s, loopP99ms: 9 } : s)), {}, 0, 1);
  assert.equal(loop.checks.find((c) => c.name.startsWith('event-loop'))?.result, 'fail');
  assert.ok(loop.leaksOk, 'loop delay is judged, but is no leak');
});
