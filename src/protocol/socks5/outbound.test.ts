import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { createLogger } from '../../common/log.js';
import type { Address } from '../../core/address.js';
import { hasCode, ProxyError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { createSystemResolver } from '../../dns/system-resolver.js';
import { createSystemDialer } from '../../transport/system-dialer.js';
import { encodeSocksAddress } from '../common/socks-address.js';
import { decodeUdpFrame, encodeUdpFrame } from './codec/udp-frame.js';
import { socks5Schema } from './options.js';
import { createSocks5Outbound, socks5Definition, type Socks5OutboundConfig } from './outbound.js';

const resolver = createSystemResolver({ ipv6: true });
const dialer = createSystemDialer({ resolver });
const servers: Server[] = [];
const sockets = new Set<Socket>();
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  resolver.close();
});

const meta = (destination: Address, network: 'tcp' | 'udp' = 'tcp'): Metadata => ({
  id: 't',
  network,
  inbound: { type: 'SOCKS5', name: 'test', port: 0 },
  source: { host: '127.0.0.1', port: 1 },
  destination,
});

/** Reads exactly `n` bytes from a paused socket. */
async function take(s: Socket, n: number): Promise<Buffer> {
  for (;;) {
    const b = s.read(n) as Buffer | null;
    if (b) return b;
    if (s.readableEnded || s.destroyed) throw new Error('closed');
    await Promise.race([once(s, 'readable'), once(s, 'close')]);
  }
}

/** A scripted SOCKS5 server: `script(socket)` drives each connection (paused-mode reads). */
async function fakeServer(script: (s: Socket) => Promise<void>): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    script(s).catch(() => s.destroy());
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

const make = (port: number, extra: Partial<Socks5OutboundConfig> = {}) =>
  createSocks5Outbound({ name: 'sx', server: { host: '127.0.0.1', port }, dialer, udp: false, ...extra });
const dial = (port: number, extra: Partial<Socks5OutboundConfig> = {}, to: Address = { host: 'example.com', port: 443 }) =>
  make(port, extra).dialTcp(meta(to), { signal: AbortSignal.timeout(5000) });

test('CONNECT with username/password: the exact bytes; data after the reply is kept', { timeout: 10_000 }, async () => {
  const seen: string[] = [];
  const port = await fakeServer(async (s) => {
    seen.push((await take(s, 3)).toString('hex'));
    s.write(Buffer.from([5, 2]));
    const head = await take(s, 2);
    const rest = await take(s, head[1] + 1);
    const pass = await take(s, rest[head[1]]);
    seen.push(`${rest.subarray(0, head[1])}:${pass}`);
    s.write(Buffer.from([1, 0]));
    seen.push((await take(s, 4 + 1 + 11 + 2)).toString('hex'));
    s.write(Buffer.concat([Buffer.from('05000001000000000000', 'hex'), Buffer.from('EARLY')]));
    s.resume();
    s.pipe(s);
  });
  const c = await dial(port, { auth: { username: 'user', password: 'pw' } });
  assert.deepEqual(seen, ['050102', 'user:pw', `05010003${Buffer.from([11]).toString('hex')}${Buffer.from('example.com').toString('hex')}01bb`]);
  const got: Buffer[] = [];
  c.on('data', (b: Buffer) => got.push(b));
  c.end('+echo');
  await once(c, 'end');
  assert.equal(Buffer.concat(got).toString(), 'EARLY+echo');
  c.destroy();
});

test('refusals: clear errors with the right code, naming the proxy', { timeout: 10_000 }, async () => {
  const cases: [(s: Socket) => Promise<void>, Partial<Socks5OutboundConfig>, string, RegExp][] = [
    [async (s) => void (await take(s, 3), s.write(Buffer.from([5, 2]))), {}, 'AUTH', /requires a username and password/],
    [async (s) => void (await take(s, 3), s.write(Buffer.from([5, 0xff]))), {}, 'AUTH', /requires authentication/],
    [async (s) => void (await take(s, 3), s.write(Buffer.from([5, 0xff]))), { auth: { username: 'a', password: 'b' } }, 'AUTH', /refused username\/password/],
    [
      async (s) => {
        await take(s, 3);
        s.write(Buffer.from([5, 2]));
        await take(s, 5);
        s.write(Buffer.from([1, 1]));
      },
      { auth: { username: 'a', password: 'b' } },
      'AUTH',
      /rejected the username\/password/,
    ],
    [
      async (s) => {
        await take(s, 3);
        s.write(Buffer.from([5, 0]));
        await take(s, 4);
        s.write(Buffer.from('05050001000000000000', 'hex'));
      },
      {},
      'DIAL_FAILED',
      /SOCKS5 server replied: connection refused \(5\)$/,
    ],
    [async (s) => void s.write('HTTP/1.1 400 Bad Request\r\n\r\n'), {}, 'PROTOCOL', /not a SOCKS5 server/],
    [async (s) => void (await take(s, 3), s.write(Buffer.from([5, 9]))), {}, 'PROTOCOL', /chose method 9/],
    [async (s) => void (await take(s, 3), s.end(Buffer.from([5]))), {}, 'PROTOCOL', /closed by the server before the SOCKS5 method choice/],
  ];
  for (const [script, extra, code, message] of cases) {
    const port = await fakeServer(script);
    await assert.rejects(dial(port, extra, { host: '10.1.1.1', port: 1 }), (e: unknown) => {
      assert.ok(e instanceof ProxyError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, /^proxy "sx": /);
      assert.match(e.message, message);
      return true;
    });
  }
});

