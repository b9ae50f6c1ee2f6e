/**
 * `npm run bench`: clash-ts against v2ray 4.34 and the C peers, side by side, in one run.
 *
 *   npm run bench                 full run (every built row), writes docs/benchmarks.md + plots
 *   npm run bench -- --quick      ~1-2 minute smoke run, writes bench/out/quick/benchmarks.md
 *   options: --rows=id,id  --no-pin  --budget=SECONDS  --out=DIR
 *            --force (run rows clash-ts cannot run yet, to check the other peers)
 *            --runtimes=node,node-lts,bun|all (default all: clash-ts once per runtime, side by side;
 *            node = the Node running the bench, node-lts and bun = the pinned dev dependencies)
 *            --cpu-prof (clash-ts under node --cpu-prof; top self-time functions per row in the report)
 *            --no-warm-pool (clash-ts's proxies with `warm-pool: false`, to see what the pool costs)
 *            --from-json=FILE (no measuring: re-render the report from a results.json, e.g. after
 *            editing bench/analysis.md)
 *
 * Everything runs on loopback: nginx as the target, the remote servers and the local clients
 * each on a probed free port with its own config in a temp dir, each stopped by its PID.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROWS } from './rows.js';
import { availability } from './lib/available.js';
import { buildLoadgen } from './lib/loadgen.js';
import { machineFacts } from './lib/machine.js';
import { baselinePhase, type MeasureCtx, type Plan } from './lib/measure.js';
import type { PeerEnv } from './lib/peers.js';
import { hardNofile, type BenchProc, type Pinning } from './lib/proc.js';
import { writeReport } from './lib/report.js';
import type { RowResult, RunResult } from './lib/results.js';
import { runRow } from './lib/run-row.js';
import { parseRuntimes, resolveRuntimes, RUNTIME_IDS, type RuntimeId } from './lib/runtimes.js';
import { makeCert, startTarget } from './lib/target.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const FULL: Plan = {
  conns: 50, warmRequests: 2000, seedRequests: 1000, seedRounds: 3, longSeconds: 5, keepAliveSeconds: 3,
  throughputSeconds: 3, rate: 5000, rateSeconds: 4, idleCounts: [2000, 10_000], maxRequests: 2_000_000,
};
const QUICK: Plan = {
  conns: 50, warmRequests: 500, seedRequests: 1000, seedRounds: 1, longSeconds: 2, keepAliveSeconds: 1.5,
  throughputSeconds: 1.5, rate: 5000, rateSeconds: 2, idleCounts: [2000], maxRequests: 1_000_000,
};

interface Args {
  quick: boolean;
  rows?: string[];
  pin: boolean;
  budget: number;
  out?: string;
  cpuProf: boolean;
  /** run rows even when clash-ts cannot (checks the peers' configs; clash-ts is reported as failed) */
  force: boolean;
  /** clash-ts's proxies without the TLS warm pool */
  noWarmPool: boolean;
  /** re-render the report from this results.json instead of measuring */
  fromJson?: string;
  /** the runtimes clash-ts runs on, each a contender of its own */
  runtimes: RuntimeId[];
}

