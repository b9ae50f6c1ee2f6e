/**
 * `npm run soak -- --minutes N [--rate R --tunnels T --udp-flows U --seed S --workers W --report]`:
 * the built CLI (dist/main.js) under a mixed, seeded, bounded load against real local servers for
 * N minutes, sampled every 10 s; then the load stops, the core settles, and the verdict is
 * judged. Writes the run's results JSON (printed path; `--out FILE`), with `--report`
 * docs/stability.md and docs/stability/*.svg. Exit code 1 when a leak check fails.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFacts } from '../lib/machine.js';
import { spawnPeer, type BenchProc } from '../lib/proc.js';
import { waitForPort } from '../../test/support/ports.js';
import { bulkDownload, reload, switchSelector } from './actions.js';
import { commandLine, parseArgs, type SoakOptions } from './args.js';
import { soakConfig } from './config.js';
import { Controller } from './controller.js';
import { Load } from './load.js';
import { startSoakPeers } from './peers.js';
import { writeReport } from './report.js';
import { Sampler, type Sample } from './sampler.js';
import { quantiles, type Quantiles } from './stats.js';
import { judge, type Verdict } from './verdict.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/main.js');
/** After the load stops: how long the core may take to get back to its start figures. */
const SETTLE_MS = 100_000;

/** Everything a run produced (the results JSON). */
export interface SoakResult {
  readonly options: SoakOptions;
  readonly command: string;
  readonly machine: Record<string, string>;
  readonly clashVersion: string;
  readonly commit: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly samples: readonly Sample[];
  readonly verdict: Verdict;
  readonly errors: Record<string, number>;
  readonly errorExamples: Record<string, string>;
  readonly totals: { bytesVerified: number; bytesCorrupted: number; connectionsOk: number; exchangesOk: number; bulkOk: number; udpSent: number; udpVerified: number; udpLost: number; reloads: number; switches: number };
  readonly connect: Quantiles;
  readonly tunnelRtt: Quantiles;
  /** seconds from the load's stop until the figures were back (or the bound) */
  readonly settleSeconds: number;
  /** clash-ts log lines by level and their most common messages */
  readonly log: { byLevel: Record<string, number>; top: [string, number][] };
  readonly exitCode: number | null;
  readonly rows: readonly string[];
  /** set when the report was regenerated from this results file (`--from`) */
  readonly reportedFrom?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Counts the core's log lines by level; messages with their numbers and addresses blanked. */
function summariseLog(file: string): SoakResult['log'] {
  const byLevel: Record<string, number> = {};
  const kinds = new Map<string, number>();
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (!line) continue;
    const level = /level=(\w+)/.exec(line)?.[1] ?? 'other';
    byLevel[level] = (byLevel[level] ?? 0) + 1;
    const msg = (/msg="(.*)"/.exec(line)?.[1] ?? line).replace(/\d+(\.\d+)*/g, 'N').slice(0, 160);
    kinds.set(`${level}: ${msg}`, (kinds.get(`${level}: ${msg}`) ?? 0) + 1);
  }
  return { byLevel, top: [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12) };
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run soak does)`);
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-soak-'));
  const startedAt = new Date().toISOString();
  // the tree the run starts from (dist/ is built from it by npm run soak)
  const commit = git(['rev-parse', '--short', 'HEAD']) + (git(['status', '--porcelain', '--untracked-files=no']) ? ' (with local changes)' : '');
  const log = (m: string): void => void process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  log(`scratch dir ${dir}; ${commandLine(o)}`);
  const peers = await startSoakPeers(join(dir, 'peers'), o.bulkBytes);
  let clash: BenchProc | undefined;
  const onSignal = (): void => {
    void (async () => {
      await clash?.stop();
      await peers.close();
      process.exit(130);
    })();
  };
  // whatever ends this process, the processes it started go too (by PID)
  const onExit = (): void => {
    if (clash && !clash.exited()) clash.proc.kill('SIGKILL');
    peers.killNow();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  try {
    const cfg = await soakConfig(peers, o.workers);
    const home = join(dir, 'home');
    mkdirSync(home);
    const cfgFile = join(home, 'config.yaml');
    writeFileSync(cfgFile, cfg.yaml(0));
    const clashLog = join(dir, 'clash-ts.log');
    clash = await spawnPeer({ name: 'clash-ts', command: process.execPath, args: [CLI, '-d', home, '-f', cfgFile], readyPort: cfg.controllerPort, logFile: clashLog });
    for (const p of cfg.listenPorts) await waitForPort(p, '127.0.0.1', 15_000);
    log(`clash-ts pid ${clash.pid} (workers ${o.workers}); peers ${JSON.stringify(peers.pids)}`);
    const ctl = new Controller(cfg.controllerPort, cfg.secret);
    const sampler = new Sampler(clash.pid, ctl);
    // the first scrape starts the loop / GC probes; the start figures come a moment later
    await ctl.metrics();
    await sleep(2000);
    const samples: Sample[] = [await sampler.sample(0, 'start')];
    log(`start: rss ${samples[0].rssMB.toFixed(1)} MB, fds ${samples[0].fds}, handles ${samples[0].handles}`);

    const load = new Load(
      { rows: cfg.rows, mixedPort: cfg.mixedPort, udpRowPort: cfg.rows.find((r) => r.name === 'ss')?.port, echoPort: peers.echo.port, udpEchoPort: peers.udpEcho.port },
      { rate: o.rate, tunnels: o.tunnels, udpFlows: o.udpFlows, seed: o.seed },
    );
    const t0 = Date.now();
    const tNow = (): number => (Date.now() - t0) / 1000;
    load.start();
    const actions = new Set<Promise<void>>();
    const act = (p: Promise<void>): void => {
      actions.add(p);
      void p.finally(() => actions.delete(p));
    };
    let generation = 0;
    let switchTurn = 0;
    let bulkTurn = 0;
    const bulkRows = cfg.rows.filter((r) => r.name !== 'direct');
    const bulkData = peers.nginx.files.get(peers.bulkFile)!;
    const timers = [
      setInterval(() => act(reload(ctl, cfg, ++generation, load.stats)), o.reloadSeconds * 1000),
      setInterval(() => act(switchSelector(ctl, cfg, ++switchTurn, load.stats)), o.switchSeconds * 1000),
      setInterval(() => act(bulkDownload(bulkRows[bulkTurn++ % bulkRows.length], peers.nginx.port, peers.bulkFile, bulkData, load.stats)), o.bulkSeconds * 1000),
    ];
    // through the selector's own listener too: its members change under the load
    const selRow = { name: cfg.group.name, port: cfg.group.port, warm: false };
    const selTimer = setInterval(() => act(bulkDownload(selRow, peers.nginx.port, peers.bulkFile, bulkData, load.stats)), o.bulkSeconds * 1000 + 7000);
    const endAt = t0 + o.minutes * 60_000;
    while (Date.now() < endAt) {
      await sleep(Math.min(o.sampleSeconds * 1000, Math.max(0, endAt - Date.now())));
      try {
        const s = await sampler.sample(tNow(), 'load', load.stats.snapshot());
        samples.push(s);
        log(`t ${s.t.toFixed(0)} s: rss ${s.rssMB.toFixed(1)} MB, heap ${s.heapUsedMB.toFixed(1)} MB, fds ${s.fds}, tracker ${s.tracker}, tunnels ${s.load?.tunnelsLive}, loop p99 ${s.loopP99ms.toFixed(1)} ms, errors ${Object.values(s.load?.errors ?? {}).reduce((a, b) => a + b, 0)}`);
      } catch (err) {
        load.stats.error('sampler: controller', String((err as Error).message));
      }
    }
    for (const t of timers) clearInterval(t);
    clearInterval(selTimer);
    log('load stops');
    await load.stop();
    await Promise.allSettled([...actions]);
    const stopT = Date.now();
    const start = samples[0];
    let settled = false;
    while (Date.now() - stopT < SETTLE_MS) {
      await sleep(2000);
      const s = await sampler.sample(tNow(), 'settle');
      samples.push(s);
      if (s.tracker === 0 && s.poolSize === 0 && Math.abs(s.fds - start.fds) <= 2 && Math.abs(s.handles - start.handles) <= 2) {
        settled = true;
        break;
      }
    }
    const settleSeconds = (Date.now() - stopT) / 1000;
    const endSample = await sampler.sample(tNow(), 'end');
    // the tracker as GET /connections lists it (the figure the API shows)
    const end: Sample = { ...endSample, tracker: await ctl.connections() };
    samples.push(end);
    log(`end (${settled ? 'settled' : 'not settled'} after ${settleSeconds.toFixed(0)} s): rss ${end.rssMB.toFixed(1)} MB, fds ${end.fds}, handles ${end.handles}, tracker ${end.tracker}, pool ${end.poolSize}`);
    const st = load.stats;
    const exitCode = await (async () => {
      const p = clash!;
      await p.stop();
      return p.proc.exitCode;
    })();
    clash = undefined;
    const verdict = judge(samples, Object.fromEntries(st.errors), st.bytesCorrupted, st.bytesVerified);
    return {
      options: o,
      command: commandLine(o),
      machine: machineFacts(),
      clashVersion: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      commit,
      startedAt,
      endedAt: new Date().toISOString(),
      samples,
      verdict,
      errors: Object.fromEntries(st.errors),
      errorExamples: Object.fromEntries(st.errorExamples),
      totals: {
        bytesVerified: st.bytesVerified,
        bytesCorrupted: st.bytesCorrupted,
        connectionsOk: st.connectionsOk,
        exchangesOk: st.exchangesOk,
        bulkOk: st.bulkOk,
        udpSent: st.udpSent,
        udpVerified: st.udpVerified,
        udpLost: st.udpLost,
        reloads: st.reloads,
        switches: st.switches,
      },
      connect: quantiles(st.allConnect),
      tunnelRtt: quantiles(st.allRtt),
      settleSeconds,
      log: summariseLog(clashLog),
      exitCode,
      rows: cfg.rows.map((r) => r.name),
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
    await clash?.stop();
    await peers.close();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  let r: SoakResult;
  if (o.from) {
    // an earlier run's samples, judged again by this verdict code (the report says so)
    const old = JSON.parse(readFileSync(o.from, 'utf8')) as SoakResult;
    r = { ...old, reportedFrom: o.from, verdict: judge(old.samples, old.errors, old.totals.bytesCorrupted, old.totals.bytesVerified) };
    process.stdout.write(`results of ${r.startedAt} read from ${o.from}\n`);
  } else {
    r = await soak(o);
    const out = o.out ?? join(mkdtempSync(join(tmpdir(), 'clash-ts-soak-results-')), 'results.json');
    writeFileSync(out, JSON.stringify(r, null, 1));
    process.stdout.write(`\nresults: ${out} (sha256 ${createHash('sha256').update(readFileSync(out)).digest('hex').slice(0, 12)})\n`);
  }
  for (const c of r.verdict.checks) process.stdout.write(`${c.result.padEnd(10)} ${c.name}: ${c.value} (goal ${c.goal})${c.note ? ` — ${c.note}` : ''}\n`);
  if (o.report || o.from) {
    // the samples behind the page, beside it (`--from docs/stability/results.json` redraws it)
    if (!o.from) writeFileSync(join(ROOT, 'docs/stability/results.json'), JSON.stringify(r, null, 1));
    const files = writeReport(r, ROOT);
    process.stdout.write(`report: ${files.join(', ')}\n`);
  }
  process.exitCode = r.verdict.leaksOk ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}
