/**
 * /metrics (clash-ts, not mihomo): Prometheus text format behind the same secret. Label sets are
 * bounded: series past the caps are summed into one `other` series, so a config with many
 * outbounds or pools cannot grow a scrape without bound.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { Histogram } from '../../common/histogram.js';
import type { DialStatsView } from '../../core/control-plane.js';
import type { Router } from '../router.js';

/** distinct (inbound, chain) pairs reported; the rest are summed as other/other */
export const MAX_CONNECTION_SERIES = 100;
/** warm pools reported one by one; the rest are summed as `other` */
export const MAX_POOL_SERIES = 50;
/** proxies whose last health-check delay is reported (a gauge cannot be summed into `other`) */
export const MAX_DELAY_SERIES = 100;

/** GC pause and event-loop delay buckets (seconds) */
const PAUSE_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const LOOP_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The process-wide probes, started by the first scrape (a core nobody scrapes pays nothing):
 * the event loop's delay (Node's HDR histogram on a 20 ms timer, folded into cumulative buckets
 * at each scrape and reset) and GC pauses by kind (perf_hooks 'gc' entries).
 */
class RuntimeProbes {
  readonly #loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  readonly loopHistogram = new Histogram(LOOP_BUCKETS);
  readonly gc = new Map<string, Histogram>();
  /** the last interval's quantiles (seconds), as the previous scrape left them */
  quantiles: { p50: number; p99: number; max: number } = { p50: 0, p99: 0, max: 0 };
  /** the longest GC pause (seconds) since the last scrape, as it is being collected */
  #gcMax = 0;
  /** the longest GC pause between the last two scrapes */
  gcRecentMax = 0;

