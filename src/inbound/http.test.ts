import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, createServer as createHttpServer, request, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CidrList } from '../common/cidr.js';
import type { Address } from '../core/address.js';
import { ProxyError } from '../core/errors.js';
import type { Inbound } from '../core/inbound.js';
import { dial, FakeHandler, listenTcp, Reader, startEchoServer, startTestInbound } from './fakes.test.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An origin server that records requests and answers `name:path`, or a body hash for POST. */
async function startOrigin(name: string): Promise<{ server: HttpServer; address: Address; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: size > 0 ? hash.digest('hex') : '' });
      if (req.url === '/big') {
        // a chunked response (no Content-Length), with hop-by-hop headers to be stripped
        res.writeHead(200, { 'X-Hop': 'secret', Connection: 'X-Hop', 'X-Keep': 'yes' });
        const big = randomBytes(3 * 1024 * 1024);
        res.end(big);
        seen.push({ url: 'sent', headers: {}, body: createHash('sha256').update(big).digest('hex') });
        return;
      }
      res.end(size > 0 ? `${name}:${seen.at(-1)!.body}:${size}` : `${name}:${req.url}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: { host: '127.0.0.1', port: (server.address() as { port: number }).port }, seen };
}

/** One request through the proxy with node's client (absolute-form path). */
function viaProxy(
  proxy: Address,
  url: string,
  opts: { agent?: Agent; method?: string; headers?: Record<string, string>; body?: Buffer[] } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.host, port: proxy.port, path: url, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: req.socket?.localPort ?? 0 }));
      res.on('error', reject);
    });
    for (const b of opts.body ?? []) req.write(b);
    req.end();
  });
}

describe('HTTP inbound', () => {
  let a: Awaited<ReturnType<typeof startOrigin>>;
  let b: Awaited<ReturnType<typeof startOrigin>>;
  let echo: { server: Server; address: Address };
  let handler: FakeHandler;
  let inbound: Inbound;
  before(async () => {
    a = await startOrigin('A');
    b = await startOrigin('B');
    echo = await startEchoServer();
    handler = new FakeHandler();
    inbound = await startTestInbound(handler);
  });
  after(async () => {
    await inbound.close();
    a.server.close();
    b.server.close();
    echo.server.close();
  });

  it('forwards plain GETs to two origins over one kept-alive client connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = handler.tcp.length;
    const r1 = await viaProxy(inbound.address(), `http://127.0.0.1:${a.address.port}/one?x=1`, {
      agent,
      headers: { 'Proxy-Connection': 'keep-alive', Connection: 'keep-alive, X-Private', 'X-Private': 'p', 'X-Public': 'q' },
    });
    const r2 = await viaProxy(inbound.address(), `http://127.0.0.1:${b.address.port}/two`, { agent });
    agent.destroy();
    assert.equal(r1.status, 200);
    assert.equal(r1.body.toString(), 'A:/one?x=1');
    assert.equal(r2.body.toString(), 'B:/two');
    assert.equal(r1.localPort, r2.localPort, 'one client connection');
    const seenA = a.seen.at(-1)!;
    assert.equal(seenA.url, '/one?x=1', 'origin-form upstream');
    assert.equal(seenA.headers['x-public'], 'q');
    assert.equal(seenA.headers['x-private'], undefined, 'header named by Connection stripped');
    assert.equal(seenA.headers['proxy-connection'], undefined);
    assert.equal(seenA.headers.host, `127.0.0.1:${a.address.port}`);
    const metas = handler.tcp.slice(before);
    assert.equal(metas.length, 2);
    assert.equal(metas[0].inbound.type, 'HTTP');
    assert.deepEqual(metas[0].destination, a.address);
    assert.deepEqual(metas[1].destination, b.address);
  });

  it('streams chunked request and response bodies intact, hop-by-hop headers stripped', async () => {
    const parts = Array.from({ length: 40 }, () => randomBytes(32 * 1024 + 7));
    const want = createHash('sha256');
    for (const p of parts) want.update(p);
    const res = await viaProxy(inbound.address(), `http://127.0.0.1:${a.address.port}/upload`, { method: 'POST', body: parts });
    const size = parts.reduce((n, p) => n + p.length, 0);
    assert.equal(res.body.toString(), `A:${want.digest('hex')}:${size}`);
    assert.equal(a.seen.at(-1)!.headers['transfer-encoding'], 'chunked');

    const big = await viaProxy(inbound.address(), `http://127.0.0.1:${a.address.port}/big`);
    assert.equal(createHash('sha256').update(big.body).digest('hex'), a.seen.at(-1)!.body);
    assert.equal(big.headers['x-keep'], 'yes');
    assert.equal(big.headers['x-hop'], undefined);
  });

  it('answers a client that half-closes after its request', async () => {
    const s = await dial(inbound.address());
    const r = new Reader(s);
    s.end(`GET http://127.0.0.1:${a.address.port}/half HTTP/1.1\r\nHost: x\r\n\r\n`);
    const head = await r.readUntil('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200/);
    const len = Number(/content-length: (\d+)/i.exec(head)![1]);
    assert.equal((await r.read(len)).toString(), 'A:/half');
    s.destroy();
  });

  it('CONNECT: 200 once connected, then raw bytes both ways (pipelined bytes kept)', async () => {
    const s = await dial(inbound.address());
    const r = new Reader(s);
    s.write(`CONNECT 127.0.0.1:${echo.address.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.address.port}\r\n\r\nearly`);
    assert.equal(await r.readUntil('\r\n\r\n'), 'HTTP/1.1 200 Connection established\r\n\r\n');
    assert.equal((await r.read(5)).toString(), 'early');
    s.write('ping');
    assert.equal((await r.read(4)).toString(), 'ping');
    s.end();
    await r.closed();
    const m = handler.tcp.at(-1)!;
    assert.equal(m.inbound.type, 'HTTPS');
    assert.deepEqual(m.destination, echo.address);
  });

  it('CONNECT in HTTP/1.0, and a head split across segments (node:http parses it), answer the same', async () => {
    const s = await dial(inbound.address());
    const r = new Reader(s);
    s.write(`CONNECT 127.0.0.1:${echo.address.port} HTTP/1.0\r\n\r\n`);
    assert.equal(await r.readUntil('\r\n\r\n'), 'HTTP/1.0 200 Connection established\r\n\r\n');
    s.write('one');
    assert.equal((await r.read(3)).toString(), 'one');
    s.destroy();

    const t = await dial(inbound.address());
    const rt = new Reader(t);
    t.write(`CONNECT 127.0.0.1:${echo.address.port} HTTP/1.1\r\nHost: x`);
    await new Promise((done) => setTimeout(done, 30));
    t.write('\r\n\r\ntwo');
    assert.equal(await rt.readUntil('\r\n\r\n'), 'HTTP/1.1 200 Connection established\r\n\r\n');
    assert.equal((await rt.read(3)).toString(), 'two');
    t.end();
    await rt.closed();
    assert.equal(handler.tcp.at(-1)!.inbound.type, 'HTTPS');
  });

  it('Upgrade: the request goes out origin-form and the 101 is followed by a raw relay', async () => {
    let seenHead = '';
    const ws = await listenTcp((sock) => {
      const rr = new Reader(sock);
      void rr.readUntil('\r\n\r\n').then((h) => {
        seenHead = h;
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        sock.write(rr.pending);
        sock.on('data', (c: Buffer) => sock.write(c));
        sock.on('end', () => sock.end());
      });
    });
    try {
      const s = await dial(inbound.address());
      const r = new Reader(s);
      s.write(
        `GET http://127.0.0.1:${ws.address.port}/chat HTTP/1.1\r\nHost: 127.0.0.1:${ws.address.port}\r\n` +
          'Connection: Upgrade\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\n\r\nframe1',
      );
      assert.match(await r.readUntil('\r\n\r\n'), /^HTTP\/1\.1 101 /);
      assert.equal((await r.read(6)).toString(), 'frame1');
      s.write('frame2');
      assert.equal((await r.read(6)).toString(), 'frame2');
      assert.match(seenHead, /^GET \/chat HTTP\/1\.1\r\n/);
      assert.match(seenHead, /\r\nUpgrade: websocket\r\n/);
      assert.doesNotMatch(seenHead, /Proxy-Connection/i);
      s.destroy();
    } finally {
      ws.server.close();
    }
  });

  it('answers 400 to an origin-form request, and keeps the connection', async () => {
    const s = await dial(inbound.address());
    const r = new Reader(s);
    s.write('GET /local HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(await r.readUntil('\r\n\r\n'), /^HTTP\/1\.1 400 /);
    s.write(`GET http://127.0.0.1:${a.address.port}/next HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(await r.readUntil('\r\n\r\n'), /^HTTP\/1\.1 200 /);
    s.destroy();
  });

  it('failed() → 502 for forwarded requests and CONNECT, REJECT included', async () => {
    handler.fail = new ProxyError('REJECTED', 'rule says no');
    try {
      const res = await viaProxy(inbound.address(), `http://127.0.0.1:${a.address.port}/x`);
      assert.equal(res.status, 502);
      assert.equal(res.headers.connection, 'close');
      const s = await dial(inbound.address());
      const r = new Reader(s);
      s.write('CONNECT blocked.test:443 HTTP/1.1\r\nHost: blocked.test:443\r\n\r\n');
      assert.match(await r.readUntil('\r\n\r\n'), /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      await r.closed();
    } finally {
      handler.fail = undefined;
    }
    // a real dial error too
    const dead = await listenTcp(() => {});
    await new Promise((r) => dead.server.close(r));
    const res = await viaProxy(inbound.address(), `http://127.0.0.1:${dead.address.port}/`);
    assert.equal(res.status, 502);
  });
});

describe('HTTP proxy auth', () => {
  it('407 without credentials, 403 with wrong ones, 200 with good ones (then remembered)', async () => {
    const origin = await startOrigin('O');
    const handler = new FakeHandler();
    const inbound = await startTestInbound(handler, { type: 'http', users: [{ username: 'u', password: 'p w:d' }] });
    try {
      const url = `http://127.0.0.1:${origin.address.port}/a`;
      const none = await viaProxy(inbound.address(), url);
      assert.equal(none.status, 407);
      assert.equal(none.headers['proxy-authenticate'], 'Basic realm="clash-ts"');
      const wrong = await viaProxy(inbound.address(), url, { headers: { 'Proxy-Authorization': `Basic ${Buffer.from('u:nope').toString('base64')}` } });
      assert.equal(wrong.status, 403);
      const good = await viaProxy(inbound.address(), url, { headers: { 'Proxy-Authorization': `Basic ${Buffer.from('u:p w:d').toString('base64')}` } });
      assert.equal(good.status, 200);
      assert.equal(handler.tcp.length, 1);
      assert.equal(handler.tcp[0].inbound.user, 'u');
      assert.equal(origin.seen[0].headers['proxy-authorization'], undefined, 'credentials not forwarded');

      // CONNECT without credentials: 407 and close
      const s = await dial(inbound.address());
      const r = new Reader(s);
      s.write('CONNECT example.test:443 HTTP/1.1\r\n\r\n');
      const head = await r.readUntil('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 407 /);
      assert.match(head, /Proxy-Authenticate: Basic realm="clash-ts"/);
      await r.closed();

      // once authenticated, later requests on the connection pass without credentials
      const s2 = await dial(inbound.address());
      const r2 = new Reader(s2);
      const cred = Buffer.from('u:p w:d').toString('base64');
      s2.write(`GET ${url} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${cred}\r\n\r\n`);
      assert.match(await r2.readUntil('\r\n\r\n'), /^HTTP\/1\.1 200 /);
      await r2.read(4);
      s2.write(`GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(await r2.readUntil('\r\n\r\n'), /^HTTP\/1\.1 200 /);
      s2.destroy();
    } finally {
      await inbound.close();
      origin.server.close();
    }
  });
});

describe('HTTP odd input', () => {
  it('431 for an oversized head, 400 for garbage; skip-auth-prefixes bypass auth', async () => {
    const origin = await startOrigin('S');
    const inbound = await startTestInbound(new FakeHandler(), {
      users: [{ username: 'u', password: 'p' }],
      skipAuthPrefixes: CidrList.parse(['127.0.0.1/32']),
    });
    try {
      const big = new Reader(await dial(inbound.address()));
      big.socket.write(`GET http://x/ HTTP/1.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      assert.match(await big.readUntil('\r\n\r\n'), /^HTTP\/1\.1 431 /);
      await big.closed();
      const junk = new Reader(await dial(inbound.address()));
      junk.socket.write('GET http://x/ HTTP/1.1\r\nBad Header\r\n\r\n');
      assert.match(await junk.readUntil('\r\n\r\n'), /^HTTP\/1\.1 400 /);
      await junk.closed();
      const res = await viaProxy(inbound.address(), `http://127.0.0.1:${origin.address.port}/free`);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'S:/free');
    } finally {
      await inbound.close();
      origin.server.close();
    }
  });
});

describe('HTTP keep-alive deadline', () => {
  it('an idle kept-alive connection, or one stuck in its next request head, is closed after the deadline', async () => {
    const origin = await startOrigin('K');
    const inbound = await startTestInbound(new FakeHandler(), { handshakeTimeoutMs: 200 });
    try {
      for (const partial of ['', 'GET http://x/ HTTP/1.1\r\nHo']) {
        const s = await dial(inbound.address());
        const r = new Reader(s);
        s.write(`GET http://127.0.0.1:${origin.address.port}/a HTTP/1.1\r\nHost: x\r\n\r\n`);
        const head = await r.readUntil('\r\n\r\n');
        await r.read(Number(/content-length: (\d+)/i.exec(head)![1]));
        if (partial) s.write(partial);
        const t0 = Date.now();
        await r.closed(2000);
        assert.ok(Date.now() - t0 < 1500);
      }
    } finally {
      await inbound.close();
      origin.server.close();
    }
  });
});
