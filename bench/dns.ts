/**
 * `npm run bench:dns`: queries per second of clash-ts's DNS listener, with Debian's dnsperf as
 * the load generator, against dnsmasq and unbound themselves in the same run.
 *
 *   npm run bench:dns                 ~1 min: writes the "dns" section of docs/benchmarks.md
 *   npm run bench:dns -- --seconds=5  shorter runs
 *
 * Rows (each dnsperf -l SECONDS, 100 queries outstanding, UDP, 127.0.0.1):
 *   dnsmasq / unbound: answering every name under `bench.test.` themselves (wildcard local data);
 *   clash-ts from cache: 200 names asked over and over (after the first round, all hits);
 *   clash-ts through dnsmasq: every query a new name (no hit): our listener, resolver and
 *   upstream UDP to dnsmasq on each query.
 * Raw results: bench/out/dns.json. The machine is shared: the figures are one run's.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/common/log.js';
import { DnsServer } from '../src/dns/server.js';
import { Host } from '../src/host/host.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../test/support/peer.js';
import { freePort } from '../test/support/ports.js';
import { writeSection } from './lib/sections.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 10);

interface Row {
  readonly name: string;
  readonly qps: number;
  readonly avgLatencyMs: number;
  readonly lost: number;
  readonly completed: number;
}

function dnsperf(port: number, file: string, name: string, once = false): Promise<Row> {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-q', '100', '-t', '2'];
  if (once) args.push('-n', '1');
  return new Promise((resolve, reject) => {
    execFile('dnsperf', args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
      resolve({
        name,
        qps: num(/Queries per second:\s+([\d.]+)/),
        avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        completed: num(/Queries completed:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
      });
    });
  });
}

async function main(): Promise<void> {
  const dir = peerDir('bench-dns');
  const names = Array.from({ length: 200 }, (_, i) => `n${i}.bench.test A`).join('\n');
  const cacheFile = writePeerFile(dir, 'cached.txt', `${names}\n`);
  // enough distinct names that no run repeats one (dnsperf -n 1 stops at the end of the file)
  const unique = Array.from({ length: 400_000 }, (_, i) => `u${i}.bench.test A`).join('\n');
  const uniqueFile = writePeerFile(dir, 'unique.txt', `${unique}\n`);
  const uniqueFile2 = writePeerFile(dir, 'unique2.txt', `${unique.replaceAll('.bench.test', '.two.bench.test')}\n`);

  const dmPort = await freePort();
  const dnsmasq: Peer = await startPeer({
    name: 'dnsmasq',
    command: '/usr/sbin/dnsmasq',
    args: ['--keep-in-foreground', '--conf-file=/dev/null', `--port=${dmPort}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', '--log-facility=-', '--address=/bench.test/127.0.0.1', '--local-ttl=300', '--dns-forward-max=1000'],
    readyPort: dmPort,
  });
  const ubPort = await freePort();
  const ubConf = writePeerFile(
    dir,
    'unbound.conf',
    `server:\n  interface: 127.0.0.1@${ubPort}\n  port: ${ubPort}\n  do-daemonize: no\n  username: ""\n  chroot: ""\n  directory: "${dir}"\n  pidfile: ""\n  use-syslog: no\n  logfile: ""\n  verbosity: 0\n  do-ip6: no\n  do-tcp: yes\n  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n  module-config: "iterator"\n  local-zone: "bench.test." redirect\n  local-data: "bench.test. 300 IN A 127.0.0.1"\nremote-control:\n  control-enable: no\n`,
  );
  const unbound: Peer = await startPeer({ name: 'unbound', command: '/usr/sbin/unbound', args: ['-d', '-c', ubConf], readyPort: ubPort });
  const ourPort = await freePort();
  const host = await Host.start(
    ['dns:', '  enable: true', '  enhanced-mode: normal', '  cache-max-size: 1000000', `  nameserver: [127.0.0.1:${dmPort}]`].join('\n'),
    { log: createLogger('silent') },
  );
  // the listener as dns.listen runs it, but with the per-client bucket (a flood guard: dnsperf is
  // one client) lifted, so the row measures the listener rather than the guard
  const server = new DnsServer(() => host.resolver.runtime, createLogger('silent'), { perClientQps: 1e9 });
  await server.apply({ dns: { enable: true, listen: `127.0.0.1:${ourPort}` } });
  const rows: Row[] = [];
  try {
    rows.push(await dnsperf(dmPort, uniqueFile, 'dnsmasq (answers itself)', true));
    rows.push(await dnsperf(ubPort, uniqueFile, 'unbound (answers itself)', true));
    await dnsperf(ourPort, cacheFile, 'warm-up').catch(() => undefined);
    rows.push(await dnsperf(ourPort, cacheFile, 'clash-ts listener, from cache'));
    rows.push(await dnsperf(ourPort, uniqueFile2, 'clash-ts listener, through dnsmasq (no hit)', true));
  } finally {
    await server.close();
    await host.close(0);
    await dnsmasq.stop();
    await unbound.stop();
  }
  mkdirSync(`${ROOT}bench/out`, { recursive: true });
  writeFileSync(`${ROOT}bench/out/dns.json`, JSON.stringify({ date: new Date().toISOString(), seconds, rows }, null, 2));
  const table = [
    '| server | queries/s | avg latency (ms) | completed | lost |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.qps)} | ${r.avgLatencyMs.toFixed(2)} | ${r.completed} | ${r.lost} |`),
  ];
  const body = [
    '## DNS listener (`npm run bench:dns`)',
    '',
    `dnsperf (Debian) over UDP on 127.0.0.1, ${seconds} s per row, 100 queries outstanding, on this ${cpus().length}-core machine shared with other work (one run's figures).`,
    'dnsmasq and unbound answer every name under `bench.test.` from local data; "from cache" asks 200 names over and over;',
    '"through dnsmasq" asks a new name each time, so every query runs our listener, resolver and a UDP exchange with dnsmasq (our listener runs with its per-client flood guard lifted: dnsperf is one client).',
    '',
    ...table,
    '',
    `Run ${new Date().toISOString().slice(0, 10)}; raw numbers in bench/out/dns.json.`,
  ].join('\n');
  writeSection(`${ROOT}docs/benchmarks.md`, 'dns', body);
  console.log(table.join('\n'));
}

await main();
