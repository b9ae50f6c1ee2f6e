/**
 * `npm run bench:jitter`: does a bulk download starve small flows? (issue 17 item 5)
 *
 *   npm run bench:jitter                               every row, every runtime, 6 s phases
 *   npm run bench:jitter -- --seconds=8 --rows=ss --runtimes=node,node-lts,bun
 *   options: --seconds=S (per phase)  --flows=N (default 4)  --rows=direct,ss,trojan
 *            --rounds=K (every contender K times, rotated; the report shows each contender's
 *            median round by loaded TCP p99.9 and lists every round's p99.9)
 *            --runtimes=node,node-lts,bun  --no-ab (skip clash-ts with its relay budget off)
 *            --out=DIR (default docs/; writes DIR/jitter.md and the `jitter` section of
 *            DIR/benchmarks.md)
 *
 * Per row and contender, one after the other, each freshly started: N latency flows (32 B every
 * 5 ms over SOCKS5 CONNECT to a TCP echo server and over SOCKS5 UDP ASSOCIATE to a UDP echo
 * server, bench/jitter/pinger.ts) alone, then beside 16-way new connections and one bulk
 * keep-alive download of a 64 MiB file from nginx (the C load generator), all through the same
 * proxy. The A/B for the relay's fairness budget is clash-ts started with
 * CLASH_TS_RELAY_BUDGET=0 in the same run. Raw results: bench/out/jitter.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLoadgen } from './lib/loadgen.js';
import { machineFacts } from './lib/machine.js';
import { startClash, type Listening, type PeerEnv } from './lib/peers.js';
import type { BenchProc } from './lib/proc.js';
import { writeSection } from './lib/sections.js';
import { makeCert, startTarget } from './lib/target.js';
import { measure, type ContenderRun, type JitterPlan } from './jitter/measure.js';
import { renderJitter, type JitterRowResult } from './jitter/report.js';
import { JITTER_ROWS, v2rayLocal } from './jitter/rows.js';
import { parseRuntimes, resolveRuntimes, type Runtime } from './lib/runtimes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Rotates a list by `n`, so each round starts with a different contender. */
function rotate<T>(xs: readonly T[], n: number): T[] {
  const k = xs.length ? n % xs.length : 0;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/** Of one contender's rounds, the one with the median loaded TCP p99.9 (its figures stay together). */
function medianRound(rs: readonly ContenderRun[]): ContenderRun {
  const ran = rs.filter((r) => r.status === 'ran' && r.loaded?.tcp);
  if (!ran.length) return rs[0] as ContenderRun;
  const sorted = [...ran].sort((a, b) => (a.loaded?.tcp?.p999 ?? 0) - (b.loaded?.tcp?.p999 ?? 0));
  return { ...(sorted[Math.floor((sorted.length - 1) / 2)] as ContenderRun), roundsP999: rs.map((r) => r.loaded?.tcp?.p999 ?? NaN) };
}

async function main(): Promise<void> {
  const opt = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const plan: JitterPlan = { seconds: Number(opt('seconds') ?? 6), flows: Number(opt('flows') ?? 4), intervalMs: 5, newConns: 16 };
  const onlyRows = opt('rows')?.split(',');
  const { found: runtimes, missing } = resolveRuntimes(parseRuntimes(opt('runtimes') ?? 'all'));
  for (const m of missing) process.stdout.write(`runtime not run: ${m}\n`);
  if (runtimes.length === 0) throw new Error('no runtime to run clash-ts on');
  const ab = !process.argv.includes('--no-ab');
  const rounds = Math.max(1, Number(opt('rounds') ?? 1));
  const outDir = opt('out') ?? join(ROOT, 'docs');
  const t0 = Date.now();
  const log = (s: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'ctsb-jitter-'));
  const live = new Set<BenchProc>();
  const env: PeerEnv = { dir, cert: makeCert(dir), live };
  const stopAll = async (): Promise<void> => {
    for (const p of [...live]) await p.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  const results: JitterRowResult[] = [];
  const machine = machineFacts();
  try {
    const lg = buildLoadgen(join(ROOT, 'bench', 'out', 'bin'));
    const target = await startTarget(dir, undefined, 64 << 20, live);
    for (const row of JITTER_ROWS) {
      if (onlyRows && !onlyRows.includes(row.id)) continue;
      log(row.title);
      const remote = row.remote ? await row.remote(env) : undefined;
      const rport = remote?.port ?? 0;
      type Start = { label: string; kind: ContenderRun['kind']; udp: boolean; start: () => Promise<Listening> };
      const clash = (rt: Runtime, budgetOff: boolean): Start => ({
        label: `clash-ts ${rt.name}${budgetOff ? ', budget off' : ''}`, kind: 'clash-ts', udp: true,
        start: () => {
          if (!existsSync(rt.command)) throw new Error(`${rt.command} is not installed`);
          return startClash(env, row.clash(rport), undefined, undefined, rt, budgetOff ? { CLASH_TS_RELAY_BUDGET: '0' } : {});
        },
      });
      // interleaved: the A/B pair sits around v2ray-go, so drift in the machine's load hits both
      const starts: Start[] = [
        clash(runtimes[0] as Runtime, false),
        { label: 'v2ray-go 4.34', kind: 'v2ray-go', udp: true, start: () => v2rayLocal(env, row.v2ray(rport, env)) },
        ...(ab ? [clash(runtimes[0] as Runtime, true)] : []),
        ...(row.native ? [{ label: row.native.label, kind: 'native' as const, udp: row.native.udp, start: () => (row.native as NonNullable<typeof row.native>).start(env, rport) }] : []),
        ...runtimes.slice(1).map((rt) => clash(rt, false)),
      ];
      const byLabel = new Map<string, ContenderRun[]>(starts.map((s) => [s.label, []]));
      for (let round = 0; round < rounds; round++) for (const s of rotate(starts, round)) {
        const run: ContenderRun = { label: s.label, kind: s.kind, status: 'ran' };
        byLabel.get(s.label)?.push(run);
        let c: Listening | undefined;
        try {
          c = await s.start();
          await measure(c, run, lg, target.port, plan, s.udp);
          const l = run.loaded;
          log(`  ${s.label}: idle tcp p99.9 ${run.idle?.tcp?.p999.toFixed(1)} ms; loaded tcp p50/p99.9/max ${l?.tcp?.p50.toFixed(1)}/${l?.tcp?.p999.toFixed(1)}/${l?.tcp?.max.toFixed(1)} ms` +
            `${l?.udp ? `, udp p99.9 ${l.udp.p999.toFixed(1)}` : ''}; new conn ${Math.round(run.newConn?.rps ?? 0)}/s; bulk ${((run.bulk?.bytesPerSec ?? 0) / 1e6).toFixed(0)} MB/s`);
        } catch (err) {
          (run as { status: string }).status = 'did not run';
          (run as { note?: string }).note = (err as Error).message.slice(0, 200);
          log(`  ${s.label}: did not run (${run.note})`);
        } finally {
          await c?.proc.stop();
        }
      }
      await remote?.proc.stop();
      results.push({ id: row.id, title: row.title, runs: [...byLabel.values()].map(medianRound), rounds: [...byLabel.values()] });
    }
    await target.proc.stop();
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const command = `npm run bench:jitter${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'jitter.json'), JSON.stringify({ plan, command, commit, machine, rows: results }, null, 1));
  const { page, section } = renderJitter(results, { plan, command, commit, machine: `${machine.cpu}, ${machine.cores} cores, load ${machine.loadStart}`, minutes: (Date.now() - t0) / 60_000, rounds });
  mkdirSync(outDir, { recursive: true });
  const notes = join(ROOT, 'bench', 'jitter', 'analysis.md');
  writeFileSync(join(outDir, 'jitter.md'), existsSync(notes) ? `${page}\n${readFileSync(notes, 'utf8')}` : page);
  writeSection(join(outDir, 'benchmarks.md'), 'jitter', section);
  process.stdout.write(page);
}

await main();
