/** The resolver against real servers: the race, a dead and a SERVFAIL upstream, cache, in-flight de-dup, negative caching, hosts. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseNameserver, type HostsSpec } from '../../src/config/dns.js';
import { DnsResolver } from '../../src/dns/dns-resolver.js';
import { HostsLookup } from '../../src/dns/hosts-lookup.js';
import { buildUpstream, type UpstreamEnv } from '../../src/dns/upstream/build.js';
import { answerIps, query, rcodeOf, RCODE } from '../../src/dns/wire.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { startDnsmasq, startFakeServer, startUnbound, type Dnsmasq, type FakeServer, type Unbound } from './peers.js';

const literal = { resolve4: async (h: string) => [h], resolve6: async () => [], resolveIp: async (h: string) => h };
const dialer = createSystemDialer({ resolver: literal });
const env: UpstreamEnv = { dialerFor: () => dialer, systemDialer: dialer };
const ups = (...list: string[]) => list.map((s, i) => buildUpstream(parseNameserver(s, i, false), env));

let dnsmasq: Dnsmasq;
let unbound: Unbound;
let silent: FakeServer;
let servfail: FakeServer;
let other: FakeServer;

before(async () => {
  dnsmasq = await startDnsmasq({ 'a.test': '10.0.0.1', 'b.test': '10.0.0.3' });
  unbound = await startUnbound({ 'a.test': '10.1.1.1' });
  silent = await startFakeServer('silent');
  servfail = await startFakeServer('servfail');
  other = await startFakeServer({ answer: '10.7.7.7', ttl: 1 });
});

after(async () => {
  await dnsmasq?.stop();
  await unbound?.stop();
  await silent?.close();
  await servfail?.close();
  await other?.close();
});

describe('DnsResolver', () => {
  // the dead server's timeout is 10 minutes and the test's 60 s: only a race that does not wait for it passes
  test('a dead and a SERVFAIL nameserver never stall the good one', { timeout: 60_000 }, async () => {
    const r = new DnsResolver({ main: ups(`127.0.0.1:${silent.port}`, `127.0.0.1:${servfail.port}`, `127.0.0.1:${dnsmasq.port}`), ipv6: false, timeoutMs: 600_000 });
    assert.deepEqual(await r.resolve4('a.test'), ['10.0.0.1']);
    assert.ok(silent.seen.udp >= 1 && servfail.seen.udp >= 1, 'every nameserver was asked');
    r.close();
  });

  test('only dead and failing nameservers: all DNS requests failed, after the per-upstream timeout', async () => {
    const r = new DnsResolver({ main: ups(`127.0.0.1:${silent.port}`, `127.0.0.1:${servfail.port}`), ipv6: false, timeoutMs: 300 });
    await assert.rejects(r.resolve4('a.test'), /all DNS requests failed, first error: server failure: SERVFAIL/);
    r.close();
  });

  test('answers are cached by TTL; concurrent lookups of one name share one query', async () => {
    const r = new DnsResolver({ main: ups(`127.0.0.1:${other.port}`), ipv6: false });
    const before = other.seen.udp;
    const all = await Promise.all(Array.from({ length: 20 }, () => r.resolve4('x.test')));
    assert.ok(all.every((a) => a[0] === '10.7.7.7'));
    assert.equal(other.seen.udp - before, 1, 'twenty lookups, one query');
    await r.resolve4('x.test');
    assert.equal(other.seen.udp - before, 1, 'from the cache');
    // TTL 1 s: after it the name is asked again
    await new Promise((res) => setTimeout(res, 1100));
    await r.resolve4('x.test');
    assert.equal(other.seen.udp - before, 2, 'asked again after its TTL');
    r.close();
  });

  test('NXDOMAIN is cached by the SOA of the reply (not without one); the cache is bounded', async () => {
    const r = new DnsResolver({ main: ups(`127.0.0.1:${unbound.port}`), ipv6: false, cacheSize: 2 });
    const nx = await r.exchange(query('nope.test', 'A'));
    assert.equal(rcodeOf(nx), RCODE.NXDOMAIN);
    assert.equal(r.cache.size, 1, 'the negative answer is kept (unbound sends the zone SOA)');
    const aged = await r.exchange(query('nope.test', 'A'));
    const soa = aged.authorities.find((a) => a.type === 'SOA') as { ttl?: number } | undefined;
    assert.ok(soa && soa.ttl !== undefined && soa.ttl <= 30, 'served from the cache with the SOA TTL (min of TTL and MINIMUM = 30)');
    const plain = new DnsResolver({ main: ups(`127.0.0.1:${dnsmasq.port}`), ipv6: false });
    assert.equal(rcodeOf(await plain.exchange(query('nope.test', 'A'))), RCODE.NXDOMAIN);
    assert.equal(plain.cache.size, 0, 'dnsmasq sends no SOA: RFC 2308 says do not keep it');
    plain.close();
    const u = new DnsResolver({ main: ups(`127.0.0.1:${dnsmasq.port}`), ipv6: false, cacheSize: 2 });
    await u.exchange(query('a.test', 'A'));
    await u.exchange(query('b.test', 'A'));
    await u.exchange(query('a.test', 'A'));
    assert.equal(u.cache.size, 2);
    u.close();
    r.close();
  });

  test('hosts: single, list, wildcard, alias; the nameservers are asked for the alias target', async () => {
    const specs: HostsSpec[] = [
      { pattern: 'one.test', ips: ['192.0.2.1'] },
      { pattern: 'two.test', ips: ['192.0.2.2', '2001:db8::2'] },
      { pattern: '+.wild.test', ips: ['192.0.2.3'] },
      { pattern: 'alias.test', ips: [], alias: 'a.test' },
    ];
    const r = new DnsResolver({ main: ups(`127.0.0.1:${dnsmasq.port}`), ipv6: true, hosts: new HostsLookup(specs) });
    assert.deepEqual(await r.resolve4('one.test'), ['192.0.2.1']);
    assert.deepEqual(await r.resolve6('two.test'), ['2001:db8::2']);
    assert.deepEqual(await r.resolve4('x.y.wild.test'), ['192.0.2.3']);
    assert.deepEqual(await r.resolve4('wild.test'), ['192.0.2.3']);
    assert.deepEqual(await r.resolve4('alias.test'), ['10.0.0.1']);
    assert.equal(await r.resolveIp('one.test'), '192.0.2.1');
    r.close();
  });

  test('ipv6: false answers AAAA with nothing without asking', async () => {
    const r = new DnsResolver({ main: ups(`127.0.0.1:${other.port}`), ipv6: false });
    const before = other.seen.udp;
    assert.deepEqual(await r.resolve6('x6.test'), []);
    assert.equal(other.seen.udp, before);
    r.close();
  });

  test('an aborted lookup rejects at once; rcode://success answers with no records', async () => {
    const r = new DnsResolver({ main: ups(`127.0.0.1:${silent.port}`), ipv6: false, timeoutMs: 200 });
    const ctl = new AbortController();
    const p = r.resolve4('slow.test', ctl.signal);
    ctl.abort();
    await assert.rejects(p, /aborted/);
    r.close();
    assert.deepEqual(answerIps(await new DnsResolver({ main: ups('rcode://success'), ipv6: false }).exchange(query('z.test', 'A'))), []);
  });
});
