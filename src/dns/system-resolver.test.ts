import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hasCode } from '../core/errors.js';
import { createSystemResolver, normalizeName, type SystemResolverOptions } from './system-resolver.js';

/** What the tiny test DNS server knows of one name. */
interface Zone {
  a?: string[];
  aaaa?: string[];
  ttl?: number;
  delayMs?: number;
  /** never answer */
  silent?: boolean;
  servfail?: boolean;
}

/** A minimal UDP DNS responder on 127.0.0.1: A/AAAA from `zones`, NXDOMAIN otherwise. */
interface DnsServer {
  readonly server: string;
  readonly queries: string[];
  close(): Promise<void>;
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

async function startDns(zones: Record<string, Zone>): Promise<DnsServer> {
  const sock: Socket = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off] !== 0) {
      labels.push(msg.toString('latin1', off + 1, off + 1 + msg[off]));
      off += 1 + msg[off];
    }
    const qtype = msg.readUInt16BE(off + 1);
    const qEnd = off + 5;
    const name = labels.join('.');
    queries.push(`${qtype === 1 ? 'A' : 'AAAA'} ${name}`);
    const zone = zones[name];
    if (zone?.silent) return;
    const ips = zone ? (qtype === 1 ? zone.a : zone.aaaa) ?? [] : [];
    const rcode = !zone ? 3 : zone.servfail ? 2 : 0;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rcode === 0 ? ips.length : 0, 6);
    const answers = rcode !== 0 ? [] : ips.map((ip) => {
      const rdata = qtype === 1 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(zone?.ttl ?? 300, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const reply = Buffer.concat([header, msg.subarray(12, qEnd), ...answers]);
    setTimeout(() => sock.send(reply, rinfo.port, rinfo.address), zone?.delayMs ?? 0);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return {
    server: `127.0.0.1:${sock.address().port}`,
    queries,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

let dns: DnsServer;
let dir: string;
let hostsFile: string;
const open: { close(): void }[] = [];

function resolver(extra: Partial<SystemResolverOptions> = {}) {
  const r = createSystemResolver({ ipv6: true, hostsFile, servers: [dns.server], timeoutMs: 1000, ...extra });
  open.push(r);
  return r;
}

before(async () => {
  dns = await startDns({
    'one.test': { a: ['192.0.2.1', '192.0.2.2'], aaaa: ['2001:db8::1'] },
    'v4only.test': { a: ['192.0.2.4'] },
    'v6only.test': { aaaa: ['2001:db8::6'] },
    'slow.test': { a: ['192.0.2.9'], delayMs: 80 },
    'short.test': { a: ['192.0.2.10'], ttl: 0 },
    'silent.test': { silent: true },
    'broken.test': { servfail: true },
    'hosted.test': { a: ['192.0.2.99'] },
  });
  dir = mkdtempSync(join(tmpdir(), 'sysres-'));
  hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, '198.51.100.7 hosted.test\n');
});

after(async () => {
  for (const r of open) r.close();
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

test('IP literals resolve to themselves, in their own family only', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve4('10.1.2.3'), ['10.1.2.3']);
  assert.deepEqual(await r.resolve6('10.1.2.3'), []);
  assert.deepEqual(await r.resolve6('::1'), ['::1']);
  assert.deepEqual(await r.resolve4('::1'), []);
  assert.equal(await r.resolveIp('2001:db8::5'), '2001:db8::5');
  assert.equal(dns.queries.length, 0);
});

test('hosts file wins over DNS; localhost is loopback without DNS', async () => {
  const r = resolver();
  const before = dns.queries.length;
  assert.deepEqual(await r.resolve4('HOSTED.test.'), ['198.51.100.7']);
  assert.deepEqual(await r.resolve6('hosted.test'), []);
  assert.deepEqual(await r.resolve4('localhost'), ['127.0.0.1']);
  assert.deepEqual(await r.resolve6('localhost'), ['::1']);
  assert.equal(dns.queries.length, before);
});

test('A and AAAA come from the server; answers are cached', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve4('one.test'), ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(await r.resolve6('one.test'), ['2001:db8::1']);
  const n = dns.queries.length;
  assert.deepEqual(await r.resolve4('One.Test'), ['192.0.2.1', '192.0.2.2']);
  const got = await r.resolve4('one.test');
  got.push('mutated'); // callers get copies: the cache stays intact
  assert.deepEqual(await r.resolve4('one.test'), ['192.0.2.1', '192.0.2.2']);
  assert.equal(dns.queries.length, n);
});

test('resolveIp prefers IPv4 and falls back to IPv6', async () => {
  const r = resolver();
  assert.equal(await r.resolveIp('one.test'), '192.0.2.1');
  assert.equal(await r.resolveIp('v6only.test'), '2001:db8::6');
  assert.equal(await r.resolveIp('missing.test'), undefined);
  assert.equal(await r.resolveIp('broken.test'), undefined);
});

test('ipv6: false answers AAAA with nothing and sends no AAAA query', async () => {
  const r = resolver({ ipv6: false });
  const aaaa = () => dns.queries.filter((q) => q.startsWith('AAAA ')).length;
  const start = aaaa();
  assert.deepEqual(await r.resolve6('v6only.test'), []);
  assert.deepEqual(await r.resolve6('localhost'), []);
  assert.deepEqual(await r.resolve6('::1'), []); // literals too: IPv6 is off
  assert.equal(await r.resolveIp('v6only.test'), undefined);
  assert.equal(aaaa(), start);
});

test('concurrent lookups of one name share one query', async () => {
  const r = resolver();
  const before = dns.queries.filter((q) => q === 'A slow.test').length;
  const all = await Promise.all(Array.from({ length: 20 }, () => r.resolve4('slow.test')));
  for (const ips of all) assert.deepEqual(ips, ['192.0.2.9']);
  assert.equal(dns.queries.filter((q) => q === 'A slow.test').length, before + 1);
});

test('TTLs are clamped: a short max TTL expires the entry and asks again', async () => {
  const r = resolver({ minTtlMs: 0, maxTtlMs: 30 });
  const count = () => dns.queries.filter((q) => q === 'A v4only.test').length;
  const start = count();
  await r.resolve4('v4only.test');
  await r.resolve4('v4only.test');
  assert.equal(count(), start + 1);
  await new Promise((res) => setTimeout(res, 60));
  await r.resolve4('v4only.test');
  assert.equal(count(), start + 2);
});

test('TTL 0 is raised to the minimum TTL', async () => {
  const r = resolver({ minTtlMs: 5000 });
  const count = () => dns.queries.filter((q) => q === 'A short.test').length;
  const start = count();
  await r.resolve4('short.test');
  await new Promise((res) => setTimeout(res, 20));
  await r.resolve4('short.test');
  assert.equal(count(), start + 1);
});

test('no such name and no records are empty answers, cached negatively', async () => {
  const r = resolver();
  const count = () => dns.queries.filter((q) => q === 'A nowhere.test').length;
  const start = count();
  assert.deepEqual(await r.resolve4('nowhere.test'), []);
  assert.deepEqual(await r.resolve4('nowhere.test'), []);
  assert.equal(count(), start + 1);
  assert.deepEqual(await r.resolve4('v6only.test'), []); // NODATA
});

test('cache size is bounded: the least recently used entry goes', async () => {
  const r = resolver({ cacheSize: 1 });
  const count = () => dns.queries.filter((q) => q === 'A one.test').length;
  await r.resolve4('one.test');
  const start = count();
  await r.resolve4('v4only.test'); // evicts one.test
  await r.resolve4('one.test');
  assert.equal(count(), start + 1);
});

test('SERVFAIL is RESOLVE_FAILED with the c-ares code as cause', async () => {
  const r = resolver();
  await assert.rejects(r.resolve4('broken.test'), (err: unknown) => {
    assert.ok(hasCode(err, 'RESOLVE_FAILED'));
    assert.equal(((err as Error).cause as NodeJS.ErrnoException).code, 'ESERVFAIL');
    return true;
  });
});

test('a silent server times out within the budget', async () => {
  const r = resolver({ timeoutMs: 150 });
  const t0 = Date.now();
  await assert.rejects(r.resolve4('silent.test'), (err: unknown) => hasCode(err, 'RESOLVE_FAILED'));
  const took = Date.now() - t0;
  assert.ok(took >= 100 && took < 1000, `took ${took}ms`);
});

test('an abort signal stops waiting at once; other waiters still get the answer', async () => {
  const r = resolver({ timeoutMs: 2000 });
  const ac = new AbortController();
  const a = r.resolve4('slow.test', ac.signal);
  const b = resolver().resolve4('slow.test');
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(a, (err: unknown) => hasCode(err, 'ABORTED'));
  assert.deepEqual(await b, ['192.0.2.9']);
  await assert.rejects(r.resolve4('one.test', AbortSignal.abort()), (err: unknown) => hasCode(err, 'ABORTED'));
  const c = new AbortController();
  const p = r.resolve4('silent.test', c.signal);
  setTimeout(() => c.abort(), 5);
  await assert.rejects(p, (err: unknown) => hasCode(err, 'ABORTED'));
});

test('malformed names fail clearly and send nothing', async () => {
  const r = resolver();
  const before = dns.queries.length;
  for (const bad of ['', '.', 'a b.test', 'a..test', `${'a'.repeat(64)}.test`, `${'a.'.repeat(130)}test`, 'x\u0000y', 'semi;colon']) {
    await assert.rejects(r.resolve4(bad), (err: unknown) => hasCode(err, 'RESOLVE_FAILED'), bad);
  }
  assert.equal(await r.resolveIp('a b'), undefined);
  assert.equal(dns.queries.length, before);
  assert.equal(normalizeName('Bücher.Example.'), 'xn--bcher-kva.example');
  assert.equal(normalizeName('_srv._tcp.example'), '_srv._tcp.example');
});

test('random names never crash the resolver', async () => {
  const r = resolver({ timeoutMs: 200 });
  const chars = 'ab-_.é \u0000Z9';
  const tasks: Promise<unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    let s = '';
    for (let j = 0; j < 1 + (i % 20); j++) s += chars[Math.floor(Math.random() * chars.length)];
    tasks.push(r.resolve4(s).catch((err: unknown) => assert.ok(hasCode(err, 'RESOLVE_FAILED') || hasCode(err, 'ABORTED'))));
  }
  await Promise.all(tasks);
});

test('after close, lookups fail and queries under way are cancelled', async () => {
  const r = resolver({ timeoutMs: 2000 });
  const pending = r.resolve4('silent.test');
  r.close();
  await assert.rejects(pending, (err: unknown) => hasCode(err, 'RESOLVE_FAILED'));
  await assert.rejects(r.resolve4('one.test'), (err: unknown) => hasCode(err, 'RESOLVE_FAILED'));
  assert.deepEqual(await r.resolve4('localhost'), ['127.0.0.1']); // hosts need no network
});
