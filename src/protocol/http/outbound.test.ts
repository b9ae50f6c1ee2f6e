import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { createLogger } from '../../common/log.js';
import type { Address } from '../../core/address.js';
import { hasCode, ProxyError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { createSystemResolver } from '../../dns/system-resolver.js';
import { createSystemDialer } from '../../transport/system-dialer.js';
import type { OutboundDeps } from '../registry.js';
import { httpSchema } from './options.js';
import { createHttpOutbound, httpDefinition } from './outbound.js';

const resolver = createSystemResolver({ ipv6: true });
const dialer = createSystemDialer({ resolver });
const servers: Server[] = [];
const sockets = new Set<Socket>();
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  resolver.close();
});

const meta = (destination: Address): Metadata => ({
  id: 't',
  network: 'tcp',
  inbound: { type: 'HTTP', name: 'test', port: 0 },
  source: { host: '127.0.0.1', port: 1 },
  destination,
});

/** A scripted proxy: `onHead(head, socket)` runs once the request head arrived. */
async function fakeProxy(onHead: (head: string, s: Socket) => void): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let acc = '';
    const onData = (c: Buffer): void => {
      acc += c.toString('latin1');
      const end = acc.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      heads.push(acc.slice(0, end + 4));
      onHead(acc.slice(0, end + 4), s);
    };
    s.on('data', onData);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, heads };
}

const outbound = (port: number, extra: Partial<Parameters<typeof createHttpOutbound>[0]> = {}) =>
  createHttpOutbound({ name: 'up', server: { host: '127.0.0.1', port }, dialer, connect: {}, ...extra });
const dial = (port: number, extra = {}, to: Address = { host: 'example.com', port: 443 }) =>
  outbound(port, extra).dialTcp(meta(to), { signal: AbortSignal.timeout(5000) });

test('bytes sent with the 200, in the same segment, reach the reader first', { timeout: 10_000 }, async () => {
  const { port, heads } = await fakeProxy((_h, s) => {
    s.write('HTTP/1.1 200 Connection established\r\n\r\nHELLO-FROM-ORIGIN');
    s.pipe(s);
  });
  const c = await dial(port, { connect: { auth: { username: 'u', password: 'p' }, headers: [['X-A', '1']] } });
  assert.match(heads[0], /^CONNECT example\.com:443 HTTP\/1\.1\r\nHost: example\.com:443\r\n/);
  assert.match(heads[0], /\r\nX-A: 1\r\nProxy-Authorization: Basic dTpw\r\n\r\n$/);
  const got: Buffer[] = [];
  c.on('data', (b: Buffer) => got.push(b));
  c.end('+echo');
  await once(c, 'end');
  assert.equal(Buffer.concat(got).toString(), 'HELLO-FROM-ORIGIN+echo');
  c.destroy();
});

test('a 200 followed at once by FIN still delivers the data and the end', { timeout: 10_000 }, async () => {
  const { port } = await fakeProxy((_h, s) => s.end('HTTP/1.0 200 OK\r\n\r\nbye'));
  const c = await dial(port);
  const got: Buffer[] = [];
  c.on('data', (b: Buffer) => got.push(b));
  await once(c, 'end');
  assert.equal(Buffer.concat(got).toString(), 'bye');
  c.destroy();
});

test('refusals become one clear ProxyError naming the proxy; the socket is closed', { timeout: 10_000 }, async () => {
  const cases: [string, string, string][] = [
    ['HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n', 'AUTH', 'upstream answered 407 Proxy Authentication Required'],
    ['HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!', 'DIAL_FAILED', 'upstream answered 403 Forbidden'],
    ['HTTP/1.1 502 Bad Gateway\r\n\r\n', 'DIAL_FAILED', 'upstream answered 502 Bad Gateway'],
    ['HTTP/1.1 405\r\n\r\n', 'DIAL_FAILED', 'upstream answered 405 Method Not Allowed'],
    ['SSH-2.0-OpenSSH_9.2\r\n', 'PROTOCOL', 'bad answer to CONNECT: not an HTTP response'],
    ['HTTP/1.1 200', 'PROTOCOL', 'connection closed by the server before the answer to CONNECT'],
  ];
  for (const [answer, code, message] of cases) {
    let closed!: Promise<unknown>;
    const { port } = await fakeProxy((_h, s) => {
      closed = once(s, 'end');
      if (code === 'PROTOCOL' && answer.startsWith('HTTP')) s.end(answer);
      else s.write(answer);
    });
    await assert.rejects(dial(port), (e: unknown) => {
      assert.ok(e instanceof ProxyError);
      assert.deepEqual([e.code, e.message], [code, `proxy "up": ${message}`]);
      return true;
    });
    await closed; // our side closed it although the proxy kept it open
  }
});

