import { readFileSync, existsSync } from 'node:fs';
import { holdTunnels, runLoad, type LoadSpec, type Via } from './loadgen.js';
import { sample, sleep, type BenchProc, type Pinning } from './proc.js';
import type { ContenderKind, ContenderResult, IdleResult, Phase, ProbeStats } from './results.js';
import type { Runtime } from './runtimes.js';

/** How long and how hard each phase runs (full and --quick differ only here). */
export interface Plan {
  readonly conns: number;
  readonly warmRequests: number;
  /** the seed's setup: 1000 requests x 50 connections, repeated, alternating */
  readonly seedRequests: number;
  readonly seedRounds: number;
  readonly longSeconds: number;
  readonly keepAliveSeconds: number;
  readonly throughputSeconds: number;
  readonly rate: number;
  readonly rateSeconds: number;
  readonly idleCounts: readonly number[];
  /** per-run cap on requests, so that every loop is bounded in count as well as time */
  readonly maxRequests: number;
}

/** A local client that is running, ready for load. */
export interface Contender {
  readonly label: string;
  readonly kind: ContenderKind;
  readonly port: number;
  readonly proc: BenchProc;
  readonly probeFile?: string;
  readonly result: ContenderResult;
  /** the probe's phase counter (its dumps are numbered) */
  probeSeq: number;
}

/** What the phases need from the run. */
export interface MeasureCtx {
  readonly lg: string;
  readonly targetPort: number;
  readonly pinning: Pinning;
  readonly plan: Plan;
  /** generator-side processes whose CPU counts as "rest core" load (nginx, the remote server) */
  readonly restPids: readonly number[];
  readonly log: (s: string) => void;
  /** when set, clash-ts runs under `--cpu-prof` and writes its profile under this dir */
  readonly profileDir?: string;
  /** clash-ts's proxy gets `warm-pool: false` (its TLS warm pool is on by default) */
  readonly noWarmPool?: boolean;
  /** clash-ts runs once per runtime, side by side with the peers */
  readonly runtimes: readonly Runtime[];
  /** CPUs of the machine, as a taskset list ("0-1"): the unpinned phase's affinity */
  readonly allCpus: string;
}

function cpuOf(pids: readonly number[]): number {
  let t = 0;
  for (const p of pids) t += sample(p)?.cpu ?? 0;
  return t;
}

/** Sends SIGUSR2 to clash-ts and waits (bounded, 3 s) for the probe to write phase `seq`. */
async function probeDump(c: Contender, seq: number): Promise<ProbeStats | undefined> {
  if (!c.probeFile) return undefined;
  try {
    process.kill(c.proc.pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (let i = 0; i < 60; i++) {
    await sleep(50);
    if (!existsSync(c.probeFile)) continue;
    try {
      const s = JSON.parse(readFileSync(c.probeFile, 'utf8')) as ProbeStats;
      if (s.seq >= seq) return s;
    } catch {
      // half-written: the probe renames atomically, so this is a race with a stale file; retry
    }
  }
  return undefined;
}

async function nextProbe(c: Contender): Promise<ProbeStats | undefined> {
  if (!c.probeFile) return undefined;
  c.probeSeq++;
  return probeDump(c, c.probeSeq);
}

/** Runs one load against one contender, measuring its CPU and the rest core's. */
export async function phase(ctx: MeasureCtx, c: Contender, spec: Omit<LoadSpec, 'via' | 'targetPort'>, via: Via, withProbe = false): Promise<Phase> {
  if (withProbe) await nextProbe(c); // discard what came before: the phase starts clean
  const before = sample(c.proc.pid);
  const restBefore = cpuOf(ctx.restPids);
  const load = await runLoad(ctx.lg, { ...spec, via, targetPort: ctx.targetPort }, ctx.pinning.restCpu);
  const after = sample(c.proc.pid);
  const restAfter = cpuOf(ctx.restPids);
  const probe = withProbe ? await nextProbe(c) : undefined;
  const cpu = before && after ? after.cpu - before.cpu : NaN;
  return {
    load,
    cpu,
    cpuPer1000: load.ok > 0 ? (cpu / load.ok) * 1000 : NaN,
    cpuPerGB: load.bytes > 0 ? cpu / (load.bytes / 1e9) : NaN,
    restCoreLoad: (load.cpuSeconds + restAfter - restBefore) / load.elapsed,
    ...(probe && { probe }),
  };
}

/** Direct generator → nginx (no proxy): the generator's own ceiling. */
export async function baselinePhase(ctx: MeasureCtx, spec: Omit<LoadSpec, 'via' | 'targetPort'>): Promise<Phase> {
  const restBefore = cpuOf(ctx.restPids);
  const load = await runLoad(ctx.lg, { ...spec, via: { kind: 'direct' }, targetPort: ctx.targetPort }, ctx.pinning.restCpu);
  const restAfter = cpuOf(ctx.restPids);
  return { load, cpu: 0, cpuPer1000: NaN, cpuPerGB: NaN, restCoreLoad: (load.cpuSeconds + restAfter - restBefore) / load.elapsed };
}

/**
 * Holds `count` idle tunnels through a freshly started contender and reports its RSS growth.
 * The RSS baseline is taken after a short warm-up, right before the tunnels open.
 */
export async function idlePhase(ctx: MeasureCtx, c: Contender, via: Via, count: number): Promise<IdleResult> {
  await runLoad(ctx.lg, { via, targetPort: ctx.targetPort, path: '/small.bin', conns: 20, requests: 200, seconds: 5 }, ctx.pinning.restCpu);
  await sleep(300);
  const rssBefore = sample(c.proc.pid)?.rss ?? NaN;
  const held = await holdTunnels(ctx.lg, via, ctx.targetPort, count, 60, ctx.pinning.restCpu);
  try {
    await sleep(1000); // let lazy allocations settle
    const rssHeld = sample(c.proc.pid)?.rss ?? NaN;
    return {
      count,
      held: held.held,
      failed: held.failed,
      rssBefore,
      rssHeld,
      perThousand: held.held > 0 ? ((rssHeld - rssBefore) / held.held) * 1000 : NaN,
    };
  } finally {
    await held.release();
    await sleep(500); // the proxy tears the tunnels down before the next count
  }
}

/** Rotates a list by `n`, so each round starts with a different contender. */
export function rotate<T>(xs: readonly T[], n: number): T[] {
  const k = xs.length ? n % xs.length : 0;
  return [...xs.slice(k), ...xs.slice(0, k)];
}
