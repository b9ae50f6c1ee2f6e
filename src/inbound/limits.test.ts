import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger, type Logger } from '../common/log.js';
import { OncePerInterval } from '../common/once-per-interval.js';
import type { Address } from '../core/address.js';
import { loadText } from '../host/host.js';
import { FakeHandler, startTestInbound } from './fakes.test.js';
import { MAX_HEADER_BYTES } from './http.js';
import { startServerInbound } from './server/start.js';

/** A logger that keeps its warn lines. */
function recordingLog(): { log: Logger; warns: string[] } {
  const warns: string[] = [];
  const base = createLogger('silent');
  return { warns, log: { ...base, level: 'warning', enabled: () => true, debug() {}, info() {}, warn: (m: string) => void warns.push(m), error: (m: string) => void warns.push(m) } };
}

/**
 * Connects and sends a SOCKS5 greeting: 'served' once the listener answers, 'refused' when it
 * closes the connection first. The socket stays open when served (it keeps counting).
 */
function probe(a: Address, localAddress?: string): Promise<{ verdict: 'served' | 'refused'; socket: Socket }> {
  return new Promise((resolve) => {
    const s = connect({ host: a.host, port: a.port, localAddress });
    s.on('error', () => {});
    s.once('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.once('data', () => resolve({ verdict: 'served', socket: s }));
    s.once('close', () => resolve({ verdict: 'refused', socket: s }));
  });
}

/** Connects; resolves when the server closed the connection (a refused one), or after a read. */
function closedByServer(a: Address): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(a.port, a.host);
    s.on('error', () => {});
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 5000);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

describe('OncePerInterval', () => {
  it('logs the first hit, counts the rest, and reports the count after the interval', () => {
    let t = 0;
    const lines: number[] = [];
    const o = new OncePerInterval(10_000, (n) => lines.push(n), () => t);
    for (let i = 0; i < 1000; i++) o.hit();
    assert.deepEqual(lines, [1]);
    t = 10_000;
    o.hit();
    assert.deepEqual(lines, [1, 1000]);
  });
});

describe('max-connections on the HTTP / SOCKS / mixed listener', () => {
  it('refuses connections past the limit, logs once, and admits again when one closes', async () => {
    const { log, warns } = recordingLog();
    const inbound = await startTestInbound(new FakeHandler(), { log, limits: { maxConnections: 3, maxConnectionsPerIp: 0 } });
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const p = await probe(inbound.address());
        assert.equal(p.verdict, 'served', `connection ${i + 1} of 3`);
        open.push(p.socket);
      }
      for (let i = 0; i < 20; i++) assert.equal((await probe(inbound.address())).verdict, 'refused', `connection ${i + 4}`);
      const lines = warns.filter((w) => w.includes('max-connections 3 reached'));
      assert.equal(lines.length, 1, JSON.stringify(warns));
      assert.match(lines[0], /^\[TEST-MIXED\] max-connections 3 reached: refused 1 connection/);
      open.shift()!.destroy();
      // the slot frees when the server sees the close: retry until it does (bounded)
      let again: Awaited<ReturnType<typeof probe>> | undefined;
      for (let i = 0; i < 100 && again?.verdict !== 'served'; i++) {
        again = await probe(inbound.address());
        if (again.verdict !== 'served') await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(again?.verdict, 'served');
      open.push(again!.socket);
    } finally {
      for (const s of open) s.destroy();
      await inbound.close();
    }
  });

  it('max-connections-per-ip counts each source IP on its own (IPv4-mapped counted as IPv4)', async () => {
    const { log, warns } = recordingLog();
    const inbound = await startTestInbound(new FakeHandler(), { log, listen: '::', limits: { maxConnections: 0, maxConnectionsPerIp: 2 } });
    const port = inbound.address().port;
    const open: Socket[] = [];
    try {
      // 127.0.0.1 twice, then its IPv4-mapped spelling (the same source), refused
      for (const host of ['127.0.0.1', '127.0.0.1']) {
        const p = await probe({ host, port });
        assert.equal(p.verdict, 'served');
        open.push(p.socket);
      }
      assert.equal((await probe({ host: '::ffff:127.0.0.1', port })).verdict, 'refused');
      // another loopback source is not affected
      const other = await probe({ host: '127.0.0.1', port }, '127.0.0.2');
      assert.equal(other.verdict, 'served');
      open.push(other.socket);
      const v6 = await probe({ host: '::1', port });
      assert.equal(v6.verdict, 'served');
      open.push(v6.socket);
      assert.equal(warns.filter((w) => w.includes('max-connections-per-ip 2 reached')).length, 1);
    } finally {
      for (const s of open) s.destroy();
      await inbound.close();
    }
  });
});

