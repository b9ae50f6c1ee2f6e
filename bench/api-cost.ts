/**
 * `npm run bench:api`: what the REST API's readers cost the data path (issue 13, item 4).
 * clash-ts (the built CLI, log-level info, a controller with a secret) holds N idle tunnels
 * (default 9,900: the sandbox's hard open-file limit is 20,000 and a tunnel costs the core two)
 * while the C load generator opens new connections at a fixed rate (default 2,000/s, one 1 KiB
 * HTTP request each through SOCKS5, to Debian's nginx). Each round runs every variant, rotated:
 *
 *   none          no API reader
 *   connections   a /connections WebSocket at interval=1000 (a snapshot of every live connection a second)
 *   traffic+logs  /traffic and /logs?level=info WebSockets (a log line per new connection)
 *   all           the three at once
 *
 * Reported per variant: ok rps, the core's CPU seconds per 1,000 requests (user+system from
 * /proc) and its ratio to `none`, p99 / p99.9 request latency and the p99.9 delta to `none`,
 * what the readers received. Writes the "api-cost" section of docs/benchmarks.md and
 * bench/out/api-cost.json.
 *
 *   options: --seconds=S (default 5, at most 30)  --rounds=R (default 2, at most 5)
 *            --held=N (default 9900)  --rate=R (default 2000)  --short (3 s, 1 round)
 *            --out=FILE (default docs/benchmarks.md)
 *            --section=ID (default api-cost; the JSON goes to bench/out/ID.json)
 *            --from-json (rewrite the section from bench/out/ID.json, no measuring)
 *            --variants=connections,... (measure these and `none` only; printed, docs untouched)
 *            --cpu-prof=DIR (the core runs under node --cpu-prof into DIR; printed, docs untouched)
 *
 * Everything on loopback, every peer on a probed free port and stopped by its PID; every
 * phase is bounded in time (the generator stops itself; the readers close with the phase).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { freePort } from '../test/support/ports.js';
import { buildLoadgen, holdTunnels, runLoad, type Held, type LoadResult } from './lib/loadgen.js';
import { machineFacts } from './lib/machine.js';
import { rotate } from './lib/measure.js';
import { sample, sleep, spawnPeer, type BenchProc } from './lib/proc.js';
import { writeSection } from './lib/sections.js';
import { startTarget } from './lib/target.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'main.js');
const SECRET = 'api-cost-secret';
const CONNS = 50;

type Variant = 'none' | 'connections' | 'traffic+logs' | 'all';
const VARIANTS: readonly Variant[] = ['none', 'connections', 'traffic+logs', 'all'];

interface Args {
  fromJson: boolean;
  seconds: number;
  rounds: number;
  held: number;
  rate: number;
  short: boolean;
  out: string;
  /** the docs/benchmarks.md section written (a second run at another rate can keep its own) */
  section: string;
  /** write a V8 CPU profile of the core (node --cpu-prof) into this folder; the docs are left alone */
  cpuProf?: string;
  /** the variants measured (default all four) */
  variants: Variant[];
}

