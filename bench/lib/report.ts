import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { renderSection, sectionsOf } from './sections.js';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { goalLines } from './goals.js';
import { figures } from './figures.js';
import type { ContenderResult, RowResult, RunResult } from './results.js';
import { barChart, lineChart } from './svg.js';

const MiB = 2 ** 20;
const n0 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const n2 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
const n1 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));
const mib = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : (v / MiB).toFixed(1));

const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '–' : `${(a / b).toFixed(2)}x`;

function ran(r: RunResult): RowResult[] {
  return r.rows.filter((x) => x.status === 'ran');
}

function metricTable(rows: RowResult[], idle: readonly number[]): string[] {
  const out = [
    `| row | client | new-conn rps 1000x50 (median) | new-conn rps long | keep-alive rps | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU s / 1000 req | peak RSS MiB | MiB / 1000 idle (${idle[0] ?? '–'}) | MiB / 1000 idle (${idle[1] ?? '–'}) | one tunnel MiB/s | errors | generator-core load |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    for (const c of row.contenders) {
      const f = figures(c);
      out.push(`| ${row.title} | ${c.label} | ${n0(f.seedRps)} | ${n0(f.longRps)} | ${n0(f.kaRps)} | ${n2(f.p50)} | ${n2(f.p90)} | ${n2(f.p99)} | ${n2(f.p999)} | ${n2(f.max)} | ${n2(f.cpu1000 === undefined ? undefined : f.cpu1000)} | ${mib(f.peakRss)} | ${mib(f.idle2k)} | ${mib(f.idle10k)} | ${mib(f.tput)} | ${f.errors} | ${f.restLoad === undefined ? '–' : `${Math.round(f.restLoad * 100)}%${f.restLoad > 0.85 ? ' (far side saturated)' : ''}`} |`);
    }
  }
  return out;
}

function ratioTable(rows: RowResult[], against: (c: ContenderResult) => boolean, name: string, idle: readonly number[]): string[] {
  const out = [
    `| row | pair | new-conn rps (1000x50) | new-conn rps (long) | keep-alive rps | p99 (equal load) | p99.9 (equal load) | CPU / 1000 req | peak RSS | idle MiB / 1000 (${idle[0] ?? '–'}) | idle MiB / 1000 (${idle[1] ?? '–'}) | one-tunnel MiB/s | one tunnel unpinned | CPU s / GB unpinned |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  let any = false;
  for (const row of rows) {
    for (const ours of row.contenders.filter((c) => c.kind === 'clash-ts')) {
      for (const other of row.contenders.filter(against)) {
        any = true;
        const a = figures(ours);
        const b = figures(other);
        out.push(`| ${row.title} | ${ours.label} / ${other.label} | ${ratio(a.seedRps, b.seedRps)} | ${ratio(a.longRps, b.longRps)} | ${ratio(a.kaRps, b.kaRps)} | ${ratio(a.fairP99, b.fairP99)} | ${ratio(a.fairP999, b.fairP999)} | ${ratio(a.cpu1000, b.cpu1000)} | ${ratio(a.peakRss, b.peakRss)} | ${ratio(a.idle2k, b.idle2k)} | ${ratio(a.idle10k, b.idle10k)} | ${ratio(a.tput, b.tput)} | ${ratio(a.tputUnpinned, b.tputUnpinned)} | ${ratio(a.cpuGBUnpinned, b.cpuGBUnpinned)} |`);
      }
    }
  }
  if (!any) out.push(`| (no ${name} in the rows that ran) | | | | | | | | | | | | | |`);
  return out;
}

function probeTable(rows: RowResult[], rate: number): string[] {
  const out = [
    '| row | client | phase | achieved rps | GC pauses | GC max ms | GC p99 ms | GC total ms | event-loop delay p50 ms | p99 ms | p99.9 ms | max ms |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    for (const c of row.contenders.filter((x) => x.kind === 'clash-ts')) {
      for (const [name, p] of [[`${rate} rps offered`, c.rate], [`${row.fairRate ?? '–'} rps (equal load)`, c.fair], ['saturated (long run)', c.long]] as const) {
        const s = p?.probe;
        if (!p || !s) continue;
        const e = s.eventLoopDelayMs;
        const g = s.gcPausesMs;
        const gc = s.gcObservable === false ? 'n/a (no GC entries on this runtime) | – | – | –' : `${g.count} | ${n2(g.max)} | ${n2(g.p99)} | ${n1(g.total)}`;
        out.push(`| ${row.title} | ${c.label} | ${name} | ${n0(p.load.rps)} | ${gc} | ${n2(e.p50)} | ${n2(e.p99)} | ${n2(e.p999)} | ${n2(e.max)} |`);
      }
    }
  }
  return out;
}

