/** Each upstream kind against a real server on loopback: dnsmasq (UDP, TCP), unbound (DoT, DoH h2), a Node HTTP/1.1 DoH front. */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { createSocket } from 'node:dgram';
import net from 'node:net';
import http from 'node:http';
import { parseNameserver } from '../../src/config/dns.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { buildUpstream, type UpstreamEnv } from '../../src/dns/upstream/build.js';
import { dohUpstream } from '../../src/dns/upstream/doh.js';
import { systemUpstream, systemNameservers } from '../../src/dns/upstream/system.js';
import { udpUpstream } from '../../src/dns/upstream/udp.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTls } from '../../src/transport/tls.js';
import { answerIps, query, rcodeOf, RCODE, decode, encode } from '../../src/dns/wire.js';
import { testCerts } from '../support/certs.js';
import { startDnsmasq, startFakeServer, startUnbound, type Dnsmasq, type FakeServer, type Unbound } from './peers.js';

const literal = { resolve4: async (h: string) => [h], resolve6: async () => [], resolveIp: async (h: string) => h };
const dialer = createSystemDialer({ resolver: literal });
const env: UpstreamEnv = { dialerFor: () => dialer, systemDialer: dialer, ca: testCerts().caPem };
const up = (s: string) => buildUpstream(parseNameserver(s, 0, false), env);
const ask = async (s: string, name: string) => {
  const u = up(s);
  try {
    return await u.exchange(query(name, 'A', 4242), AbortSignal.timeout(5000));
  } finally {
    u.close();
  }
};

let dnsmasq: Dnsmasq;
let unbound: Unbound;
let trunc: FakeServer;
let h1: https.Server;
let h1Port = 0;
let h1Requests = 0;

before(async () => {
  dnsmasq = await startDnsmasq({ 'a.test': '10.0.0.1' }, '10.0.0.2 hosts.test\n');
  unbound = await startUnbound({ 'a.test': '10.1.1.1' });
  trunc = await startFakeServer('truncate');
  // an HTTP/1.1-only DoH front over dnsmasq (Node's https, keep-alive), for the HTTP/1.1 path
  const certs = testCerts();
  h1 = https.createServer({ key: certs.keyPem, cert: certs.certPem, keepAlive: true }, (req, res) => {
    h1Requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const wire = req.method === 'GET' ? Buffer.from(url.searchParams.get('dns') ?? '', 'base64url') : Buffer.concat(chunks);
      const s = createSocket('udp4');
      s.on('message', (m) => {
        s.close();
        res.writeHead(200, { 'content-type': 'application/dns-message', 'x-method': req.method ?? '' });
        res.end(m);
      });
      s.send(wire, dnsmasq.port, '127.0.0.1');
    });
  });
  await new Promise<void>((r) => h1.listen(0, '127.0.0.1', () => r()));
  h1Port = (h1.address() as { port: number }).port;
});

after(async () => {
  await dnsmasq?.stop();
  await unbound?.stop();
  await trunc?.close();
  h1?.closeAllConnections();
  await new Promise<void>((r) => (h1 ? h1.close(() => r()) : r()));
});