function parse(argv: readonly string[]): Args {
  const a: Args = { fromJson: false, seconds: 5, rounds: 2, held: 9900, rate: 2000, short: false, out: join(ROOT, 'docs', 'benchmarks.md'), section: 'api-cost', variants: [...VARIANTS] };
  for (const x of argv) {
    if (x === '--from-json') a.fromJson = true;
    else if (x === '--short') Object.assign(a, { short: true, seconds: 3, rounds: 1 });
    else if (x.startsWith('--seconds=')) a.seconds = Math.max(1, Math.min(30, Number(x.slice(10)) || 5));
    else if (x.startsWith('--rounds=')) a.rounds = Math.max(1, Math.min(5, Number(x.slice(9)) || 2));
    else if (x.startsWith('--held=')) a.held = Math.max(0, Math.min(9900, Number(x.slice(7)) || 0));
    else if (x.startsWith('--rate=')) a.rate = Math.max(100, Math.min(10_000, Number(x.slice(7)) || 2000));
    else if (x.startsWith('--out=')) a.out = x.slice(6);
    else if (/^--section=[a-z0-9-]+$/.test(x)) a.section = x.slice(10);
    else if (x.startsWith('--cpu-prof=')) a.cpuProf = x.slice(11);
    else if (x.startsWith('--variants=')) {
      const vs = x.slice(11).split(',');
      for (const v of vs) if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v} (${VARIANTS.join(', ')})`);
      a.variants = [...new Set(['none', ...vs])] as Variant[];
    }
    else throw new Error(`unknown option ${x} (see bench/api-cost.ts)`);
  }
  return a;
}

/** One WebSocket reader: counts what it receives; `close()` ends it. */
interface Reader {
  readonly path: string;
  messages: number;
  bytes: number;
  largest: number;
  dropped: boolean;
  close(): void;
}

function reader(api: number, path: string): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const sep = path.includes('?') ? '&' : '?';
    const ws = new WebSocket(`ws://127.0.0.1:${api}${path}${sep}token=${SECRET}`, { maxPayload: 256 << 20 });
    const r: Reader = { path, messages: 0, bytes: 0, largest: 0, dropped: false, close: () => ws.terminate() };
    let closing = false;
    r.close = () => {
      closing = true;
      ws.terminate();
    };
    const t = setTimeout(() => reject(new Error(`${path}: no WebSocket in 10 s`)), 10_000);
    ws.on('open', () => {
      clearTimeout(t);
      resolve(r);
    });
    ws.on('message', (m: Buffer) => {
      r.messages++;
      r.bytes += m.length;
      r.largest = Math.max(r.largest, m.length);
    });
    ws.on('close', () => {
      if (!closing) r.dropped = true;
    });
    ws.on('error', (e) => {
      clearTimeout(t);
      if (!closing) r.dropped = true;
      reject(e);
    });
  });
}

const PATHS: Record<Variant, string[]> = {
  none: [],
  connections: ['/connections?interval=1000'],
  'traffic+logs': ['/traffic', '/logs?level=info'],
  all: ['/connections?interval=1000', '/traffic', '/logs?level=info'],
};

interface Sample {
  readonly variant: Variant;
  readonly round: number;
  readonly ok: number;
  readonly errors: number;
  readonly rps: number;
  readonly cpu: number;
  readonly p99: number;
  readonly p999: number;
  readonly readers: { path: string; messages: number; bytes: number; largest: number; dropped: boolean }[];
  /** the core's event-loop delay during the load (ms, from its /metrics): p99 and the longest */
  readonly loop?: { p99: number; max: number };
}

/** The core's event-loop delay quantiles since its previous /metrics scrape (ms). */
async function loopDelay(api: number): Promise<{ p99: number; max: number } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${api}/metrics`, { headers: { Authorization: `Bearer ${SECRET}` }, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const q = (k: string) => Number(new RegExp(`^clash_event_loop_delay_recent_seconds\\{quantile="${k}"\\} (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
    return { p99: q('0.99'), max: q('1') };
  } catch {
    return undefined;
  }
}

async function startCore(dir: string, live: Set<BenchProc>, cpuProf?: string): Promise<{ proc: BenchProc; port: number; api: number }> {
  const port = await freePort();
  const api = await freePort();
  const yaml = [
    `mixed-port: ${port}`,
    'bind-address: 127.0.0.1',
    'allow-lan: false',
    // info: every connection makes a route line, which /logs?level=info then streams
    'log-level: info',
    'mode: rule',
    `external-controller: 127.0.0.1:${api}`,
    `secret: ${SECRET}`,
    'rules:',
    '  - MATCH,DIRECT',
    '',
  ].join('\n');
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, yaml);
  const proc = await spawnPeer({ live, name: 'clash-ts', command: process.execPath, args: [...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : []), CLI, '-d', dir, '-f', cfg], readyPort: api, logFile: join(dir, 'out.log') });
  return { proc, port, api };
}

