/**
 * proxy-providers against a local subscription server: YAML and base64 payloads, ETag / 304,
 * a payload with a bad entry, a 404 and a hang (the disk copy stays, start-up is not delayed),
 * size-limit, a fetch through a proxy (our own mixed port as a socks5 outbound), a select group
 * routing hashed traffic through a provider proxy, and a reload that retires the old
 * provider's timer.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import type { ConnectionView } from '../../src/core/control-plane.js';
import { Host } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { openTunnels } from '../host/tunnels.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';

const socksYaml = (names: string[], port: number) =>
  `proxies:\n${names.map((n) => `  - { name: "${n}", type: socks5, server: 127.0.0.1, port: ${port} }`).join('\n')}\n`;

const VALIDATED_LM = 'Wed, 21 Oct 2026 07:28:00 GMT';

interface Seen {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** The subscription server: a few fixed answers by path, and every request it saw. */
async function subscriptionServer(): Promise<{ port: number; seen: Seen[]; count: (p: string) => number; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const hung: http.ServerResponse[] = [];
  const links = ['trojan://pw@127.0.0.1:4431?sni=localhost#b64-trojan', `ss://${Buffer.from('aes-128-gcm:pw').toString('base64url')}@127.0.0.1:8388#b64-ss`].join('\n');
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, headers: req.headers });
    if (path === '/yaml') {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'subscription-userinfo': 'upload=1; download=2; total=1024; expire=1700000000' });
      res.end(socksYaml(['y1', 'y2'], 1080));
    } else if (path === '/validated') {
      if (req.headers['if-none-match'] === '"v7"') {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag: '"v7"', 'last-modified': VALIDATED_LM });
      res.end(socksYaml(['v1', 'v2'], 1080));
    } else if (path === '/b64') {
      res.end(Buffer.from(links).toString('base64'));
    } else if (path === '/bad') {
      res.end(`${socksYaml(['good1'], 1080)}  - { name: broken, type: socks5, server: 127.0.0.1, port: nope }\n  - { name: good2, type: socks5, server: 127.0.0.1, port: 1081 }\n`);
    } else if (path === '/404') {
      res.writeHead(404).end('not here');
    } else if (path === '/hang') {
      hung.push(res);
    } else if (path === '/big') {
      res.end(`${socksYaml(['big'], 1080)}# ${'x'.repeat(10_000)}\n`);
    } else if (path.startsWith('/tick')) {
      res.end(socksYaml([path.slice(1)], 1080));
    } else {
      res.writeHead(500).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    count: (p) => seen.filter((s) => s.path === p).length,
    close: async () => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

let sub: Awaited<ReturnType<typeof subscriptionServer>>;
let echo: Local;
const homes: string[] = [];
const hosts: Host[] = [];

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'clash-ts-providers-'));
  homes.push(h);
  return h;
}

async function start(yaml: string, homeDir: string, entries?: LogEntry[]): Promise<Host> {
  const log = createLogger('warning', () => undefined);
  if (entries) log.subscribe((e) => entries.push(e));
  const h = await Host.start(yaml, { log, homeDir });
  hosts.push(h);
  return h;
}

