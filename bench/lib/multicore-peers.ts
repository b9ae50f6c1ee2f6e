/**
 * The contenders of the multi-core bench, all unpinned (free to use both cores): clash-ts with
 * `workers: N` under a chosen node:cluster scheduling policy, and v2ray-go (GOMAXPROCS default).
 * CPU is counted over the whole process tree (the cluster's primary and its workers).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.js';
import { CLASH_CLI, startV2ray, v2rayInbound, type Listening, type PeerEnv } from './peers.js';
import { sample, spawnPeer } from './proc.js';

/** node:cluster's scheduling policies, as NODE_CLUSTER_SCHED_POLICY spells them. */
export type SchedPolicy = 'none' | 'rr';

/** clash-ts from dist/main.js with `workers` processes (1 = no cluster), unpinned. */
export async function startClashWorkers(env: PeerEnv, proxyYaml: string | undefined, workers: number, policy: SchedPolicy): Promise<Listening> {
  const d = join(env.dir, `clash-ts-w${workers}-${policy}-${Date.now().toString(36)}`);
  const port = await freePort();
  const yaml = [
    `mixed-port: ${port}`,
    'bind-address: 127.0.0.1',
    'log-level: silent',
    `workers: ${workers}`,
    ...(proxyYaml ? ['proxies:', `  - ${proxyYaml}`, 'rules:', '  - MATCH,bench'] : ['rules:', '  - MATCH,DIRECT']),
    '',
  ].join('\n');
  mkdirSync(d, { recursive: true });
  const cfg = join(d, 'config.yaml');
  writeFileSync(cfg, yaml);
  const proc = await spawnPeer({
    live: env.live,
    name: `clash-ts-w${workers}`,
    command: process.execPath,
    args: [CLASH_CLI, '-d', d, '-f', cfg],
    readyPort: port,
    logFile: join(d, 'out.log'),
    env: { ...process.env, NODE_CLUSTER_SCHED_POLICY: policy },
  });
  if (workers > 1) await waitForWorkers(proc.pid, workers);
  return { port, proc };
}

/** v2ray 4.34 as the local client, unpinned (Go uses every core). */
export async function startV2rayLocal(env: PeerEnv, outbound: object): Promise<Listening> {
  const port = await freePort();
  return startV2ray(env, 'v2ray-local', v2rayInbound('socks5', port), outbound, port, undefined);
}

/** PIDs whose parent is `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds of `pid` and its children (the cluster's workers), now. */
export function treeCpu(pid: number): number {
  let t = sample(pid)?.cpu ?? 0;
  for (const c of childrenOf(pid)) t += sample(c)?.cpu ?? 0;
  return t;
}

/** Waits (bounded, 15 s) until the primary has `n` worker children. */
async function waitForWorkers(pid: number, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (childrenOf(pid).length < n) {
    if (Date.now() > deadline) throw new Error(`clash-ts has ${childrenOf(pid).length} of ${n} workers after 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // the port accepted already; give the later workers a moment to finish binding
  await new Promise((r) => setTimeout(r, 500));
}

/** CPU seconds of the primary (`pid`) and of each child, by PID, now. */
export function cpuByProcess(pid: number): Map<number, number> {
  const out = new Map<number, number>([[pid, sample(pid)?.cpu ?? 0]]);
  for (const c of childrenOf(pid)) out.set(c, sample(c)?.cpu ?? 0);
  return out;
}
