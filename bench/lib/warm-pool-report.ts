/**
 * The "warm-pool" section of docs/benchmarks.md: steady-load table (setup and first-byte
 * latency with and without the pool, hit rate, waste) and the load step (follow and drain
 * times, one SVG per RTT).
 */
import { lineChart } from './svg.js';
import type { StepResult, StepSample, SteadyResult } from './warm-pool-driver.js';
import type { E2eResult } from './warm-pool-e2e.js';

/** One RTT's results. */
export interface WarmPoolRun {
  readonly rttMs: number;
  readonly linkRttMs: number;
  readonly steady: readonly SteadyResult[];
  readonly step: StepResult | undefined;
  readonly e2e: readonly E2eResult[];
}

/** Facts the section states about the run. */
export interface WarmPoolRunInfo {
  readonly quick: boolean;
  readonly commit: string;
  readonly pool: { readonly min: number; readonly max: number; readonly maxIdleMs: number };
  readonly minutes: number;
}

/** The goals of issue 5. */
export const HIT_GOAL = 0.998;
export const WASTE_GOAL = 0.1;

/** What the step shows: how fast the pool follows the rise and drains after the fall. */
export interface StepFacts {
  readonly upAt: number;
  readonly downAt: number;
  /** arrivals per second actually achieved between the first and the last */
  readonly achievedRate: number;
  /** median target over the second half of the high level */
  readonly plateau: number;
  /** ms from the rise until warm + handshaking first reaches 90% of the plateau (NaN: never) */
  readonly followMs: number;
  /** ms from the fall until nothing is warm or handshaking (NaN: not within the run) */
  readonly drainMs: number;
  /** ms from the fall until the target is 0 (NaN: not within the run) */
  readonly targetZeroMs: number;
  /** hits / (hits + misses) during the high level, and during its first second */
  readonly hitRate: number;
  readonly hitRateFirstSecond: number;
  readonly highHits: number;
  readonly highMisses: number;
  /** wasted / (hits + wasted) over the whole step run */
  readonly wasteRate: number;
  readonly wastedAfterFall: number;
}

