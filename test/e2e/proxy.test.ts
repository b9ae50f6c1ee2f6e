import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { curl, sha256 } from './curl.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { freePort } from '../support/ports.js';
import { httpServer, tcpEcho, udpEcho, type Local } from '../support/servers.js';
import { readN, socks5Connect, socks5UdpAssociate } from '../support/socks-client.js';

/** Sends `data` over `sock`, half-closes, and returns everything received until the peer ends. */
async function roundTrip(sock: net.Socket, data: Buffer): Promise<Buffer> {
  const got: Buffer[] = [];
  sock.on('data', (c: Buffer) => got.push(c));
  const ended = once(sock, 'end');
  sock.end(data);
  await ended;
  sock.destroy();
  return Buffer.concat(got);
}

/** An HTTP CONNECT tunnel through the proxy, as a raw socket. */
async function httpConnect(proxyPort: number, host: string, port: number): Promise<net.Socket> {
  const sock = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
  sock.on('error', () => {});
  await once(sock, 'connect');
  sock.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  let head = '';
  while (!head.endsWith('\r\n\r\n')) head += (await readN(sock, 1)).toString('latin1'); // byte by byte: no overread
  assert.match(head, /^HTTP\/1\.1 200/);
  return sock;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('core proxy through the built CLI against real peers', () => {
  let cli: RunningCli;
  let nginx: Nginx;
  let http4: Local;
  let http6: Local;
  let echo: Local;
  let uecho: Local;
  let mixed = 0;
  let httpPort = 0;
  let socksPort = 0;

  before(async () => {
    nginx = await startNginx();
    http4 = await httpServer('127.0.0.1');
    http6 = await httpServer('::1');
    echo = await tcpEcho('127.0.0.1');
    uecho = await udpEcho('127.0.0.1');
    mixed = await freePort();
    httpPort = await freePort();
    socksPort = await freePort();
    cli = await startCli(
      [
        `mixed-port: ${mixed}`,
        `port: ${httpPort}`,
        `socks-port: ${socksPort}`,
        'allow-lan: false',
        'mode: rule',
        'log-level: info',
        'proxies:',
        '  - &dir { name: my-direct, type: direct }',
        'proxy-groups:',
        '  - { name: Proxy, type: select, proxies: [my-direct, DIRECT] }',
        'rules:',
        '  - DOMAIN,blocked.test,REJECT',
        '  - DOMAIN-SUFFIX,localhost,Proxy',
        `  - AND,((NETWORK,TCP),(DST-PORT,${echo.port})),DIRECT`,
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      3,
    );
  });

  after(async () => {
    const code = await cli?.stop();
    assert.equal(code, 0, 'SIGTERM exits 0');
    await nginx?.stop();
    await Promise.all([http4, http6, echo, uecho].map((s) => s?.close()));
  });

  test('listens on the mihomo inbound names, loopback only', () => {
    assert.equal(cli.ports.get('Mixed(http+socks)'), mixed);
    assert.equal(cli.ports.get('HTTP'), httpPort);
    assert.equal(cli.ports.get('SOCKS'), socksPort);
    assert.ok(cli.lines.some((l) => l.includes(`Mixed(http+socks) proxy listening at: 127.0.0.1:${mixed}`)));
  });

  test('curl --socks5-hostname fetches 4 MiB from nginx intact, logged like mihomo', async () => {
    const r = await curl(['--socks5-hostname', `127.0.0.1:${mixed}`, `http://localhost:${nginx.port}/big.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.status, 200);
    assert.equal(r.sha256, sha256(nginx.files.get('big.bin')!));
    const line = await cli.waitForLine(new RegExp(`\\[TCP\\] 127\\.0\\.0\\.1:\\d+\\(DEFAULT-MIXED\\) --> localhost:${nginx.port} match DomainSuffix\\(localhost\\) using Proxy\\[my-direct\\]`));
    assert.match(line, /^time="[^"]+" level=info msg="/);
  });

  test('curl -x http:// forwards plain HTTP to nginx (IPv4 literal)', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${mixed}`, `http://127.0.0.1:${nginx.port}/small.bin`]);
    assert.equal(r.status, 200, r.stderr);
    assert.equal(r.sha256, sha256(nginx.files.get('small.bin')!));
    await cli.waitForLine(new RegExp(`--> 127\\.0\\.0\\.1:${nginx.port} match Match using DIRECT`));
  });

  test('curl -p (CONNECT) through the HTTP port reaches nginx over IPv6', async () => {
    const r = await curl(['-p', '-x', `http://127.0.0.1:${httpPort}`, `http://[::1]:${nginx.port}/big.bin`]);
    assert.equal(r.status, 200, r.stderr);
    assert.equal(r.sha256, sha256(nginx.files.get('big.bin')!));
    await cli.waitForLine(new RegExp(`\\(DEFAULT-HTTP\\) --> \\[::1\\]:${nginx.port} match Match using DIRECT`));
  });

  test('curl --socks4a and --socks4 through the SOCKS and mixed ports', async () => {
    const a = await curl(['--socks4a', `127.0.0.1:${socksPort}`, `http://localhost:${nginx.port}/small.bin`]);
    assert.equal(a.status, 200, a.stderr);
    assert.equal(a.sha256, sha256(nginx.files.get('small.bin')!));
    const b = await curl(['--socks4', `127.0.0.1:${mixed}`, `http://127.0.0.1:${nginx.port}/small.bin`]);
    assert.equal(b.status, 200, b.stderr);
    assert.equal(b.sha256, sha256(nginx.files.get('small.bin')!));
    await cli.waitForLine(/\(DEFAULT-SOCKS\) --> localhost:/);
  });

  test('a Node HTTP server over IPv4 and IPv6: downloads and chunked uploads hash equal', async () => {
    for (const [host, port] of [
      ['127.0.0.1', http4.port],
      ['[::1]', http6.port],
    ] as const) {
      const down = await curl(['--socks5-hostname', `127.0.0.1:${mixed}`, '-D', '-', `http://${host}:${port}/data/3000000`]);
      assert.equal(down.status, 200, down.stderr);
      const text = down.body.toString('latin1');
      const headerEnd = text.indexOf('\r\n\r\n') + 4;
      const want = /x-sha256: ([0-9a-f]+)/i.exec(text)![1];
      assert.equal(sha256(down.body.subarray(headerEnd)), want);

      const dir = mkdtempSync(join(tmpdir(), 'clash-ts-up-'));
      const payload = randomBytes(2_500_000);
      writeFileSync(join(dir, 'up.bin'), payload);
      const up = await curl([
        '-x',
        `http://127.0.0.1:${mixed}`,
        '-H',
        'Transfer-Encoding: chunked',
        '--data-binary',
        `@${join(dir, 'up.bin')}`,
        `http://${host}:${port}/hash`,
      ]);
      assert.equal(up.status, 200, up.stderr);
      assert.deepEqual(JSON.parse(up.body.toString()), { sha256: sha256(payload), length: payload.length });
    }
  });

  test('100 x 64 KiB both ways with hashes through the mixed port (SOCKS5 and CONNECT)', async () => {
    const jobs = Array.from({ length: 100 }, async (_, i) => {
      const data = randomBytes(64 << 10);
      const sock = i % 2 === 0 ? await socks5Connect(mixed, '127.0.0.1', echo.port) : await httpConnect(mixed, '127.0.0.1', echo.port);
      const back = await roundTrip(sock, data);
      assert.equal(sha256(back), sha256(data), `connection ${i}`);
    });
    await Promise.all(jobs);
  });

  test('SOCKS5 UDP ASSOCIATE relays datagrams to a UDP echo server and back', async () => {
    const udp = await socks5UdpAssociate(mixed);
    try {
      for (let i = 0; i < 20; i++) {
        const payload = randomBytes(100 + i * 50);
        udp.send(payload, '127.0.0.1', uecho.port);
        const r = await udp.receive();
        assert.equal(sha256(r.data), sha256(payload));
        assert.equal(r.port, uecho.port);
      }
    } finally {
      udp.close();
    }
    await cli.waitForLine(new RegExp(`\\[UDP\\] 127\\.0\\.0\\.1:\\d+\\(DEFAULT-MIXED\\) --> 127\\.0\\.0\\.1:${uecho.port} match Match using DIRECT`));
  });

  test('REJECT: HTTP gets an error status, SOCKS5 gets "not allowed by ruleset"', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${mixed}`, 'http://blocked.test/']);
    assert.equal(r.status, 502);
    await assert.rejects(socks5Connect(mixed, 'blocked.test', 80), (e: { rep?: number }) => e.rep === 2);
    await cli.waitForLine(/--> blocked\.test:80 match Domain\(blocked\.test\) using REJECT/);
  });

  test('garbage on the mixed port: clean close, process alive, no fd left', async () => {
    const before = fdCount(cli.pid);
    for (let i = 0; i < 200; i++) {
      const s = net.connect({ port: mixed, host: '127.0.0.1' });
      s.on('error', () => {});
      s.resume(); // read whatever the proxy answers, so its FIN is seen
      await once(s, 'connect');
      s.end(randomBytes(1 + (i % 7) * 300));
      await new Promise((r) => s.on('close', r));
    }
    await new Promise((r) => setTimeout(r, 300));
    const r = await curl(['--socks5-hostname', `127.0.0.1:${mixed}`, `http://localhost:${nginx.port}/small.bin`]);
    assert.equal(r.status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(fdCount(cli.pid) <= before + 2, `fds ${before} -> ${fdCount(cli.pid)}`);
  });
});

describe('authentication', () => {
  let cli: RunningCli;
  let nginx: Nginx;
  let mixed = 0;
  before(async () => {
    nginx = await startNginx({ 'a.txt': 100 });
    mixed = await freePort();
    cli = await startCli([`mixed-port: ${mixed}`, 'authentication: ["alice:s3cret"]', 'skip-auth-prefixes: []', 'rules: ["MATCH,DIRECT"]', ''].join('\n'));
  });
  after(async () => {
    assert.equal(await cli?.stop(), 0);
    await nginx?.stop();
  });

  test('HTTP: 407 without credentials, 200 with', async () => {
    const url = `http://127.0.0.1:${nginx.port}/a.txt`;
    const no = await curl(['-x', `http://127.0.0.1:${mixed}`, url]);
    assert.equal(no.status, 407);
    const bad = await curl(['-x', `http://127.0.0.1:${mixed}`, '-U', 'alice:wrong', url]);
    assert.equal(bad.status, 403); // mihomo: wrong credentials are forbidden, missing ones are asked for
    const ok = await curl(['-x', `http://127.0.0.1:${mixed}`, '-U', 'alice:s3cret', url]);
    assert.equal(ok.status, 200);
    assert.equal(ok.sha256, sha256(nginx.files.get('a.txt')!));
  });

  test('SOCKS5: user/pass required and checked', async () => {
    await assert.rejects(socks5Connect(mixed, '127.0.0.1', nginx.port));
    await assert.rejects(socks5Connect(mixed, '127.0.0.1', nginx.port, { user: 'alice', pass: 'nope' }));
    const s = await socks5Connect(mixed, '127.0.0.1', nginx.port, { user: 'alice', pass: 's3cret' });
    s.destroy();
    const r = await curl(['--socks5-hostname', `alice:s3cret@127.0.0.1:${mixed}`, `http://127.0.0.1:${nginx.port}/a.txt`]);
    assert.equal(r.status, 200);
  });
});