async function phase(lg: string, core: { proc: BenchProc; port: number; api: number }, targetPort: number, v: Variant, round: number, a: Args): Promise<Sample> {
  const readers = await Promise.all(PATHS[v].map((p) => reader(core.api, p)));
  try {
    await sleep(1200); // the first snapshot is sent at once: let it pass before measuring
    await loopDelay(core.api); // starts the loop-delay interval the phase is read from
    const before = sample(core.proc.pid);
    const r: LoadResult = await runLoad(lg, { via: { kind: 'socks5', port: core.port }, targetPort, path: '/small.bin', conns: CONNS, requests: a.rate * a.seconds * 2, seconds: a.seconds, rate: a.rate }, undefined);
    const after = sample(core.proc.pid);
    const loop = await loopDelay(core.api);
    return {
      ...(loop && { loop }),
      variant: v,
      round,
      ok: r.ok,
      errors: r.errors,
      rps: r.rps,
      cpu: after && before ? after.cpu - before.cpu : NaN,
      p99: r.p99,
      p999: r.p999,
      readers: readers.map((x) => ({ path: x.path, messages: x.messages, bytes: x.bytes, largest: x.largest, dropped: x.dropped })),
    };
  } finally {
    for (const x of readers) x.close();
    await sleep(300);
  }
}

/** the options of a run as its command line says them */
function command(a: Args): string {
  const o: string[] = [];
  if (a.short) o.push('--short');
  else {
    if (a.rounds !== 2) o.push(`--rounds=${a.rounds}`);
    if (a.seconds !== 5) o.push(`--seconds=${a.seconds}`);
  }
  if (a.held !== 9900) o.push(`--held=${a.held}`);
  if (a.rate !== 2000) o.push(`--rate=${a.rate}`);
  if (a.section && a.section !== 'api-cost') o.push(`--section=${a.section}`);
  return o.length ? ` -- ${o.join(' ')}` : '';
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

function render(a: Args, samples: readonly Sample[], held: Pick<Held, 'held' | 'failed'> | undefined, startedAt: string, seconds: number, load: [number[], number[]]): string {
  const rows = (a.variants ?? VARIANTS).map((v) => {
    const s = samples.filter((x) => x.variant === v);
    const ok = sum(s.map((x) => x.ok));
    return {
      v,
      rps: sum(s.map((x) => x.rps)) / s.length,
      cpuPer1000: ok > 0 ? (sum(s.map((x) => x.cpu)) / ok) * 1000 : NaN,
      cpuShare: sum(s.map((x) => x.cpu)) / (s.length * a.seconds),
      p99: Math.max(...s.map((x) => x.p99)),
      p999: Math.max(...s.map((x) => x.p999)),
      errors: sum(s.map((x) => x.errors)),
      readers: s.flatMap((x) => x.readers),
      loopP99: Math.max(...s.map((x) => x.loop?.p99 ?? NaN)),
      loopMax: Math.max(...s.map((x) => x.loop?.max ?? NaN)),
      // the spread between rounds of the same variant: the run's noise
      cpuRange: [Math.min(...s.map((x) => (x.cpu / Math.max(1, x.ok)) * 1000)), Math.max(...s.map((x) => (x.cpu / Math.max(1, x.ok)) * 1000))] as const,
      p999Range: [Math.min(...s.map((x) => x.p999)), Math.max(...s.map((x) => x.p999))] as const,
    };
  });
  const base = rows[0];
  const lines = [
    `## REST API cost on the data path${a.rate === 2000 ? '' : ` (at ${a.rate.toLocaleString('en-US')} new connections/s)`}`,
    '',
    `What the controller's stream readers cost the relay: clash-ts with log-level info, ${held ? `${held.held.toLocaleString('en-US')} idle tunnels held open` : 'no held tunnels'}, new connections at ${a.rate.toLocaleString('en-US')}/s (${CONNS} parallel, one 1 KiB HTTP request each through SOCKS5 to nginx). Generated by \`npm run bench:api${command(a)}\` on ${startedAt} in ${Math.round(seconds)} s${a.short ? ' (**short mode**: one round of 3 s per variant, on a machine shared with other work: treat the figures as indicative)' : ''}. Load average ${load[0].map((x) => x.toFixed(2)).join(' ')} at start, ${load[1].map((x) => x.toFixed(2)).join(' ')} at end.`,
    '',
    `Method: ${a.rounds} round(s) of ${a.seconds} s per variant, the variants rotated each round; CPU is the core's user+system seconds (from /proc) during the load, per 1,000 ok requests (the range is the lowest and highest round); latency is the generator's per-request time (connect, SOCKS5, request, response); p99 / p99.9 are the worst round's; loop delay is the core's own event-loop delay during the load (its /metrics summary, sampled every 20 ms: p99 and the longest, worst round), the direct measure of how long anything held the relay. Goal (issue 13): readers add at most 10% CPU per request and move p99.9 by at most 1 ms.`,
    '',
    '| readers | ok rps | core CPU (share of one core) | CPU s / 1000 req (range of rounds) | vs none | p99 ms | p99.9 ms (range of rounds) | p99.9 delta ms | loop delay p99 / max ms | received (per reader: messages, MB, largest frame) | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...rows.map((r) => {
      const got = r.readers.length === 0 ? '–' : [...new Set(r.readers.map((x) => x.path))].map((p) => {
        const xs = r.readers.filter((x) => x.path === p);
        return `${p.split('?')[0]}: ${sum(xs.map((x) => x.messages))}, ${fmt(sum(xs.map((x) => x.bytes)) / 1e6, 1)} MB, ${fmt(Math.max(...xs.map((x) => x.largest)) / 1e6, 2)} MB${xs.some((x) => x.dropped) ? ' (dropped)' : ''}`;
      }).join('; ');
      return `| ${r.v} | ${Math.round(r.rps).toLocaleString('en-US')} | ${fmt(r.cpuShare * 100, 0)}% | ${fmt(r.cpuPer1000, 3)} (${fmt(r.cpuRange[0], 3)}–${fmt(r.cpuRange[1], 3)}) | ${r.v === 'none' ? '1.00x' : `${fmt(r.cpuPer1000 / base.cpuPer1000)}x`} | ${fmt(r.p99)} | ${fmt(r.p999)} (${fmt(r.p999Range[0], 0)}–${fmt(r.p999Range[1], 0)}) | ${r.v === 'none' ? '–' : fmt(r.p999 - base.p999)} | ${fmt(r.loopP99, 1)} / ${fmt(r.loopMax, 1)} | ${got} | ${r.errors} |`;
    }),
    '',
    ...verdict(a, rows, held),
    '',
    `Reproduce: \`npm run bench:api\` (options \`--seconds=S --rounds=R --held=N --rate=R --short\`; \`--cpu-prof=DIR --variants=connections\` profiles the core without touching this page; see bench/api-cost.ts).`,
  ];
  return lines.join('\n') + '\n';
}

