// Security checks (issue 16 item 6) on a real core (Host) over loopback: what allow-lan false
// binds and answers, authentication and skip-auth-prefixes, the loop guard, and credentials in logs.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControllerService } from '../../src/api/service.js';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { readN, socks5Connect } from '../support/socks-client.js';

function quiet() {
  return createLogger('silent', () => {});
}

/** Connects (optionally from `localAddress`): 'refused' (no listener), 'closed' (closed by the core before answering) or 'served'. */
function reach(host: string, port: number, localAddress?: string): Promise<'refused' | 'closed' | 'served'> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress });
    let connected = false;
    s.on('error', () => {});
    s.once('connect', () => {
      connected = true;
      s.write(Buffer.from([5, 1, 0]));
    });
    s.once('data', () => {
      s.destroy();
      resolve('served');
    });
    s.once('close', () => resolve(connected ? 'closed' : 'refused'));
  });
}

/** Sends a wrong 80-byte header; resolves when the listener closes (bounded). */
function garbage(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.once('connect', () => s.write(Buffer.alloc(80, 0x41)));
    const t = setTimeout(() => s.destroy(), 3000);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function lanIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  return undefined;
}

/** Sends a raw HTTP request on a new connection and returns the status line. */
function httpStatus(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('error', () => {});
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.split('\r\n')[0]);
      }
    });
    s.once('connect', () => s.write(text));
    s.once('close', () => resolve(got.split('\r\n')[0]));
  });
}

describe('allow-lan', () => {
  it('false: the listener binds 127.0.0.1 and answers IPv4 loopback (also as IPv4-mapped IPv6) only', async () => {
    const port = await freePort();
    const host = await Host.start(`mixed-port: ${port}\nallow-lan: false\nbind-address: "*"\nrules: ["MATCH,DIRECT"]\n`, { log: quiet() });
    try {
      assert.equal(await reach('127.0.0.1', port), 'served');
      assert.equal(await reach('::ffff:127.0.0.1', port), 'served');
      assert.equal(await reach('::1', port), 'refused', 'not bound on IPv6 loopback');
      const lan = lanIPv4();
      if (lan) assert.equal(await reach(lan, port), 'refused', `not bound on ${lan}`);
    } finally {
      await host.close(0);
    }
  });

  it('true with lan-allowed-ips / lan-disallowed-ips: judged on the unmapped source, v4 and v6', async () => {
    const port = await freePort();
    const host = await Host.start(
      `mixed-port: ${port}\nallow-lan: true\nbind-address: "*"\nlan-allowed-ips: [127.0.0.0/8]\nlan-disallowed-ips: [127.0.0.2/32]\nrules: ["MATCH,DIRECT"]\n`,
      { log: quiet() },
    );
    try {
      // bound to :: (dual stack): an IPv4 client arrives as ::ffff:127.0.0.1 and is unmapped
      assert.equal(await reach('127.0.0.1', port), 'served');
      assert.equal(await reach('::ffff:127.0.0.1', port), 'served');
      assert.equal(await reach('127.0.0.1', port, '127.0.0.2'), 'closed', 'a disallowed source');
      assert.equal(await reach('::1', port), 'closed', 'an IPv6 source outside the allowed list');
    } finally {
      await host.close(0);
    }
  });
});

