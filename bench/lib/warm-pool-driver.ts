/**
 * The warm-pool bench's load driver. It runs inside the client namespace (started by
 * bench/warm-pool.ts through `ip netns exec`) and opens new connections on a Poisson schedule
 * through a trojan outbound built from clash-ts's own modules (protocol registry, system dialer,
 * and, when the pool is on, a WarmPoolRegistry), to a TCP echo behind trojan-gfw in the server
 * namespace. Each connection: dial, write a few bytes, wait for the first echoed byte, close.
 *
 * Input: one JSON argument (DriverPlan); output: one JSON line on stdout (DriverResult).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { createLogger } from '../../src/common/log.js';
import type { Metadata } from '../../src/core/metadata.js';
import type { Outbound } from '../../src/core/outbound.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { createRegistry } from '../../src/protocol/index.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import type { WarmPoolMetrics } from '../../src/transport/warm-metrics.js';
import { WarmPoolRegistry } from '../../src/transport/warm-pool-registry.js';

/** A steady run: `rate` new connections per second, measured after a warm-up. */
export interface SteadyScenario {
  readonly kind: 'steady';
  readonly pool: boolean;
  readonly rate: number;
  readonly warmupS: number;
  readonly measureS: number;
}

/** A load step: piecewise constant rates, the pool sampled every `sampleMs`. */
export interface StepScenario {
  readonly kind: 'step';
  /** [rate per second, seconds] in order */
  readonly levels: readonly (readonly [number, number])[];
  readonly sampleMs: number;
}

/** What the driver is asked to do. */
export interface DriverPlan {
  readonly server: string;
  readonly trojanPort: number;
  readonly password: string;
  /** the echo, as the trojan server sees it */
  readonly echoHost: string;
  readonly echoPort: number;
  /** the pool's max (and the min/max-idle) for every pooled scenario */
  readonly pool: { readonly max: number; readonly min: number; readonly maxIdleMs: number };
  readonly scenarios: readonly (SteadyScenario | StepScenario)[];
}

/** Percentiles of one latency sample (ms). */
export interface Quantiles {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** One steady run's outcome. */
export interface SteadyResult {
  readonly kind: 'steady';
  readonly pool: boolean;
  readonly rate: number;
  /** arrivals actually started in the measured window, per second */
  readonly offered: number;
  /** dial start .. the stream accepts writes */
  readonly setup: Quantiles;
  /** dial start .. first echoed byte */
  readonly firstByte: Quantiles;
  readonly errors: number;
  readonly firstError: string;
  /** pool counters over the measured window (zero without the pool) */
  readonly hits: number;
  readonly misses: number;
  readonly wasted: number;
  readonly dropped: number;
  /** hits / (hits + misses) */
  readonly hitRate: number;
  /** wasted / (hits + wasted) */
  readonly wasteRate: number;
  readonly handshakeMs: number;
  readonly maxSize: number;
  readonly maxTarget: number;
  /** the pool every 250 ms over the whole run (warm-up included), for the raw JSON */
  readonly samples: readonly StepSample[];
}

/** One sample of the step run. */
export interface StepSample {
  /** ms since the step run started */
  readonly t: number;
  /** the offered rate at t */
  readonly offered: number;
  readonly size: number;
  readonly pending: number;
  readonly target: number;
  readonly rate: number;
  readonly hits: number;
  readonly misses: number;
  readonly wasted: number;
  readonly handshakeMs: number;
  readonly replacementMs: number;
}

/** The step run's outcome. */
export interface StepResult {
  readonly kind: 'step';
  readonly levels: readonly (readonly [number, number])[];
  readonly samples: readonly StepSample[];
  /** when the first and the last arrival actually started (ms since the run started): a
   * starved driver falls behind its schedule, and the step is read off these */
  readonly firstArrivalMs: number;
  readonly lastArrivalMs: number;
  readonly arrivals: number;
  readonly errors: number;
  readonly firstError: string;
}

/** Everything the driver prints. */
export interface DriverResult {
  /** median TCP connect time to the trojan server: the link's round trip as TCP sees it */
  readonly linkRttMs: number;
  readonly results: readonly (SteadyResult | StepResult)[];
}

const PING = Buffer.from('warm-pool-bench\n');

function quantiles(xs: number[]): Quantiles {
  const s = xs.slice().sort((a, b) => a - b);
  const q = (p: number): number => (s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number));
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: s.length ? (s[s.length - 1] as number) : NaN };
}

