/**
 * /metrics (clash-ts, not mihomo): Prometheus text format behind the same secret. Label sets are
 * bounded: series past the caps are summed into one `other` series, so a config with many
 * outbounds or pools cannot grow a scrape without bound.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Router } from '../router.js';

/** distinct (inbound, chain) pairs reported; the rest are summed as other/other */
export const MAX_CONNECTION_SERIES = 100;
/** warm pools reported one by one; the rest are summed as `other` */
export const MAX_POOL_SERIES = 50;

let loop: IntervalHistogram | undefined;
/** The event loop's delay, measured only once someone scrapes (then on a 20 ms resolution). */
function loopDelay(): IntervalHistogram {
  if (!loop) {
    loop = monitorEventLoopDelay({ resolution: 20 });
    loop.enable();
  }
  return loop;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

class Text {
  readonly #lines: string[] = [];
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
      const h = loopDelay();
      const s = (ns: number) => ns / 1e9;
      t.metric('clash_event_loop_delay_seconds', 'gauge', 'Event loop delay of the controller process since the last scrape.', [
        [{ quantile: '0.5' }, s(h.percentile(50))],
        [{ quantile: '0.99' }, s(h.percentile(99))],
        [{ quantile: '1' }, s(h.max)],
      ]);
      h.reset();
      const body = t.toString();
      r.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      r.res.end(body);
    },
  });
}
