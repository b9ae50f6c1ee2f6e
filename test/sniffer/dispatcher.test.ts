import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { SNIFFER_DEFAULTS, type SnifferConfig } from '../../src/config/sniffer.js';
import type { Metadata } from '../../src/core/metadata.js';
import { SnifferDispatcher, type SnifferDeps } from '../../src/sniffer/dispatcher.js';
import { captureClientHello, handshakeOf } from './hello.js';
import { cryptoFrame, sealInitial } from './quic-seal.js';

const lines: string[] = [];
const log = createLogger('debug', (l) => void lines.push(l));

function config(over: Partial<SnifferConfig> = {}): SnifferConfig {
  return {
    ...SNIFFER_DEFAULTS,
    enable: true,
    sniff: [
      { type: 'TLS', ports: [], overrideDestination: true },
      { type: 'HTTP', ports: [{ from: 80, to: 80 }, { from: 8000, to: 8999 }], overrideDestination: true },
      { type: 'QUIC', ports: [], overrideDestination: true },
    ],
    ...over,
  };
}

function meta(host: string, port: number, network: 'tcp' | 'udp' = 'tcp', source = '127.0.0.1'): Metadata {
  return { id: 'x', network, inbound: { type: 'SOCKS5', name: 'DEFAULT-SOCKS', port: 1 }, source: { host: source, port: 40000 }, destination: { host, port } };
}

/** A loopback TCP pair: `server` is the side the sniffer reads (as the tunnel's inbound conn). */
async function pair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [server] = (await accepted) as [net.Socket];
  await once(client, 'connect').catch(() => {});
  srv.close();
  client.on('error', () => {});
  server.on('error', () => {});
  return { client, server, close: () => (client.destroy(), server.destroy()) };
}

