import { freePort } from '../../test/support/ports.js';
import type { Row } from '../rows.js';
import type { Via } from './loadgen.js';
import { idlePhase, phase, rotate, type Contender, type MeasureCtx } from './measure.js';
import { startClash, startV2ray, v2rayInbound, type Listening, type PeerEnv } from './peers.js';
import { sample, setAffinity } from './proc.js';
import { topFunctions } from './cpuprofile.js';
import { join } from 'node:path';
import type { ContenderKind, ContenderResult, RowResult } from './results.js';

interface Starter {
  readonly label: string;
  readonly kind: ContenderKind;
  start(): Promise<Listening>;
}

/** The row's clash-ts proxy (flow YAML), with the pool turned off when the run asks. */
function clashProxy(row: Row, remotePort: number, ctx: MeasureCtx): string | undefined {
  const proxy = row.clash(remotePort);
  return proxy && ctx.noWarmPool ? proxy.replace(/\}$/, ', warm-pool: false}') : proxy;
}

function starters(env: PeerEnv, row: Row, remotePort: number, ctx: MeasureCtx, profileDir?: string): Starter[] {
  const pin = ctx.pinning.proxyCpu;
  const list: Starter[] = [
    ...ctx.runtimes.map((rt): Starter => ({
      label: rt.label,
      kind: 'clash-ts',
      start: () => startClash(env, clashProxy(row, remotePort, ctx), pin, profileDir && join(profileDir, rt.id), rt),
    })),
    {
      label: 'v2ray-go',
      kind: 'v2ray',
      start: async () => {
        const port = await freePort();
        return startV2ray(env, 'v2ray-local', v2rayInbound(row.inbound, port), row.v2ray(remotePort, env), port, pin);
      },
    },
  ];
  const native = row.native;
  if (native) list.push({ label: native.label, kind: 'native', start: () => native.start(env, remotePort, pin) });
  return list;
}

