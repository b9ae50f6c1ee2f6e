/**
 * /metrics against real traffic: dial latency histograms per proxy (bounded, the rest `other`),
 * health-check delays, DNS cache hits and misses, event-loop delay and GC pause histograms, all
 * in the Prometheus text format, checked by our own strict reading of it and, when Debian's
 * `promtool` is installed, by promtool itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControllerService } from '../../src/api/service.js';
import { createLogger } from '../../src/common/log.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { Host } from '../../src/host/host.js';
import { MAX_DIAL_SERIES } from '../../src/tunnel/dial-stats.js';
import { HashedTunnel, replyCode } from '../host/tunnels.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { curl } from './client.js';

const SECRET = 'm3trics';
const AUTH = ['-H', `Authorization: Bearer ${SECRET}`];

/** name{labels} value lines, and the TYPE of each family; throws on anything the format forbids */
function parse(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        assert.ok(!types.has(m[2]), `one TYPE for ${m[2]}`);
        assert.ok(['counter', 'gauge', 'histogram', 'summary'].includes(m[3]), line);
        types.set(m[2], m[3]);
      } else helps.add(m[2]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) labels[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 2, -1);
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), line);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]) || ['histogram', 'summary'].includes(types.get(family) ?? ''), `${m[1]} has a TYPE before its samples`);
    assert.ok(helps.has(m[1]) || helps.has(family), `${m[1]} has a HELP`);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

/** The buckets of one histogram series are cumulative, end with +Inf = _count. */
function checkHistogram(s: ReturnType<typeof parse>['samples'], name: string, match: Record<string, string>): { count: number; sum: number } {
  const same = (l: Record<string, string>) => Object.entries(match).every(([k, v]) => l[k] === v);
  const buckets = s.filter((x) => x.name === `${name}_bucket` && same(x.labels));
  assert.ok(buckets.length > 1, `${name} ${JSON.stringify(match)} has buckets`);
  let prev = -1;
  let prevLe = -Infinity;
  for (const b of buckets) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    assert.ok(le > prevLe, 'bounds ascend');
    assert.ok(b.value >= prev, 'cumulative');
    prev = b.value;
    prevLe = le;
  }
  assert.equal(buckets.at(-1)!.labels.le, '+Inf');
  const count = s.find((x) => x.name === `${name}_count` && same(x.labels))!.value;
  const sum = s.find((x) => x.name === `${name}_sum` && same(x.labels))!.value;
  assert.equal(buckets.at(-1)!.value, count);
  return { count, sum };
}

function promtool(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v promtool']);
  return r.status === 0 ? r.stdout.toString().trim() : undefined;
}

