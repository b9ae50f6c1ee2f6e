import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { connect, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CidrList } from '../common/cidr.js';
import type { Address } from '../core/address.js';
import type { ConnectionHandler, TcpReply } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import { dial, FakeHandler, openFds, Reader, startEchoServer, startTestInbound, waitFor } from './fakes.test.js';
import { isSourceAllowed } from './listener.js';
import { encodeSocksAddress } from '../protocol/common/socks-address.js';

const list = (...c: string[]): CidrList => CidrList.parse(c);

/** SOCKS5 no-auth CONNECT; resolves with the reader after the reply (or rejects if closed). */
async function socksConnect(proxy: Address, dest: Address): Promise<Reader> {
  const r = new Reader(await dial(proxy));
  r.socket.write(Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0]), encodeSocksAddress(dest)]));
  await r.read(2);
  const rep = await r.read(10);
  assert.equal(rep[1], 0);
  return r;
}

/**
 * A handler relaying the way tunnel/pipe.ts does: 'data' listeners and write/pause/resume,
 * attached right away in handleTcp (before the dial finishes), no pipe()/pipeline().
 */
class DataListenerHandler implements ConnectionHandler {
  handleTcp(conn: Duplex, meta: Metadata, reply?: TcpReply): void {
    conn.on('error', () => {});
    const held: Buffer[] = [];
    let remote: Duplex | undefined;
    conn.on('data', (c: Buffer) => (remote ? remote.write(c) : held.push(c)));
    conn.on('end', () => remote?.end());
    const r = connect({ host: meta.destination.host, port: meta.destination.port, allowHalfOpen: true });
    r.on('error', () => conn.destroy());
    r.once('connect', () => {
      remote = r;
      reply?.connected();
      for (const c of held) r.write(c);
      r.on('data', (c: Buffer) => conn.write(c));
      r.on('end', () => conn.end());
    });
  }
  handleUdp(): void {}
}

describe('isSourceAllowed (mihomo lan-allowed-ips / lan-disallowed-ips)', () => {
  it('allowed iff inside the allowed list and outside the disallowed one; no loopback exemption', () => {
    assert.equal(isSourceAllowed('127.0.0.1'), true, 'no lists: everyone');
    assert.equal(isSourceAllowed('127.0.0.1', list('10.0.0.0/8')), false);
    assert.equal(isSourceAllowed('10.1.2.3', list('10.0.0.0/8')), true);
    assert.equal(isSourceAllowed('::ffff:10.1.2.3', list('10.0.0.0/8')), true, 'mapped IPv4 unmapped');
    assert.equal(isSourceAllowed('10.1.2.3', list('0.0.0.0/0', '::/0'), list('10.1.0.0/16')), false);
    assert.equal(isSourceAllowed('::1', list('0.0.0.0/0', '::/0'), list('127.0.0.1/32')), true);
    assert.equal(isSourceAllowed('127.0.0.1', undefined, list('127.0.0.1/32')), false);
    assert.equal(isSourceAllowed(undefined, list('0.0.0.0/0')), false, 'unknown source refused');
  });
});