/** Exponential gap (ms) of a Poisson process with `rate` per second. */
function gapMs(rate: number): number {
  return (-Math.log(1 - Math.random()) * 1000) / rate;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The world one scenario runs in: its own outbound and (when on) its own pool registry. */
class Bench {
  readonly #plan: DriverPlan;
  readonly #resolver = createSystemResolver({ ipv6: false });
  readonly #log = createLogger('silent');
  readonly #dialer = createSystemDialer({ resolver: this.#resolver });
  readonly #registry = createRegistry();
  readonly #meta: Metadata;
  errors = 0;
  firstError = '';
  inFlight = 0;

  constructor(plan: DriverPlan) {
    this.#plan = plan;
    this.#meta = {
      id: 'bench',
      network: 'tcp',
      inbound: { type: 'SOCKS5', name: 'bench', port: 0 },
      source: { host: '127.0.0.1', port: 1 },
      destination: { host: plan.echoHost, port: plan.echoPort },
    };
  }

  outbound(pool: boolean): { out: Outbound; pools: WarmPoolRegistry | undefined } {
    const p = this.#plan;
    const pools = pool
      ? new WarmPoolRegistry({ log: this.#log, dialer: this.#dialer, defaults: { enable: true, min: p.pool.min, max: p.pool.max, maxIdleMs: p.pool.maxIdleMs } })
      : undefined;
    const def = this.#registry.get('trojan');
    if (!def) throw new Error('no trojan protocol');
    const opts = def.schema.parse({ name: 'bench', type: 'trojan', server: p.server, port: p.trojanPort, password: p.password, sni: 'localhost', 'skip-cert-verify': true, udp: false });
    const out = def.create(opts, { resolver: this.#resolver, log: this.#log, dialer: this.#dialer, warmPool: pools });
    return { out, pools };
  }

  /** One connection; pushes its times when it completes (errors are counted, not timed). */
  async one(out: Outbound, setup: number[] | undefined, first: number[] | undefined): Promise<void> {
    this.inFlight++;
    const t0 = performance.now();
    let s: Duplex | undefined;
    try {
      s = await out.dialTcp(this.#meta, { signal: AbortSignal.timeout(10_000) });
      const t1 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10_000);
        s?.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
        s?.once('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        s?.once('end', () => {
          clearTimeout(timer);
          reject(new Error('closed before the echo'));
        });
        s?.write(PING);
      });
      const t2 = performance.now();
      setup?.push(t1 - t0);
      first?.push(t2 - t0);
    } catch (err) {
      this.errors++;
      if (!this.firstError) this.firstError = err instanceof Error ? err.message : String(err);
    } finally {
      s?.on('error', () => {});
      s?.destroy();
      this.inFlight--;
    }
  }

  /** Waits (bounded, 15 s) until no connection is in flight. */
  async drain(): Promise<void> {
    for (let k = 0; k < 150 && this.inFlight > 0; k++) await sleep(100);
  }

  close(): void {
    this.#resolver.close();
  }
}

function poolMetrics(pools: WarmPoolRegistry | undefined): WarmPoolMetrics | undefined {
  return pools?.metrics()[0];
}

/** Samples the pool every `everyMs` into `into` until the returned function is called. */
function sampleEvery(pools: WarmPoolRegistry | undefined, everyMs: number, start: number, offered: (t: number) => number, into: StepSample[]): () => void {
  const timer = setInterval(() => {
    const t = performance.now() - start;
    const m = poolMetrics(pools);
    into.push({
      t, offered: offered(t), size: m?.size ?? 0, pending: m?.pending ?? 0, target: m?.target ?? 0, rate: m?.ratePerSec ?? 0,
      hits: m?.hits ?? 0, misses: m?.misses ?? 0, wasted: m?.wasted ?? 0, handshakeMs: m?.handshakeMs ?? NaN, replacementMs: m?.replacementMs ?? NaN,
    });
  }, everyMs);
  return () => clearInterval(timer);
}

async function steady(b: Bench, sc: SteadyScenario): Promise<SteadyResult> {
  const { out, pools } = b.outbound(sc.pool);
  const setup: number[] = [];
  const first: number[] = [];
  const errors0 = b.errors;
  const start = performance.now();
  const measureAt = start + sc.warmupS * 1000;
  const end = measureAt + sc.measureS * 1000;
  let before: WarmPoolMetrics | undefined;
  let started = 0;
  let maxSize = 0;
  let maxTarget = 0;
  const samples: StepSample[] = [];
  const stopSampling = sampleEvery(pools, 250, start, () => sc.rate, samples);
  let next = start + gapMs(sc.rate);
  // bounded in time (end) and count (rate x duration x 3)
  for (let k = 0; k < sc.rate * (sc.warmupS + sc.measureS) * 3; k++) {
    if (next >= end) break;
    await sleep(next - performance.now());
    const measuring = next >= measureAt;
    if (measuring && before === undefined) before = poolMetrics(pools);
    if (measuring) started++;
    void b.one(out, measuring ? setup : undefined, measuring ? first : undefined);
    const m = measuring ? poolMetrics(pools) : undefined;
    if (m) {
      maxSize = Math.max(maxSize, m.size);
      maxTarget = Math.max(maxTarget, m.target);
    }
    next += gapMs(sc.rate);
  }
  const after = poolMetrics(pools);
  stopSampling();
  await b.drain();
  pools?.close();
  await out.close();
  const d = (k: 'hits' | 'misses' | 'wasted' | 'dropped'): number => (after?.[k] ?? 0) - (before?.[k] ?? 0);
  const hits = d('hits');
  const misses = d('misses');
  const wasted = d('wasted');
  return {
    kind: 'steady',
    pool: sc.pool,
    rate: sc.rate,
    offered: started / sc.measureS,
    setup: quantiles(setup),
    firstByte: quantiles(first),
    errors: b.errors - errors0,
    firstError: b.firstError,
    hits,
    misses,
    wasted,
    dropped: d('dropped'),
    hitRate: hits + misses > 0 ? hits / (hits + misses) : NaN,
    wasteRate: hits + wasted > 0 ? wasted / (hits + wasted) : NaN,
    handshakeMs: after?.handshakeMs ?? NaN,
    maxSize,
    maxTarget,
    samples,
  };
}

async function step(b: Bench, sc: StepScenario): Promise<StepResult> {
  const { out, pools } = b.outbound(true);
  const errors0 = b.errors;
  const start = performance.now();
  const bounds: number[] = [];
  let acc = 0;
  for (const [, s] of sc.levels) bounds.push((acc += s * 1000));
  const total = acc;
  const rateAt = (t: number): number => {
    const i = bounds.findIndex((e) => t < e);
    return i < 0 ? 0 : (sc.levels[i]?.[0] ?? 0);
  };
  const samples: StepSample[] = [];
  const stopSampling = sampleEvery(pools, sc.sampleMs, start, rateAt, samples);
  const maxArrivals = sc.levels.reduce((a, [r, s]) => a + r * s, 0) * 3 + 10;
  let arrivals = 0;
  let firstArrivalMs = NaN;
  let lastArrivalMs = NaN;
  let t = 0;
  for (let k = 0; k < maxArrivals + sc.levels.length * 2; k++) {
    const i = bounds.findIndex((e) => t < e);
    if (i < 0) break;
    const levelEnd = bounds[i] as number;
    const r = sc.levels[i]?.[0] ?? 0;
    const next = r > 0 ? t + gapMs(r) : Number.POSITIVE_INFINITY;
    // a gap that crosses into the next level restarts the draw there (arrivals are memoryless)
    if (next >= levelEnd) {
      t = levelEnd;
      continue;
    }
    t = next;
    await sleep(start + t - performance.now());
    const now = performance.now() - start;
    if (arrivals++ === 0) firstArrivalMs = now;
    lastArrivalMs = now;
    void b.one(out, undefined, undefined);
  }
  await sleep(start + total - performance.now());
  stopSampling();
  await b.drain();
  pools?.close();
  await out.close();
  return { kind: 'step', levels: sc.levels, samples, firstArrivalMs, lastArrivalMs, arrivals, errors: b.errors - errors0, firstError: b.firstError };
}

/** Median of 15 sequential plain TCP connects to host:port (each bounded by 5 s). */
async function connectRtt(host: string, port: number): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < 15; k++) {
    const t0 = performance.now();
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect({ host, port });
      c.setTimeout(5000, () => c.destroy(new Error('timeout')));
      c.once('connect', () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) times.push(performance.now() - t0);
  }
  return quantiles(times).p50;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as DriverPlan;
  const b = new Bench(plan);
  const results: (SteadyResult | StepResult)[] = [];
  const linkRttMs = await connectRtt(plan.server, plan.trojanPort);
  try {
    for (const sc of plan.scenarios) {
      results.push(sc.kind === 'steady' ? await steady(b, sc) : await step(b, sc));
      process.stderr.write(`driver: ${sc.kind} done\n`);
    }
  } finally {
    b.close();
  }
  process.stdout.write(`${JSON.stringify({ linkRttMs, results } satisfies DriverResult)}\n`);
}

await main();