/** One tunnel downloading: throughput and the client's CPU per GB, pinned and unpinned. */
function tunnelTable(rows: RowResult[]): string[] {
  const out = [
    '| row | client | MiB/s (pinned) | CPU s / GB (pinned) | MiB/s (unpinned) | CPU s / GB (unpinned) |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    for (const c of row.contenders) {
      const f = figures(c);
      out.push(`| ${row.title} | ${c.label} | ${mib(f.tput)} | ${n2(f.cpuGB)} | ${mib(f.tputUnpinned)} | ${n2(f.cpuGBUnpinned)} |`);
    }
  }
  return out;
}

function plots(r: RunResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const rows = ran(r);
  const files: [string, string][] = [];
  const bars = (key: 'seedRps' | 'kaRps' | 'longRps' | 'cpu1000' | 'idle2k', title: string, unit: string, file: string, base?: number, scale = 1): void => {
    const groups = rows.map((row) => ({ label: row.title, bars: row.contenders.map((c) => ({ label: c.label, value: (figures(c)[key] ?? NaN) / scale })) }));
    if (base !== undefined) groups.unshift({ label: 'no proxy', bars: [{ label: 'no proxy', value: base }] });
    writeFileSync(join(dir, file), barChart(title, unit, groups));
    files.push([title, file]);
  };
  bars('seedRps', 'New-connection rps, 1000 x 50 (median)', 'requests / s', 'rps-seed.svg', r.baseline.newConn.load.rps);
  bars('longRps', 'New-connection rps, long run', 'requests / s', 'rps-long.svg', r.baseline.newConn.load.rps);
  bars('kaRps', 'Keep-alive rps', 'requests / s', 'rps-keepalive.svg', r.baseline.keepAlive.load.rps);
  bars('cpu1000', 'CPU seconds per 1000 new-connection requests', 'CPU s', 'cpu-per-1000.svg');
  bars('idle2k', `RSS per 1000 idle tunnels (${(r.plan.idleCounts as number[])[0]} held)`, 'MiB', 'idle-per-1000.svg', undefined, MiB);
  for (const row of rows) {
    const series = row.contenders
      .filter((c) => c.long)
      .map((c) => ({ label: c.label, points: c.long!.load.cdf.map(([q, ms]) => [ms, q] as const) }));
    const file = `latency-cdf-${row.id}.svg`;
    writeFileSync(join(dir, file), lineChart(`Latency CDF, new connections: ${row.title}`, 'latency (ms, log scale)', 'fraction of requests', series, true));
    files.push([`Latency CDF: ${row.title}`, file]);
  }
  for (const row of rows) {
    const series = row.contenders.map((c) => ({
      label: c.label,
      points: [[0, c.idle[0]?.rssBefore ?? NaN] as const, ...c.idle.map((i) => [i.held, i.rssHeld] as const)].map(([x, y]) => [x, y / MiB] as const),
    }));
    const file = `memory-${row.id}.svg`;
    writeFileSync(join(dir, file), lineChart(`RSS vs idle tunnels: ${row.title}`, 'idle tunnels held', 'RSS (MiB)', series, false));
    files.push([`Memory: ${row.title}`, file]);
  }
  return files.map(([t, f]) => f).map((f, i) => `![${files[i][0]}](${f})`);
}