function parse(argv: readonly string[]): Args {
  const a: Args = { quick: false, pin: true, budget: 0, cpuProf: false, force: false, noWarmPool: false, runtimes: [...RUNTIME_IDS] };
  for (const x of argv) {
    if (x === '--quick') a.quick = true;
    else if (x === '--no-pin') a.pin = false;
    else if (x === '--cpu-prof') a.cpuProf = true;
    else if (x === '--force') a.force = true;
    else if (x === '--no-warm-pool') a.noWarmPool = true;
    else if (x.startsWith('--rows=')) a.rows = x.slice(7).split(',').filter(Boolean);
    else if (x.startsWith('--budget=')) a.budget = Number(x.slice(9));
    else if (x.startsWith('--out=')) a.out = x.slice(6);
    else if (x.startsWith('--from-json=')) a.fromJson = x.slice(12);
    else if (x.startsWith('--runtimes=')) a.runtimes = parseRuntimes(x.slice(11));
    else throw new Error(`unknown option ${x} (see bench/run.ts)`);
  }
  // a full run must reach every row (~2 min each); the budget only stops a run gone wrong
  if (!a.budget) a.budget = a.quick ? 150 : 3600;
  return a;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args.fromJson) {
    const result = JSON.parse(readFileSync(args.fromJson, 'utf8')) as RunResult;
    const md = writeReport(result, args.out ?? (result.quick ? join(ROOT, 'bench', 'out', 'quick') : join(ROOT, 'docs')));
    process.stdout.write(`report: ${md} (re-rendered from ${args.fromJson})\n`);
    return;
  }
  // A held tunnel costs the proxy two descriptors; the hard limit cannot be raised here, so the
  // larger idle count is capped below it (and the report says so).
  const nofile = hardNofile();
  const cap = Math.floor((nofile - 500) / 2 / 100) * 100;
  const chosen = args.quick ? QUICK : FULL;
  const plan: Plan = { ...chosen, idleCounts: chosen.idleCounts.map((c) => Math.min(c, cap)) };
  const t0 = Date.now();
  const log = (s: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);
  const cpus = Number(execFileSync('nproc').toString().trim());
  const pinning: Pinning = args.pin && cpus >= 2 ? { enabled: true, proxyCpu: 1, restCpu: 0 } : { enabled: false, proxyCpu: undefined, restCpu: undefined };
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-bench-'));
  const live = new Set<BenchProc>();
  const stopAll = async (): Promise<void> => {
    for (const p of [...live]) await p.stop();
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping every peer by PID');
    void stopAll().then(() => process.exit(130));
  });
  const outDir = args.out ?? (args.quick ? join(ROOT, 'bench', 'out', 'quick') : join(ROOT, 'docs'));
  try {
    const machine = machineFacts();
    log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadStart}; pinning ${pinning.enabled ? 'proxy→cpu1, rest→cpu0' : 'off'}`);
    const lg = buildLoadgen(join(ROOT, 'bench', 'out', 'bin'));
    const { found: runtimes, missing } = resolveRuntimes(args.runtimes);
    log(`clash-ts runtimes: ${runtimes.map((r) => `${r.label} (${r.command})`).join(', ')}${missing.length ? `; not run: ${missing.join('; ')}` : ''}`);
    if (runtimes.length === 0) throw new Error('no runtime to run clash-ts on');
    const env: PeerEnv = { dir, cert: makeCert(dir), live };
    const target = await startTarget(dir, pinning.restCpu, 64 << 20, live);
    const base: Omit<MeasureCtx, 'restPids'> = {
      lg, targetPort: target.port, pinning, plan, log, noWarmPool: args.noWarmPool, runtimes, allCpus: `0-${cpus - 1}`,
      ...(args.cpuProf && { profileDir: join(ROOT, 'bench', 'out', 'prof') }),
    };
    const bctx: MeasureCtx = { ...base, restPids: [target.proc.pid] };
    log('baseline: load generator straight to nginx');
    const small = { path: '/small.bin', conns: plan.conns, requests: plan.maxRequests };
    const baseline = {
      newConn: await baselinePhase(bctx, { ...small, seconds: plan.longSeconds }),
      keepAlive: await baselinePhase(bctx, { ...small, seconds: plan.keepAliveSeconds, keepAlive: true }),
      throughput: await baselinePhase(bctx, { path: '/big.bin', conns: 1, requests: 10_000, seconds: plan.throughputSeconds, keepAlive: true }),
    };
    log(`  new-conn ${Math.round(baseline.newConn.load.rps)} rps, keep-alive ${Math.round(baseline.keepAlive.load.rps)} rps, one stream ${(baseline.throughput.load.bytesPerSec / 2 ** 20).toFixed(0)} MiB/s`);
    const rows: RowResult[] = [];
    const avail = await availability(ROWS, dir);
    for (const row of ROWS) {
      if (args.rows && !args.rows.includes(row.id)) continue;
      const why = args.force ? undefined : avail.get(row.id);
      if (why) {
        log(`${row.title}: not built yet (${why})`);
        rows.push({ id: row.id, title: row.title, status: 'not built yet', note: why, contenders: [], seconds: 0 });
        continue;
      }
      if ((Date.now() - t0) / 1000 > args.budget) {
        log(`${row.title}: skipped, time budget of ${args.budget}s used`);
        rows.push({ id: row.id, title: row.title, status: 'skipped (time budget)', contenders: [], seconds: 0 });
        continue;
      }
      log(`${row.title}`);
      try {
        rows.push(await runRow(env, row, base, target.proc.pid));
      } catch (err) {
        log(`  row failed: ${(err as Error).message}`);
        rows.push({ id: row.id, title: row.title, status: 'failed', note: (err as Error).message.slice(0, 300), contenders: [], seconds: 0 });
      }
    }
    await target.proc.stop();
    const result: RunResult = {
      startedAt: new Date(t0).toISOString(),
      seconds: (Date.now() - t0) / 1000,
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      quick: args.quick,
      machine: { ...machine, loadEnd: machineFacts().loadStart, 'open files (hard limit)': String(nofile) },
      pinning: { enabled: pinning.enabled, proxyCpu: pinning.proxyCpu, restCpu: pinning.restCpu },
      plan: { ...plan },
      baseline,
      rows,
      runtimes: runtimes.map((r) => ({ id: r.id, label: r.label, version: r.version })),
      runtimesMissing: missing,
    };
    mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'out', args.quick ? 'results-quick.json' : 'results.json'), JSON.stringify(result, null, 1));
    const md = writeReport(result, outDir);
    log(`report: ${md} (${result.seconds.toFixed(0)} s)`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