/** Everything `s` delivers in flowing mode (as the relay reads it) until `n` bytes or end. */
async function readAll(s: net.Socket, n: number): Promise<Buffer> {
  const got: Buffer[] = [];
  let len = 0;
  return new Promise((resolve) => {
    const done = () => resolve(Buffer.concat(got));
    s.on('data', (c: Buffer) => {
      got.push(c);
      len += c.length;
      if (len >= n) done();
    });
    s.on('end', done);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function replyProbe() {
  const calls: string[] = [];
  return { calls, reply: { connected: () => void calls.push('connected'), failed: () => void calls.push('failed') } };
}

describe('the sniffer dispatcher on real sockets', () => {
  let hello: Buffer;
  before(async () => {
    hello = await captureClientHello('split.sniff.test');
  });
  after(() => {});

  test('a ClientHello written in 6 pieces with pauses: the host is read, the relay gets every byte untouched', async () => {
    const d = new SnifferDispatcher(config(), { log });
    const { client, server, close } = await pair();
    const tail = randomBytes(50_000);
    const sent = Buffer.concat([hello, tail]);
    const { calls, reply } = replyProbe();
    const p = d.sniffTcp(server, meta('127.0.0.1', 443), reply);
    assert.ok(p, 'port 443 with an IP destination is sniffed (parse-pure-ip)');
    const step = Math.ceil(hello.length / 6);
    for (let i = 0; i < hello.length; i += step) {
      client.write(hello.subarray(i, i + step));
      await sleep(40);
    }
    client.write(tail);
    const r = await p;
    assert.deepEqual(calls, ['connected'], 'the client is answered before its bytes are read');
    assert.equal(r.reply, undefined);
    assert.equal(r.meta.sniffHost, 'split.sniff.test');
    assert.deepEqual(r.meta.destination, { host: 'split.sniff.test', port: 443 });
    assert.equal(r.meta.destinationIp, '127.0.0.1');
    const relayed = await readAll(server, sent.length);
    assert.equal(relayed.length, sent.length);
    assert.equal(sha(relayed), sha(sent));
    close();
  });

  test('override-destination off: sniffHost only; the destination stays the IP', async () => {
    const d = new SnifferDispatcher(config({ sniff: [{ type: 'TLS', ports: [], overrideDestination: false }] }), { log });
    const { client, server, close } = await pair();
    const p = d.sniffTcp(server, meta('127.0.0.1', 443), undefined)!;
    client.write(hello);
    const r = await p;
    assert.equal(r.meta.sniffHost, 'split.sniff.test');
    assert.deepEqual(r.meta.destination, { host: '127.0.0.1', port: 443 });
    assert.equal(sha(await readAll(server, hello.length)), sha(hello));
    close();
  });

  test('a server-first protocol: nothing sent, the step gives up at its deadline and the connection still works both ways', async () => {
    const d = new SnifferDispatcher(config(), { log, tcp: { firstByteMs: 150, totalMs: 400 } });
    const { client, server, close } = await pair();
    lines.length = 0;
    const r = await d.sniffTcp(server, meta('127.0.0.1', 443), undefined)!;
    assert.equal(r.meta.sniffHost, undefined);
    assert.ok(lines.some((l) => l.includes('may not have any sent data, Consider adding skip')), lines.join('\n'));
    server.write('220 banner\r\n');
    const [banner] = (await once(client, 'data')) as [Buffer];
    assert.equal(banner.toString(), '220 banner\r\n');
    client.write('EHLO x\r\n');
    assert.equal((await readAll(server, 8)).toString(), 'EHLO x\r\n');
    close();
  });

  test('a ClientHello cut short by a half-close: gives up at once, the bytes still reach the relay, then the end', async () => {
    const d = new SnifferDispatcher(config(), { log, tcp: { firstByteMs: 5000, totalMs: 5000 } });
    const { client, server, close } = await pair();
    const p = d.sniffTcp(server, meta('127.0.0.1', 443), undefined)!;
    client.end(hello.subarray(0, 100));
    const r = await p;
    assert.equal(r.meta.sniffHost, undefined);
    const got = await readAll(server, 1 << 20); // resolves on 'end'
    assert.equal(sha(got), sha(hello.subarray(0, 100)));
    close();
  });

  test('HTTP on a listed port; a port no sniffer lists is not touched (no reply, nothing read)', async () => {
    const d = new SnifferDispatcher(config(), { log });
    const { client, server, close } = await pair();
    const req = Buffer.from('GET / HTTP/1.1\r\nHost: web.sniff.test\r\n\r\n');
    const p = d.sniffTcp(server, meta('127.0.0.1', 8080), undefined)!;
    client.write(req.subarray(0, 10));
    await sleep(30);
    client.write(req.subarray(10));
    assert.equal((await p).meta.sniffHost, 'web.sniff.test');
    const { calls, reply } = replyProbe();
    assert.equal(d.sniffTcp(server, meta('127.0.0.1', 22), reply), undefined);
    assert.deepEqual(calls, []);
    close();
  });

  test('who is sniffed: parse-pure-ip, force-domain, skip-src/dst-address, force-dns-mapping with the DNS map', () => {
    const { server } = { server: new net.Socket() };
    const yes = (d: SnifferDispatcher, m: Metadata) => {
      const p = d.sniffTcp(server, m, undefined);
      if (p) p.catch(() => {});
      return p !== undefined;
    };
    const base = new SnifferDispatcher(config(), { log, tcp: { firstByteMs: 1, totalMs: 1 } });
    assert.ok(yes(base, meta('10.0.0.1', 443)), 'a pure IP, parse-pure-ip on (default)');
    assert.ok(!yes(base, meta('a.test', 443)), 'a domain destination is not sniffed without force-domain');
    const noPure = new SnifferDispatcher(config({ parsePureIp: false }), { log });
    assert.ok(!yes(noPure, meta('10.0.0.1', 443)));
    const force = new SnifferDispatcher(config({ forceDomain: ['+.forced.test'] }), { log, tcp: { firstByteMs: 1, totalMs: 1 } });
    assert.ok(yes(force, meta('www.forced.test', 443)) && !yes(force, meta('other.test', 443)));
    const skips = new SnifferDispatcher(config({ skipSrcAddress: ['192.168.0.0/16'], skipDstAddress: ['10.0.0.0/8'] }), { log, tcp: { firstByteMs: 1, totalMs: 1 } });
    assert.ok(!yes(skips, meta('10.1.2.3', 443)) && !yes(skips, meta('1.1.1.1', 443, 'tcp', '192.168.1.5')) && yes(skips, meta('1.1.1.1', 443)));
    const map = new Map([['198.18.0.7', 'mapped.test']]);
    const deps: SnifferDeps = { log, hostByIp: (ip) => map.get(ip), tcp: { firstByteMs: 1, totalMs: 1 } };
    const mapping = new SnifferDispatcher(config({ forceDnsMapping: true, parsePureIp: false }), deps);
    assert.ok(yes(mapping, meta('198.18.0.7', 443)), 'a DNS-mapped IP with force-dns-mapping');
    assert.ok(!yes(mapping, meta('198.18.0.8', 443)), 'an unmapped IP is pure, and parse-pure-ip is off');
    const noMapping = new SnifferDispatcher(config({ forceDnsMapping: false, parsePureIp: true }), deps);
    assert.ok(!yes(noMapping, meta('198.18.0.7', 443)), 'a DNS-mapped IP is not a pure IP');
    assert.ok(yes(noMapping, meta('198.18.0.8', 443)));
    const forcedMapped = new SnifferDispatcher(config({ forceDnsMapping: false, forceDomain: ['mapped.test'] }), deps);
    assert.ok(yes(forcedMapped, meta('198.18.0.7', 443)), 'force-domain matches the mapped domain');
    server.destroy();
  });

  test('skip-domain drops the sniffed host; six failures in a row and a destination is skipped', async () => {
    const d = new SnifferDispatcher(config({ skipDomain: ['+.sniff.test'] }), { log, tcp: { firstByteMs: 20, totalMs: 50 } });
    {
      const { client, server, close } = await pair();
      const p = d.sniffTcp(server, meta('127.0.0.1', 443), undefined)!;
      client.write(hello);
      const r = await p;
      assert.equal(r.meta.sniffHost, undefined);
      assert.deepEqual(r.meta.destination, { host: '127.0.0.1', port: 443 });
      close();
    }
    for (let i = 0; i < 6; i++) {
      const { server, close } = await pair();
      const p = d.sniffTcp(server, meta('127.0.0.2', 443), undefined);
      assert.ok(p, `attempt ${i + 1} is sniffed`);
      await p;
      close();
    }
    lines.length = 0;
    const s = new net.Socket();
    assert.equal(d.sniffTcp(s, meta('127.0.0.2', 443), undefined), undefined);
    assert.ok(lines.some((l) => l.includes('[Sniffer] Skip sniffing[127.0.0.2:443] due to multiple failures')));
    assert.ok(d.sniffTcp(s, meta('127.0.0.3', 443), undefined), 'another destination is still sniffed');
    s.destroy();
  });

  test('UDP: a QUIC ClientHello over two datagrams settles on the host; garbage is not held; a lone half times out to the original', async () => {
    const d = new SnifferDispatcher(config(), { log, udpWaitMs: 100 });
    const hs = handshakeOf(hello);
    const dcid = randomBytes(8);
    const one = sealInitial({ dcid, packetNumber: 0, payload: cryptoFrame(0, hs.subarray(0, 120)), pad: true });
    const two = sealInitial({ dcid, packetNumber: 1, payload: cryptoFrame(120, hs.subarray(120)), pad: true });
    const s = d.sniffUdp(meta('127.0.0.1', 443, 'udp'), one)!;
    assert.ok(s);
    s.push(two);
    const m = await s.done;
    assert.equal(m.sniffHost, 'split.sniff.test');
    assert.deepEqual(m.destination, { host: 'split.sniff.test', port: 443 });
    assert.equal(d.sniffUdp(meta('127.0.0.1', 443, 'udp'), randomBytes(1200)), undefined, 'not QUIC: routed at once');
    assert.equal(d.sniffUdp(meta('127.0.0.1', 53, 'udp'), one), undefined, 'not a QUIC port');
    const lone = d.sniffUdp(meta('127.0.0.1', 443, 'udp'), one)!;
    const m2 = await lone.done;
    assert.equal(m2.sniffHost, undefined);
    assert.deepEqual(m2.destination, { host: '127.0.0.1', port: 443 });
  });
});
