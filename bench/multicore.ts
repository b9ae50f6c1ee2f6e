/**
 * `npm run bench:multicore`: clash-ts `workers: 2` vs `workers: 1` vs v2ray-go, unpinned on both
 * cores, on the direct-via-SOCKS5 row and the ss aes-128-gcm row; also workers: 2 under both
 * node:cluster scheduling policies (SCHED_NONE vs SCHED_RR), which decides the default.
 * Writes its own section ("multi-core") of docs/benchmarks.md and bench/out/multicore.json.
 *
 *   options: --rounds=N (default 3)  --seconds=S (default 4)  --rows=direct-socks5,ss-aes-128-gcm
 *            --out=FILE (default docs/benchmarks.md)
 *            --from-json (rewrite the section from bench/out/multicore.json, no measuring)
 *
 * Everything on loopback, every peer on a probed free port, each stopped by its PID.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROWS, type Row } from './rows.js';
import { buildLoadgen, runLoad } from './lib/loadgen.js';
import { machineFacts } from './lib/machine.js';
import { rotate } from './lib/measure.js';
import { cpuByProcess, startClashWorkers, startV2rayLocal, treeCpu, type SchedPolicy } from './lib/multicore-peers.js';
import { meanRps, cpuPer1000, renderMulticore, type MultiContender, type MultiRow } from './lib/multicore-report.js';
import type { Listening, PeerEnv } from './lib/peers.js';
import type { BenchProc } from './lib/proc.js';
import { writeSection } from './lib/sections.js';
import { makeCert, startTarget } from './lib/target.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONNS = 50;
const MAX_REQUESTS = 2_000_000;

interface Args {
  fromJson: boolean;
  rounds: number;
  seconds: number;
  rows: string[];
  out: string;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { fromJson: false, rounds: 3, seconds: 4, rows: ['direct-socks5', 'ss-aes-128-gcm'], out: join(ROOT, 'docs', 'benchmarks.md') };
  for (const x of argv) {
    if (x === '--from-json') a.fromJson = true;
    else if (x.startsWith('--rounds=')) a.rounds = Math.max(1, Math.min(10, Number(x.slice(9)) || 3));
    else if (x.startsWith('--seconds=')) a.seconds = Math.max(1, Math.min(30, Number(x.slice(10)) || 4));
    else if (x.startsWith('--rows=')) a.rows = x.slice(7).split(',').filter(Boolean);
    else if (x.startsWith('--out=')) a.out = x.slice(6);
    else throw new Error(`unknown option ${x} (see bench/multicore.ts)`);
  }
  return a;
}

interface Starter {
  readonly label: string;
  start(env: PeerEnv, row: Row, remotePort: number): Promise<Listening>;
}

const clash = (workers: number, policy: SchedPolicy, label: string): Starter => ({
  label,
  start: (env, row, remotePort) => startClashWorkers(env, row.clash(remotePort), workers, policy),
});

const STARTERS: readonly Starter[] = [
  clash(2, 'none', 'clash-ts workers=2 (SCHED_NONE)'),
  clash(2, 'rr', 'clash-ts workers=2 (SCHED_RR)'),
  clash(1, 'none', 'clash-ts workers=1'),
  { label: 'v2ray-go', start: (env, row, remotePort) => startV2rayLocal(env, row.v2ray(remotePort, env)) },
];

interface Live {
  readonly c: MultiContender;
  readonly l: Listening;
}

async function runRow(env: PeerEnv, lg: string, targetPort: number, row: Row, a: Args, log: (s: string) => void): Promise<MultiRow> {
  const remote = row.remote ? await row.remote(env, undefined) : undefined;
  const out: MultiRow = { id: row.id, title: `${row.title} (unpinned, both cores)`, contenders: [] };
  const live: Live[] = [];
  try {
    for (const s of STARTERS) {
      const c: MultiContender = { label: s.label, runs: [], errors: [] };
      out.contenders.push(c);
      try {
        live.push({ c, l: await s.start(env, row, remote?.port ?? 0) });
      } catch (err) {
        c.errors.push(`start: ${(err as Error).message.slice(0, 200)}`);
        log(`  ${s.label} failed to start: ${(err as Error).message.slice(0, 200)}`);
      }
    }
    const via = (l: Listening) => ({ kind: 'socks5' as const, port: l.port });
    const guarded = async (c: MultiContender, what: string, f: () => Promise<void>): Promise<void> => {
      try {
        await f();
      } catch (err) {
        c.errors.push(`${what}: ${(err as Error).message.slice(0, 200)}`);
        log(`  ${c.label} ${what} failed: ${(err as Error).message.slice(0, 200)}`);
      }
    };
    for (const { c, l } of live) {
      await guarded(c, 'warm-up', async () => void (await runLoad(lg, { via: via(l), targetPort, path: '/small.bin', conns: CONNS, requests: 1000, seconds: 10 }, undefined)));
    }
    for (let r = 0; r < a.rounds; r++) {
      for (const { c, l } of rotate(live, r)) {
        await guarded(c, `round ${r + 1}`, async () => {
          const before = cpuByProcess(l.proc.pid);
          const load = await runLoad(lg, { via: via(l), targetPort, path: '/small.bin', conns: CONNS, requests: MAX_REQUESTS, seconds: a.seconds }, undefined);
          const after = cpuByProcess(l.proc.pid);
          const spent = [...after].map(([pid, cpu]) => [pid, cpu - (before.get(pid) ?? 0)] as const);
          c.runs.push({ load, cpu: spent.reduce((s, [, x]) => s + x, 0) });
          if (spent.length > 1) {
            c.split ??= { primary: 0, workers: [] };
            c.split.primary += spent[0]![1];
            spent.slice(1).forEach(([, x], i) => (c.split!.workers[i] = (c.split!.workers[i] ?? 0) + x));
          }
        });
      }
      log(`  round ${r + 1}: ${live.map(({ c }) => `${c.label} ${Math.round(c.runs.at(-1)?.load.rps ?? 0)}`).join(', ')} rps`);
    }
    const slowest = Math.min(...live.map(({ c }) => meanRps(c)).filter(Number.isFinite));
    if (Number.isFinite(slowest)) {
      const rate = Math.max(100, Math.floor((slowest * 0.6) / 100) * 100);
      out.fairRate = rate;
      for (const { c, l } of rotate(live, 1)) {
        await guarded(c, 'equal load', async () => {
          const before = treeCpu(l.proc.pid);
          const load = await runLoad(lg, { via: via(l), targetPort, path: '/small.bin', conns: 500, requests: rate * a.seconds, seconds: a.seconds + 3, rate }, undefined);
          c.fair = { load, cpu: treeCpu(l.proc.pid) - before };
        });
      }
      log(`  at ${rate} rps: ${live.map(({ c }) => `${c.label} p99 ${c.fair?.load.p99.toFixed(2)} p99.9 ${c.fair?.load.p999.toFixed(2)} ms`).join(', ')}`);
    }
  } finally {
    for (const { l } of live) await l.proc.stop();
    await remote?.proc.stop();
  }
  return out;
}

/** workers=2 against workers=1 per row, in words for the report. */
function scalingLines(rows: readonly MultiRow[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const two = row.contenders.find((c) => c.label.includes('SCHED_NONE'));
    const one = row.contenders.find((c) => c.label === 'clash-ts workers=1');
    if (!two || !one || two.runs.length === 0 || one.runs.length === 0) continue;
    out.push(
      `- ${row.title}: workers=2 / workers=1 = ${(meanRps(two) / meanRps(one)).toFixed(2)}x the new-connection rps at ${(cpuPer1000(two) / cpuPer1000(one)).toFixed(2)}x the CPU per request`,
    );
  }
  return out;
}