describe('upstreams against real servers', () => {
  test('plain UDP to dnsmasq: a record, a hosts-file name, NXDOMAIN with SOA', async () => {
    const m = await ask(`127.0.0.1:${dnsmasq.port}`, 'a.test');
    assert.equal(m.id, 4242);
    assert.deepEqual(answerIps(m), ['10.0.0.1']);
    assert.deepEqual(answerIps(await ask(`udp://127.0.0.1:${dnsmasq.port}`, 'hosts.test')), ['10.0.0.2']);
    const nx = await ask(`127.0.0.1:${dnsmasq.port}`, 'nope.test');
    assert.equal(rcodeOf(nx), RCODE.NXDOMAIN);
  });

  test('tcp:// to dnsmasq, several queries pipelined on one connection', async () => {
    const u = up(`tcp://127.0.0.1:${dnsmasq.port}`);
    const all = await Promise.all(['a.test', 'hosts.test', 'a.test'].map((n, i) => u.exchange(query(n, 'A', i), AbortSignal.timeout(5000))));
    u.close();
    assert.deepEqual(all.map((m) => answerIps(m)[0]), ['10.0.0.1', '10.0.0.2', '10.0.0.1']);
    assert.deepEqual(all.map((m) => m.id), [0, 1, 2]);
  });

  test('a truncated UDP reply is asked again over TCP', async () => {
    const m = await ask(`127.0.0.1:${trunc.port}`, 'big.test');
    assert.deepEqual(answerIps(m), ['10.9.9.9']);
    assert.ok(trunc.seen.udp >= 1 && trunc.seen.tcp >= 1, JSON.stringify(trunc.seen));
  });

  test('tls:// (DoT) to unbound with the test CA; a wrong name fails verification unless skip-cert-verify', async () => {
    assert.deepEqual(answerIps(await ask(`tls://127.0.0.1:${unbound.dotPort}`, 'a.test')), ['10.1.1.1']);
    // the certificate names localhost: ask it as "127.0.0.2" (no such SAN) and expect a refusal
    const noCa: UpstreamEnv = { ...env, ca: undefined };
    const strict = buildUpstream(parseNameserver(`tls://127.0.0.1:${unbound.dotPort}`, 0, false), noCa);
    await assert.rejects(strict.exchange(query('a.test', 'A'), AbortSignal.timeout(5000)));
    strict.close();
    const loose = buildUpstream(parseNameserver(`tls://127.0.0.1:${unbound.dotPort}#skip-cert-verify=true`, 0, false), noCa);
    assert.deepEqual(answerIps(await loose.exchange(query('a.test', 'A'), AbortSignal.timeout(5000))), ['10.1.1.1']);
    loose.close();
  });

  test('https:// (DoH over HTTP/2) to unbound, GET and POST, one session for many queries', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const u = dohUpstream({
        url: new URL(`https://127.0.0.1:${unbound.dohPort}/dns-query`),
        method,
        connect: async (alpn, s) => connectTls(await dialer.dialTcp({ host: '127.0.0.1', port: unbound.dohPort }, s), { alpn, ca: testCerts().caPem }, s),
      });
      const all = await Promise.all([1, 2, 3].map((i) => u.exchange(query('a.test', 'A', i), AbortSignal.timeout(5000))));
      u.close();
      assert.deepEqual(all.map((m) => answerIps(m)[0]), ['10.1.1.1', '10.1.1.1', '10.1.1.1'], method);
      assert.deepEqual(all.map((m) => m.id), [1, 2, 3]);
    }
    assert.deepEqual(answerIps(await ask(`https://127.0.0.1:${unbound.dohPort}/dns-query`, 'a.test')), ['10.1.1.1']);
  });

  test('DoH over HTTP/1.1 keep-alive (a server without h2), GET and POST', async () => {
    h1Requests = 0;
    for (const method of ['GET', 'POST'] as const) {
      let dials = 0;
      const u = dohUpstream({
        url: new URL(`https://127.0.0.1:${h1Port}/dns-query`),
        method,
        connect: async (alpn, s) => {
          dials++;
          return connectTls(await dialer.dialTcp({ host: '127.0.0.1', port: h1Port }, s), { alpn, ca: testCerts().caPem }, s);
        },
      });
      for (let i = 0; i < 3; i++) assert.deepEqual(answerIps(await u.exchange(query('a.test', 'A', i), AbortSignal.timeout(5000))), ['10.0.0.1']);
      u.close();
      assert.equal(dials, 1, `${method}: one kept-alive connection for three sequential queries`);
    }
    assert.equal(h1Requests, 6);
  });

  test('rcode:// answers at once; ecs is sent as an EDNS option', async () => {
    assert.equal(rcodeOf(await ask('rcode://name_error', 'x.test')), RCODE.NXDOMAIN);
    assert.equal(rcodeOf(await ask('rcode://refused', 'x.test')), RCODE.REFUSED);
    // a UDP socket that records what it gets
    const s = createSocket('udp4');
    const got = new Promise<Buffer>((r) => s.once('message', (m, ri) => {
      const q = decode(m);
      s.send(encode({ ...q, flags: 0x8000 | 0x80 }), ri.port, ri.address);
      r(m);
    }));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = (s.address()).port;
    await ask(`127.0.0.1:${port}#ecs=1.2.3.0/24`, 'x.test');
    const q = decode(await got);
    s.close();
    const opt = q.additionals.find((a) => a.type === 'OPT') as unknown as { options: { code: number; ip?: string; sourcePrefixLength?: number }[] };
    assert.ok(opt, 'an OPT record');
    const ecs = opt.options.find((o) => o.code === 8);
    assert.equal(ecs?.ip, '1.2.3.0');
    assert.equal(ecs?.sourcePrefixLength, 24);
  });

  test('a server sending garbage, a huge or failing DoH reply: a clear error, never a crash', async () => {
    const junk = net.createServer((c) => {
      c.on('error', () => undefined);
      c.on('data', () => c.end(Buffer.concat([Buffer.from([0, 20]), Buffer.alloc(20, 0xff)])));
    });
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', () => r()));
    const jp = (junk.address() as net.AddressInfo).port;
    await assert.rejects(ask(`tcp://127.0.0.1:${jp}`, 'a.test'), /dns tcp:\/\/127\.0\.0\.1:\d+: (dns: bad message|connection closed)/);
    junk.close();
    const web = http.createServer((req, res) => {
      if (req.url?.startsWith('/big')) {
        res.writeHead(200, { 'content-type': 'application/dns-message' });
        res.end(Buffer.alloc(70_000));
      } else res.writeHead(500).end('no');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const wp = (web.address() as net.AddressInfo).port;
    await assert.rejects(ask(`http://127.0.0.1:${wp}/big`, 'a.test'), /response too large/);
    await assert.rejects(ask(`http://127.0.0.1:${wp}/fail`, 'a.test'), /HTTP status 500/);
    web.closeAllConnections();
    web.close();
  });

  test('system: the nameservers of resolv.conf, asked at once (a dead first one does not stall)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'clash-ts-resolv-')), 'resolv.conf');
    writeFileSync(file, '# comment\nsearch x\nnameserver 127.0.0.9\nnameserver 127.0.0.1\nnameserver nonsense\n');
    assert.deepEqual(systemNameservers(file), ['127.0.0.9', '127.0.0.1']);
    // the port is the test's dnsmasq (the real one is 53); 127.0.0.9 has nothing listening
    const u = systemUpstream((ip) => udpUpstream({ server: { host: ip, port: dnsmasq.port }, dialer }), file);
    const m = await u.exchange(query('a.test', 'A'), AbortSignal.timeout(8000));
    assert.deepEqual(answerIps(m), ['10.0.0.1']);
    u.close();
  });
});

