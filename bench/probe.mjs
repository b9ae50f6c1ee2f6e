// Loaded into the clash-ts process by the bench: `node --import bench/probe.mjs dist/main.js ...`.
// Measures event-loop delay (perf_hooks.monitorEventLoopDelay) and GC pauses (PerformanceObserver
// 'gc' entries) without touching src/. On SIGUSR2 it writes what it saw since the previous
// SIGUSR2 to $BENCH_PROBE_FILE (as JSON, with a sequence number) and starts afresh, so the bench
// can bracket one load phase. It also writes once at exit.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync, renameSync } from 'node:fs';

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const MAX_GC = 200_000; // bounded: one phase never holds more pause samples than this
  let seq = 0;
  let eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  let pauses = new Float64Array(MAX_GC);
  let count = 0;
  let total = 0;
  let started = Date.now();
  const kinds = {};
  const KIND = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const ms = e.duration;
      if (count < MAX_GC) pauses[count] = ms;
      count++;
      total += ms;
      const k = KIND[e.detail?.kind ?? 0] ?? 'other';
      const slot = (kinds[k] ??= { count: 0, total: 0, max: 0 });
      slot.count++;
      slot.total += ms;
      if (ms > slot.max) slot.max = ms;
    }
  });
  obs.observe({ entryTypes: ['gc'] });

  const q = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))] : 0);

  const dump = () => {
    seq++;
    const n = Math.min(count, MAX_GC);
    const sorted = Array.from(pauses.subarray(0, n)).sort((a, b) => a - b);
    const ms = (ns) => Number(ns) / 1e6; // Bun hands percentiles back as BigInt
    const out = {
      seq,
      // Bun's perf_hooks has no 'gc' entries: its pause figures are absent, not zero
      gcObservable: PerformanceObserver.supportedEntryTypes.includes('gc'),
      seconds: (Date.now() - started) / 1000,
      eventLoopDelayMs: {
        count: eld.count,
        min: ms(eld.min),
        mean: ms(eld.mean),
        p50: ms(eld.percentile(50)),
        p90: ms(eld.percentile(90)),
        p99: ms(eld.percentile(99)),
        p999: ms(eld.percentile(99.9)),
        max: ms(eld.max),
        // histogram buckets (ms upper bound → count) for the plot
        buckets: Object.fromEntries([...eld.percentiles].map(([p, v]) => [String(p), ms(v)])),
      },
      gcPausesMs: {
        count,
        total,
        p50: q(sorted, 0.5),
        p99: q(sorted, 0.99),
        p999: q(sorted, 0.999),
        max: sorted.length ? sorted[sorted.length - 1] : 0,
        byKind: kinds,
      },
    };
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(out));
    renameSync(tmp, file);
    eld.disable();
    eld = monitorEventLoopDelay({ resolution: 1 });
    eld.enable();
    pauses = new Float64Array(MAX_GC);
    count = 0;
    total = 0;
    for (const k of Object.keys(kinds)) delete kinds[k];
    started = Date.now();
  };

  process.on('SIGUSR2', dump);
  process.on('exit', () => {
    try {
      dump();
    } catch {
      // exiting anyway: the last phase was already dumped on SIGUSR2
    }
  });
}