const pct = (v: number, digits = 2): string => (Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : '–');
const ms = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');
const secs = (v: number): string => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} s` : 'not within the run');

/** The last sample at or before t (or the first sample). */
function at(samples: readonly StepSample[], t: number): StepSample | undefined {
  let got: StepSample | undefined = samples[0];
  for (const s of samples) if (s.t <= t) got = s;
  return got;
}

/** Reads the follow / drain facts off a step run whose levels are low, high, low. */
export function stepFacts(step: StepResult): StepFacts {
  // read off the arrivals that actually happened: a starved driver runs behind its schedule
  const upAt = step.firstArrivalMs;
  const downAt = step.lastArrivalMs;
  const s = step.samples;
  const plateauTargets = s.filter((x) => x.t >= (upAt + downAt) / 2 && x.t < downAt).map((x) => x.target).sort((a, b) => a - b);
  const plateau = plateauTargets[Math.floor(plateauTargets.length / 2)] ?? NaN;
  const follow = s.find((x) => x.t >= upAt && x.size + x.pending >= 0.9 * plateau);
  const drain = s.find((x) => x.t >= downAt && x.size + x.pending === 0);
  const targetZero = s.find((x) => x.t >= downAt && x.target === 0);
  const a = at(s, upAt);
  const b = at(s, downAt);
  const c = at(s, upAt + 1000);
  const last = s[s.length - 1];
  const rate = (h: number, m: number): number => (h + m > 0 ? h / (h + m) : NaN);
  const highHits = (b?.hits ?? 0) - (a?.hits ?? 0);
  const highMisses = (b?.misses ?? 0) - (a?.misses ?? 0);
  return {
    upAt,
    downAt,
    achievedRate: step.arrivals / Math.max(1e-3, (downAt - upAt) / 1000),
    plateau,
    followMs: follow ? follow.t - upAt : NaN,
    drainMs: drain ? drain.t - downAt : NaN,
    targetZeroMs: targetZero ? targetZero.t - downAt : NaN,
    hitRate: rate(highHits, highMisses),
    hitRateFirstSecond: rate((c?.hits ?? 0) - (a?.hits ?? 0), (c?.misses ?? 0) - (a?.misses ?? 0)),
    highHits,
    highMisses,
    wasteRate: last && last.hits + last.wasted > 0 ? last.wasted / (last.hits + last.wasted) : NaN,
    wastedAfterFall: (last?.wasted ?? 0) - (b?.wasted ?? 0),
  };
}

function stepSvg(run: WarmPoolRun, step: StepResult): string {
  const s = step.samples;
  const sec = (t: number): number => t / 1000;
  return lineChart(
    `Warm pool, load step 0 -> 200 -> 0 conn/s, RTT ${run.rttMs} ms`,
    'seconds',
    'connections',
    [
      { label: 'warm + handshaking', points: s.map((x) => [sec(x.t), x.size + x.pending] as const) },
      { label: 'target', points: s.map((x) => [sec(x.t), x.target] as const) },
      // arrivals as they happened (every take is a hit or a miss), over the last 0.5 s
      {
        label: 'arrivals/s / 10',
        points: s.map((x, i) => {
          const b = s[Math.max(0, i - 5)] as StepSample;
          const dt = (x.t - b.t) / 1000;
          return [sec(x.t), dt > 0 ? (x.hits + x.misses - b.hits - b.misses) / dt / 10 : 0] as const;
        }),
      },
    ],
    false,
  );
}

/** The section's markdown and its SVGs (file name -> body). */
export function renderWarmPoolSection(runs: readonly WarmPoolRun[], info: WarmPoolRunInfo): { md: string; svgs: Map<string, string> } {
  const svgs = new Map<string, string>();
  const L: string[] = [];
  L.push('## Warm pool under simulated RTT');
  L.push('');
  L.push(
    `Written by \`npm run bench:warm-pool${info.quick ? ' -- --quick' : ''}\` (commit ${info.commit}, ${new Date().toISOString().slice(0, 16)} UTC, ${info.minutes.toFixed(1)} min${info.quick ? ', QUICK smoke run: short windows, figures are rough' : ''}).`,
  );
  L.push('');
  L.push(
    'Setup: two network namespaces joined by a link that delays every packet by RTT/2 each way ' +
      '(TUN devices and `bench/netns/delay-line.c`: this kernel has no netem qdisc). trojan-gfw and a TCP echo in the server ' +
      'namespace; in the client namespace a driver opens new connections on a Poisson schedule through a trojan outbound built ' +
      'from clash-ts\'s own modules (protocol registry, system dialer, WarmPoolRegistry), writes 16 bytes and waits for the echo. ' +
      `Pool settings for the bench: min ${info.pool.min}, **max ${info.pool.max}** (the default max of 8 cannot cover 200 conn/s x ~0.3 s handshakes), max-idle ${info.pool.maxIdleMs / 1000} s. ` +
      'Pool off and on alternate within one run. Setup = dial start until the stream accepts writes; first byte = dial start until the first echoed byte. ' +
      `Goals (issue 5): hit rate >= ${pct(HIT_GOAL, 1)}, waste <= ${pct(WASTE_GOAL, 0)}.`,
  );
  L.push('');
  L.push('| RTT (link, measured) | conn/s | pool | connections | setup p50 / p99 (ms) | first byte p50 / p99 (ms) | hit rate | waste | errors |');
  L.push('|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const run of runs) {
    for (const r of run.steady) {
      const hit = r.pool ? `${pct(r.hitRate)} ${r.hitRate >= HIT_GOAL ? '✔' : '✘'} (${r.misses} misses)` : '–';
      const waste = r.pool ? `${pct(r.wasteRate, 1)} ${r.wasteRate <= WASTE_GOAL || !Number.isFinite(r.wasteRate) ? '✔' : '✘'}` : '–';
      L.push(
        `| ${run.rttMs} ms (${ms(run.linkRttMs)}) | ${r.rate} | ${r.pool ? 'on' : 'off'} | ${r.firstByte.n} | ${ms(r.setup.p50)} / ${ms(r.setup.p99)} | ${ms(r.firstByte.p50)} / ${ms(r.firstByte.p99)} | ${hit} | ${waste} | ${r.errors}${r.errors ? ` (${r.firstError})` : ''} |`,
      );
    }
  }
  L.push('');
  L.push('First-byte ratio, pool on / pool off (p50): ' + runs.flatMap((run) => [...new Set(run.steady.map((r) => r.rate))].map((rate) => {
    const off = run.steady.find((r) => r.rate === rate && !r.pool);
    const on = run.steady.find((r) => r.rate === rate && r.pool);
    return `${run.rttMs} ms, ${rate}/s: ${off && on ? (on.firstByte.p50 / off.firstByte.p50).toFixed(2) : '–'}`;
  })).join('; ') + '.');
  L.push('');
  L.push('### Load step 0 -> 200 -> 0 new connections/s');
  L.push('');
  L.push(
    'Sampled every 100 ms; rise = the first arrival, fall = the last one (as they actually happened: on a busy machine the driver ' +
      'can fall behind its schedule, the achieved rate says by how much). Follow = from the rise until warm + handshaking connections ' +
      'first reach 90% of the plateau target; drain = from the fall until none is warm or handshaking (excess is not closed, it expires after max-idle).',
  );
  L.push('');
  L.push('| RTT | achieved rate | plateau target | follow | hit rate at the high level (first second) | drain | target 0 after | waste (wasted after the fall) | errors |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of runs) {
    if (!run.step) continue;
    const f = stepFacts(run.step);
    L.push(
      `| ${run.rttMs} ms | ${f.achievedRate.toFixed(0)}/s | ${f.plateau} | ${secs(f.followMs)} | ${pct(f.hitRate)} (${pct(f.hitRateFirstSecond, 1)}) | ${secs(f.drainMs)} | ${secs(f.targetZeroMs)} | ${pct(f.wasteRate, 1)} (${f.wastedAfterFall}) | ${run.step.errors} |`,
    );
    const name = `warm-pool-step-${run.rttMs}ms.svg`;
    svgs.set(name, stepSvg(run, run.step));
  }
  L.push('');
  for (const name of svgs.keys()) L.push(`![${name}](benchmarks/${name})`);
  const e2e = runs.filter((r) => r.e2e.length > 0);
  if (e2e.length > 0) {
    L.push('');
    L.push('### End to end: the CLI with a trojan proxy');
    L.push('');
    L.push(
      'The built CLI (dist/main.js) in the client namespace, `warm-pool: { enable, max: ' + info.pool.max + ' }`, a trojan proxy to trojan-gfw in the server ' +
        'namespace; the C load generator (bench/loadgen) through its SOCKS port, one new connection per request at a fixed rate, 1 KiB from nginx ' +
        'behind trojan. Latency = connect to the SOCKS port .. last body byte; measured after a 4 s warm-up. Pool off, then on.',
    );
    L.push('');
    L.push('| RTT | conn/s | pool | requests | p50 (ms) | p90 (ms) | p99 (ms) | errors |');
    L.push('|---|---:|---|---:|---:|---:|---:|---:|');
    for (const run of e2e)
      for (const r of run.e2e)
        L.push(`| ${run.rttMs} ms | ${r.rate} | ${r.pool ? 'on' : 'off'} | ${r.load.ok} | ${ms(r.load.p50)} | ${ms(r.load.p90)} | ${ms(r.load.p99)} | ${r.load.errors}${r.load.errors ? ` (${r.load.firstError})` : ''} |`);
  }
  L.push('');
  return { md: L.join('\n'), svgs };
}