/** Writes benchmarks.md and its plots into `outDir` (plots in outDir/benchmarks/); returns the .md path. */
export function writeReport(r: RunResult, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'benchmarks.md');
  // the separate benches' sections (warm pool, RTT, multi-core) survive this rewrite
  const kept = sectionsOf(file);
  const plotDir = join(outDir, 'benchmarks');
  const imgs = plots(r, plotDir).map((l) => l.replace('](', `](${relative(outDir, plotDir)}/`));
  const rows = ran(r);
  const idleCounts = r.plan.idleCounts as number[];
  const b = r.baseline;
  const pin = r.pinning.enabled
    ? `Pinned with \`taskset\`: the proxy under test (clash-ts, v2ray or the C peer: all its threads) on CPU ${r.pinning.proxyCpu}; the load generator, nginx and the remote servers on CPU ${r.pinning.restCpu}. So every local client gets exactly one core (Go's GOMAXPROCS follows the affinity mask), and the generator never competes with it.`
    : 'No CPU pinning (`--no-pin`, or fewer than 2 cores): every process floats over all cores.';
  const md = [
    '# Benchmarks',
    '',
    `clash-ts against v2ray-go 4.34 (the Go reference core playing the same local role) and the C peers, measured side by side in one run, contenders alternating within each phase. Generated by \`${r.command}\` on ${r.startedAt} in ${r.seconds.toFixed(0)} s${r.quick ? ' (**quick smoke run**: short phases, one round; do not quote)' : ''}.`,
    '',
    ...busyLines(r),
    '## How to reproduce',
    '',
    '```sh',
    'npm install',
    'npm run bench            # full run, every row (~30 min); writes this file and docs/benchmarks/*.svg',
    'npm run bench -- --quick # 1-2 min smoke run; writes bench/out/quick/benchmarks.md',
    'npm run bench -- --rows=direct-socks5,ss-aes-128-gcm --no-pin --budget=600',
    'npm run bench -- --from-json=bench/out/results.json   # re-render this file (after editing bench/analysis.md)',
    'npm run bench:warm-pool  # the warm-pool section; npm run bench:rtt the RTT section; npm run bench:multicore the multi-core one',
    '```',
    '',
    'Needs Debian\'s nginx, v2ray, microsocks, tinyproxy, shadowsocks-libev, trojan, openssl and gcc (the `.ci/debian-packages.txt` peers plus gcc). Raw results: `bench/out/results.json`.',
    '',
    '## Machine',
    '',
    '| fact | value |',
    '| --- | --- |',
    ...Object.entries(r.machine).map(([k, v]) => `| ${k} | ${v} |`),
    ...(r.runtimes ?? []).map((x) => `| runtime: ${x.label} | ${x.id === 'bun' ? 'Bun' : 'Node'} ${x.version} |`),
    ...(r.runtimesMissing ?? []).map((x) => `| runtime not run | ${x} |`),
    '',
    pin,
    '',
    '## Method',
    '',
    '- **Target**: nginx (one worker) serving `/small.bin` (1 KiB) and `/big.bin` (64 MiB) on 127.0.0.1.',
    '- **Load generator**: `bench/loadgen/lg.c`, compiled at bench time with the machine\'s gcc: one thread, epoll, SOCKS5 (no auth) or HTTP CONNECT handshake, then HTTP/1.1 GET. New-connection mode sends `Connection: close` and closes once the body is in, as curl does (latency = connect to last body byte, handshakes included); keep-alive mode reuses one tunnel per connection (latency = request to last body byte). Exact percentiles from every sample.',
    `- **Phases per row** (each contender in turn, order rotated between phases): warm-up ${r.plan.warmRequests} requests; the seed's setup, 1000 requests x 50 connections, ${r.plan.seedRounds} round(s) alternating (median reported); new connections for ${r.plan.longSeconds} s (latency, CPU per 1000 requests, and clash-ts's GC / event-loop histograms); keep-alive for ${r.plan.keepAliveSeconds} s, 50 connections; one tunnel downloading \`/big.bin\` repeatedly for ${r.plan.throughputSeconds} s; new connections at the row's equal-load rate for ${r.plan.rateSeconds} s (every contender), and at ${r.plan.rate} rps offered (clash-ts, for the GC / event-loop goal). Then each contender is restarted alone and holds ${(r.plan.idleCounts as number[]).join(' and ')} idle tunnels (each used once for a keep-alive request); RSS growth per 1000 tunnels is reported.`,
    '- **Runtimes**: clash-ts runs as one contender per runtime (`--runtimes=node,node-lts,bun`, default all): the Node running the bench, the current Node LTS (`npm ci --prefix tools/node-lts`) and Bun (the pinned `@oven/bun-linux-x64` dev dependency), the same `dist/` on each.',
    '- **CPU** is user+system time of the local client process (all threads) from `/proc/PID/stat`; **peak RSS** is `VmHWM` after the load phases; **RSS** is `VmRSS`.',
    '- **clash-ts internals**: `node --import bench/probe.mjs dist/main.js` (no change to `src/`): `perf_hooks.monitorEventLoopDelay` (1 ms resolution) and a `PerformanceObserver` on `gc` entries, dumped per phase on SIGUSR2.',
    '- In protocol rows the load generator speaks SOCKS5 to the local client, which speaks the protocol to the remote server (v2ray, ss-server, microsocks or tinyproxy on the generator\'s core), which fetches from nginx.',
    '',
    '## The load generator is not the bottleneck',
    '',
    '| no proxy (generator straight to nginx) | rps / throughput | generator-core load |',
    '| --- | ---: | ---: |',
    `| new connections, 50 at a time | ${n0(b.newConn.load.rps)} rps | ${n0(b.newConn.restCoreLoad * 100)}% |`,
    `| keep-alive, 50 connections | ${n0(b.keepAlive.load.rps)} rps | ${n0(b.keepAlive.restCoreLoad * 100)}% |`,
    `| one connection, 64 MiB file | ${mib(b.throughput.load.bytesPerSec)} MiB/s | ${n0(b.throughput.restCoreLoad * 100)}% |`,
    '',
    'The "generator-core load" column of the per-row table in `bench/out/results.json` (`restCoreLoad`) gives the same for every proxy run: the share of the generator\'s core used by the generator, nginx and the remote server. Where it nears 100%, that row is bounded by the far side, not by the proxy.',
    '',
    '## Goals',
    '',
    ...goalLines(r),
    '',
    '## Results',
    '',
    ...metricTable(rows, idleCounts),
    '',
    '## One tunnel: throughput and CPU per GB',
    '',
    'One connection downloading `/big.bin` (64 MiB) repeatedly through each client. Pinned: the client on its core, the generator, nginx and the remote server on the other; that caps the far side, so the same download runs again with every process free to use both cores (unpinned), where the client\'s own ceiling shows. CPU is the local client\'s, per 10^9 bytes.',
    '',
    ...tunnelTable(rows),
    '',
    '## Ratios: clash-ts / v2ray-go',
    '',
    'Above 1 is better for rps and throughput; below 1 is better for latency, CPU and memory.',
    '',
    ...ratioTable(rows, (c) => c.kind === 'v2ray', 'v2ray-go', idleCounts),
    '',
    '## Ratios: clash-ts / C peer',
    '',
    ...ratioTable(rows, (c) => c.kind === 'native', 'C peer', idleCounts),
    '',
    '## clash-ts: GC pauses and event-loop delay',
    '',
    ...probeTable(rows, r.plan.rate as number),
    '',
    '## Latency at equal load',
    '',
    'New connections offered at one fixed rate per row (open-loop pacing, up to 500 in flight): 60% of the slowest contender\'s long-run rps in that row (at most the goal rate), so no contender is overloaded and latencies compare like for like.',
    '',
    '| row | rate offered | client | achieved rps | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU s / 1000 req |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.flatMap((row) => row.contenders.filter((c) => c.fair).map((c) => `| ${row.title} | ${n0(row.fairRate)} | ${c.label} | ${n0(c.fair!.load.rps)} | ${n2(c.fair!.load.p50)} | ${n2(c.fair!.load.p90)} | ${n2(c.fair!.load.p99)} | ${n2(c.fair!.load.p999)} | ${n2(c.fair!.load.max)} | ${n2(c.fair!.cpuPer1000)} |`)),
    '',
    '## Plots',
    '',
    ...imgs.flatMap((i) => [i, '']),
    '## Rows not measured',
    '',
    '| row | status | why |',
    '| --- | --- | --- |',
    ...r.rows.filter((x) => x.status !== 'ran').map((x) => `| ${x.title} | ${x.status} | ${x.note ?? ''} |`),
    ...(r.rows.every((x) => x.status === 'ran') ? ['| – | | every row ran |'] : []),
    '',
    '## Errors seen',
    '',
    ...errorLines(rows),
    '',
    ...profileLines(rows),
    ...analysisLines(),
    ...notMeasuredLines(kept),
  ].join('\n');
  const sections = [...kept].map(([id, body]) => renderSection(id, body));
  writeFileSync(file, sections.length ? `${md}\n${sections.join('\n')}` : md);
  return file;
}

