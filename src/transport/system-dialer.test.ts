import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Address } from '../core/address.js';
import { hasCode, ProxyError } from '../core/errors.js';
import type { Resolver } from '../core/resolver.js';
import { createSystemResolver, type SystemResolver } from '../dns/system-resolver.js';
import { createSystemDialer, type IpVersion } from './system-dialer.js';

const fdCount = () => readdirSync('/proc/self/fd').length;
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let resolver: SystemResolver;
const servers: Server[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialer-'));
  writeFileSync(join(dir, 'hosts'), '127.0.0.1 v4.test\n::1 v6.test\n');
  // No DNS server is needed: every name here is in the hosts file.
  resolver = createSystemResolver({ ipv6: true, hostsFile: join(dir, 'hosts'), servers: ['127.0.0.1:9'], timeoutMs: 200 });
});

after(async () => {
  resolver.close();
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An echo server on `host` (port 0); `::` listens on both families. */
async function echoServer(host: string): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return { server, port: addr.port, sockets };
}

/** A port nothing listens on: bound then closed. */
async function deadPort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function roundTrip(sock: Duplex, text = 'ping'): Promise<string> {
  sock.write(text);
  const [chunk] = (await new Promise((r) => sock.once('data', (d) => r([d])))) as [Buffer];
  return chunk.toString();
}

function fakeResolver(v4: string[] | 'never', v6: string[] | 'never' = []): Resolver {
  const answer = (ips: string[] | 'never') => (ips === 'never' ? new Promise<string[]>(() => undefined) : Promise.resolve([...ips]));
  return {
    resolve4: () => answer(v4),
    resolve6: () => answer(v6),
    resolveIp: async () => (v4 === 'never' ? undefined : v4[0]),
  };
}

async function dial(to: Address, ipVersion: IpVersion = 'dual', r: Resolver = resolver, signal = new AbortController().signal) {
  return createSystemDialer({ resolver: r, ipVersion }).dialTcp(to, signal);
}

test('dials IPv4 and IPv6 literals; the socket is half-open capable', async () => {
  const v4 = await echoServer('127.0.0.1');
  const v6 = await echoServer('::1');
  const a = (await dial({ host: '127.0.0.1', port: v4.port })) as Socket;
  assert.equal(await roundTrip(a), 'ping');
  assert.equal(a.allowHalfOpen, true);
  a.destroy();
  const b = (await dial({ host: '::1', port: v6.port })) as Socket;
  assert.equal(await roundTrip(b), 'ping');
  assert.equal(b.remoteAddress, '::1');
  b.destroy();
});

test('localhost (hosts) reaches a server on either family in dual mode', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const srv = await echoServer(host);
    const s = (await dial({ host: 'localhost', port: srv.port })) as Socket;
    assert.equal(s.remoteAddress, host);
    assert.equal(await roundTrip(s), 'ping');
    s.destroy();
  }
});

test('ipv6-prefer still connects to an IPv4-only server (fallback)', async () => {
  const srv = await echoServer('127.0.0.1');
  const s = (await dial({ host: 'localhost', port: srv.port }, 'ipv6-prefer')) as Socket;
  assert.equal(s.remoteAddress, '127.0.0.1');
  s.destroy();
});

test('the preferred family wins when both connect; the loser is closed', async () => {
  const srv = await echoServer('::'); // dual-stack listener
  const both = fakeResolver(['127.0.0.1'], ['::1']);
  for (const [version, family] of [['ipv4-prefer', 'IPv4'], ['ipv6-prefer', 'IPv6']] as const) {
    const s = (await dial({ host: 'both.test', port: srv.port }, version, both)) as Socket;
    assert.equal(s.remoteFamily, family, version);
    await tick(50);
    const live = await new Promise<number>((r) => srv.server.getConnections((_, n) => r(n)));
    assert.equal(live, 1, `${version}: one connection left`);
    s.destroy();
    await tick(20);
  }
});

test('a fallback connection is used at once when the preferred family fails', async () => {
  const srv = await echoServer('::1');
  const t0 = Date.now();
  const s = (await dial({ host: 'x.test', port: srv.port }, 'ipv4-prefer', fakeResolver(['127.0.0.3'], ['::1']))) as Socket;
  assert.equal(s.remoteAddress, '::1');
  assert.ok(Date.now() - t0 < 250, 'no need to wait out the fallback delay');
  s.destroy();
});

