// The ws layer against the `ws` package's server (an implementation we did not write), and
// against hand-made bad answers.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { resolveEarlyData, wsLayer, type WsLayerOptions } from './ws.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const opts = (o: Partial<WsLayerOptions> = {}): WsLayerOptions => ({
  host: 'example.org', path: '/ws', headers: [], maxEarlyData: 0, earlyDataHeaderName: '', ...o,
});

let server: http.Server;
let wss: WebSocketServer;
let port = 0;
const seen: http.IncomingHttpHeaders[] = [];
const urls: string[] = [];

before(async () => {
  server = http.createServer();
  wss = new WebSocketServer({ server, handleProtocols: (p) => [...p][0] ?? false });
  // an echo that also pings, and closes on the text "bye"
  wss.on('connection', (ws, req) => {
    seen.push(req.headers);
    urls.push(req.url ?? '');
    ws.ping('are you there');
    ws.on('message', (m: Buffer, isBinary) => {
      if (!isBinary && m.toString() === 'bye') ws.close(1000);
      else ws.send(m);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
after(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  await new Promise((r) => server.close(r));
});

const dial = (): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });

/** Reads at least n bytes with a listener (a for-await break would destroy the stream). */
function readN(s: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      parts.push(c);
      got += c.length;
      if (got < n) return;
      s.off('data', onData);
      s.pause();
      resolve(Buffer.concat(parts));
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

test('4 MiB each way through the ws package server, hashes equal, pings answered', { timeout: 20_000 }, async () => {
  const s = await wsLayer(opts({ headers: [['X-Test', 'yes']] })).wrap(await dial(), AbortSignal.timeout(5000));
  const data = randomBytes(4 << 20);
  const back = new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    s.on('data', (c: Buffer) => {
      parts.push(c);
      got += c.length;
      if (got >= data.length) resolve(Buffer.concat(parts));
    });
    s.on('error', reject);
  });
  for (let i = 0; i < data.length; i += 100_000) if (!s.write(data.subarray(i, i + 100_000))) await once(s, 'drain');
  assert.equal(sha(await back), sha(data));
  const h = seen.at(-1)!;
  assert.equal(h.host, 'example.org');
  assert.equal(h['x-test'], 'yes');
  assert.equal(h['sec-websocket-version'], '13');
  const closed = once(s, 'close');
  s.end();
  s.resume();
  await closed;
});

test('end() sends a close frame; the server answers and the stream ends cleanly', { timeout: 10_000 }, async () => {
  const s = await wsLayer(opts()).wrap(await dial(), AbortSignal.timeout(5000));
  s.write('x');
  assert.equal((await readN(s, 1)).toString(), 'x');
  const ended = once(s, 'end');
  const closed = once(s, 'close');
  s.resume();
  s.end();
  await ended;
  await closed;
});

test('early data rides in Sec-WebSocket-Protocol (?ed=) and the rest follows in frames', { timeout: 10_000 }, async () => {
  const s = await wsLayer(opts({ path: '/ed?x=1&ed=8' })).wrap(await dial(), AbortSignal.timeout(5000));
  // the ws package knows nothing of early data: it echoes only the framed rest
  s.write('0123456789abcdef');
  assert.equal((await readN(s, 8)).toString(), '89abcdef');
  assert.equal(seen.at(-1)!['sec-websocket-protocol'], Buffer.from('01234567').toString('base64url'));
  assert.equal(urls.at(-1), '/ed?x=1');
  s.destroy();
});

test('resolveEarlyData: ?ed= wins, path gets its slash', () => {
  assert.deepEqual(resolveEarlyData(opts({ path: 'p?ed=2048' })), { path: '/p', query: '', maxEarlyData: 2048, headerName: 'Sec-WebSocket-Protocol' });
  assert.deepEqual(resolveEarlyData(opts({ path: '/p?a=b', maxEarlyData: 5 })), { path: '/p', query: 'a=b', maxEarlyData: 5, headerName: '' });
});

/** A TCP server answering every request with `answer`. */
async function fakeServer(answer: (req: string) => string | Buffer): Promise<{ port: number; close(): void }> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    let buf = '';
    s.on('data', (c) => {
      buf += c.toString('latin1');
      if (buf.includes('\r\n\r\n')) s.end(answer(buf));
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

test('bad answers are clear errors and leave no socket open', { timeout: 10_000 }, async () => {
  const cases: [string, (req: string) => string | Buffer, RegExp][] = [
    ['403', () => 'HTTP/1.1 403 Forbidden\r\n\r\n', /refused: HTTP\/1.1 403/],
    ['wrong accept', () => 'HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: nope\r\n\r\n', /Sec-WebSocket-Accept/],
    ['no upgrade', () => 'HTTP/1.1 101 OK\r\n\r\n', /Connection: upgrade/],
    ['closed', () => '', /closed during the HTTP handshake/],
    ['oversized', () => 'HTTP/1.1 101 OK\r\n' + 'X: y\r\n'.repeat(5000), /longer than/],
    ['garbage', () => randomBytes(64).toString('latin1').replace(/\r\n/g, '') + '\r\nnot a header\r\n\r\n', /malformed/],
  ];
  for (const [name, answer, re] of cases) {
    const srv = await fakeServer(answer);
    const sock = net.connect({ port: srv.port, host: '127.0.0.1' });
    await once(sock, 'connect');
    await assert.rejects(wsLayer(opts()).wrap(sock, AbortSignal.timeout(3000)), re, name);
    assert.ok(sock.destroyed, `${name}: socket destroyed`);
    srv.close();
  }
});

test('an aborted handshake rejects promptly', async () => {
  const srv = net.createServer((s) => s.on('error', () => {}));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const sock = net.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1' });
  await once(sock, 'connect');
  await assert.rejects(wsLayer(opts()).wrap(sock, AbortSignal.timeout(200)), { code: 'ABORTED' });
  assert.ok(sock.destroyed);
  srv.close();
});