/** A warning when the machine was not quiet before the run: a 1-minute load average over 1 at
 * its start (the load at the end is mostly the bench's own). */
function busyLines(r: RunResult): string[] {
  const load = Number(String(r.machine.loadStart ?? '').split(' ')[0]);
  if (!(load > 1)) return [];
  return ['> **Busy machine.** The 1-minute load average was over 1 when this run started (see Machine below): other work shared the 2 cores, so treat differences under ~10% as noise. Rerun `npm run bench` on a quiet machine for clean figures.', ''];
}

/** The separate benches, and what each measures; listed as not measured until its section exists. */
const SEPARATE: readonly (readonly [id: string, what: string])[] = [
  ['warm-pool', '**TLS warm pool** (`npm run bench:warm-pool`): setup time with and without the pool under simulated RTT, hit rate, waste, a load step.'],
  ['rtt', '**Simulated RTT** (network namespaces + veth + `tc netem` 50 ms / 150 ms to the server side).'],
  ['multi-core', '**Multi-core** (`node:cluster` workers sharing the listen socket, against v2ray on both cores); every row above gives each contender one core.'],
];

function notMeasuredLines(kept: ReadonlyMap<string, string>): string[] {
  const missing = SEPARATE.filter(([id]) => !kept.has(id));
  if (missing.length === 0) return [];
  return ['## Not measured yet', '', ...missing.map(([, what]) => `- ${what}`), ''];
}