test('ipv4 against an IPv6-only server fails clearly', async () => {
  const srv = await echoServer('::1');
  await assert.rejects(dial({ host: 'localhost', port: srv.port }, 'ipv4'), (err: unknown) => {
    assert.ok(hasCode(err, 'DIAL_FAILED'));
    assert.match((err as Error).message, /localhost:\d+.*127\.0\.0\.1/);
    assert.equal(((err as Error).cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    return true;
  });
  await assert.rejects(dial({ host: 'v4.test', port: srv.port }, 'ipv6'), (err: unknown) => hasCode(err, 'RESOLVE_FAILED'));
  await assert.rejects(dial({ host: '127.0.0.1', port: srv.port }, 'ipv6'), (err: unknown) => hasCode(err, 'RESOLVE_FAILED'));
  const s = (await dial({ host: 'v6.test', port: srv.port }, 'ipv6')) as Socket;
  s.destroy();
});

test('connection refused keeps the errno code and names the address', async () => {
  const port = await deadPort();
  await assert.rejects(dial({ host: '127.0.0.1', port }), (err: unknown) => {
    assert.ok(err instanceof ProxyError && err.code === 'DIAL_FAILED');
    assert.ok(err.message.includes(`127.0.0.1:${port}`));
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    return true;
  });
});

test('IPs of one family are tried in order', async () => {
  const srv = await echoServer('127.0.0.1');
  const s = (await dial({ host: 'x.test', port: srv.port }, 'ipv4', fakeResolver(['127.0.0.3', '127.0.0.1']))) as Socket;
  assert.equal(s.remoteAddress, '127.0.0.1');
  s.destroy();
});

test('an unresolvable name is RESOLVE_FAILED', async () => {
  await assert.rejects(dial({ host: 'nothing.test', port: 80 }, 'dual', fakeResolver([], [])), (err: unknown) => {
    assert.ok(hasCode(err, 'RESOLVE_FAILED'));
    assert.match((err as Error).message, /nothing\.test:80/);
    return true;
  });
});

test('a dial that never resolves times out with DIAL_TIMEOUT', async () => {
  const d = createSystemDialer({ resolver: fakeResolver('never', 'never'), connectTimeoutMs: 100 });
  const t0 = Date.now();
  await assert.rejects(d.dialTcp({ host: 'slow.test', port: 80 }, new AbortController().signal), (err: unknown) => hasCode(err, 'DIAL_TIMEOUT'));
  assert.ok(Date.now() - t0 < 1000);
});

test('an abort ends the dial with ABORTED', async () => {
  const ac = new AbortController();
  const p = dial({ host: 'slow.test', port: 80 }, 'dual', fakeResolver('never', 'never'), ac.signal);
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, (err: unknown) => hasCode(err, 'ABORTED'));
  await assert.rejects(dial({ host: '127.0.0.1', port: 1 }, 'dual', resolver, AbortSignal.abort()), (err: unknown) => hasCode(err, 'ABORTED'));
});

test('aborting mid-dial at any moment leaves no descriptor open', async () => {
  const srv = await echoServer('::');
  await tick(20);
  const base = fdCount();
  const both = fakeResolver(['127.0.0.1'], ['::1']);
  // Microtask steps walk the abort through resolution, socket creation and connecting;
  // event-loop turns then reach the connected-and-racing phase.
  for (let delay = 0; delay < 36; delay++) {
    const ac = new AbortController();
    const p = dial({ host: 'both.test', port: srv.port }, 'ipv4-prefer', both, ac.signal);
    for (let i = 0; i < delay && i < 30; i++) await Promise.resolve();
    for (let i = 30; i < delay; i++) await new Promise((r) => setImmediate(r));
    ac.abort();
    try {
      (await p).destroy();
    } catch (err) {
      assert.ok(hasCode(err, 'ABORTED'), String(err));
    }
  }
  for (const s of srv.sockets) s.destroy();
  await tick(100);
  assert.equal(fdCount(), base);
});

test('an IPv4 literal is dialed without asking the resolver, in every mode but ipv6', async () => {
  const srv = await echoServer('127.0.0.1');
  // A resolver that never answers: a literal dial that consulted it would time out.
  const silent = fakeResolver('never', 'never');
  for (const mode of ['dual', 'ipv4', 'ipv4-prefer', 'ipv6-prefer'] as const) {
    const s = (await dial({ host: '127.0.0.1', port: srv.port }, mode, silent)) as Socket;
    assert.equal(await roundTrip(s, mode), mode);
    s.destroy();
  }
});

test('aborting an IPv4-literal dial at any moment leaves no descriptor open', async () => {
  const srv = await echoServer('127.0.0.1');
  await tick(20);
  const base = fdCount();
  for (let delay = 0; delay < 12; delay++) {
    const ac = new AbortController();
    const p = dial({ host: '127.0.0.1', port: srv.port }, 'dual', resolver, ac.signal);
    for (let i = 0; i < delay && i < 6; i++) await Promise.resolve();
    for (let i = 6; i < delay; i++) await new Promise((r) => setImmediate(r));
    ac.abort();
    try {
      (await p).destroy();
    } catch (err) {
      assert.ok(hasCode(err, 'ABORTED'), String(err));
    }
  }
  for (const s of srv.sockets) s.destroy();
  await tick(100);
  assert.equal(fdCount(), base);
});

test('UDP: echo over both families, by literal and by name', async () => {
  const base = fdCount();
  const echo4 = createSocket('udp4');
  const echo6 = createSocket({ type: 'udp6', ipv6Only: true });
  for (const e of [echo4, echo6]) e.on('message', (m, r) => e.send(m, r.port, r.address));
  await new Promise<void>((r) => echo4.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => echo6.bind(0, '::1', r));
  const pc = await createSystemDialer({ resolver }).dialUdp(new AbortController().signal);
  const got: string[] = [];
  pc.onMessage((data, from) => got.push(`${data} ${from.host} ${from.port === echo4.address().port || from.port === echo6.address().port}`));
  let closes = 0;
  pc.onClose(() => closes++);
  pc.send(Buffer.from('a'), { host: '127.0.0.1', port: echo4.address().port });
  pc.send(Buffer.from('b'), { host: '::1', port: echo6.address().port });
  // to a name: IPv4 first; datagrams sent while it resolves wait, then go out
  pc.send(Buffer.from('c'), { host: 'localhost', port: echo4.address().port });
  pc.send(Buffer.from('d'), { host: 'localhost', port: echo4.address().port });
  pc.send(Buffer.from('x'), { host: '127.0.0.1', port: 0 }); // dropped, no throw
  pc.send(Buffer.from('y'), { host: 'bad name', port: 53 }); // dropped, no throw
  pc.send(Buffer.alloc(70_000), { host: '127.0.0.1', port: echo4.address().port }); // EMSGSIZE, swallowed
  for (let i = 0; i < 100 && got.length < 4; i++) await tick(10);
  assert.deepEqual(got.sort(), ['a 127.0.0.1 true', 'b ::1 true', 'c 127.0.0.1 true', 'd 127.0.0.1 true']);
  pc.send(Buffer.from('e'), { host: 'localhost', port: echo4.address().port }); // the name is now known
  for (let i = 0; i < 100 && got.length < 5; i++) await tick(10);
  assert.equal(got.length, 5);
  pc.close();
  pc.close();
  pc.send(Buffer.from('z'), { host: '127.0.0.1', port: echo4.address().port });
  assert.equal(closes, 1);
  let late = 0;
  pc.onClose(() => late++);
  assert.equal(late, 0); // the one close was already reported
  echo4.close();
  echo6.close();
  await tick(50);
  assert.equal(fdCount(), base);
});

test('UDP with ip-version ipv6 drops IPv4 destinations', async () => {
  const echo4 = createSocket('udp4');
  echo4.on('message', (m, r) => echo4.send(m, r.port, r.address));
  await new Promise<void>((r) => echo4.bind(0, '127.0.0.1', r));
  const pc = await createSystemDialer({ resolver, ipVersion: 'ipv6' }).dialUdp(new AbortController().signal);
  let got = 0;
  pc.onMessage(() => got++);
  pc.send(Buffer.from('a'), { host: '127.0.0.1', port: echo4.address().port });
  await tick(50);
  assert.equal(got, 0);
  pc.close();
  echo4.close();
  await assert.rejects(createSystemDialer({ resolver }).dialUdp(AbortSignal.abort()), (err: unknown) => hasCode(err, 'ABORTED'));
});
