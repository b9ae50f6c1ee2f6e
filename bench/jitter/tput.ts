/**
 * One-tunnel download throughput, A/B in one run (issue 17 item 3):
 *
 *   node --import tsx bench/jitter/tput.ts [--rows=direct,ss,trojan] [--seconds=3] [--rounds=3]
 *        [--env=NAME=V,NAME=V ...]   (each --env adds a clash-ts variant; default: budget on / off)
 *
 * Per row: the remote server and nginx (64 MiB file), then per round every contender in turn
 * (clash-ts variants and v2ray-go), each freshly started: one keep-alive connection downloading
 * the file over and over for `seconds` (the C load generator). Prints MB/s and the contender's
 * CPU seconds per GB, per round and as the median.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLoadgen, runLoad } from '../lib/loadgen.js';
import { startClash, type Listening, type PeerEnv } from '../lib/peers.js';
import { sample, type BenchProc } from '../lib/proc.js';
import { makeCert, startTarget } from '../lib/target.js';
import { parseRuntimes, resolveRuntimes } from '../lib/runtimes.js';
import { JITTER_ROWS, v2rayLocal } from './rows.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const opt = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = Number(opt('seconds') ?? 3);
const rounds = Number(opt('rounds') ?? 3);
const rows = opt('rows')?.split(',') ?? ['direct', 'ss', 'trojan'];
const envs = process.argv.filter((a) => a.startsWith('--env=')).map((a) => a.slice(6));
const variants: { label: string; env: Record<string, string> }[] = envs.length
  ? envs.map((e) => ({ label: `clash-ts ${e}`, env: Object.fromEntries(e.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string])) }))
  : [{ label: 'clash-ts', env: {} }, { label: 'clash-ts budget off', env: { CLASH_TS_RELAY_BUDGET: '0' } }];
const rt = resolveRuntimes(parseRuntimes(opt('runtime') ?? 'node')).found[0];
if (!rt) throw new Error(`runtime ${opt('runtime')} is not installed`);

const dir = mkdtempSync(join(tmpdir(), 'ctsb-tput-'));
const live = new Set<BenchProc>();
const env: PeerEnv = { dir, cert: makeCert(dir), live };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
try {
  const lg = buildLoadgen(join(ROOT, 'bench', 'out', 'bin'));
  const target = await startTarget(dir, undefined, 64 << 20, live);
  for (const row of JITTER_ROWS.filter((r) => rows.includes(r.id))) {
    const remote = row.remote ? await row.remote(env) : undefined;
    const rport = remote?.port ?? 0;
    const starts: { label: string; start: () => Promise<Listening> }[] = [
      ...variants.map((v) => ({ label: v.label, start: () => startClash(env, row.clash(rport), undefined, undefined, rt, v.env) })),
      { label: 'v2ray-go', start: () => v2rayLocal(env, row.v2ray(rport, env)) },
    ];
    const got = new Map<string, { mbs: number[]; cpuGb: number[] }>();
    for (let r = 0; r < rounds; r++) {
      for (const s of starts) {
        const c = await s.start();
        try {
          const via = { kind: 'socks5' as const, port: c.port };
          await runLoad(lg, { via, targetPort: target.port, path: '/small.bin', conns: 2, requests: 50, seconds: 2 }, undefined);
          const b = sample(c.proc.pid);
          const res = await runLoad(lg, { via, targetPort: target.port, path: '/big.bin', conns: 1, requests: 100_000, seconds, keepAlive: true }, undefined);
          const a = sample(c.proc.pid);
          const slot = got.get(s.label) ?? { mbs: [], cpuGb: [] };
          got.set(s.label, slot);
          slot.mbs.push(res.bytesPerSec / 1e6);
          slot.cpuGb.push(a && b ? (a.cpu - b.cpu) / (res.bytes / 1e9) : NaN);
        } finally {
          await c.proc.stop();
        }
      }
    }
    for (const [label, v] of got) {
      console.log(`${row.id}\t${label}\tMB/s median ${median(v.mbs).toFixed(0)} [${v.mbs.map((x) => x.toFixed(0)).join(' ')}]\tCPU s/GB median ${median(v.cpuGb).toFixed(2)} [${v.cpuGb.map((x) => x.toFixed(2)).join(' ')}]`);
    }
    await remote?.proc.stop();
  }
  await target.proc.stop();
} finally {
  for (const p of [...live]) await p.stop();
  rmSync(dir, { recursive: true, force: true });
}