test('a silent server: DIAL_TIMEOUT; an unencodable destination: PROTOCOL before connecting', { timeout: 10_000 }, async () => {
  const port = await fakeServer(async () => undefined);
  await assert.rejects(dial(port, { timeoutMs: 200 }), (e: unknown) => hasCode(e, 'DIAL_TIMEOUT'));
  await assert.rejects(dial(port, {}, { host: 'x'.repeat(300), port: 1 }), (e: unknown) => hasCode(e, 'PROTOCOL'));
  await assert.rejects(make(port).dialUdp(meta({ host: '1.1.1.1', port: 53 }, 'udp'), { signal: AbortSignal.timeout(100) }), (e: unknown) => hasCode(e, 'UNSUPPORTED'));
});

/** A server that answers UDP ASSOCIATE with BND `bindHost`:relay port; the relay echoes frames. */
async function udpServer(bindHost: string) {
  const relay = createSocket('udp4');
  relay.on('message', (m, r) => relay.send(m, r.port, r.address));
  relay.bind(0, '127.0.0.1');
  await once(relay, 'listening');
  const controls: Socket[] = [];
  const port = await fakeServer(async (s) => {
    controls.push(s);
    await take(s, 3);
    s.write(Buffer.from([5, 0]));
    const req = await take(s, 10);
    assert.equal(req.toString('hex'), '05030001000000000000'); // DST 0.0.0.0:0
    s.write(Buffer.concat([Buffer.from([5, 0, 0]), encodeSocksAddress({ host: bindHost, port: relay.address().port })]));
  });
  return { port, relay, controls };
}

test('UDP ASSOCIATE: BND 0.0.0.0 means the server; frames both ways; strangers dropped', { timeout: 10_000 }, async () => {
  const { port, relay, controls } = await udpServer('0.0.0.0');
  const pc = await make(port, { udp: true }).dialUdp(meta({ host: '9.9.9.9', port: 53 }, 'udp'), { signal: AbortSignal.timeout(5000) });
  const got: [string, Address][] = [];
  pc.onMessage((d, from) => got.push([d.toString(), from]));
  let ourPort = 0;
  relay.once('message', (m, r) => {
    ourPort = r.port;
    assert.deepEqual(decodeUdpFrame(m)?.from, { host: 'dns.example', port: 53 });
  });
  pc.send(Buffer.from('q1'), { host: 'dns.example', port: 53 });
  pc.send(Buffer.from('q2'), { host: '2001:db8::1', port: 5353 });
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got, [
    ['q1', { host: 'dns.example', port: 53 }],
    ['q2', { host: '2001:db8::1', port: 5353 }],
  ]);
  // a datagram from another socket is not the relay's: dropped
  const stranger = createSocket('udp4');
  stranger.send(encodeUdpFrame(encodeSocksAddress({ host: '6.6.6.6', port: 6 }), Buffer.from('spoof')), ourPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(got.length, 2);
  stranger.close();
  // closing the conn closes the control connection
  const closed = once(controls[0], 'end');
  let closeErr: Error | undefined | null = null;
  pc.onClose((e) => (closeErr = e));
  pc.close();
  await closed;
  assert.equal(closeErr, undefined);
  relay.close();
});

test('UDP ASSOCIATE: the conn closes when the server drops the control connection', { timeout: 10_000 }, async () => {
  const { port, relay, controls } = await udpServer('127.0.0.1');
  const pc = await make(port, { udp: true }).dialUdp(meta({ host: '9.9.9.9', port: 53 }, 'udp'), { signal: AbortSignal.timeout(5000) });
  const closed = new Promise<Error | undefined>((r) => pc.onClose(r));
  controls[0].destroy();
  const err = await closed;
  assert.match(String(err?.message), /proxy "sx": UDP association ended by the server/);
  pc.send(Buffer.from('after close'), { host: '1.1.1.1', port: 1 }); // no throw
  relay.close();
});

test('schema and definition: mihomo keys, weak types, RFC 1929 limits, auth from username', async () => {
  const o = socks5Schema.parse({ name: 's', type: 'socks5', server: 'h', port: 1080, username: 'u', password: 1234, udp: 'true', tls: false, 'x-extra': 1 });
  assert.deepEqual([o.password, o.udp, o.tls, o['x-extra']], ['1234', true, false, 1]);
  assert.equal(socks5Schema.safeParse({ name: 's', type: 'socks5', server: 'h', port: 1080, username: 'é'.repeat(128) }).success, false);
  assert.equal(socks5Schema.safeParse({ name: 's', type: 'socks5', server: 'h', port: 1080, fingerprint: 'zz' }).success, false);
  assert.equal(socks5Schema.safeParse({ name: 's', type: 'socks5', server: 'h' }).success, false);
  const lines: string[] = [];
  const deps = { resolver, dialer, log: createLogger('debug', (l) => void lines.push(l)) };
  const seen: string[] = [];
  const port = await fakeServer(async (s) => {
    seen.push((await take(s, 3)).toString('hex'));
    s.destroy();
  });
  const out = socks5Definition.create(socks5Schema.parse({ name: 's', type: 'socks5', server: '127.0.0.1', port, username: 'only-user', 'routing-mark': 7 }), deps);
  assert.deepEqual([out.type, out.udp], ['Socks5', false]);
  await assert.rejects(out.dialTcp(meta({ host: 'a.b', port: 1 }), { signal: AbortSignal.timeout(2000) }));
  assert.deepEqual(seen, ['050102']); // a username alone turns authentication on, as mihomo
  assert.equal(lines.length, 1);
  assert.match(lines[0], /routing-mark is not supported/);
});