function errorLines(rows: RowResult[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    for (const c of row.contenders) {
      const phases = [...c.seed, c.long, c.keepAlive, c.throughput, c.throughputUnpinned, c.rate].filter((p) => p && (p.load.errors > 0));
      const first = phases.map((p) => p!.load.firstError).find(Boolean);
      const errs = phases.reduce((a, p) => a + p!.load.errors, 0);
      if (errs > 0 || c.errors.length > 0) out.push(`- ${row.title} / ${c.label}: ${errs} failed requests${first ? ` (first: ${first})` : ''}${c.errors.length ? `; ${c.errors.join('; ')}` : ''}`);
    }
  }
  return out.length ? out : ['None.'];
}

function profileLines(rows: RowResult[]): string[] {
  const withProf = rows.filter((r) => r.profile && r.profile.length > 0);
  if (withProf.length === 0) return [];
  const out = ['## clash-ts CPU profile (`--cpu-prof`)', '', 'Self time over the load phases of each row (idle excluded); the profiler itself slows clash-ts, so rows run with it are not comparable to rows without.', ''];
  for (const r of withProf) out.push(`### ${r.title}`, '', '```', ...r.profile!, '```', '');
  return out;
}

/** Hand-written analysis (bench/analysis.md), kept with the code and copied into every report. */
function analysisLines(): string[] {
  try {
    return [readFileSync(fileURLToPath(new URL('../analysis.md', import.meta.url)), 'utf8').trimEnd(), ''];
  } catch {
    return [];
  }
}
