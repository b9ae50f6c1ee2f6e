import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CidrList } from '../common/cidr.js';
import type { Address } from '../core/address.js';
import { ProxyError } from '../core/errors.js';
import type { Inbound } from '../core/inbound.js';
import { dial, FakeHandler, listenTcp, Reader, startEchoServer, startTestInbound, waitFor } from './fakes.test.js';
import { encodeSocksAddress } from '../protocol/common/socks-address.js';

function request(cmd: number, dest: Address): Buffer {
  return Buffer.concat([Buffer.from([5, cmd, 0]), encodeSocksAddress(dest)]);
}

function userPass(user: string, pass: string): Buffer {
  return Buffer.concat([Buffer.from([1, user.length]), Buffer.from(user), Buffer.from([pass.length]), Buffer.from(pass)]);
}

function socks4(dest: Address, user = '', domain?: string): Buffer {
  const head = Buffer.alloc(8);
  head[0] = 4;
  head[1] = 1;
  head.writeUInt16BE(dest.port, 2);
  if (domain === undefined) Buffer.from(dest.host.split('.').map(Number)).copy(head, 4);
  else head[7] = 1;
  const parts = [head, Buffer.from(user), Buffer.from([0])];
  if (domain !== undefined) parts.push(Buffer.from(domain), Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Greets with no-auth, asks CONNECT, returns the reader positioned after the reply. */
async function connectNoAuth(inbound: Inbound, dest: Address): Promise<{ r: Reader; reply: Buffer }> {
  const s = await dial(inbound.address());
  const r = new Reader(s);
  s.write(Buffer.from([5, 1, 0]));
  assert.deepEqual(await r.read(2), Buffer.from([5, 0]));
  s.write(request(1, dest));
  const head = await r.read(4);
  const rest = await r.read(head[3] === 1 ? 6 : head[3] === 4 ? 18 : 0);
  return { r, reply: Buffer.concat([head, rest]) };
}

async function roundTrip(r: Reader, text: string): Promise<void> {
  r.socket.write(text);
  assert.equal((await r.read(text.length)).toString(), text);
}

describe('SOCKS5 inbound', () => {
  let echo: { server: Server; address: Address };
  let echo6: { server: Server; address: Address };
  before(async () => {
    echo = await startEchoServer();
    echo6 = await startEchoServer('::1');
  });
  after(() => {
    echo.server.close();
    echo6.server.close();
  });

  it('CONNECT to IPv4, IPv6 and a domain, with the right metadata', async () => {
    const h = new FakeHandler();
    h.hosts.set('echo.test', '127.0.0.1');
    const inbound = await startTestInbound(h, { name: 'DEFAULT-MIXED' });
    try {
      const a = await connectNoAuth(inbound, echo.address);
      assert.equal(a.reply[1], 0);
      assert.equal(a.reply[3], 1, 'BND is the IPv4 listener address');
      await roundTrip(a.r, 'hello v4');
      const b = await connectNoAuth(inbound, echo6.address);
      assert.equal(b.reply[1], 0);
      await roundTrip(b.r, 'hello v6');
      const c = await connectNoAuth(inbound, { host: 'echo.test', port: echo.address.port });
      await roundTrip(c.r, 'hello domain');
      assert.equal(h.tcp.length, 3);
      const [m4, m6, md] = h.tcp;
      assert.equal(m4.network, 'tcp');
      assert.deepEqual(m4.inbound, { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: inbound.address().port });
      assert.equal(m4.source.host, '127.0.0.1');
      assert.deepEqual(m4.destination, echo.address);
      assert.deepEqual(m6.destination, { host: '::1', port: echo6.address.port });
      assert.deepEqual(md.destination, { host: 'echo.test', port: echo.address.port });
      assert.match(m4.id, /^[0-9a-f-]{36}$/);
      assert.notEqual(m4.id, m6.id);
      for (const x of [a, b, c]) x.r.socket.destroy();
    } finally {
      await inbound.close();
    }
  });

  it('keeps bytes pipelined after the request', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h);
    try {
      const s = await dial(inbound.address());
      const r = new Reader(s);
      s.write(Buffer.concat([Buffer.from([5, 1, 0]), request(1, echo.address), Buffer.from('early bytes')]));
      assert.deepEqual(await r.read(2), Buffer.from([5, 0]));
      assert.equal((await r.read(10))[1], 0);
      assert.equal((await r.read(11)).toString(), 'early bytes');
      s.destroy();
    } finally {
      await inbound.close();
    }
  });

  it('handles a handshake arriving byte by byte, and a request + data + FIN in one segment', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h);
    try {
      const s = await dial(inbound.address());
      s.setNoDelay(true);
      const r = new Reader(s);
      const all = Buffer.concat([Buffer.from([5, 1, 0]), request(1, echo.address)]);
      for (const byte of all) {
        s.write(Buffer.from([byte]));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      assert.deepEqual(await r.read(2), Buffer.from([5, 0]));
      assert.equal((await r.read(10))[1], 0);
      await roundTrip(r, 'slow');
      s.destroy();
      const f = new Reader(await dial(inbound.address()));
      f.socket.end(Buffer.concat([socks4(echo.address), Buffer.from('and bye')]));
      assert.equal((await f.read(8))[1], 0x5a);
      assert.equal((await f.read(7)).toString(), 'and bye');
      await f.closed();
    } finally {
      await inbound.close();
    }
  });

  it('user/password auth: good, bad, and no acceptable method', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { users: [{ username: 'alice', password: 's3cret' }] });
    try {
      // good
      let s = await dial(inbound.address());
      let r = new Reader(s);
      s.write(Buffer.from([5, 2, 0, 2]));
      assert.deepEqual(await r.read(2), Buffer.from([5, 2]));
      s.write(userPass('alice', 's3cret'));
      assert.deepEqual(await r.read(2), Buffer.from([1, 0]));
      s.write(request(1, echo.address));
      assert.equal((await r.read(10))[1], 0);
      await roundTrip(r, 'authed');
      assert.equal(h.tcp[0].inbound.user, 'alice');
      s.destroy();
      // bad
      s = await dial(inbound.address());
      r = new Reader(s);
      s.write(Buffer.from([5, 1, 2]));
      assert.deepEqual(await r.read(2), Buffer.from([5, 2]));
      s.write(userPass('alice', 'wrong'));
      assert.deepEqual(await r.read(2), Buffer.from([1, 1]));
      await r.closed();
      // only no-auth offered
      s = await dial(inbound.address());
      r = new Reader(s);
      s.write(Buffer.from([5, 1, 0]));
      assert.deepEqual(await r.read(2), Buffer.from([5, 0xff]));
      await r.closed();
      assert.equal(h.tcp.length, 1);
    } finally {
      await inbound.close();
    }
  });

  it('skip-auth-prefixes let a matching source in without credentials', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, {
      users: [{ username: 'alice', password: 'x' }],
      skipAuthPrefixes: CidrList.parse(['127.0.0.0/8']),
    });
    try {
      const a = await connectNoAuth(inbound, echo.address);
      await roundTrip(a.r, 'skipped');
      assert.equal(h.tcp[0].inbound.user, undefined);
      a.r.socket.destroy();
    } finally {
      await inbound.close();
    }
  });

  it('SOCKS4 and SOCKS4a', async () => {
    const h = new FakeHandler();
    h.hosts.set('echo4a.test', '127.0.0.1');
    const inbound = await startTestInbound(h, { type: 'socks' });
    try {
      let s = await dial(inbound.address());
      let r = new Reader(s);
      s.write(socks4(echo.address, 'bob'));
      const rep = await r.read(8);
      assert.equal(rep[0], 0);
      assert.equal(rep[1], 0x5a);
      await roundTrip(r, 'four');
      s.destroy();
      s = await dial(inbound.address());
      r = new Reader(s);
      s.write(Buffer.concat([socks4(echo.address, '', 'echo4a.test'), Buffer.from('pipelined')]));
      assert.equal((await r.read(8))[1], 0x5a);
      assert.equal((await r.read(9)).toString(), 'pipelined');
      s.destroy();
      assert.equal(h.tcp[0].inbound.type, 'SOCKS4');
      assert.deepEqual(h.tcp[1].destination, { host: 'echo4a.test', port: echo.address.port });
    } finally {
      await inbound.close();
    }
  });

  it('SOCKS4 when auth is required: refused unless the user id is a user with an empty password', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { users: [{ username: 'alice', password: 'x' }, { username: 'idonly', password: '' }] });
    try {
      let s = await dial(inbound.address());
      let r = new Reader(s);
      s.write(socks4(echo.address, 'alice'));
      assert.equal((await r.read(8))[1], 0x5d);
      await r.closed();
      s = await dial(inbound.address());
      r = new Reader(s);
      s.write(socks4(echo.address, 'idonly'));
      assert.equal((await r.read(8))[1], 0x5a);
      assert.equal(h.tcp[0].inbound.user, 'idonly');
      s.destroy();
    } finally {
      await inbound.close();
    }
  });

  it('failed() answers with the mapped REP code (SOCKS5) and 0x5B (SOCKS4)', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h);
    try {
      const cases: [Error | undefined, number, Address][] = [
        [new ProxyError('REJECTED', 'rejected by rule'), 2, echo.address],
        [new ProxyError('DIAL_TIMEOUT', 'timeout'), 6, echo.address],
        [new Error('boom'), 1, echo.address],
      ];
      // a real refused dial: a port that was just closed
      const dead = await listenTcp(() => {});
      const deadAddr = dead.address;
      await new Promise((r) => dead.server.close(r));
      cases.push([undefined, 5, deadAddr]);
      for (const [err, rep, dest] of cases) {
        h.fail = err;
        const { r, reply } = await connectNoAuth(inbound, dest);
        assert.equal(reply[1], rep, `REP for ${err?.message ?? 'ECONNREFUSED'}`);
        await r.closed();
      }
      h.fail = new ProxyError('REJECTED', 'no');
      const s = await dial(inbound.address());
      const r = new Reader(s);
      s.write(socks4(echo.address));
      assert.equal((await r.read(8))[1], 0x5b);
      await r.closed();
    } finally {
      await inbound.close();
    }
  });

  it('BIND, UDP ASSOCIATE without udp, and unknown address types get error replies', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h);
    try {
      for (const [req, rep] of [
        [request(2, echo.address), 7],
        [request(3, { host: '0.0.0.0', port: 0 }), 7],
        [Buffer.from([5, 1, 0, 9, 1, 2, 3, 4, 0, 80]), 8],
      ] as const) {
        const s = await dial(inbound.address());
        const r = new Reader(s);
        s.write(Buffer.from([5, 1, 0]));
        await r.read(2);
        s.write(req);
        assert.equal((await r.read(2))[1], rep);
        await r.closed();
      }
      assert.equal(h.tcp.length, 0);
    } finally {
      await inbound.close();
    }
  });

  it('half-close: the client ends, and still receives the server reply', async () => {
    const server = await listenTcp((s) => {
      let n = 0;
      s.on('data', (c: Buffer) => (n += c.length));
      s.on('end', () => s.end(`got ${n}`));
    });
    const h = new FakeHandler();
    const inbound = await startTestInbound(h);
    try {
      const { r } = await connectNoAuth(inbound, server.address);
      r.socket.end('12345');
      assert.equal((await r.read(5)).toString(), 'got 5');
      await r.closed();
    } finally {
      await inbound.close();
      server.server.close();
    }
  });

  it('closes a silent or half-finished handshake after the deadline; close() drops pending ones only', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { handshakeTimeoutMs: 150 });
    try {
      const silent = new Reader(await dial(inbound.address()));
      const partial = new Reader(await dial(inbound.address()));
      partial.socket.write(Buffer.from([5, 2, 0]));
      const t0 = Date.now();
      await silent.closed(2000);
      await partial.closed(2000);
      assert.ok(Date.now() - t0 < 1500);
      const live = await connectNoAuth(inbound, echo.address);
      const pending = new Reader(await dial(inbound.address()));
      await waitFor(() => h.tcp.length === 1);
      await new Promise((r) => setTimeout(r, 200)); // past the deadline: a handed-off conn lives on
      await roundTrip(live.r, 'still here');
      const pending2 = new Reader(await dial(inbound.address()));
      await new Promise((r) => setTimeout(r, 20));
      await inbound.close();
      await pending2.closed(1000);
      await pending.closed(1000);
      await roundTrip(live.r, 'after close');
      live.r.socket.destroy();
    } finally {
      await inbound.close();
    }
  });
});