before(async () => {
  sub = await subscriptionServer();
  echo = await tcpEcho();
});
after(async () => {
  await Promise.all(hosts.map((h) => h.close(0)));
  await sub?.close();
  await echo?.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('http providers', () => {
  test('YAML and base64 payloads load after start; the copy is written; ETag gives 304; a bad entry is skipped', async () => {
    const dir = home();
    const entries: LogEntry[] = [];
    const url = (p: string) => `http://127.0.0.1:${sub.port}${p}`;
    const host = await start(
      [
        `mixed-port: ${await freePort()}`,
        'log-level: warning',
        'proxy-providers:',
        `  y: { type: http, url: "${url('/yaml')}", interval: 3600, header: { X-Token: [abc] } }`,
        `  b: { type: http, url: "${url('/b64')}", path: ./b64.txt }`,
        `  bad: { type: http, url: "${url('/bad')}", path: sub/bad.yaml }`,
        'proxy-groups:',
        '  - { name: all, type: select, use: [y, b, bad] }',
        'rules:',
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      dir,
      entries,
    );
    assert.ok(await eventually(() => host.control.providers().every((p) => (p.proxies ?? []).length > 0)), JSON.stringify(host.control.providers()));
    const views = Object.fromEntries(host.control.providers().map((p) => [p.name, p]));
    assert.deepEqual(views.y.proxies, ['y1', 'y2']);
    assert.equal(views.y.vehicleType, 'HTTP');
    assert.ok(views.y.updatedAt > 0);
    assert.deepEqual(views.y.subscriptionInfo, { Upload: 1, Download: 2, Total: 1024, Expire: 1700000000 });
    assert.deepEqual(views.b.proxies, ['b64-trojan', 'b64-ss']);
    assert.deepEqual(views.bad.proxies, ['good1', 'good2']);
    assert.ok(entries.some((e) => e.level === 'warning' && /bad.*proxies\[1\]\.port/.test(e.message)), entries.map((e) => e.message).join('\n'));
    // the group sees every provider proxy; the API lists them as proxies
    assert.deepEqual(host.control.proxy('all')?.all, ['y1', 'y2', 'b64-trojan', 'b64-ss', 'good1', 'good2']);
    assert.equal(host.control.proxy('y1')?.type, 'Socks5');
    assert.ok(await host.control.select('all', 'good2'));
    assert.equal(host.control.proxy('all')?.now, 'good2');
    // the copies on disk: the default path for y (HOMEDIR/proxies/md5(url)), the given ones for the others
    const yPath = join(dir, 'proxies', createHash('md5').update(url('/yaml')).digest('hex'));
    assert.ok(await eventually(() => existsSync(yPath) && existsSync(join(dir, 'b64.txt')) && existsSync(join(dir, 'sub', 'bad.yaml'))));
    assert.match(readFileSync(yPath, 'utf8'), /y1/);
    assert.equal(sub.seen.find((s) => s.path === '/yaml')?.headers['x-token'], 'abc');
    assert.match(String(sub.seen.find((s) => s.path === '/yaml')?.headers['user-agent']), /clash/);
    // an update: the server answers 304 to our ETag, the set stays
    const before = sub.count('/yaml');
    assert.equal(await host.control.updateProvider('y'), true);
    assert.equal(sub.count('/yaml'), before + 1);
    assert.equal(sub.seen.filter((s) => s.path === '/yaml').at(-1)?.headers['if-none-match'], '"v1"');
    assert.deepEqual(host.control.providers().find((p) => p.name === 'y')?.proxies, ['y1', 'y2']);
    assert.equal(await host.control.updateProvider('nope'), false);
  });

  test('ETag and Last-Modified are kept beside the copy: after a restart the first fetch is conditional and a 304 keeps the copy', async () => {
    const dir = home();
    const url = `http://127.0.0.1:${sub.port}/validated`;
    const yaml = ['log-level: silent', 'proxy-providers:', `  v: { type: http, url: "${url}", interval: 3600 }`, 'rules:', '  - MATCH,DIRECT', ''].join('\n');
    const copy = join(dir, 'proxies', createHash('md5').update(url).digest('hex'));
    const requests = () => sub.seen.filter((s) => s.path === '/validated');
    const n0 = requests().length;
    let host = await start(yaml, dir);
    assert.ok(await eventually(() => existsSync(`${copy}.meta.json`) && existsSync(copy) && host.control.providers()[0].updatedAt > 0), 'validators and copy written');
    await host.control.updateProvider('v'); // joins the first fetch if it is still finishing (304 if not)
    assert.equal(requests()[n0].headers['if-none-match'], undefined, 'the first fetch ever is unconditional');
    const meta = JSON.parse(readFileSync(`${copy}.meta.json`, 'utf8'));
    assert.equal(meta.etag, '"v7"');
    assert.equal(meta.lastModified, VALIDATED_LM);
    assert.equal(meta.sha256, createHash('sha256').update(readFileSync(copy)).digest('hex'));
    await host.close(0);
    const written = readFileSync(copy, 'utf8');
    // a restart: the copy is read, and the fetch asks with its validators; 304 keeps it
    host = await start(yaml, dir);
    assert.deepEqual(host.control.providers()[0].proxies, ['v1', 'v2'], 'from the copy, before any fetch');
    // the copy is fresh (interval 3600): ask now, as PUT /providers/proxies/v does
    const n1 = requests().length;
    await host.control.updateProvider('v');
    const r = requests()[n1];
    assert.equal(r.headers['if-none-match'], '"v7"');
    assert.equal(r.headers['if-modified-since'], VALIDATED_LM);
    assert.deepEqual(host.control.providers()[0].proxies, ['v1', 'v2']);
    assert.equal(readFileSync(copy, 'utf8'), written, '304: the copy stays');
    await host.close(0);
    // validators of another copy are not sent: the copy was replaced by hand
    writeFileSync(copy, socksYaml(['hand'], 1080));
    host = await start(yaml, dir);
    assert.deepEqual(host.control.providers()[0].proxies, ['hand']);
    const n2 = requests().length;
    await host.control.updateProvider('v');
    assert.equal(requests()[n2].headers['if-none-match'], undefined, 'not this copy\'s ETag');
    assert.deepEqual(host.control.providers()[0].proxies, ['v1', 'v2'], '200: the new set');
    assert.equal(readFileSync(copy, 'utf8'), written);
    await host.close(0);
  });

  test('a truncated, oversized, random or foreign validators file is ignored: the copy loads and the fetch is unconditional', async () => {
    const url = `http://127.0.0.1:${sub.port}/validated`;
    const yaml = ['log-level: silent', 'proxy-providers:', `  v: { type: http, url: "${url}", interval: 3600 }`, 'rules:', '  - MATCH,DIRECT', ''].join('\n');
    const body = socksYaml(['v1', 'v2'], 1080);
    const sha = createHash('sha256').update(body).digest('hex');
    const bad = [
      `{"sha256":"${sha}","etag":"\\"v7`, // truncated
      JSON.stringify({ sha256: sha, etag: '"v7"', pad: 'x'.repeat(100_000) }), // oversized
      randomBytes(512).toString('latin1'),
      JSON.stringify({ sha256: sha, etag: 7, lastModified: ['x'] }), // wrong types
      'null',
    ];
    for (const meta of bad) {
      const dir = home();
      const copy = join(dir, 'proxies', createHash('md5').update(url).digest('hex'));
      mkdirSync(join(dir, 'proxies'));
      writeFileSync(copy, body);
      writeFileSync(`${copy}.meta.json`, meta);
      const host = await start(yaml, dir);
      try {
        assert.deepEqual(host.control.providers()[0].proxies, ['v1', 'v2']);
        const n = sub.seen.filter((x) => x.path === '/validated').length;
        await host.control.updateProvider('v');
        const r = sub.seen.filter((x) => x.path === '/validated')[n];
        assert.equal(r.headers['if-none-match'], undefined, meta.slice(0, 40));
      } finally {
        await host.close(0);
      }
    }
  });

  test('a 404 and a hanging server: start-up is not delayed, the copy on disk is used, the failure leaves it', async () => {
    const dir = home();
    writeFileSync(join(dir, 'p404.yaml'), socksYaml(['old404'], 1080));
    writeFileSync(join(dir, 'hang.yaml'), socksYaml(['oldhang'], 1080));
    const t0 = Date.now();
    const host = await start(
      [
        `mixed-port: ${await freePort()}`,
        'log-level: silent',
        'proxy-providers:',
        `  p404: { type: http, url: "http://127.0.0.1:${sub.port}/404", path: p404.yaml }`,
        `  hang: { type: http, url: "http://127.0.0.1:${sub.port}/hang", path: hang.yaml }`,
        `  big: { type: http, url: "http://127.0.0.1:${sub.port}/big", size-limit: 1000 }`,
        'proxy-groups:',
        '  - { name: g, type: select, proxies: [DIRECT], use: [p404, hang] }',
        'rules:',
        '  - MATCH,g',
        '',
      ].join('\n'),
      dir,
    );
    assert.ok(Date.now() - t0 < 2000, `started in ${Date.now() - t0} ms`);
    assert.deepEqual(host.control.proxy('g')?.all, ['DIRECT', 'old404', 'oldhang'], 'the disk copies are there before any fetch');
    assert.ok(await eventually(() => sub.count('/hang') >= 1 && sub.count('/404') >= 1));
    await assert.rejects(host.control.updateProvider('p404'), /HTTP 404/);
    await assert.rejects(host.control.updateProvider('big'), /size-limit/);
    const views = Object.fromEntries(host.control.providers().map((p) => [p.name, p]));
    assert.deepEqual(views.p404.proxies, ['old404']);
    assert.deepEqual(views.hang.proxies, ['oldhang']);
    assert.deepEqual(views.big.proxies, []);
    assert.equal(readFileSync(join(dir, 'p404.yaml'), 'utf8'), socksYaml(['old404'], 1080), 'a failed fetch writes nothing');
    // closing aborts the hanging fetch at once
    const t1 = Date.now();
    await host.close(0);
    assert.ok(Date.now() - t1 < 2000, `closed in ${Date.now() - t1} ms`);
  });

  test('fetches through a named proxy (our own mixed port as a socks5 outbound)', async () => {
    const dir = home();
    const mixed = await freePort();
    const opened: ConnectionView[] = [];
    const host = await start(
      [
        `mixed-port: ${mixed}`,
        'log-level: silent',
        'proxies:',
        `  - { name: via, type: socks5, server: 127.0.0.1, port: ${mixed} }`,
        'proxy-providers:',
        `  p: { type: http, url: "http://127.0.0.1:${sub.port}/tick-via", proxy: via }`,
        'rules:',
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      dir,
    );
    host.events.on('connection-opened', (c) => opened.push(c));
    await host.control.updateProvider('p');
    assert.deepEqual(host.control.providers()[0].proxies, ['tick-via']);
    assert.ok(
      opened.some((c) => c.destination.port === sub.port && c.inbound.name === 'DEFAULT-MIXED'),
      `the fetch came in through the mixed port: ${JSON.stringify(opened.map((c) => [c.inbound.name, c.destination]))}`,
    );
  });
});

describe('providers in groups and reloads', () => {
  test('a select group using an inline provider carries hashed traffic through the provider proxy', async () => {
    const dir = home();
    const [mixed, inner] = [await freePort(), await freePort()];
    const host = await start(
      [
        `mixed-port: ${mixed}`,
        'log-level: silent',
        'listeners:',
        `  - { name: in2, type: socks, listen: 127.0.0.1, port: ${inner} }`,
        'proxy-providers:',
        '  inl:',
        '    type: inline',
        '    override: { additional-prefix: "inl/" }',
        '    payload:',
        `      - { name: hop, type: socks5, server: 127.0.0.1, port: ${inner} }`,
        '      - { name: broken, type: socks5, server: 127.0.0.1 }',
        'proxy-groups:',
        '  - { name: sel, type: select, use: [inl] }',
        'rules:',
        '  - IN-NAME,in2,DIRECT',
        '  - MATCH,sel',
        '',
      ].join('\n'),
      dir,
    );
    assert.equal(host.control.proxy('sel')?.now, 'inl/hop');
    const tunnels = await openTunnels(20, 10, mixed, echo.port);
    for (let i = 0; i < 3; i++) for (const t of tunnels) await t.round(4096);
    const chains = host.control.connections().map((c) => c.chains.join(','));
    assert.ok(chains.includes('inl/hop,sel'), chains.join(' | '));
    for (const t of tunnels) assert.ok(t.verify().ok);
    await Promise.all(tunnels.map((t) => t.end()));
  });

  test('-t (Host.check) validates inline and file providers without the network', async () => {
    const dir = home();
    writeFileSync(join(dir, 'f.yaml'), socksYaml(['f1'], 1080));
    const entries: LogEntry[] = [];
    const log = createLogger('warning', () => undefined);
    log.subscribe((e) => entries.push(e));
    const before = sub.seen.length;
    await Host.check(
      [
        'proxy-providers:',
        '  f: { type: file, path: f.yaml }',
        '  i: { type: inline, payload: [{ name: x, type: socks5, server: 127.0.0.1, port: 0 }] }',
        `  h: { type: http, url: "http://127.0.0.1:${sub.port}/yaml" }`,
        'proxy-groups:',
        '  - { name: g, type: select, use: [f, i, h] }',
        '',
      ].join('\n'),
      { log, homeDir: dir },
    );
    assert.equal(sub.seen.length, before, 'no fetch');
    assert.ok(entries.some((e) => /\[Provider\] i: .*port/.test(e.message)), entries.map((e) => e.message).join('\n'));
  });

  test('a reload keeps providers working and stops the retired generation\'s provider timer', async () => {
    const dir = home();
    const mixed = await freePort();
    const cfg = (tick: string) =>
      [
        `mixed-port: ${mixed}`,
        'log-level: silent',
        'proxy-providers:',
        `  t: { type: http, url: "http://127.0.0.1:${sub.port}/${tick}", interval: 1 }`,
        'proxy-groups:',
        '  - { name: g, type: select, use: [t] }',
        'rules:',
        '  - MATCH,g',
        '',
      ].join('\n');
    const host = await start(cfg('tick-a'), dir);
    assert.ok(await eventually(() => sub.count('/tick-a') >= 2, 5000), 'the interval refetches');
    const old = host.generation;
    await host.reload(cfg('tick-b'));
    await old.closed;
    const a = sub.count('/tick-a');
    assert.ok(await eventually(() => host.control.proxy('g')?.now === 'tick-b', 5000));
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(sub.count('/tick-a') <= a + 1, `the retired provider stopped fetching: ${a} -> ${sub.count('/tick-a')}`);
    assert.ok(sub.count('/tick-b') >= 2, 'the new one runs its interval');
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await host.close(0);
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(after < timers, `closing the host cleared the provider timer (${timers} -> ${after})`);
  });
});
