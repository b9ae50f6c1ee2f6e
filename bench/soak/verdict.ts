/**
 * The soak's verdict: RSS growth after the warm-up as a least-squares slope with its standard
 * error, and the leak checks (tracker empty, fds and handles back to the start, nothing
 * corrupted, no errors) against the goals of issue 16.
 */
import type { Sample } from './sampler.js';

/** Minutes of load before RSS samples count for the slope. */
export const WARMUP_MINUTES = 10;
/** Below this many minutes of post-warm-up samples the slope is reported but not judged. */
export const MIN_SLOPE_MINUTES = 60;

export const GOALS = {
  growthMBh: 1,
  fdsTolerance: 2,
  handlesTolerance: 2,
  loopP99ms: 5,
} as const;

/** A least-squares line y = a + b·x and the standard error of b. */
export interface Fit {
  readonly n: number;
  readonly slope: number;
  readonly stderr: number;
  readonly intercept: number;
}

export function leastSquares(xs: readonly number[], ys: readonly number[]): Fit {
  const n = xs.length;
  if (n < 3) return { n, slope: Number.NaN, stderr: Number.NaN, intercept: Number.NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssr = 0;
  for (let i = 0; i < n; i++) ssr += (ys[i] - intercept - slope * xs[i]) ** 2;
  return { n, slope, intercept, stderr: Math.sqrt(ssr / (n - 2) / sxx) };
}

/** One line of the verdict table. */
export interface Check {
  readonly name: string;
  readonly value: string;
  readonly goal: string;
  /** pass / fail, or 'not judged' (e.g. a slope over too short a run) */
  readonly result: 'pass' | 'fail' | 'not judged';
  /** whether the 2-minute CI soak fails on it (leaks, corruption, errors) */
  readonly leak: boolean;
  readonly note?: string;
}

export interface Verdict {
  readonly checks: readonly Check[];
  readonly rssFit: Fit;
  /** minutes of samples the slope is fitted over */
  readonly slopeMinutes: number;
  /** every leak check passed */
  readonly leaksOk: boolean;
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');

/** Judges a run's samples; `errors` are the load's errors by kind at the end. */
export function judge(samples: readonly Sample[], errors: Readonly<Record<string, number>>, corrupted: number, verified: number): Verdict {
  const start = samples.find((s) => s.phase === 'start');
  const end = [...samples].reverse().find((s) => s.phase === 'end');
  const load = samples.filter((s) => s.phase === 'load');
  const warm = load.filter((s) => s.t >= WARMUP_MINUTES * 60);
  // a run shorter than the warm-up: its second half, fitted for information only
  const lastT = load.length ? load[load.length - 1].t : 0;
  const early = warm.length < 3;
  const after = early ? load.filter((s) => s.t >= lastT / 2) : warm;
  const fit = leastSquares(after.map((s) => s.t / 3600), after.map((s) => s.rssMB));
  const slopeMinutes = after.length > 1 ? (after[after.length - 1].t - after[0].t) / 60 : 0;
  const checks: Check[] = [];
  const judged = slopeMinutes >= MIN_SLOPE_MINUTES;
  checks.push({
    name: `RSS growth after the first ${WARMUP_MINUTES} min (least-squares slope ± standard error)`,
    value: fit.n >= 3
      ? `${f2(fit.slope)} ± ${f2(fit.stderr)} MB/h over ${f1(slopeMinutes)} min (${fit.n} samples${early ? `, from minute ${f1(after[0].t / 60)}: the run is shorter than the warm-up` : ''})`
      : `${fit.n} samples: no slope`,
    goal: `<= ${GOALS.growthMBh} MB/h`,
    result: judged && !early ? (fit.slope <= GOALS.growthMBh ? 'pass' : 'fail') : 'not judged',
    leak: false,
    note: judged && !early ? undefined : `not meaningful below ${MIN_SLOPE_MINUTES} min of samples after the first ${WARMUP_MINUTES} min (this run: ${early ? 0 : f1(slopeMinutes)} min)`,
  });
  if (start && end) {
    const dFd = end.fds - start.fds;
    checks.push({
      name: 'open fds, end (load stopped, settled) vs start',
      value: `${start.fds} → ${end.fds} (${dFd >= 0 ? '+' : ''}${dFd})`,
      goal: `±${GOALS.fdsTolerance}`,
      result: Math.abs(dFd) <= GOALS.fdsTolerance ? 'pass' : 'fail',
      leak: true,
      note: end.poolSize > 0 ? `${end.poolSize} warm-pool connections still parked at the end` : undefined,
    });
    const dH = end.handles - start.handles;
    checks.push({
      name: 'active handles (libuv, timers excluded), end vs start',
      value: `${start.handles} → ${end.handles} (${dH >= 0 ? '+' : ''}${dH})`,
      goal: `±${GOALS.handlesTolerance}`,
      result: Math.abs(dH) <= GOALS.handlesTolerance ? 'pass' : 'fail',
      leak: true,
    });
    checks.push({
      name: 'tracker entries after the load stopped',
      value: String(end.tracker),
      goal: '0',
      result: end.tracker === 0 ? 'pass' : 'fail',
      leak: true,
    });
  } else {
    checks.push({ name: 'start and end samples', value: 'missing', goal: 'present', result: 'fail', leak: true });
  }
  checks.push({ name: 'bytes verified end to end', value: verified.toLocaleString('en-US'), goal: '> 0', result: verified > 0 ? 'pass' : 'fail', leak: true });
  checks.push({ name: 'bytes corrupted', value: corrupted.toLocaleString('en-US'), goal: '0', result: corrupted === 0 ? 'pass' : 'fail', leak: true });
  const nErr = Object.values(errors).reduce((a, b) => a + b, 0);
  checks.push({
    name: 'load errors (every kind counts as unexplained)',
    value: nErr === 0 ? '0' : Object.entries(errors).map(([k, v]) => `${k} ×${v}`).join('; '),
    goal: '0',
    result: nErr === 0 ? 'pass' : 'fail',
    leak: true,
  });
  const loopP99 = load.map((s) => s.loopP99ms).filter(Number.isFinite).sort((a, b) => a - b);
  const worst = loopP99.length ? loopP99[loopP99.length - 1] : Number.NaN;
  const median = loopP99.length ? loopP99[Math.floor(loopP99.length / 2)] : Number.NaN;
  checks.push({
    name: 'event-loop delay p99 under load (per 10 s interval: median / worst)',
    value: `${f1(median)} / ${f1(worst)} ms`,
    goal: `< ${GOALS.loopP99ms} ms`,
    result: Number.isFinite(median) ? (worst < GOALS.loopP99ms ? 'pass' : 'fail') : 'not judged',
    leak: false,
  });
  return { checks, rssFit: fit, slopeMinutes, leaksOk: checks.filter((c) => c.leak).every((c) => c.result === 'pass') };
}
