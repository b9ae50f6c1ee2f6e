import { median, type ContenderResult } from './results.js';

/** The numbers of one contender that the tables and ratios use. */
export interface Figures {
  seedRps?: number;
  longRps?: number;
  kaRps?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  max?: number;
  cpu1000?: number;
  peakRss?: number;
  idle2k?: number;
  idle10k?: number;
  tput?: number;
  /** one tunnel with nothing pinned (bytes/s), and CPU seconds per GB pinned / unpinned */
  tputUnpinned?: number;
  cpuGB?: number;
  cpuGBUnpinned?: number;
  rateP999?: number;
  rateRps?: number;
  /** p99 / p99.9 at the row's equal-load rate */
  fairP99?: number;
  fairP999?: number;
  /** generator-side core load during the long run, 0..1 */
  restLoad?: number;
  errors: number;
}

/** Picks the figures out of one contender's raw results. */
export function figures(c: ContenderResult): Figures {
  const idle = (k: number): number | undefined => c.idle[k]?.perThousand; // [0]: the smaller count, [1]: the larger
  const l = c.long?.load;
  const errs = [c.long, c.keepAlive, c.throughput, c.throughputUnpinned, ...c.seed].reduce((a, p) => a + (p?.load.errors ?? 0), 0);
  return {
    seedRps: c.seed.length ? median(c.seed.map((p) => p.load.rps)) : undefined,
    longRps: l?.rps,
    kaRps: c.keepAlive?.load.rps,
    p50: l?.p50,
    p90: l?.p90,
    p99: l?.p99,
    p999: l?.p999,
    max: l?.max,
    cpu1000: c.long?.cpuPer1000,
    peakRss: c.peakRss,
    idle2k: idle(0),
    idle10k: idle(1),
    tput: c.throughput?.load.bytesPerSec,
    tputUnpinned: c.throughputUnpinned?.load.bytesPerSec,
    cpuGB: c.throughput?.cpuPerGB,
    cpuGBUnpinned: c.throughputUnpinned?.cpuPerGB,
    rateP999: c.rate?.load.p999,
    rateRps: c.rate?.load.rps,
    fairP99: c.fair?.load.p99,
    fairP999: c.fair?.load.p999,
    restLoad: c.long?.restCoreLoad,
    errors: errs + c.errors.length,
  };
}