async function startAll(ss: readonly Starter[], results: Map<string, ContenderResult>, log: (s: string) => void): Promise<Contender[]> {
  const out: Contender[] = [];
  for (const s of ss) {
    const result = results.get(s.label)!;
    try {
      const l = await s.start();
      out.push({ label: s.label, kind: s.kind, port: l.port, proc: l.proc, probeFile: l.probeFile, result, probeSeq: 0 });
    } catch (err) {
      result.errors.push(`start: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 300)}`);
      log(`  ${s.label} failed to start: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  return out;
}

const viaOf = (row: Row, c: Contender): Via => ({ kind: row.inbound, port: c.port });

/** The run's context with nothing pinned: the generator then runs on every CPU too. */
const UNPINNED = (ctx: MeasureCtx): MeasureCtx => ({ ...ctx, pinning: { enabled: false, proxyCpu: undefined, restCpu: undefined } });

/**
 * Runs `f` with the contender (`own`) and the far side (nginx, the remote server) free to use
 * every CPU, then puts each back on its core: pinning the far side to one core caps it (v2ray-go
 * reads ~145 MiB/s there against ~420 MB/s unpinned), which hides the client's own ceiling.
 */
async function unpinned<T>(ctx: MeasureCtx, own: readonly number[], f: () => Promise<T>): Promise<T> {
  for (const pid of [...own, ...ctx.restPids]) setAffinity(pid, ctx.allCpus);
  try {
    return await f();
  } finally {
    for (const pid of own) if (ctx.pinning.proxyCpu !== undefined) setAffinity(pid, ctx.pinning.proxyCpu);
    for (const pid of ctx.restPids) if (ctx.pinning.restCpu !== undefined) setAffinity(pid, ctx.pinning.restCpu);
  }
}

/** Runs every phase of one row, the contenders alternating within each phase. */
export async function runRow(env: PeerEnv, row: Row, base: Omit<MeasureCtx, 'restPids'>, targetPid: number): Promise<RowResult> {
  const t0 = Date.now();
  const { plan, log } = base;
  const remote = row.remote ? await row.remote(env, base.pinning.restCpu) : undefined;
  const ctx: MeasureCtx = { ...base, restPids: remote ? [targetPid, remote.proc.pid] : [targetPid] };
  const profileDir = base.profileDir ? join(base.profileDir, row.id) : undefined;
  const ss = starters(env, row, remote?.port ?? 0, ctx, profileDir);
  const results = new Map<string, ContenderResult>(ss.map((s) => [s.label, { label: s.label, kind: s.kind, seed: [], idle: [], errors: [] }]));
  const guard = async (c: Contender, what: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (err) {
      c.result.errors.push(`${what}: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 300)}`);
      log(`  ${c.label} ${what} failed: ${(err as Error).message.slice(0, 200)}`);
    }
  };
  let fairRate: number | undefined;
  try {
    const cs = await startAll(ss, results, log);
    try {
      const small = { path: '/small.bin', conns: plan.conns };
      for (const c of cs) await guard(c, 'warm-up', async () => void (await phase(ctx, c, { ...small, requests: plan.warmRequests, seconds: 20 }, viaOf(row, c))));
      for (let r = 0; r < plan.seedRounds; r++) {
        for (const c of rotate(cs, r)) {
          await guard(c, 'seed', async () => void c.result.seed.push(await phase(ctx, c, { ...small, requests: plan.seedRequests, seconds: 30 }, viaOf(row, c))));
        }
      }
      log(`  seed 1000x50: ${cs.map((c) => `${c.label} ${Math.round(c.result.seed.at(-1)?.load.rps ?? 0)} rps`).join(', ')}`);
      for (const c of rotate(cs, 1)) {
        await guard(c, 'long', async () => {
          c.result.long = await phase(ctx, c, { ...small, requests: plan.maxRequests, seconds: plan.longSeconds }, viaOf(row, c), true);
        });
      }
      log(`  new-conn ${plan.longSeconds}s: ${cs.map((c) => `${c.label} ${Math.round(c.result.long?.load.rps ?? 0)} rps`).join(', ')}`);
      for (const c of rotate(cs, 2)) {
        await guard(c, 'keep-alive', async () => {
          c.result.keepAlive = await phase(ctx, c, { ...small, requests: plan.maxRequests, seconds: plan.keepAliveSeconds, keepAlive: true }, viaOf(row, c));
        });
      }
      log(`  keep-alive: ${cs.map((c) => `${c.label} ${Math.round(c.result.keepAlive?.load.rps ?? 0)} rps`).join(', ')}`);
      for (const c of rotate(cs, 0)) {
        await guard(c, 'throughput', async () => {
          c.result.throughput = await phase(ctx, c, { path: '/big.bin', conns: 1, requests: 10_000, seconds: plan.throughputSeconds, keepAlive: true }, viaOf(row, c));
        });
      }
      log(`  one tunnel: ${cs.map((c) => `${c.label} ${((c.result.throughput?.load.bytesPerSec ?? 0) / 2 ** 20).toFixed(0)} MiB/s`).join(', ')}`);
      if (ctx.pinning.enabled) {
        for (const c of rotate(cs, 1)) {
          await guard(c, 'throughput unpinned', async () => {
            c.result.throughputUnpinned = await unpinned(ctx, [c.proc.pid], () =>
              phase(UNPINNED(ctx), c, { path: '/big.bin', conns: 1, requests: 10_000, seconds: plan.throughputSeconds, keepAlive: true }, viaOf(row, c)),
            );
          });
        }
        log(`  one tunnel unpinned: ${cs.map((c) => `${c.label} ${((c.result.throughputUnpinned?.load.bytesPerSec ?? 0) / 2 ** 20).toFixed(0)} MiB/s at ${(c.result.throughputUnpinned?.cpuPerGB ?? NaN).toFixed(2)} CPU s/GB`).join(', ')}`);
      }
      // latency at equal load: a rate every contender sustained in the long run, with headroom
      const slowest = Math.min(...cs.map((c) => c.result.long?.load.rps ?? Infinity));
      fairRate = Number.isFinite(slowest) ? Math.max(100, Math.min(plan.rate, Math.floor((slowest * 0.6) / 100) * 100)) : undefined;
      if (fairRate !== undefined) {
        const fr = fairRate;
        for (const c of rotate(cs, 2)) {
          await guard(c, 'fair rate', async () => {
            c.result.fair = await phase(ctx, c, { path: '/small.bin', conns: 500, requests: Math.round(fr * plan.rateSeconds), seconds: plan.rateSeconds + 3, rate: fr }, viaOf(row, c), true);
          });
        }
        log(`  at ${fr} rps (all): ${cs.map((c) => `${c.label} p99.9 ${c.result.fair?.load.p999.toFixed(2)} ms`).join(', ')}`);
      }
      // the goal's rate, for clash-ts's GC pauses and event-loop delay
      for (const c of cs.filter((x) => x.kind === 'clash-ts')) {
        await guard(c, 'rate', async () => {
          c.result.rate = await phase(ctx, c, { path: '/small.bin', conns: 500, requests: Math.round(plan.rate * plan.rateSeconds), seconds: plan.rateSeconds + 3, rate: plan.rate }, viaOf(row, c), true);
        });
        log(`  ${c.label} offered ${plan.rate} rps: achieved ${Math.round(c.result.rate?.load.rps ?? 0)}, GC max ${c.result.rate?.probe?.gcObservable === false ? 'n/a' : `${c.result.rate?.probe?.gcPausesMs.max.toFixed(2)} ms`}, loop delay p99.9 ${c.result.rate?.probe?.eventLoopDelayMs.p999.toFixed(2)} ms`);
      }
      for (const c of cs) {
        const s = sample(c.proc.pid);
        if (s) c.result.peakRss = s.hwm;
      }
    } finally {
      for (const c of cs) await c.proc.stop();
    }
    // idle tunnels: one fresh process at a time, so each RSS is its own (never profiled)
    for (const s of starters(env, row, remote?.port ?? 0, ctx)) {
      const [c] = await startAll([s], results, log);
      if (!c) continue;
      try {
        for (const count of plan.idleCounts) {
          await guard(c, `idle ${count}`, async () => void c.result.idle.push(await idlePhase(ctx, c, viaOf(row, c), count)));
        }
      } finally {
        await c.proc.stop();
      }
    }
    log(`  idle: ${[...results.values()].map((r) => `${r.label} ${r.idle.map((i) => `${(i.perThousand / 2 ** 20).toFixed(1)}`).join('/')} MiB per 1000`).join(', ')}`);
  } finally {
    await remote?.proc.stop();
  }
  const profile = profileDir ? topFunctions(profileDir) : undefined;
  return { id: row.id, title: row.title, status: 'ran', fairRate, ...(profile && { profile }), contenders: [...results.values()], seconds: (Date.now() - t0) / 1000 };
}
