/** `--report`: docs/stability.md and its plots (docs/stability/*.svg) from one run's results. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Series } from '../lib/svg.js';
import type { SoakResult } from './run.js';
import type { Sample } from './sampler.js';
import { MIN_SLOPE_MINUTES, WARMUP_MINUTES } from './verdict.js';

type Pick = (s: Sample, prev: Sample | undefined) => number;

function series(samples: readonly Sample[], label: string, pick: Pick): Series {
  const pts: [number, number][] = [];
  let prev: Sample | undefined;
  for (const s of samples) {
    if (s.phase !== 'start') pts.push([s.t / 60, pick(s, prev)]);
    prev = s;
  }
  return { label, points: pts };
}

/** A per-interval difference of a cumulative counter (0 at a reset). */
const delta = (f: (s: Sample) => number): Pick => (s, p) => (p ? Math.max(0, f(s) - f(p)) : 0);

const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

/** The plots: file name, chart. */
function plots(r: SoakResult): [string, string][] {
  const s = r.samples;
  const chart = (title: string, y: string, lines: Series[]): string => lineChart(title, 'minutes since the load started', y, lines, false);
  return [
    ['memory.svg', chart('RSS and V8 heap', 'MB', [series(s, 'RSS', (x) => x.rssMB), series(s, 'heap used', (x) => x.heapUsedMB), series(s, 'heap total', (x) => x.heapTotalMB), series(s, 'external', (x) => x.externalMB)])],
    ['fds.svg', chart('Open fds and active handles', 'count', [series(s, 'fds', (x) => x.fds), series(s, 'handles', (x) => x.handles)])],
    ['tunnels.svg', chart('Live connections', 'count', [series(s, 'tracker', (x) => x.tracker), series(s, 'tunnels (load)', (x) => x.load?.tunnelsLive ?? 0)])],
    ['loop.svg', chart('Event-loop delay and GC pauses (per interval)', 'ms', [series(s, 'loop p50', (x) => x.loopP50ms), series(s, 'loop p99', (x) => x.loopP99ms), series(s, 'loop max', (x) => x.loopMaxms), series(s, 'GC max pause', (x) => x.gcMaxms)])],
    ['latency.svg', chart('Load generator latency (per interval)', 'ms', [
      series(s.filter((x) => x.load), 'connect p50', (x) => x.load!.connect.p50),
      series(s.filter((x) => x.load), 'connect p99', (x) => x.load!.connect.p99),
      series(s.filter((x) => x.load), 'connect p99.9', (x) => x.load!.connect.p999),
      series(s.filter((x) => x.load), 'tunnel rtt p99', (x) => x.load!.tunnelRtt.p99),
    ])],
    ['pool.svg', chart('Warm pool (per interval; size now)', 'count', [series(s, 'pool hits', delta((x) => x.poolHits)), series(s, 'pool misses', delta((x) => x.poolMisses)), series(s, 'pool wasted', delta((x) => x.poolWasted)), series(s, 'pool size', (x) => x.poolSize)])],
  ];
}

/** The 15-minute load average from machineFacts' "1 5 15" text when it says the machine was busy (> 1). */
function busy(load: string | undefined): string | undefined {
  const l15 = Number(String(load ?? '').split(' ')[2]);
  return l15 > 1 ? l15.toFixed(2) : undefined;
}

/** Writes the report and its plots under `root`; returns the files written. */