/** What the table shows, said plainly (including when the run cannot show it). */
function verdict(a: Args, rows: readonly { v: Variant; rps: number; cpuPer1000: number; p999: number; loopP99: number; loopMax: number; cpuRange: readonly [number, number]; p999Range: readonly [number, number]; readers: { path: string; largest: number; dropped: boolean }[] }[], held: Pick<Held, 'held'> | undefined): string[] {
  const base = rows[0];
  const out = ['### What it shows', ''];
  if (a.rounds > 1) {
    const cpuNoise = base.cpuRange[1] / base.cpuRange[0] - 1;
    out.push(`- Noise: the \`none\` rounds alone differ by ${fmt(cpuNoise * 100, 0)}% in CPU per request and by ${fmt(base.p999Range[1] - base.p999Range[0])} ms in p99.9 (loop delay p99 / max ${fmt(base.loopP99, 1)} / ${fmt(base.loopMax, 1)} ms with no reader at all), so a difference smaller than that is not a finding of this run.`);
  }
  const reached = base.rps >= a.rate * 0.9;
  if (!reached) out.push(`- **The offered rate was not reached** (${Math.round(base.rps)} of ${a.rate} rps without readers): the core was CPU-starved on this machine, so latency and CPU per request are dominated by contention, and the 10% / 1 ms goals can be neither confirmed nor refuted by this run.`);
  for (const r of rows.slice(1)) {
    const cpu = r.cpuPer1000 / base.cpuPer1000 - 1;
    const dp = r.p999 - base.p999;
    // a verdict finer than the spread of the `none` rounds themselves is not one
    const noisy = a.rounds > 1 && (base.cpuRange[1] / base.cpuRange[0] - 1 > 0.1 || base.p999Range[1] - base.p999Range[0] > 1);
    const caveat = !reached ? ' (not conclusive, see above)' : noisy ? ' (not conclusive: the `none` rounds alone spread wider than the goal)' : '';
    out.push(`- ${r.v}: ${cpu >= 0 ? '+' : ''}${fmt(cpu * 100, 0)}% CPU per request, p99.9 ${dp >= 0 ? '+' : ''}${fmt(dp)} ms: ${cpu <= 0.1 && dp <= 1 ? 'within' : 'outside'} the goal${caveat}.`);
  }
  const snap = Math.max(0, ...rows.flatMap((r) => r.readers.filter((x) => x.path.startsWith('/connections')).map((x) => x.largest)));
  if (snap > 0 && held) out.push(`- One /connections message with ${held.held.toLocaleString('en-US')} live connections is ${fmt(snap / 1e6, 1)} MB of JSON (mihomo's shape, ${Math.round(snap / Math.max(1, held.held))} bytes a connection), sent every second whatever the connection rate: a fixed cost per reader and second that grows with the number of live connections. It is copied from each connection's kept JSON bytes (counters rewritten only where they moved) in slices of 500 connections, one slice per loop turn, each a fragment of the one message (docs/api.md).`);
  out.push(`- Readers dropped for falling behind: ${rows.some((r) => r.readers.some((x) => x.dropped)) ? 'yes (see the table)' : 'none'} (a /traffic or /logs reader more than 512 KiB behind when its next line is due is cut, test/api/stalled-reader.test.ts; a /connections reader whose last snapshot has not drained skips ticks and is cut after 10 s without progress, test/api/connections-stream.test.ts).`);
  return out;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  if (a.fromJson) {
    const j = JSON.parse(readFileSync(join(ROOT, 'bench', 'out', `${a.section}.json`), 'utf8')) as { args: Args; startedAt: string; seconds?: number; load?: [number[], number[]]; held?: { held: number; failed: number }; samples: Sample[] };
    const md = render({ ...j.args, out: a.out, section: a.section }, j.samples, j.held, j.startedAt, j.seconds ?? NaN, j.load ?? [[], []]);
    writeSection(a.out, a.section, md);
    console.log(md);
    return;
  }
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-api-cost-'));
  const live = new Set<BenchProc>();
  const stopAll = async () => {
    for (const p of [...live]) await p.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  let held: Held | undefined;
  try {
    const lg = buildLoadgen(dir);
    const target = await startTarget(dir, undefined, 1 << 20, live);
    const core = await startCore(dir, live, a.cpuProf);
    // warm up, then hold the idle tunnels
    await runLoad(lg, { via: { kind: 'socks5', port: core.port }, targetPort: target.port, path: '/small.bin', conns: 20, requests: 2000, seconds: 3 }, undefined);
    if (a.held > 0) {
      held = await holdTunnels(lg, { kind: 'socks5', port: core.port }, target.port, a.held, a.rounds * a.variants.length * (a.seconds + 3) + 120, undefined);
      console.log(`holding ${held.held} tunnels (${held.failed} failed)`);
    }
    const samples: Sample[] = [];
    for (let round = 0; round < a.rounds; round++) {
      for (const v of rotate(a.variants, round)) {
        const s = await phase(lg, core, target.port, v, round, a);
        console.log(`round ${round + 1} ${v}: ${Math.round(s.rps)} rps, CPU ${fmt((s.cpu / Math.max(1, s.ok)) * 1000, 3)} s/1000, p99.9 ${fmt(s.p999)} ms, readers ${JSON.stringify(s.readers)}`);
        samples.push(s);
      }
    }
    const md = render(a, samples, held, startedAt, (Date.now() - t0) / 1000, [load0, loadavg()]);
    if (a.cpuProf !== undefined || a.variants.length < VARIANTS.length) {
      // a profiled or partial run is for looking, not for the record
      console.log(md);
      if (a.cpuProf !== undefined) console.log(`CPU profile of the core: ${a.cpuProf}/*.cpuprofile (written when it exits)`);
      return;
    }
    mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'out', `${a.section}.json`), JSON.stringify({ args: a, startedAt, seconds: (Date.now() - t0) / 1000, load: [load0, loadavg()], machine: machineFacts(), held: held && { held: held.held, failed: held.failed }, samples }, null, 2));
    writeSection(a.out, a.section, md);
    console.log(md);
  } finally {
    await held?.release().catch(() => undefined);
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
