/**
 * One sample every `--sample-seconds`: from outside (/proc of the clash-ts process and, with
 * workers, its children: RSS, open fds) and from inside (the controller's /metrics: heap,
 * handles, tracker, warm pools, loop delay, GC), plus the load generator's figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sum, type Controller, type PromSample } from './controller.js';
import type { LoadSnapshot } from './stats.js';

/** One row of the time series. */
export interface Sample {
  /** seconds since the load started (negative: before it) */
  readonly t: number;
  readonly phase: 'start' | 'load' | 'settle' | 'end';
  /** /proc, summed over the process tree */
  readonly rssMB: number;
  readonly fds: number;
  readonly processes: number;
  /** /metrics (the primary's process with workers) */
  readonly heapUsedMB: number;
  readonly heapTotalMB: number;
  readonly externalMB: number;
  readonly arrayBuffersMB: number;
  /** libuv handles and requests other than timers */
  readonly handles: number;
  readonly timers: number;
  readonly tracker: number;
  readonly poolSize: number;
  readonly poolHits: number;
  readonly poolMisses: number;
  readonly poolWasted: number;
  readonly loopP50ms: number;
  readonly loopP99ms: number;
  readonly loopMaxms: number;
  /** GC pauses since the previous sample, and the longest of them */
  readonly gcCount: number;
  readonly gcMaxms: number;
  readonly load?: LoadSnapshot;
}

/** The PIDs of `pid` and its descendants (scanning /proc for parents). */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [c, p] of parent) if (p === out[i]) out.push(c);
  return out;
}

/** RSS (bytes) and open fds of one process; undefined when it is gone. */
export function procFigures(pid: number): { rss: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
    return { rss, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

const MB = 2 ** 20;

export class Sampler {
  #gcCountBefore: number | undefined;
  constructor(
    readonly pid: number,
    readonly ctl: Controller,
  ) {}

  /** Takes one sample (the controller's answer bounded by its request timeout). */
  async sample(t: number, phase: Sample['phase'], load?: LoadSnapshot): Promise<Sample> {
    let rss = 0;
    let fds = 0;
    let processes = 0;
    for (const p of processTree(this.pid)) {
      const f = procFigures(p);
      if (!f) continue;
      rss += f.rss;
      fds += f.fds;
      processes++;
    }
    const m: PromSample[] = await this.ctl.metrics();
    const tracker = sum(m, 'clash_connections');
    const mem = (kind: string) => sum(m, 'clash_process_memory_bytes', { kind }) / MB;
    let handles = 0;
    let timers = 0;
    for (const s of m) {
      if (s.name !== 'clash_active_resources') continue;
      if (s.labels.type === 'Timeout' || s.labels.type === 'Immediate') timers += s.value;
      else handles += s.value;
    }
    const gcCount = sum(m, 'clash_gc_pause_seconds_count');
    const gcDelta = this.#gcCountBefore === undefined ? 0 : gcCount - this.#gcCountBefore;
    this.#gcCountBefore = gcCount;
    const q = (quantile: string) => sum(m, 'clash_event_loop_delay_recent_seconds', { quantile }) * 1000;
    return {
      t,
      phase,
      rssMB: rss / MB,
      fds,
      processes,
      heapUsedMB: mem('heap_used'),
      heapTotalMB: mem('heap_total'),
      externalMB: mem('external'),
      arrayBuffersMB: mem('array_buffers'),
      handles,
      timers,
      tracker,
      poolSize: sum(m, 'clash_warm_pool_size'),
      poolHits: sum(m, 'clash_warm_pool_hits_total'),
      poolMisses: sum(m, 'clash_warm_pool_misses_total'),
      poolWasted: sum(m, 'clash_warm_pool_wasted_total'),
      loopP50ms: q('0.5'),
      loopP99ms: q('0.99'),
      loopMaxms: q('1'),
      gcCount: gcDelta,
      gcMaxms: sum(m, 'clash_gc_pause_recent_max_seconds') * 1000,
      load,
    };
  }
}