export function writeReport(r: SoakResult, root: string): string[] {
  const dir = join(root, 'docs/stability');
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const ps = plots(r);
  for (const [name, svg] of ps) {
    writeFileSync(join(dir, name), svg);
    files.push(`docs/stability/${name}`);
  }
  const o = r.options;
  const m = r.machine;
  const short = o.minutes < WARMUP_MINUTES + MIN_SLOPE_MINUTES;
  const loads = r.samples.filter((s) => s.phase === 'load');
  const last = loads[loads.length - 1];
  const gcTotal = r.samples.reduce((a, s) => a + s.gcCount, 0);
  const gcMax = Math.max(0, ...r.samples.map((s) => s.gcMaxms));
  const lines: string[] = [
    '# Stability: the soak report',
    '',
    '<!-- written by `npm run soak -- … --report` (bench/soak/report.ts); edit the generator, not this file -->',
    '',
    ...(short
      ? [
          `> **A short run on a shared machine.** This report is from a ${o.minutes}-minute run on a 2-core machine shared with other`,
          '> jobs, so the loop-delay and latency figures say more about the neighbours than about the core, and the',
          `> RSS slope is **not judged** (it needs at least ${MIN_SLOPE_MINUTES} minutes of samples after the first ${WARMUP_MINUTES}).`,
          '> Issue 16 asks for a run of at least 2 hours on a quiet machine: `npm run soak -- --minutes 130 --report`.',
          '',
        ]
      : busy(m.loadStart)
        ? [
            `> **A shared machine.** The 15-minute load average was ${busy(m.loadStart)} when the run ended: other jobs shared the 2 cores,`,
            '> so the loop-delay and latency figures say more about the neighbours than about the core. The leak checks',
            '> and the RSS slope do not depend on that; rerun on a quiet machine for the latency goals.',
            '',
          ]
        : []),
    `Command: \`${r.command}\` (rerun it to reproduce; its samples are in [stability/results.json](stability/results.json)${r.reportedFrom ? '; this page was regenerated from them with `npm run soak -- --from docs/stability/results.json`, the verdict judged again by the current code' : ''}).`,
    '',
    '## Setup',
    '',
    `- Started ${r.startedAt}, ended ${r.endedAt}; clash-ts ${r.clashVersion} at commit ${r.commit}, \`workers: ${o.workers}\`, the built CLI (\`dist/main.js\`).`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, Linux ${m.kernel}, Node ${m.node}; load average at the end ${m.loadStart}.`,
    `- Peers (Debian packages, loopback): ss-server ${m['shadowsocks-libev']} (${'chacha20-ietf-poly1305'}, UDP on), microsocks ${m.microsocks}, tinyproxy ${m.tinyproxy}, trojan ${m.trojan} (TLS), v2ray ${m.v2ray} (VMess over TCP, VLESS over TLS), nginx ${m.nginx}; our own VLESS server listener (TLS) for the \`vless-self\` row; the runner's TCP and UDP echo servers.`,
    `- Rows (one mixed listener each, IN-NAME to its proxy): ${r.rows.join(', ')}; a select group \`sel\` behind its own listener. Warm pool on (min 2, max 8, max-idle 3 s): Trojan, VLESS and vless-self dial through it.`,
    `- Load (seed ${o.seed}): ${o.rate} new connections/s round-robin over the rows (half SOCKS5, half HTTP CONNECT; 1 B-64 KiB echoed and hashed, then a half-close); ${o.tunnels} long-lived tunnels, each exchanging 256 B-8 KiB every 2-6 s; ${o.udpFlows} SOCKS5 UDP flows (DIRECT and Shadowsocks), a datagram a second; a ${(o.bulkBytes / 2 ** 20).toFixed(0)} MiB download from nginx every ${o.bulkSeconds} s through the next row, and one through \`sel\`; \`PUT /configs?force=true\` every ${o.reloadSeconds} s; \`PUT /proxies/sel\` every ${o.switchSeconds} s.`,
    `- Sampled every ${o.sampleSeconds} s: /proc (RSS, open fds, summed over the process tree) and the controller's \`/metrics\` (heap, handles, tracker, warm pools, loop delay, GC). After the load stops, the run waits up to 100 s for the tracker, the warm pools and the fd / handle counts to come back (${fmt(r.settleSeconds, 0)} s here), then takes the end sample and reads \`GET /connections\`. UDP sessions end 60 s after their last datagram and warm pools empty 60 s after their last new connection, so settling takes a little over a minute.`,
    '',
    '## Verdict',
    '',
    '| check | value | goal | result |',
    '| --- | --- | --- | --- |',
    ...r.verdict.checks.map((c) => `| ${c.name} | ${c.value}${c.note ? ` (${c.note})` : ''} | ${c.goal} | ${c.result} |`),
    '',
    '## Figures',
    '',
    `- Bytes verified end to end: ${r.totals.bytesVerified.toLocaleString('en-US')}; corrupted: ${r.totals.bytesCorrupted}.`,
    `- New connections completed: ${r.totals.connectionsOk.toLocaleString('en-US')}; tunnel exchanges: ${r.totals.exchangesOk.toLocaleString('en-US')}; bulk downloads: ${r.totals.bulkOk}; reloads: ${r.totals.reloads}; selector switches: ${r.totals.switches}.`,
    `- Warm pool at the last load sample: ${last?.poolHits ?? 0} hits, ${last?.poolMisses ?? 0} misses, ${last?.poolWasted ?? 0} closed unused (all pools).`,
    `- UDP datagrams: ${r.totals.udpSent} sent, ${r.totals.udpVerified} verified, ${r.totals.udpLost} unanswered within 3 s.`,
    `- New connection time (dial, handshake, echo verified; the load generator's clock, ${r.connect.n} samples): p50 ${fmt(r.connect.p50)} ms, p99 ${fmt(r.connect.p99)} ms, p99.9 ${fmt(r.connect.p999)} ms. Tunnel exchange round trip (${r.tunnelRtt.n}): p50 ${fmt(r.tunnelRtt.p50)} ms, p99 ${fmt(r.tunnelRtt.p99)} ms, p99.9 ${fmt(r.tunnelRtt.p999)} ms.`,
    `- RSS: ${fmt(loads[0]?.rssMB ?? NaN)} MB at the first load sample, ${fmt(loads[loads.length - 1]?.rssMB ?? NaN)} MB at the last, ${fmt(r.samples[r.samples.length - 1]?.rssMB ?? NaN)} MB at the end.`,
    `- GC: ${gcTotal} pauses over the run, the longest ${fmt(gcMax)} ms (controller process).`,
    `- Errors by kind: ${Object.keys(r.errors).length === 0 ? 'none' : Object.entries(r.errors).map(([k, v]) => `${k} ×${v} (first: "${r.errorExamples[k]}")`).join('; ')}.`,
    `- clash-ts log lines by level: ${Object.entries(r.log.byLevel).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}${r.log.top.length ? `; most common: ${r.log.top.slice(0, 5).map(([k, v]) => `\`${k.replace(/`/g, "'")}\` ×${v}`).join(', ')}` : ''}. Exit code on SIGTERM: ${r.exitCode}.`,
    '',
    '## Plots',
    '',
    ...ps.map(([name]) => `![${name.replace('.svg', '')}](stability/${name})`),
    '',
    '## Not run',
    '',
    ...(short ? [`- A run of 2 hours or more (this one: ${o.minutes} min), and so no judged RSS slope.`] : []),
    '- 24 hours; other machines; a quiet machine (this one is shared: loop delay and latency reflect that).',
    ...(o.workers === 1 ? ['- The `workers: 2` run (`--workers 2`; with workers the heap, handle, loop and GC figures are the primary\'s, RSS and fds are summed over all processes).'] : []),
    '- Internet paths: everything is on loopback, so no RTT, loss or reordering.',
    '',
  ];
  writeFileSync(join(root, 'docs/stability.md'), lines.join('\n'));
  files.unshift('docs/stability.md');
  return files;
}