describe('listener', () => {
  let echo: { server: Server; address: Address };
  before(async () => {
    echo = await startEchoServer();
  });
  after(() => echo.server.close());

  it('refuses sources outside lan-allowed-ips or inside lan-disallowed-ips (TCP and UDP)', async () => {
    const h = new FakeHandler();
    const refused = await startTestInbound(h, { lanAllowedIps: list('10.0.0.0/8') });
    const denied = await startTestInbound(h, { lanAllowedIps: list('0.0.0.0/0', '::/0'), lanDisallowedIps: list('127.0.0.1/32') });
    const dual = await startTestInbound(h, { listen: '::', udp: true, lanAllowedIps: list('0.0.0.0/0', '::/0'), lanDisallowedIps: list('::1/128') });
    try {
      for (const inbound of [refused, denied]) {
        const r = new Reader(await dial(inbound.address()));
        r.socket.write(Buffer.from([5, 1, 0]));
        await r.closed();
        assert.equal(r.pending.length, 0, 'not even a method reply');
      }
      const port = dual.address().port;
      const v4 = await socksConnect({ host: '127.0.0.1', port }, echo.address);
      v4.socket.destroy();
      const v6 = new Reader(await dial({ host: '::1', port }));
      v6.socket.write(Buffer.from([5, 1, 0]));
      await v6.closed();
      assert.equal(h.tcp.length, 1);
      assert.equal(h.tcp[0].source.host, '127.0.0.1', 'dual-stack source unmapped');
      // datagrams follow the same policy
      const u6 = createSocket('udp6');
      const u4 = createSocket('udp4');
      const dgram = Buffer.concat([Buffer.from([0, 0, 0]), encodeSocksAddress(echo.address), Buffer.from('x')]);
      await new Promise<void>((resolve) => u6.send(dgram, port, '::1', () => resolve()));
      await new Promise<void>((resolve) => u4.send(dgram, port, '127.0.0.1', () => resolve()));
      await waitFor(() => h.udp.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(h.udp.length, 1);
      assert.equal(h.udp[0].source.host, '127.0.0.1');
      u6.close();
      u4.close();
      h.close();
    } finally {
      await Promise.all([refused.close(), denied.close(), dual.close()]);
    }
  });

  it('survives random bytes on the mixed port: every connection closed, no fd left open', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { handshakeTimeoutMs: 300, udp: true });
    // warm up lazily created handles before counting
    const warm = await socksConnect(inbound.address(), echo.address);
    warm.socket.end();
    await warm.closed();
    await new Promise((r) => setTimeout(r, 50));
    h.fail = new Error('no dialing in this test');
    const before = openFds();
    const firsts = [undefined, 5, 4, 0x47, 0x43, 0x16];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const r = new Reader(await dial(inbound.address()));
        const junk = randomBytes(1 + ((i * 97) % 3000));
        const first = firsts[i % firsts.length];
        if (first !== undefined) junk[0] = first;
        r.socket.write(junk);
        if (i % 4 === 0) r.socket.end();
        await r.closed(3000);
        r.socket.destroy();
      }),
    );
    await waitFor(() => openFds() <= before, 2000).catch(() => {});
    assert.ok(openFds() <= before, `fds: ${before} before, ${openFds()} after`);
    // and the listener still works
    h.fail = undefined;
    const ok = await socksConnect(inbound.address(), echo.address);
    ok.socket.write('alive');
    assert.equal((await ok.read(5)).toString(), 'alive');
    ok.socket.destroy();
    await inbound.close();
  });

  it('a SOCKS-only listener closes HTTP; an HTTP-only one answers SOCKS bytes with 400', async () => {
    const h = new FakeHandler();
    const socksOnly = await startTestInbound(h, { type: 'socks' });
    const httpOnly = await startTestInbound(h, { type: 'http' });
    try {
      const a = new Reader(await dial(socksOnly.address()));
      a.socket.write('GET http://x/ HTTP/1.1\r\n\r\n');
      await a.closed();
      assert.equal(a.pending.length, 0);
      const b = new Reader(await dial(httpOnly.address()));
      b.socket.write(Buffer.from([5, 1, 0]));
      assert.match(await b.readUntil('\r\n\r\n'), /^HTTP\/1\.1 400 /);
      await b.closed();
    } finally {
      await Promise.all([socksOnly.close(), httpOnly.close()]);
    }
  });

  it('hands connections to a relay that uses data listeners (like tunnel/pipe.ts)', async () => {
    const inbound = await startTestInbound(new DataListenerHandler(), { type: 'mixed' });
    try {
      // SOCKS5 with bytes pipelined behind the request
      const r = new Reader(await dial(inbound.address()));
      r.socket.write(Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0]), encodeSocksAddress(echo.address), Buffer.from('early')]));
      await r.read(12);
      assert.equal((await r.read(5)).toString(), 'early');
      r.socket.write('later');
      assert.equal((await r.read(5)).toString(), 'later');
      r.socket.destroy();
      // HTTP CONNECT
      const c = new Reader(await dial(inbound.address()));
      c.socket.write(`CONNECT 127.0.0.1:${echo.address.port} HTTP/1.1\r\n\r\nearly`);
      await c.readUntil('\r\n\r\n');
      assert.equal((await c.read(5)).toString(), 'early');
      c.socket.destroy();
      // plain HTTP forwarding (the duplex pair) with a keep-alive second request
      const origin = createHttpServer((req, res) => res.end(`origin:${req.url}`));
      await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
      const oport = (origin.address() as { port: number }).port;
      const g = new Reader(await dial(inbound.address()));
      for (const path of ['/1', '/2']) {
        g.socket.write(`GET http://127.0.0.1:${oport}${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        const head = await g.readUntil('\r\n\r\n');
        assert.match(head, /^HTTP\/1\.1 200 /);
        assert.equal((await g.read(Number(/content-length: (\d+)/i.exec(head)![1]))).toString(), `origin:${path}`);
      }
      g.socket.destroy();
      origin.close();
    } finally {
      await inbound.close();
    }
  });

  it('rejects with the bind error when the port is taken; close() stops accepting', async () => {
    const h = new FakeHandler();
    const a = await startTestInbound(h);
    const port = a.address().port;
    await assert.rejects(startTestInbound(h, { port }), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    await a.close();
    await assert.rejects(dial({ host: '127.0.0.1', port }), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    await a.close(); // idempotent
  });
});