test('a silent proxy: DIAL_TIMEOUT after the bound; an abort: ABORTED', { timeout: 10_000 }, async () => {
  const { port } = await fakeProxy(() => undefined);
  const t0 = Date.now();
  await assert.rejects(dial(port, { timeoutMs: 300 }), (e: unknown) => hasCode(e, 'DIAL_TIMEOUT') && /proxy "up": no handshake with 127\.0\.0\.1:\d+ within 300ms/.test((e as Error).message));
  assert.ok(Date.now() - t0 < 2000);
  const ctl = new AbortController();
  const p = outbound(port).dialTcp(meta({ host: 'a.b', port: 1 }), { signal: ctl.signal });
  setTimeout(() => ctl.abort(), 50);
  await assert.rejects(p, (e: unknown) => hasCode(e, 'ABORTED'));
});

test('nothing listening: DIAL_FAILED naming the proxy; a bad destination fails before dialing', { timeout: 10_000 }, async () => {
  const { port } = await fakeProxy((_h, s) => s.destroy());
  servers.at(-1)!.close();
  await once(servers.at(-1)!, 'close');
  await assert.rejects(dial(port), (e: unknown) => hasCode(e, 'DIAL_FAILED') && /^proxy "up": dial tcp 127\.0\.0\.1:\d+: .*ECONNREFUSED/.test((e as Error).message));
  await assert.rejects(dial(1, {}, { host: 'a\r\nb', port: 1 }), (e: unknown) => hasCode(e, 'PROTOCOL'));
  await assert.rejects(outbound(1).dialUdp(meta({ host: 'a', port: 1 }), { signal: AbortSignal.timeout(100) }), (e: unknown) => hasCode(e, 'UNSUPPORTED'));
});

test('schema: mihomo keys, weak types, headers and fingerprint checked', () => {
  const o = httpSchema.parse({ name: 1, type: 'http', server: 'p.example', port: '8080', username: 'u', password: 123456, tls: 'true', 'skip-cert-verify': 1, headers: { 'X-N': 5 }, udp: true, 'some-new-key': [1] });
  assert.deepEqual([o.name, o.port, o.password, o.tls, o['skip-cert-verify'], o.headers], ['1', 8080, '123456', true, true, { 'X-N': '5' }]);
  assert.deepEqual(o['some-new-key'], [1]);
  const bad = (extra: object) => httpSchema.safeParse({ name: 'h', type: 'http', server: 'p', port: 1, ...extra });
  assert.equal(bad({}).success, true);
  assert.equal(bad({ port: 0 }).success, false);
  assert.equal(bad({ port: 70000 }).success, false);
  assert.equal(bad({ server: '' }).success, false);
  assert.equal(bad({ headers: { 'Bad Name': 'x' } }).success, false);
  assert.equal(bad({ headers: { X: 'a\r\nInjected: 1' } }).success, false);
  assert.equal(bad({ fingerprint: 'abc' }).success, false);
  assert.equal(bad({ fingerprint: `${'AB:'.repeat(31)}AB` }).success, true);
  assert.equal(bad({ fingerprint: '' }).success, true);
  assert.equal(bad({ tls: 'maybe' }).success, false);
});

test('definition: warnings for what cannot be honoured; credentials only with both parts', { timeout: 10_000 }, async () => {
  const lines: string[] = [];
  const deps: OutboundDeps = { resolver, dialer, log: createLogger('debug', (l) => void lines.push(l)) };
  const { port, heads } = await fakeProxy((_h, s) => s.end('HTTP/1.1 200 OK\r\n\r\n'));
  const o = httpDefinition.create(httpSchema.parse({ name: 'h', type: 'http', server: '127.0.0.1', port, username: 'only-user', udp: true, 'interface-name': 'eth0', tfo: true, 'ip-version': 'weird' }), deps);
  assert.deepEqual([o.name, o.type, o.udp], ['h', 'Http', false]);
  assert.equal(lines.length, 5, lines.join(''));
  assert.match(lines.join(''), /username and password must both be set/);
  assert.match(lines.join(''), /udp is not available/);
  assert.match(lines.join(''), /unknown ip-version .*weird/);
  assert.match(lines.join(''), /interface-name is not supported/);
  assert.match(lines.join(''), /tfo is not supported/);
  (await o.dialTcp(meta({ host: 'x.y', port: 80 }), { signal: AbortSignal.timeout(2000) })).destroy();
  assert.doesNotMatch(heads[0], /Proxy-Authorization/);
});