describe('authentication and skip-auth-prefixes', () => {
  let host: Host;
  let port: number;
  let echo: Local;
  before(async () => {
    echo = await tcpEcho();
    port = await freePort();
    host = await Host.start(
      `mixed-port: ${port}\nauthentication: ["alice:pa:ss w0rd"]\nskip-auth-prefixes: [127.0.0.2/32]\nrules: ["MATCH,DIRECT"]\n`,
      { log: quiet() },
    );
  });
  after(async () => {
    await host?.close(0);
    await echo?.close();
  });

  it('SOCKS5: no-auth is refused (method 0xFF), the first colon splits user and password, wrong ones fail', async () => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from([5, 1, 0]));
    assert.deepEqual([...(await readN(s, 2))], [5, 0xff]);
    s.destroy();
    const ok = await socks5Connect(port, '127.0.0.1', echo.port, { user: 'alice', pass: 'pa:ss w0rd' });
    ok.write('ping');
    assert.equal((await readN(ok, 4)).toString(), 'ping');
    ok.destroy();
    await assert.rejects(socks5Connect(port, '127.0.0.1', echo.port, { user: 'alice', pass: 'pa' }), /auth rejected/);
    await assert.rejects(socks5Connect(port, '127.0.0.1', echo.port, { user: 'alice:pa', pass: 'ss w0rd' }), /auth rejected/);
  });

  it('HTTP: 407 with a challenge without credentials, 403 with wrong ones, the tunnel with right ones', async () => {
    const req = (auth?: string) => `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n${auth ? `Proxy-Authorization: Basic ${Buffer.from(auth).toString('base64')}\r\n` : ''}\r\n`;
    assert.match(await httpStatus(port, req()), /^HTTP\/1\.1 407 /);
    assert.match(await httpStatus(port, req('alice:wrong')), /^HTTP\/1\.1 403 /);
    assert.match(await httpStatus(port, req('alice:pa:ss w0rd')), /^HTTP\/1\.1 200 /);
  });

  it('a source inside skip-auth-prefixes needs no credentials; one outside does', async () => {
    assert.equal(await reach('127.0.0.1', port, '127.0.0.2'), 'served');
    const answer = await new Promise<number[]>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      s.on('error', () => {});
      s.once('connect', () => s.write(Buffer.from([5, 1, 0])));
      s.once('data', (d: Buffer) => {
        s.destroy();
        resolve([...d]);
      });
    });
    assert.deepEqual(answer, [5, 0]);
    assert.match(await httpStatus(port, `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 407 /);
  });
});

describe('loop guard', () => {
  let home: string;
  let host: Host;
  let mixed: number;
  let api: number;
  let echo: Local;
  const lines: string[] = [];
  const config = (rules: string[]) =>
    [`mixed-port: ${mixed}`, `external-controller: 127.0.0.1:${api}`, 'rules:', ...rules.map((r) => `  - ${r}`), ''].join('\n');
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'clash-ts-loop-'));
    echo = await tcpEcho();
    mixed = await freePort();
    api = await freePort();
    const log = createLogger('info', (l) => void lines.push(l));
    const ctl = new ControllerService({ log, homeDir: home });
    host = await Host.start(config(['MATCH,DIRECT']), { log, services: [ctl] });
    ctl.serve(host.control);
  });
  after(async () => {
    await host?.close(0);
    await echo?.close();
  });

  it('refuses a DIRECT connection to one of our listeners or the controller (any spelling of loopback)', async () => {
    for (const target of [`127.0.0.1:${mixed}`, `127.0.0.1:${api}`, `localhost:${api}`, `[::1]:${api}`, `[::ffff:127.0.0.1]:${api}`, `127.0.0.2:${mixed}`, `0.0.0.0:${api}`]) {
      assert.match(await httpStatus(mixed, `CONNECT ${target} HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 502 /, target);
    }
    await assert.rejects(socks5Connect(mixed, '127.0.0.1', api), /socks5 reply 2/);
    assert.ok(lines.some((l) => l.includes(`reject loopback connection to: 127.0.0.1:${api}`)), lines.join(''));
    // other local ports still work
    assert.match(await httpStatus(mixed, `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 200 /);
  });

  it('a rule that names the destination allows it', async () => {
    await host.reload(config([`DST-PORT,${api},DIRECT`, 'MATCH,DIRECT']));
    assert.match(await httpStatus(mixed, `CONNECT 127.0.0.1:${api} HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 200 /);
    assert.match(await httpStatus(mixed, `CONNECT 127.0.0.1:${mixed} HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 502 /, 'MATCH still guarded');
  });
});

describe('credentials never appear in logs', () => {
  it('a debug-level run with auth, failures, server listeners and the controller secret leaks none', async () => {
    const secrets = { pass: 'Xq9-hunter2-pw', trojan: 'Tr0jan-s3cret-pw', uuid: 'b831381d-6324-4d53-ad4f-8cda48b30811', api: 'Api-s3cret-tok' };
    const lines: string[] = [];
    const echo = await tcpEcho();
    const [mixed, trojan, vless, api] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const home = mkdtempSync(join(tmpdir(), 'clash-ts-cred-'));
    const log = createLogger('debug', (l) => void lines.push(l));
    const ctl = new ControllerService({ log, homeDir: home });
    const host = await Host.start(
      [
        `mixed-port: ${mixed}`,
        'log-level: debug',
        `authentication: ["bob:${secrets.pass}"]`,
        `external-controller: 127.0.0.1:${api}`,
        `secret: ${secrets.api}`,
        'listeners:',
        `  - { name: tj, type: trojan, listen: 127.0.0.1, port: ${trojan}, users: [{ username: t, password: ${secrets.trojan} }] }`,
        `  - { name: vl, type: vless, listen: 127.0.0.1, port: ${vless}, users: [{ username: v, uuid: ${secrets.uuid} }] }`,
        'proxies:',
        `  - { name: up, type: socks5, server: 127.0.0.1, port: ${mixed}, username: bob, password: ${secrets.pass} }`,
        'rules:',
        `  - DST-PORT,${echo.port + 1},up`,
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      { log, services: [ctl] },
    );
    ctl.serve(host.control);
    try {
      const ok = await socks5Connect(mixed, '127.0.0.1', echo.port, { user: 'bob', pass: secrets.pass });
      ok.destroy();
      await assert.rejects(socks5Connect(mixed, '127.0.0.1', echo.port, { user: 'bob', pass: `${secrets.pass}x` }));
      const basic = (p: string) => `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from(`bob:${p}`).toString('base64')}\r\n\r\n`;
      await httpStatus(mixed, basic(secrets.pass));
      await httpStatus(mixed, basic('nope'));
      // the upstream socks5 proxy with credentials (a chain through ourselves, allowed by its rule)
      await httpStatus(mixed, `CONNECT 127.0.0.1:${echo.port + 1} HTTP/1.1\r\n${basic(secrets.pass).split('\r\n')[1]}\r\n\r\n`);
      // garbage and wrong keys on the server listeners
      for (const p of [trojan, vless]) await garbage(p);
      await httpStatus(api, `GET /version HTTP/1.1\r\nAuthorization: Bearer ${secrets.api}x\r\n\r\n`);
      await httpStatus(api, `GET /version HTTP/1.1\r\nAuthorization: Bearer ${secrets.api}\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await host.close(0);
      await echo.close();
    }
    const text = lines.join('');
    assert.ok(lines.length > 5, 'the run logged');
    assert.ok(text.includes('level=debug'), 'at debug level');
    for (const [what, s] of Object.entries(secrets)) {
      assert.ok(!text.includes(s), `${what} appears in the log`);
      assert.ok(!text.includes(Buffer.from(s).toString('base64').slice(0, 12)), `${what} (base64) appears in the log`);
    }
    assert.ok(!text.includes(Buffer.from(`bob:${secrets.pass}`).toString('base64')), 'the Basic token appears in the log');
  });
});
