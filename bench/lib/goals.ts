import { figures } from './figures.js';
import type { RunResult } from './results.js';

const MiB = 2 ** 20;

type Verdict = { text: string; met: boolean | undefined };

function check(value: number | undefined, ok: (v: number) => boolean, show: (v: number) => string): Verdict {
  if (value === undefined || !Number.isFinite(value)) return { text: '–', met: undefined };
  const met = ok(value);
  return { text: `${show(value)} ${met ? 'met' : '**MISSED**'}`, met };
}

const x = (v: number): string => `${v.toFixed(2)}x`;
const div = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? undefined : a / b;

/**
 * The issue's goals, as ratios from this one run, per row. A shortfall is printed as MISSED,
 * never left out.
 */
export function goalLines(r: RunResult): string[] {
  const rate = r.plan.rate as number;
  const out = [
    `Targets: new-connection rps >= 1.2x v2ray-go and >= the C peer; p99.9 <= 0.5x v2ray-go; CPU per 1000 requests <= 0.8x v2ray-go; <= 15 MiB per 1,000 idle tunnels; one-tunnel throughput >= v2ray-go at <= its CPU per GB (unpinned where the run pins, pinned otherwise); GC max pause < 5 ms and event-loop delay p99.9 < 2 ms at ${rate} rps. rps uses the long new-connection run (the 1000x50 medians are in the results table); p99.9 compares new connections offered at the row's equal-load rate (below), where no contender is overloaded.`,
    '',
    '| row | client | rps / v2ray (>= 1.2) | rps / C peer (>= 1) | p99.9 / v2ray (<= 0.5) | CPU / v2ray (<= 0.8) | MiB per 1000 idle (<= 15) | throughput / v2ray (>= 1) | CPU per GB / v2ray (<= 1) | GC max ms (< 5) | loop delay p99.9 ms (< 2) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let met = 0;
  let missed = 0;
  for (const row of r.rows.filter((x) => x.status === 'ran')) {
    for (const ours of row.contenders.filter((c) => c.kind === 'clash-ts')) {
      const a = figures(ours);
      const v = row.contenders.find((c) => c.kind === 'v2ray');
      const n = row.contenders.find((c) => c.kind === 'native');
      const bv = v ? figures(v) : undefined;
      const bn = n ? figures(n) : undefined;
      const idleWorst = Math.max(a.idle2k ?? -Infinity, a.idle10k ?? -Infinity);
      const probe = ours.rate?.probe;
      const cells: Verdict[] = [
        check(div(a.longRps, bv?.longRps), (q) => q >= 1.2, x),
        n ? check(div(a.longRps, bn?.longRps), (q) => q >= 1, x) : { text: 'no C peer', met: undefined },
        check(div(a.fairP999, bv?.fairP999), (q) => q <= 0.5, x),
        check(div(a.cpu1000, bv?.cpu1000), (q) => q <= 0.8, x),
        check(Number.isFinite(idleWorst) ? idleWorst / MiB : undefined, (q) => q <= 15, (q) => q.toFixed(1)),
        check(div(a.tputUnpinned ?? a.tput, bv?.tputUnpinned ?? bv?.tput), (q) => q >= 1, x),
        check(div(a.cpuGBUnpinned ?? a.cpuGB, bv?.cpuGBUnpinned ?? bv?.cpuGB), (q) => q <= 1, x),
        probe?.gcObservable === false ? { text: 'n/a (runtime has no GC entries)', met: undefined } : check(probe?.gcPausesMs.max, (q) => q < 5, (q) => q.toFixed(2)),
        check(probe?.eventLoopDelayMs.p999, (q) => q < 2, (q) => q.toFixed(2)),
      ];
      for (const c of cells) {
        if (c.met === true) met++;
        if (c.met === false) missed++;
      }
      const achieved = ours.rate ? ` (at ${Math.round(ours.rate.load.rps)} rps achieved)` : '';
      out.push(`| ${row.title} | ${ours.label} | ${cells.map((c, i) => (i >= 7 && c.met !== undefined ? `${c.text}${i === 8 ? achieved : ''}` : c.text)).join(' | ')} |`);
    }
  }
  out.push('', `**${met} goals met, ${missed} missed** in this run.${missed > 0 ? ' Each miss is a shortfall to profile (`node --cpu-prof dist/main.js`, valgrind --tool=callgrind for the peers) and fix; see the notes below the tables.' : ''}`);
  return out;
}
