/**
 * Renders `npm run bench:jitter`'s results: docs/jitter.md (every figure) and a short `jitter`
 * section of docs/benchmarks.md (the loaded TCP tail and background rates, linking the page).
 */
import type { ContenderRun, JitterPlan, RttStats } from './measure.js';

export interface JitterRowResult {
  readonly id: string;
  readonly title: string;
  readonly runs: readonly ContenderRun[];
  /** every round of every contender */
  readonly rounds?: readonly (readonly ContenderRun[])[];
}

export interface JitterMeta {
  readonly plan: JitterPlan;
  readonly command: string;
  readonly commit: string;
  readonly machine: string;
  readonly minutes: number;
  readonly rounds?: number;
}

const f = (x: number | undefined, d = 1): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

function rtt(s: RttStats | undefined): string {
  if (!s) return '- | - | - | - | -';
  if (!s.received) return `no echo (${s.error || 'lost'}) | | | |`;
  const lost = s.lost > 0 ? ` (${s.lost} lost)` : '';
  return `${f(s.p50)} | ${f(s.p99)} | ${f(s.p999)} | ${f(s.max)}${lost} | ${f(s.stddev, 2)}`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}x` : '-';
}

export function renderJitter(rows: readonly JitterRowResult[], meta: JitterMeta): { page: string; section: string } {
  const p = meta.plan;
  const head = [
    `Command: \`${meta.command}\` (commit ${meta.commit}, ${meta.minutes.toFixed(1)} min; ${meta.machine}; unpinned).`,
    '',
    `${meta.rounds ?? 1} round(s), contenders rotated per round; the tables show each contender's median round by loaded TCP p99.9. ` +
    `${p.flows} latency flows per transport, 32 B every ${p.intervalMs} ms each, for ${p.seconds} s per phase: over SOCKS5 CONNECT to a TCP echo server and over`,
    'SOCKS5 UDP ASSOCIATE to a UDP echo server (bench/jitter/pinger.ts, its own Node process). *Idle*: the flows alone.',
    `*Loaded*: the same flows beside ${p.newConns}-way new connections (1 KiB GET each) and one keep-alive bulk download of a 64 MiB file, both by the`,
    'C load generator through the same proxy, from nginx. Each contender freshly started, one after the other. RTT in ms.',
    '"budget off" is clash-ts with `CLASH_TS_RELAY_BUDGET=0` (the relay\'s per-turn byte budget disabled: the A/B of the fairness change).',
    'The machine is shared, so read the ratios within one row of one run, not the absolute figures.',
    '',
  ];
  const page: string[] = ['# Jitter under load', '', ...head];
  const sect: string[] = ['## Jitter under load (`npm run bench:jitter`)', '', `Every figure, UDP too: [jitter.md](jitter.md). Command: \`${meta.command}\` (commit ${meta.commit}; ${meta.machine}; unpinned). Read ratios within a row, not absolute figures.`, '',
    '| row | contender | loaded TCP p50 / p99.9 / max ms | idle p99.9 | background new conn/s | bulk MB/s |', '|---|---|---|---|---|---|'];
  for (const row of rows) {
    page.push(`## ${row.title}`, '');
    page.push('| contender | phase | TCP p50 | p99 | p99.9 | max | stddev | UDP p50 | p99 | p99.9 | max | stddev |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of row.runs) {
      if (r.status !== 'ran') {
        page.push(`| ${r.label} | did not run: ${(r.note ?? '').replace(/\|/g, '/')} | | | | | | | | | | |`);
        sect.push(`| ${row.id} | ${r.label} | did not run | | | |`);
        continue;
      }
      for (const [name, ph] of [['idle', r.idle], ['loaded', r.loaded]] as const) {
        page.push(`| ${r.label} | ${name} | ${rtt(ph?.tcp)} | ${ph?.udp ? rtt(ph.udp) : 'n/a | | | |'} |`);
      }
      const l = r.loaded?.tcp;
      sect.push(`| ${row.id} | ${r.label} | ${f(l?.p50)} / ${f(l?.p999)} / ${f(l?.max)} | ${f(r.idle?.tcp?.p999)} | ${Math.round(r.newConn?.rps ?? 0)} | ${f((r.bulk?.bytesPerSec ?? 0) / 1e6, 0)} |`);
    }
    page.push('', '| contender | background new conn/s | bulk MB/s | CPU (cores) loaded | GC pauses loaded: count / p99 / max ms | event-loop delay loaded: p50 / p99 / p99.9 / max ms |', '|---|---|---|---|---|---|');
    for (const r of row.runs.filter((x) => x.status === 'ran')) {
      const g = r.probe?.gcPausesMs;
      const e = r.probe?.eventLoopDelayMs;
      page.push(`| ${r.label} | ${Math.round(r.newConn?.rps ?? 0)} | ${f((r.bulk?.bytesPerSec ?? 0) / 1e6, 0)} | ${f(r.cpuLoad, 2)} | ${g ? `${g.count} / ${f(g.p99, 2)} / ${f(g.max, 2)}` : '-'} | ${e ? `${f(e.p50, 2)} / ${f(e.p99, 2)} / ${f(e.p999, 2)} / ${f(e.max, 2)}` : '-'} |`);
    }
    if (row.runs.some((r) => (r.roundsP999?.length ?? 0) > 1)) {
      page.push('', `Loaded TCP p99.9 of every round (the tables show each contender's median round): ${row.runs.map((r) => `${r.label} ${(r.roundsP999 ?? []).map((x) => f(x)).join(' / ')}`).join('; ')}.`);
    }
    const v2 = row.runs.find((x) => x.kind === 'v2ray-go' && x.status === 'ran');
    const ours = row.runs.filter((x) => x.kind === 'clash-ts' && x.status === 'ran');
    if (v2 && ours.length) {
      page.push('', '| against v2ray-go | loaded TCP p99.9 (goal <= 0.5x) | loaded max (goal <= 0.5x) | background new conn/s (goal >= 1x) | idle TCP p99.9 (goal <= 1x) |', '|---|---|---|---|---|');
      for (const r of ours) {
        page.push(`| ${r.label} | ${ratio(r.loaded?.tcp?.p999, v2.loaded?.tcp?.p999)} | ${ratio(r.loaded?.tcp?.max, v2.loaded?.tcp?.max)} | ${ratio(r.newConn?.rps, v2.newConn?.rps)} | ${ratio(r.idle?.tcp?.p999, v2.idle?.tcp?.p999)} |`);
      }
    }
    page.push('');
  }
  return { page: `${page.join('\n')}\n`, section: `${sect.join('\n')}\n` };
}