/** The policy verdict from the measured rows, in words for the report. */
function policyNote(rows: readonly MultiRow[]): string {
  const parts: string[] = [];
  for (const row of rows) {
    const none = row.contenders.find((c) => c.label.includes('SCHED_NONE'));
    const rr = row.contenders.find((c) => c.label.includes('SCHED_RR'));
    if (!none || !rr || none.runs.length === 0 || rr.runs.length === 0) continue;
    parts.push(
      `${row.title}: SCHED_NONE ${Math.round(meanRps(none))} rps at ${cpuPer1000(none).toFixed(2)} CPU s/1000, SCHED_RR ${Math.round(meanRps(rr))} rps at ${cpuPer1000(rr).toFixed(2)} CPU s/1000 (NONE/RR rps ${(meanRps(none) / meanRps(rr)).toFixed(2)}x)`,
    );
  }
  return [
    '**Scaling.** In this run:',
    '',
    ...scalingLines(rows),
    '',
    '**Scheduling policy.** With SCHED_RR the primary accepts every connection and passes its descriptor to a worker over IPC (a message and an fd transfer per connection, all through one process); with SCHED_NONE each worker accepts from the shared socket itself and the kernel decides who wins. Measured in this run:',
    '',
    ...parts.map((p) => `- ${p}`),
    '',
    'clash-ts uses SCHED_NONE (src/cluster/primary.ts); `NODE_CLUSTER_SCHED_POLICY=rr` switches it back.',
  ].join('\n');
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  if (a.fromJson) {
    const saved = JSON.parse(readFileSync(join(ROOT, 'bench', 'out', 'multicore.json'), 'utf8')) as Parameters<typeof renderMulticore>[0];
    writeSection(a.out, 'multi-core', renderMulticore({ ...saved, policyNote: policyNote(saved.rows) }));
    process.stdout.write(`section multi-core rewritten in ${a.out} from bench/out/multicore.json\n`);
    return;
  }
  const t0 = Date.now();
  const log = (s: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-multicore-'));
  const live = new Set<BenchProc>();
  const stopAll = async (): Promise<void> => {
    for (const p of [...live]) await p.stop();
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping every peer by PID');
    void stopAll().then(() => process.exit(130));
  });
  try {
    const machine = machineFacts();
    log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadStart}; nothing pinned`);
    const lg = buildLoadgen(join(ROOT, 'bench', 'out', 'bin'));
    const env: PeerEnv = { dir, cert: makeCert(dir), live };
    const target = await startTarget(dir, undefined, 1 << 20, live);
    const rows: MultiRow[] = [];
    for (const id of a.rows) {
      const row = ROWS.find((r) => r.id === id);
      if (!row) throw new Error(`no row ${id}`);
      log(row.title);
      rows.push(await runRow(env, lg, target.port, row, a, log));
    }
    await target.proc.stop();
    const run = {
      command: `npm run bench:multicore${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      startedAt: new Date(t0).toISOString(),
      seconds: (Date.now() - t0) / 1000,
      machine: { ...machine, loadEnd: machineFacts().loadStart },
      plan: { rounds: a.rounds, seconds: a.seconds, conns: CONNS, fairSeconds: a.seconds },
      rows,
      policyNote: policyNote(rows),
    };
    mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'out', 'multicore.json'), JSON.stringify(run, null, 1));
    writeSection(a.out, 'multi-core', renderMulticore(run));
    log(`section multi-core written to ${a.out} (${run.seconds.toFixed(0)} s)`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