describe('max-connections on a server listener', () => {
  it('a Trojan listener refuses past its limit', async () => {
    const { log, warns } = recordingLog();
    const inbound = await startServerInbound({
      name: 'trojan-in',
      type: 'trojan',
      listen: '127.0.0.1',
      port: 0,
      users: [{ name: 'a', secret: 'pw' }],
      handler: new FakeHandler(),
      log,
      handshakeTimeoutMs: 30_000,
      limits: { maxConnections: 2, maxConnectionsPerIp: 0 },
    });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = connect(inbound.address().port, '127.0.0.1');
        s.on('error', () => {});
        await new Promise((r) => s.once('connect', r));
        held.push(s);
      }
      // give the server a moment to accept both (bounded poll on its refusals instead of time)
      let refused = false;
      for (let i = 0; i < 50 && !refused; i++) refused = await closedByServer(inbound.address());
      assert.ok(refused, 'a third connection is closed by the server');
      assert.equal(warns.filter((w) => w.startsWith('[trojan-in] max-connections 2 reached')).length, 1);
      for (const s of held) assert.ok(!s.destroyed, 'the admitted ones stay open');
    } finally {
      for (const s of held) s.destroy();
      await inbound.close();
    }
  });
});

describe('max-connections config keys', () => {
  it('read as integers (default 0 = off); a negative count is an error', () => {
    const base = 'mixed-port: 0\nrules: ["MATCH,DIRECT"]\n';
    const d = loadText(base).config.general;
    assert.equal(d.maxConnections, 0);
    assert.equal(d.maxConnectionsPerIp, 0);
    const g = loadText(`${base}max-connections: 500\nmax-connections-per-ip: "16"\n`);
    assert.equal(g.config.general.maxConnections, 500);
    assert.equal(g.config.general.maxConnectionsPerIp, 16);
    assert.equal(g.warnings.length, 0, JSON.stringify(g.warnings));
    assert.throws(() => loadText(`${base}max-connections: -1\n`), /max-connections/);
  });
});

/** Sends `text` and reads until the server closes; the whole answer. */
function exchange(a: Address, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(a.port, a.host);
    let got = '';
    s.on('error', () => {});
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.once('connect', () => s.write(text));
    s.once('close', () => resolve(got));
    setTimeout(() => s.destroy(), 10_000).unref();
  });
}

describe('HTTP head size limit (431)', () => {
  for (const type of ['http', 'mixed'] as const) {
    it(`${type}: a request line or a head over ${MAX_HEADER_BYTES} bytes gets 431; one just under is served`, async () => {
      const inbound = await startTestInbound(new FakeHandler(), { type });
      try {
        const a = inbound.address();
        const longUrl = `GET http://127.0.0.1:9/${'a'.repeat(MAX_HEADER_BYTES)} HTTP/1.1\r\nHost: x\r\n\r\n`;
        assert.match(await exchange(a, longUrl), /^HTTP\/1\.1 431 /);
        const longConnect = `CONNECT 127.0.0.1:9 HTTP/1.1\r\nX-Pad: ${'b'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`;
        assert.match(await exchange(a, longConnect), /^HTTP\/1\.1 431 /);
        const many = `GET http://127.0.0.1:9/ HTTP/1.1\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'c'.repeat(40)}\r\n`).join('')}\r\n`;
        assert.match(await exchange(a, many), /^HTTP\/1\.1 431 /);
        // under the limit: the request is read and answered, whatever the answer (nothing listens on :9)
        const fits = `GET http://127.0.0.1:9/ HTTP/1.1\r\nX-Pad: ${'d'.repeat(MAX_HEADER_BYTES - 200)}\r\nConnection: close\r\n\r\n`;
        const answer = await exchange(a, fits);
        assert.match(answer, /^HTTP\/1\.1 \d{3} /);
        assert.doesNotMatch(answer, /^HTTP\/1\.1 431 /);
      } finally {
        await inbound.close();
      }
    });
  }
});

describe('handshake deadline on a gRPC server listener', () => {
  it('an HTTP/2 client that never opens a stream is closed at the deadline', async () => {
    const inbound = await startServerInbound({
      name: 'trojan-grpc',
      type: 'trojan',
      listen: '127.0.0.1',
      port: 0,
      users: [{ name: 'a', secret: 'pw' }],
      grpcServiceName: 'gun',
      handler: new FakeHandler(),
      log: createLogger('silent'),
      handshakeTimeoutMs: 300,
    });
    try {
      const session = http2.connect(`http://127.0.0.1:${inbound.address().port}`);
      session.on('error', () => {});
      const closed = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 10_000);
        session.once('close', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (!closed) session.destroy();
      assert.ok(closed, 'the idle HTTP/2 session was closed by the server');
    } finally {
      await inbound.close();
    }
  });
});

describe('handshake timeouts are logged once per interval', () => {
  it('20 silent clients closed at the deadline give one debug line, not 20', async () => {
    const debugs: string[] = [];
    const base = createLogger('silent');
    const log: Logger = { ...base, level: 'debug', enabled: () => true, debug: (m: string) => void debugs.push(m), info() {}, warn() {}, error() {} };
    const inbound = await startTestInbound(new FakeHandler(), { log, handshakeTimeoutMs: 100 });
    try {
      const closed = await Promise.all(Array.from({ length: 20 }, () => closedByServer(inbound.address())));
      assert.ok(closed.every(Boolean), 'every silent client was closed by the deadline');
      const lines = debugs.filter((d) => d.includes('handshake timeout'));
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.match(lines[0], /^\[TEST-MIXED\] handshake timeout: closed 1 connection since the last report \(the last from 127\.0\.0\.1\)$/);
    } finally {
      await inbound.close();
    }
  });
});