  constructor() {
    this.#loop.enable();
    const kinds: Record<number, string> = {
      [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
      [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
      [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
      [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
    };
    for (const k of Object.values(kinds)) this.gc.set(k, new Histogram(PAUSE_BUCKETS));
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = kinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1];
        if (kind) this.gc.get(kind)?.observe(e.duration / 1000);
        if (kind) this.#gcMax = Math.max(this.#gcMax, e.duration / 1000);
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  }

  /** Folds the loop samples since the last scrape into the buckets, then starts a new interval. */
  sample(): void {
    this.gcRecentMax = this.#gcMax;
    this.#gcMax = 0;
    const h = this.#loop;
    const n = h.count;
    if (n > 0) {
      // cumulative count at each bound from the percentiles Node keeps (value in ns at each percentile)
      const pts = [...h.percentiles].sort((a, b) => a[0] - b[0]);
      const below = LOOP_BUCKETS.map((b) => {
        let p = 0;
        // Number(): Bun hands the percentile values back as BigInt
        for (const [pct, ns] of pts) if (Number(ns) / 1e9 <= b) p = pct;
        return Math.round((n * p) / 100);
      });
      const per: number[] = [];
      let prev = 0;
      for (const c of below) {
        per.push(Math.max(0, c - prev));
        prev = Math.max(prev, c);
      }
      per.push(Math.max(0, n - prev));
      this.loopHistogram.add(per, (Number(h.mean) / 1e9) * n);
      this.quantiles = { p50: Number(h.percentile(50)) / 1e9, p99: Number(h.percentile(99)) / 1e9, max: Number(h.max) / 1e9 };
    }
    h.reset();
  }
}

let probes: RuntimeProbes | undefined;

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

class Text {
  readonly #lines: string[] = [];
  /** A histogram family: `_bucket` per bound (cumulative, then +Inf), `_sum`, `_count` per label set. */
  histogram(name: string, help: string, series: readonly [Record<string, string>, { bounds: readonly number[]; cumulative: readonly number[]; sum: number; count: number }][]): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [labels, h] of series) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`);
      const with_ = (extra: string) => `{${[...l, extra].filter((x) => x !== '').join(',')}}`;
      h.bounds.forEach((b, i) => this.#lines.push(`${name}_bucket${with_(`le="${b}"`)} ${h.cumulative[i] ?? 0}`));
      this.#lines.push(`${name}_bucket${with_('le="+Inf"')} ${h.count}`);
      const plain = l.length ? `{${l.join(',')}}` : '';
      this.#lines.push(`${name}_sum${plain} ${Number.isFinite(h.sum) ? h.sum : 0}`, `${name}_count${plain} ${h.count}`);
    }
  }
  /** A summary without labels: its quantiles, `_sum`, `_count`. */
  summary(name: string, help: string, quantiles: readonly [string, number][], sum: number, count: number): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} summary`);
    for (const [q, v] of quantiles) this.#lines.push(`${name}{quantile="${q}"} ${Number.isFinite(v) ? v : 0}`);
    this.#lines.push(`${name}_sum ${Number.isFinite(sum) ? sum : 0}`, `${name}_count ${count}`);
  }
  metric(name: string, type: 'gauge' | 'counter', help: string, samples: readonly [Record<string, string>, number][]): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`);
      this.#lines.push(`${name}${l.length ? `{${l.join(',')}}` : ''} ${Number.isFinite(v) ? v : 0}`);
    }
  }
  toString(): string {
    return this.#lines.join('\n') + '\n';
  }
}

/** Sums `key → value` into at most `cap` keys plus `other`. */
function capped<K>(entries: Iterable<[K, number]>, cap: number, other: K, keyOf: (k: K) => string): Map<string, [K, number]> {
  const out = new Map<string, [K, number]>();
  for (const [k, v] of entries) {
    const id = keyOf(k);
    const hit = out.get(id) ?? (out.size < cap ? undefined : out.get(keyOf(other)));
    if (hit) hit[1] += v;
    else if (out.size < cap) out.set(id, [k, v]);
    else out.set(keyOf(other), [other, v]);
  }
  return out;
}

export function metricsRoutes(router: Router): void {
  router.add('GET', '/metrics', {
    handle(r) {
      const c = r.api.control;
      const t = new Text();
      const conns = c.connections();
      type Pair = { inbound: string; chain: string };
      const pairs = capped<Pair>(
        conns.map((x) => [{ inbound: x.inbound.name, chain: x.chains.join(' > ') }, 1]),
        MAX_CONNECTION_SERIES,
        { inbound: 'other', chain: 'other' },
        (p) => `${p.inbound}\0${p.chain}`,
      );
      t.metric('clash_connections', 'gauge', 'Live connections by inbound listener and outbound chain.', [...pairs.values()].map(([p, n]) => [{ inbound: p.inbound, chain: p.chain }, n]));
      const tr = c.traffic();
      t.metric('clash_upload_bytes_total', 'counter', 'Bytes sent to remotes since start.', [[{}, tr.upTotal]]);
      t.metric('clash_download_bytes_total', 'counter', 'Bytes received from remotes since start.', [[{}, tr.downTotal]]);
      t.metric('clash_upload_bytes_per_second', 'gauge', 'Upload rate over the last second.', [[{}, tr.up]]);
      t.metric('clash_download_bytes_per_second', 'gauge', 'Download rate over the last second.', [[{}, tr.down]]);
      t.metric('clash_memory_bytes', 'gauge', 'Resident memory of the core process.', [[{}, c.memory().inuse]]);
      const pools = c.warmPools();
      const pick = (f: 'hits' | 'misses' | 'wasted' | 'size') =>
        [...capped<string>(pools.map((p) => [p.key, p[f]]), MAX_POOL_SERIES, 'other', (k) => k).values()].map(([pool, v]) => [{ pool }, v] as [Record<string, string>, number]);
      t.metric('clash_warm_pool_hits_total', 'counter', 'Dials answered with a warm connection.', pick('hits'));
      t.metric('clash_warm_pool_misses_total', 'counter', 'Dials that found no warm connection.', pick('misses'));
      t.metric('clash_warm_pool_wasted_total', 'counter', 'Warm connections closed unused.', pick('wasted'));
      t.metric('clash_warm_pool_size', 'gauge', 'Warm connections parked now.', pick('size'));
      const dials: readonly DialStatsView[] = c.dialStats?.() ?? [];
      t.histogram('clash_dial_duration_seconds', 'Time from dial to connected, per leaf proxy (a bounded set; the rest as other).', dials.map((d) => [{ proxy: d.proxy }, d]));
      t.metric('clash_dial_failures_total', 'counter', 'Dials that failed, per leaf proxy.', dials.map((d) => [{ proxy: d.proxy }, d.failures]));
      const tested = c.proxies().filter((p) => p.history.length > 0).slice(0, MAX_DELAY_SERIES);
      t.metric('clash_proxy_delay_seconds', 'gauge', 'The last URL test (health check or delay request) of each proxy; 0 when it failed.', tested.map((p) => [{ proxy: p.name }, p.history[p.history.length - 1].delay / 1000]));
      t.metric('clash_proxy_alive', 'gauge', 'Whether the last URL test of each proxy succeeded.', tested.map((p) => [{ proxy: p.name }, p.alive ? 1 : 0]));
      const dns = c.dnsCacheStats?.();
      if (dns) {
        t.metric('clash_dns_cache_hits_total', 'counter', 'Name lookups answered from the resolver cache.', [[{}, dns.hits]]);
        t.metric('clash_dns_cache_misses_total', 'counter', 'Name lookups that had to be sent to a DNS server.', [[{}, dns.misses]]);
      }
      const rt = (probes ??= new RuntimeProbes());
      rt.sample();
      t.histogram('clash_event_loop_delay_seconds', 'Event loop delay of the controller process (sampled every 20 ms since the first scrape).', [[{}, { bounds: rt.loopHistogram.bounds, cumulative: rt.loopHistogram.cumulative(), sum: rt.loopHistogram.sum, count: rt.loopHistogram.count }]]);
      t.summary('clash_event_loop_delay_recent_seconds', 'Event loop delay quantiles between the last two scrapes (sum and count since the first).', [
        ['0.5', rt.quantiles.p50],
        ['0.99', rt.quantiles.p99],
        ['1', rt.quantiles.max],
      ], rt.loopHistogram.sum, rt.loopHistogram.count);
      t.histogram('clash_gc_pause_seconds', 'Garbage collection pauses of the controller process by kind (since the first scrape).', [...rt.gc].map(([kind, h]) => [{ kind }, { bounds: h.bounds, cumulative: h.cumulative(), sum: h.sum, count: h.count }]));
      t.metric('clash_gc_pause_recent_max_seconds', 'gauge', 'The longest GC pause of the controller process between the last two scrapes.', [[{}, rt.gcRecentMax]]);
      const mem = process.memoryUsage();
      t.metric('clash_process_memory_bytes', 'gauge', 'V8 heap used and total, external and array-buffer memory of the controller process.', [
        [{ kind: 'heap_used' }, mem.heapUsed],
        [{ kind: 'heap_total' }, mem.heapTotal],
        [{ kind: 'external' }, mem.external],
        [{ kind: 'array_buffers' }, mem.arrayBuffers],
      ]);
      const resources = new Map<string, number>();
      for (const k of process.getActiveResourcesInfo()) resources.set(k, (resources.get(k) ?? 0) + 1);
      t.metric('clash_active_resources', 'gauge', 'Active libuv handles and requests of the controller process by type (process.getActiveResourcesInfo).', [...resources].sort().map(([type, n]) => [{ type }, n]));
      const body = t.toString();
      r.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      r.res.end(body);
    },
  });
}
