/**
 * `npm run bench:rtt`: the protocol rows where the round trip matters, under a simulated RTT.
 *
 *   npm run bench:rtt              full run (~8 min): writes the "rtt" section of docs/benchmarks.md
 *                                  and its SVG under docs/benchmarks/
 *   npm run bench:rtt -- --quick   ~2 min smoke run: writes bench/out/quick/benchmarks.md
 *   options: --rtts=50,150  --rows=ss,vmess,trojan
 *
 * Per RTT (50 ms, 150 ms): two namespaces joined by a delayed link (bench/lib/netns.ts); nginx
 * and the row's remote server in the server namespace, the local clients (clash-ts, v2ray-go
 * 4.34) and the C load generator in the client namespace. Per contender, one after the other:
 * new-connection latency at a fixed offered rate, then rps at a fixed concurrency (one new
 * connection per request both times). Raw results: bench/out/rtt.json (bench/out/rtt-quick.json).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLoadgen, runLoad } from './lib/loadgen.js';
import { buildDelayLine, createRttLink, removeStaleNamespaces, SERVER_ADDR, type RttLink } from './lib/netns.js';
import { startNginxIn } from './lib/netns-peers.js';
import type { PeerEnv } from './lib/peers.js';
import type { BenchProc } from './lib/proc.js';
import { renderRttSection, type RttCell, type RttPlan } from './lib/rtt-report.js';
import { RTT_ROWS } from './lib/rtt-rows.js';
import { writeSection } from './lib/sections.js';
import { makeCert } from './lib/target.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const FULL: RttPlan = { rtts: [50, 150], rate: 60, rateSeconds: 17, conns: 32, rpsSeconds: 8, warmSeconds: 3 };
const QUICK: RttPlan = { rtts: [50, 150], rate: 30, rateSeconds: 4, conns: 32, rpsSeconds: 3, warmSeconds: 2 };

async function main(): Promise<void> {
  const opt = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const quick = process.argv.includes('--quick') || opt('rtts') !== undefined || opt('rows') !== undefined;
  const base = process.argv.includes('--quick') ? QUICK : FULL;
  const plan: RttPlan = { ...base, rtts: opt('rtts')?.split(',').map(Number) ?? base.rtts };
  const only = opt('rows')?.split(',');
  const rows = RTT_ROWS.filter((r) => !only || only.includes(r.id));
  const removed = await removeStaleNamespaces();
  if (removed.length) console.log(`removed stale namespaces: ${removed.join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'ctsb-rtt-'));
  const env: PeerEnv = { dir, cert: makeCert(dir), live: new Set<BenchProc>() };
  const bin = join(ROOT, 'bench', 'out', 'bin');
  const delayLine = buildDelayLine(bin);
  const lg = buildLoadgen(bin);
  let link: RttLink | undefined;
  const cleanup = async (): Promise<void> => {
    for (const p of [...env.live]) await p.stop();
    await link?.close();
    link = undefined;
  };
  const onSignal = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cells: RttCell[] = [];
  const started = Date.now();
  try {
    for (const rtt of plan.rtts) {
      link = await createRttLink(delayLine, rtt);
      const serverSide = { ns: link.server, host: SERVER_ADDR };
      const nginx = await startNginxIn(env, { ns: link.server, host: '127.0.0.1' });
      for (const row of rows) {
        const server = await row.server(env, serverSide, nginx.port);
        for (const c of row.contenders) {
          console.log(`RTT ${rtt} ms, ${row.id}: ${c.label}`);
          const client = await c.start(env, { ns: link.client, host: '127.0.0.1' }, { ...serverSide, port: server.port });
          try {
            const spec = { via: { kind: 'socks5' as const, port: client.port }, targetPort: nginx.port, path: '/small.bin', netns: link.client };
            await runLoad(lg, { ...spec, conns: 256, requests: plan.rate * plan.warmSeconds, seconds: plan.warmSeconds, rate: plan.rate }, undefined);
            const latency = await runLoad(lg, { ...spec, conns: 256, requests: plan.rate * plan.rateSeconds, seconds: plan.rateSeconds, rate: plan.rate }, undefined);
            const rps = await runLoad(lg, { ...spec, conns: plan.conns, requests: 10_000_000, seconds: plan.rpsSeconds }, undefined);
            cells.push({ rttMs: rtt, row: row.id, title: row.title, label: c.label, latency, rps });
          } finally {
            await client.proc.stop();
          }
        }
        await server.proc.stop();
      }
      await cleanup();
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
  const outDir = join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, quick ? 'rtt-quick.json' : 'rtt.json'), JSON.stringify({ plan, cells }, null, 1));
  const docDir = quick ? join(outDir, 'quick') : join(ROOT, 'docs');
  mkdirSync(join(docDir, 'benchmarks'), { recursive: true });
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const { md, svgs } = renderRttSection(cells, plan, { quick, commit, minutes: (Date.now() - started) / 60_000 });
  for (const [name, body] of svgs) writeFileSync(join(docDir, 'benchmarks', name), body);
  writeSection(join(docDir, 'benchmarks.md'), 'rtt', md);
  console.log(md);
}

await main();
