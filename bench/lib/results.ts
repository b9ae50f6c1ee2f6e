import type { LoadResult } from './loadgen.js';

/** Who plays the local client in a row. */
export type ContenderKind = 'clash-ts' | 'v2ray' | 'native';

/** What the probe inside clash-ts saw during one phase (bench/probe.mjs). */
export interface ProbeStats {
  readonly seq: number;
  readonly seconds: number;
  /** false where the runtime reports no GC entries (Bun): the GC figures are then absent */
  readonly gcObservable?: boolean;
  readonly eventLoopDelayMs: {
    readonly count: number; readonly min: number; readonly mean: number; readonly p50: number; readonly p90: number;
    readonly p99: number; readonly p999: number; readonly max: number; readonly buckets: Record<string, number>;
  };
  readonly gcPausesMs: {
    readonly count: number; readonly total: number; readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number;
    readonly byKind: Record<string, { count: number; total: number; max: number }>;
  };
}

/** One load phase of one contender, with the CPU the proxy process spent on it. */
export interface Phase {
  readonly load: LoadResult;
  /** CPU seconds of the local client process during the run */
  readonly cpu: number;
  /** CPU seconds per 1,000 successful requests */
  readonly cpuPer1000: number;
  /** CPU seconds of the local client per GB (1e9 bytes) moved (NaN when nothing moved) */
  readonly cpuPerGB: number;
  /** CPU share of the generator-side core (generator + nginx + remote) during the run, 0..1 */
  readonly restCoreLoad: number;
  readonly probe?: ProbeStats;
}

/** Idle-tunnel memory at one count. */
export interface IdleResult {
  readonly count: number;
  readonly held: number;
  readonly failed: number;
  readonly rssBefore: number;
  readonly rssHeld: number;
  /** (rssHeld - rssBefore) / held * 1000, bytes */
  readonly perThousand: number;
  readonly error?: string;
}

/** Everything measured for one contender in one row. */
export interface ContenderResult {
  readonly label: string;
  readonly kind: ContenderKind;
  seed: Phase[];
  long?: Phase;
  keepAlive?: Phase;
  throughput?: Phase;
  /** the one-tunnel download again with nothing pinned (when the run pins): the far side is no
   * longer capped at one core, so the client's own ceiling shows */
  throughputUnpinned?: Phase;
  /** clash-ts only: new connections offered at the goal's rate (the GC / event-loop goal) */
  rate?: Phase;
  /** every contender: new connections at one rate all of them sustain (latency at equal load) */
  fair?: Phase;
  /** VmHWM after the load phases (before the idle-tunnel phase) */
  peakRss?: number;
  idle: IdleResult[];
  errors: string[];
}

/** One row's outcome. */
export interface RowResult {
  readonly id: string;
  readonly title: string;
  readonly status: 'ran' | 'not built yet' | 'failed' | 'skipped (time budget)';
  readonly note?: string;
  /** the equal-load rate of the `fair` phase, rps */
  readonly fairRate?: number;
  /** clash-ts's top self-time functions over the load phases (--cpu-prof) */
  readonly profile?: readonly string[];
  readonly contenders: ContenderResult[];
  readonly seconds: number;
}

/** The no-proxy baseline: the generator straight to nginx. */
export interface Baseline {
  readonly newConn: Phase;
  readonly keepAlive: Phase;
  readonly throughput: Phase;
}

/** The whole run, as written to bench/out/results.json and rendered into docs/benchmarks.md. */
export interface RunResult {
  readonly startedAt: string;
  readonly seconds: number;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: Record<string, string>;
  readonly pinning: { readonly enabled: boolean; readonly proxyCpu?: number; readonly restCpu?: number };
  readonly plan: Record<string, unknown>;
  readonly baseline: Baseline;
  readonly rows: RowResult[];
  /** the runtimes clash-ts ran on (absent in runs before there were several) */
  readonly runtimes?: readonly { readonly id: string; readonly label: string; readonly version: string }[];
  /** runtimes asked for and not found */
  readonly runtimesMissing?: readonly string[];
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
