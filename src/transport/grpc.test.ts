import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { createLogger } from '../common/log.js';
import { createSystemResolver } from '../dns/system-resolver.js';
import { buildTransport } from './build.js';
import { FramedDuplex } from './framed-duplex.js';
import { GunCodec } from './gun-codec.js';
import { createSystemDialer } from './system-dialer.js';

// A gun echo on node:http2 (cleartext, prior knowledge), counting sessions; paths under /bad/
// answer errors.
let server: http2.Http2Server;
let port = 0;
let sessions = 0;
const paths: string[] = [];
const resolver = createSystemResolver({ ipv6: true });
const dialer = createSystemDialer({ resolver });
const log = createLogger('silent');

before(async () => {
  server = http2.createServer();
  server.on('session', (s) => {
    sessions++;
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    paths.push(String(headers[':path']));
    if (headers[':path'] === '/bad404/Tun') return void stream.respond({ ':status': 404 }, { endStream: true });
    if (headers[':path'] === '/bad12/Tun') {
      return void stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unimplemented' }, { endStream: true });
    }
    assert.equal(headers['content-type'], 'application/grpc');
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const d = new FramedDuplex(stream, new GunCodec());
    d.on('error', () => {});
    d.pipe(d);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
after(async () => {
  server.close();
  resolver.close();
});

async function echo(s: Duplex, text: string): Promise<string> {
  const got = new Promise<string>((resolve, reject) => {
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
  s.end(text);
  return got;
}

test('streams share one HTTP/2 session per dialer; an idle session closes; close() ends all', async () => {
  const t = buildTransport({ network: 'grpc', 'grpc-opts': { 'grpc-service-name': 'svc' } }, { server: '127.0.0.1', port, proxyName: 'g', log, grpcIdleMs: 200 });
  const before = sessions;
  const results = await Promise.all(['a', 'b', 'c', 'd'].map(async (x) => echo(await t.connect(dialer, AbortSignal.timeout(5000)), x)));
  assert.deepEqual(results, ['a', 'b', 'c', 'd']);
  assert.equal(await echo(await t.connect(dialer, AbortSignal.timeout(5000)), 'e'), 'e');
  assert.equal(sessions - before, 1, 'one session for five streams');
  assert.equal(paths.at(-1), '/svc/Tun');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await echo(await t.connect(dialer, AbortSignal.timeout(5000)), 'f'), 'f');
  assert.equal(sessions - before, 2, 'a new session after the idle one closed');
  const open = await t.connect(dialer, AbortSignal.timeout(5000));
  open.on('error', () => {});
  const closed = once(open, 'close');
  await t.close();
  await closed;
  await assert.rejects(t.connect(dialer, AbortSignal.timeout(1000)), { code: 'ABORTED' });
});

test('the default service name is GunService; error answers fail the stream clearly', async () => {
  const open = (svc: string) =>
    buildTransport({ network: 'grpc', 'grpc-opts': { 'grpc-service-name': svc } }, { server: '127.0.0.1', port, proxyName: 'g', log }).connect(dialer, AbortSignal.timeout(5000));
  assert.equal(await echo(await open(''), 'x'), 'x');
  assert.equal(paths.at(-1), '/GunService/Tun');
  await assert.rejects(echo(await open('bad404'), 'x'), /grpc: server answered HTTP 404/);
  await assert.rejects(echo(await open('bad12'), 'x'), /grpc: grpc-status 12 unimplemented/);
});
