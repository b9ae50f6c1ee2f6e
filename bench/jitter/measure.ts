/**
 * One contender's two phases in `npm run bench:jitter`: the latency flows alone (idle), then the
 * same flows beside background load (new connections 16 at a time + one keep-alive bulk
 * download, both by the C load generator through the same proxy), with the contender's CPU and,
 * for clash-ts on Node, its GC pauses and event-loop delay over the loaded phase.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadResult } from '../lib/loadgen.js';
import type { Listening } from '../lib/peers.js';
import { sample, sleep } from '../lib/proc.js';
import type { ProbeStats } from '../lib/results.js';

const PINGER = fileURLToPath(new URL('./pinger.ts', import.meta.url));

/** What the pinger prints for one transport. */
export interface RttStats {
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly bad: number;
  readonly error: string;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly stddev: number;
}

export interface PingResult {
  readonly tcp?: RttStats;
  readonly udp?: RttStats;
  readonly fatal?: string;
}

export interface JitterPlan {
  readonly seconds: number;
  readonly flows: number;
  readonly intervalMs: number;
  readonly newConns: number;
}

export interface ContenderRun {
  readonly label: string;
  readonly kind: 'clash-ts' | 'v2ray-go' | 'native';
  readonly status: 'ran' | 'did not run';
  readonly note?: string;
  idle?: PingResult;
  loaded?: PingResult;
  newConn?: LoadResult;
  bulk?: LoadResult;
  /** contender CPU seconds over the loaded phase, per second of it */
  cpuLoad?: number;
  probe?: ProbeStats;
  /** every round's loaded TCP p99.9, when the run had several */
  roundsP999?: readonly number[];
}

function ping(port: number, plan: JitterPlan, udp: boolean): Promise<PingResult> {
  const args = ['--import', 'tsx', PINGER, String(port), String(plan.flows), String(plan.seconds), String(plan.intervalMs), ...(udp ? ['udp'] : [])];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), (plan.seconds + 30) * 1000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      try {
        resolve(JSON.parse(out) as PingResult);
      } catch {
        resolve({ fatal: `pinger exited ${code}: ${err.slice(0, 300)}` });
      }
    });
  });
}

async function probe(file: string | undefined, pid: number, seq: number): Promise<ProbeStats | undefined> {
  if (!file) return undefined;
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (let i = 0; i < 60; i++) {
    await sleep(50);
    if (!existsSync(file)) continue;
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as ProbeStats;
      if (s.seq >= seq) return s;
    } catch {
      // a stale or half-renamed file: retry
    }
  }
  return undefined;
}

/** Both phases against one started contender. */
export async function measure(c: Listening, run: ContenderRun, lg: string, targetPort: number, plan: JitterPlan, udp: boolean): Promise<void> {
  const via = { kind: 'socks5' as const, port: c.port };
  // warm-up: a few connections so lazy setup is not in the idle phase
  await runLoad(lg, { via, targetPort, path: '/small.bin', conns: 4, requests: 100, seconds: 3 }, undefined);
  run.idle = await ping(c.port, plan, udp);
  const seconds = plan.seconds + 2;
  const newConn = runLoad(lg, { via, targetPort, path: '/small.bin', conns: plan.newConns, requests: 10_000_000, seconds }, undefined);
  const bulk = runLoad(lg, { via, targetPort, path: '/big.bin', conns: 1, requests: 100_000, seconds, keepAlive: true }, undefined);
  await sleep(1000);
  let seq = 0;
  if (c.probeFile) await probe(c.probeFile, c.proc.pid, ++seq);
  const before = sample(c.proc.pid);
  const t0 = Date.now();
  run.loaded = await ping(c.port, plan, udp);
  const after = sample(c.proc.pid);
  const elapsed = (Date.now() - t0) / 1000;
  if (c.probeFile) run.probe = await probe(c.probeFile, c.proc.pid, ++seq);
  if (before && after) run.cpuLoad = (after.cpu - before.cpu) / elapsed;
  run.newConn = await newConn;
  run.bulk = await bulk;
}
