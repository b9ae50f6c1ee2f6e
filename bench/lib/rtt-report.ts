/** The "rtt" section of docs/benchmarks.md: per RTT and row, latency percentiles and rps per contender. */
import type { LoadResult } from './loadgen.js';
import { barChart, type BarGroup } from './svg.js';

/** The run's shape. */
export interface RttPlan {
  readonly rtts: readonly number[];
  /** offered new connections per second of the latency run */
  readonly rate: number;
  readonly rateSeconds: number;
  /** concurrency of the rps run */
  readonly conns: number;
  readonly rpsSeconds: number;
  readonly warmSeconds: number;
}

/** One contender in one row at one RTT. */
export interface RttCell {
  readonly rttMs: number;
  readonly row: string;
  readonly title: string;
  readonly label: string;
  readonly latency: LoadResult;
  readonly rps: LoadResult;
}

const ms = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');

/** The section's markdown and SVGs (file name -> body). */
export function renderRttSection(
  cells: readonly RttCell[],
  plan: RttPlan,
  info: { readonly quick: boolean; readonly commit: string; readonly minutes: number },
): { md: string; svgs: Map<string, string> } {
  const L: string[] = [];
  L.push('## Simulated RTT');
  L.push('');
  L.push(
    `Written by \`npm run bench:rtt${info.quick ? ' -- --quick' : ''}\` (commit ${info.commit}, ${new Date().toISOString().slice(0, 16)} UTC, ${info.minutes.toFixed(1)} min${info.quick ? ', QUICK smoke run: short windows, figures are rough' : ''}).`,
  );
  L.push('');
  L.push(
    'Two network namespaces joined by a link that delays every packet by RTT/2 each way (TUN devices and `bench/netns/delay-line.c`; ' +
      'this kernel has no netem qdisc). Server namespace: nginx (1 KiB file) and the row\'s remote server; client namespace: the local client ' +
      '(SOCKS5 in) and the C load generator, one new connection per request. Latency = connect to the local client .. last body byte, at ' +
      `${plan.rate} new connections/s for ${plan.rateSeconds} s after a ${plan.warmSeconds} s warm-up; rps = ${plan.conns} concurrent connections for ${plan.rpsSeconds} s. ` +
      'Contenders run one after another on the same link; no CPU pinning (the machine is shared). clash-ts runs with its warm pool (max 128) ' +
      'unless the label says "pool off"; the pool only serves TLS transports, so it changes only the trojan row.',
  );
  L.push('');
  L.push('| RTT | row | contender | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | rps @ ' + plan.conns + ' conns | errors |');
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const c of cells) {
    const errs = c.latency.errors + c.rps.errors;
    const first = c.latency.firstError || c.rps.firstError;
    L.push(
      `| ${c.rttMs} ms | ${c.title} | ${c.label} | ${ms(c.latency.p50)} | ${ms(c.latency.p90)} | ${ms(c.latency.p99)} | ${ms(c.latency.p999)} | ${c.rps.rps.toFixed(0)} | ${errs}${errs ? ` (${first})` : ''} |`,
    );
  }
  L.push('');
  const svgs = new Map<string, string>();
  const groups: BarGroup[] = [];
  for (const rtt of plan.rtts) {
    for (const row of [...new Set(cells.filter((c) => c.rttMs === rtt).map((c) => c.row))]) {
      groups.push({ label: `${row} @ ${rtt} ms`, bars: cells.filter((c) => c.rttMs === rtt && c.row === row).map((c) => ({ label: c.label, value: c.latency.p50 })) });
    }
  }
  if (groups.length > 0) {
    const name = 'rtt-latency-p50.svg';
    svgs.set(name, barChart(`New-connection latency p50 under simulated RTT (${plan.rate}/s offered)`, 'ms', groups));
    L.push(`![${name}](benchmarks/${name})`);
    L.push('');
  }
  return { md: L.join('\n'), svgs };
}