describe('/metrics', { timeout: 120_000 }, () => {
  let host: Host;
  let echo: Local;
  let web: Server;
  let webPort = 0;
  let mixed = 0;
  let base = '';
  const names = Array.from({ length: MAX_DIAL_SERIES + 5 }, (_, i) => `d${i}`);

  before(async () => {
    echo = await tcpEcho();
    web = createServer((_q, s) => s.writeHead(204).end());
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as { port: number }).port;
    mixed = await freePort();
    const api = await freePort();
    base = `http://127.0.0.1:${api}`;
    const log = createLogger('info', () => {});
    const ctl = new ControllerService({ log, homeDir: mkdtempSync(join(tmpdir(), 'clash-ts-metrics-')) });
    const yaml = [
      `mixed-port: ${mixed}`,
      `external-controller: 127.0.0.1:${api}`,
      `secret: ${SECRET}`,
      'proxies:',
      ...names.map((n) => `  - { name: ${n}, type: direct }`),
      '  - { name: dead, type: socks5, server: 127.0.0.1, port: 1 }',
      'proxy-groups:',
      `  - { name: pick, type: select, proxies: [${names.join(', ')}], url: "http://127.0.0.1:${webPort}/" }`,
      'rules:',
      '  - DST-PORT,1,dead',
      `  - DST-PORT,${echo.port},pick`,
      '  - MATCH,DIRECT',
      '',
    ].join('\n');
    host = await Host.start(yaml, { log, services: [ctl] });
    ctl.serve(host.control);
  });
  after(async () => {
    await host?.close(0);
    await echo?.close();
    await new Promise((r) => web?.close(r));
  });

  test('dial latency per proxy (bounded, the rest other), failures, delays, DNS, event loop and GC, in the text format', async () => {
    // one dial through each proxy: the first MAX_DIAL_SERIES keep their names
    for (const n of names) {
      assert.ok(await host.control.select('pick', n));
      const t = await HashedTunnel.open(mixed, echo.port);
      await t.round(64);
      await t.end();
    }
    // a failed dial (the socks5 server at port 1 refuses)
    assert.notEqual(await replyCode(mixed, 1), 0);
    // a health-check delay that answers and one that fails
    assert.ok((await host.control.delay('d0', { url: `http://127.0.0.1:${webPort}/`, timeoutMs: 5000 }))! > 0);
    await host.control.delay('dead', { url: `http://127.0.0.1:${webPort}/`, timeoutMs: 2000 }).catch(() => {});
    const first = await curl([...AUTH, `${base}/metrics`]);
    assert.equal(first.status, 200);
    await new Promise((r) => setTimeout(r, 300)); // loop samples for the second scrape
    // short-lived garbage: young-generation collections the GC histogram must count
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += new Array(16).fill(i).length;
    assert.ok(keep > 0);
    await new Promise((r) => setTimeout(r, 50)); // GC entries are delivered asynchronously
    const r = await curl([...AUTH, `${base}/metrics`]);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const m = parse(r.body);
    assert.equal(m.types.get('clash_dial_duration_seconds'), 'histogram');
    const proxies = new Set(m.samples.filter((s) => s.name === 'clash_dial_duration_seconds_count').map((s) => s.labels.proxy));
    assert.equal(proxies.size, MAX_DIAL_SERIES + 1, [...proxies].join(' ')); // the named ones and other
    assert.ok(proxies.has('d0') && proxies.has('other'), 'the first names, then other');
    assert.ok(!proxies.has(names.at(-1)!));
    for (const p of ['d0', 'd1']) {
      const h = checkHistogram(m.samples, 'clash_dial_duration_seconds', { proxy: p });
      assert.equal(h.count, 1);
      assert.ok(h.sum > 0 && h.sum < 5, `a loopback dial in seconds: ${h.sum}`);
    }
    // the first MAX_DIAL_SERIES names had their own series, the rest share other ("dead"'s failed dial is a failure, not a latency)
    assert.equal(checkHistogram(m.samples, 'clash_dial_duration_seconds', { proxy: 'other' }).count, names.length - MAX_DIAL_SERIES);
    const failures = m.samples.filter((s) => s.name === 'clash_dial_failures_total').reduce((a, s) => a + s.value, 0);
    assert.equal(failures, 1);
    const delay = m.samples.find((s) => s.name === 'clash_proxy_delay_seconds' && s.labels.proxy === 'd0');
    assert.ok(delay && delay.value > 0 && delay.value < 5, JSON.stringify(delay));
    assert.equal(m.samples.find((s) => s.name === 'clash_proxy_alive' && s.labels.proxy === 'd0')?.value, 1);
    assert.equal(m.samples.find((s) => s.name === 'clash_proxy_alive' && s.labels.proxy === 'dead')?.value, 0);
    assert.equal(m.samples.find((s) => s.name === 'clash_proxy_delay_seconds' && s.labels.proxy === 'dead')?.value, 0);
    assert.equal(m.types.get('clash_dns_cache_hits_total'), 'counter');
    assert.equal(m.types.get('clash_dns_cache_misses_total'), 'counter');
    const loop = checkHistogram(m.samples, 'clash_event_loop_delay_seconds', {});
    assert.ok(loop.count > 0, 'event loop samples');
    assert.equal(m.types.get('clash_gc_pause_seconds'), 'histogram');
    for (const kind of ['minor', 'major']) checkHistogram(m.samples, 'clash_gc_pause_seconds', { kind });
    const minor = checkHistogram(m.samples, 'clash_gc_pause_seconds', { kind: 'minor' });
    assert.ok(minor.count > 0 && minor.sum > 0 && minor.sum < minor.count, `scavenges counted, each under a second: ${JSON.stringify(minor)}`);
    assert.ok(m.samples.some((s) => s.name === 'clash_event_loop_delay_recent_seconds' && s.labels.quantile === '0.99'));
    const gcMax = m.samples.find((s) => s.name === 'clash_gc_pause_recent_max_seconds');
    assert.ok(gcMax && gcMax.value >= 0 && gcMax.value < 1, JSON.stringify(gcMax));
    const mem = (kind: string) => m.samples.find((s) => s.name === 'clash_process_memory_bytes' && s.labels.kind === kind)?.value ?? -1;
    assert.ok(mem('heap_used') > 1e6 && mem('heap_used') <= mem('heap_total'), `heap ${mem('heap_used')} of ${mem('heap_total')}`);
    assert.ok(mem('external') >= mem('array_buffers') && mem('array_buffers') > 0, `external ${mem('external')}, array buffers ${mem('array_buffers')}`);
    // the controller's own listening socket is one of the handles
    const servers = m.samples.find((s) => s.name === 'clash_active_resources' && s.labels.type === 'TCPServerWrap');
    assert.ok(servers && servers.value >= 1, JSON.stringify(servers));
    // promtool, when installed, agrees that it is valid exposition text
    const tool = promtool();
    if (tool) {
      const out = spawnSync(tool, ['check', 'metrics'], { input: r.body });
      // no format error and no lint finding
      assert.equal(out.status, 0, out.stdout.toString() + out.stderr.toString());
    }
    assert.equal((await curl([`${base}/metrics`])).status, 401);
  });

  test('DNS cache: the resolver counts a miss, then a hit (a local DNS server answers NXDOMAIN)', async () => {
    // a DNS server on loopback: every query gets NXDOMAIN (negative answers are cached too)
    const dns = createSocket('udp4');
    let queries = 0;
    dns.on('message', (q, from) => {
      queries++;
      const a = Buffer.from(q);
      a.writeUInt16BE(0x8183, 2); // response, recursion desired + available, NXDOMAIN
      a.writeUInt16BE(0, 6); // no answers
      a.writeUInt16BE(0, 8);
      a.writeUInt16BE(0, 10);
      dns.send(a.subarray(0, q.length), from.port, from.address);
    });
    await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
    const resolver = createSystemResolver({ ipv6: true, servers: [`127.0.0.1:${dns.address().port}`] });
    try {
      assert.deepEqual(resolver.stats!(), { hits: 0, misses: 0 });
      assert.deepEqual(await resolver.resolve4('metrics-test.example'), []);
      assert.deepEqual(await resolver.resolve4('metrics-test.example'), []);
      assert.deepEqual(await resolver.resolve4('localhost'), ['127.0.0.1'], 'the hosts file is not the cache');
      assert.deepEqual(resolver.stats!(), { hits: 1, misses: 1 });
      assert.equal(queries, 1);
    } finally {
      resolver.close();
      dns.close();
    }
    // and the host's resolver is what /metrics shows
    const now = host.control.dnsCacheStats!()!;
    const m = parse((await curl([...AUTH, `${base}/metrics`])).body);
    assert.equal(m.samples.find((s) => s.name === 'clash_dns_cache_hits_total')?.value, now.hits);
    assert.equal(m.samples.find((s) => s.name === 'clash_dns_cache_misses_total')?.value, now.misses);
  });

  test('the text parser used here rejects what the format forbids', () => {
    assert.throws(() => parse('x 1'));
    assert.throws(() => parse('# TYPE x gauge\nx{a="1" 1\n'));
    assert.throws(() => parse('x 1\n'), /TYPE/);
  });
});
