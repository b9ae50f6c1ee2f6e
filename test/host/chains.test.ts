/**
 * Proxy chains through two real servers nobody here wrote: a relay group [microsocks, ss-server]
 * and an ss proxy with `dialer-proxy` through microsocks, a megabyte echoed and hashed; selections
 * kept in the home dir across a restart; 2,000 proxies in 50 groups load fast and check staggered.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { ProbeQueue } from '../../src/group/common/queue.js';
import { Host, SELECTED_FILE } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { socks5Connect } from '../support/socks-client.js';

const PASS = 'chain-test-pass';
let echo: Local;
let socks: Peer;
let ss: Peer;
let socksPort: number;
let ssPort: number;

before(async () => {
  echo = await tcpEcho();
  socksPort = await freePort();
  socks = await startPeer({ name: 'microsocks', command: 'microsocks', args: ['-i', '127.0.0.1', '-p', String(socksPort)], readyPort: socksPort });
  ssPort = await freePort();
  ss = await startPeer({ name: 'ss-server', command: 'ss-server', args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', PASS, '-m', 'aes-128-gcm', '-t', '5'], readyPort: ssPort });
});
after(async () => {
  await ss?.stop();
  await socks?.stop();
  await echo?.close();
});

/** A megabyte through the host's mixed port to the echo server; resolves when the echo hash matches. */
async function hashedEcho(mixed: number): Promise<void> {
  const data = randomBytes(1 << 20);
  const s = await socks5Connect(mixed, '127.0.0.1', echo.port);
  const got = createHash('sha256');
  let n = 0;
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (b: Buffer) => {
      got.update(b);
      n += b.length;
      if (n >= data.length) resolve();
    });
    s.on('close', () => (n >= data.length ? resolve() : reject(new Error(`closed after ${n} bytes`))));
  });
  s.write(data);
  await done;
  s.destroy();
  assert.equal(got.digest('hex'), createHash('sha256').update(data).digest('hex'));
}

function chainYaml(mixed: number, extra: string[]): string {
  return [
    `mixed-port: ${mixed}`,
    'log-level: silent',
    'proxies:',
    `  - { name: ms, type: socks5, server: 127.0.0.1, port: ${socksPort} }`,
    `  - { name: ss, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS} }`,
    `  - { name: ss-via, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS}, dialer-proxy: hop }`,
    'proxy-groups:',
    '  - { name: chain, type: relay, proxies: [ms, ss] }',
    '  - { name: hop, type: select, proxies: [ms] }',
    ...extra,
    '',
  ].join('\n');
}

describe('chains', () => {
  test('relay [microsocks, ss-server] and dialer-proxy through microsocks carry bytes intact; killing the first hop breaks both', async () => {
    const mixed = await freePort();
    const host = await Host.start(chainYaml(mixed, ['rules:', '  - MATCH,chain']), { log: createLogger('silent') });
    try {
      assert.equal(host.control.proxy('chain')!.type, 'Relay');
      assert.deepEqual(host.control.proxy('chain')!.all, ['ms', 'ss']);
      await hashedEcho(mixed);
      const conns = await host.control.connections();
      void conns;
      await host.reload(chainYaml(mixed, ['rules:', '  - MATCH,ss-via']));
      await hashedEcho(mixed);
      // both went through microsocks: without it neither connects
      await socks.kill();
      await assert.rejects(hashedEcho(mixed));
      await host.reload(chainYaml(mixed, ['rules:', '  - MATCH,chain']));
      await assert.rejects(hashedEcho(mixed));
    } finally {
      await host.close(0);
      socks = await startPeer({ name: 'microsocks', command: 'microsocks', args: ['-i', '127.0.0.1', '-p', String(socksPort)], readyPort: socksPort });
    }
  });
});

describe('dialer-proxy on provider proxies', () => {
  /** an inline provider of ss proxies; `key` puts dialer-proxy on the provider, its override or the entry */
  const providerYaml = (mixed: number, key: 'provider' | 'override' | 'entry', via = 'hop', rules = ['rules:', '  - MATCH,sub']): string => {
    const entry = `{ name: ss-p, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS}${key === 'entry' ? `, dialer-proxy: ${via}` : ''} }`;
    const extra = key === 'provider' ? `, dialer-proxy: ${via}` : key === 'override' ? `, override: { dialer-proxy: ${via} }` : '';
    return chainYaml(mixed, ['  - { name: sub, type: select, use: [prov] }', ...rules]).replace(
      'proxy-groups:',
      `proxy-providers:\n  prov: { type: inline${extra}, payload: [${entry}] }\nproxy-groups:`,
    );
  };

  test('the provider key, its override and an entry\'s own key: microsocks then ss-server, bytes hashed; without microsocks none connects', async () => {
    const mixed = await freePort();
    const host = await Host.start(providerYaml(mixed, 'provider'), { log: createLogger('silent') });
    try {
      assert.deepEqual(host.control.proxy('sub')!.all, ['ss-p']);
      await hashedEcho(mixed);
      await host.reload(providerYaml(mixed, 'override'));
      await hashedEcho(mixed);
      await host.reload(providerYaml(mixed, 'entry'));
      assert.deepEqual(host.control.proxy('sub')!.all, ['ss-p']);
      await hashedEcho(mixed);
      await socks.kill();
      for (const key of ['provider', 'override', 'entry'] as const) {
        await host.reload(providerYaml(mixed, key));
        await assert.rejects(hashedEcho(mixed), `${key}: through microsocks`);
      }
    } finally {
      await host.close(0);
      socks = await startPeer({ name: 'microsocks', command: 'microsocks', args: ['-i', '127.0.0.1', '-p', String(socksPort)], readyPort: socksPort });
    }
  });

  test('not found and cycles: config errors naming them (provider key, override); an entry\'s own is skipped with the reason', async () => {
    const log = createLogger('silent');
    await assert.rejects(Host.check(providerYaml(0, 'provider', 'nowhere'), { log }), /dialer-proxy "nowhere" not found \(provider "prov"\)/);
    await assert.rejects(Host.check(providerYaml(0, 'override', 'nowhere'), { log }), /override.*dialer-proxy "nowhere" not found/s);
    // sub uses prov: prov's proxies dialing through sub would dial through themselves
    await assert.rejects(Host.check(providerYaml(0, 'provider', 'sub'), { log }), /dialer-proxy cycle: provider prov -> sub -> provider prov \(provider "prov"\)/);
    // …also through another group and a proxy's dialer-proxy
    const deep = providerYaml(0, 'override', 'outer').replace('proxy-groups:', 'proxy-groups:\n  - { name: outer, type: select, proxies: [ss-via2] }').replace(
      '  - { name: ms,',
      `  - { name: ss-via2, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS}, dialer-proxy: sub }\n  - { name: ms,`,
    );
    await assert.rejects(Host.check(deep, { log }), /dialer-proxy cycle: provider prov -> outer -> ss-via2 -> sub -> provider prov/);
    // an entry's own: that proxy is skipped with a warning naming it, the provider loads the rest
    const lines: string[] = [];
    const warnLog = createLogger('warning', () => undefined);
    warnLog.subscribe((e) => lines.push(e.message));
    const mixed = await freePort();
    const twoEntries = providerYaml(mixed, 'entry', 'sub').replace(
      '] }\nproxy-groups:',
      `, { name: ss-ok, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS}, dialer-proxy: hop }, { name: ss-lost, type: ss, server: 127.0.0.1, port: 1, cipher: aes-128-gcm, password: x, dialer-proxy: nowhere }] }\nproxy-groups:`,
    );
    const host = await Host.start(twoEntries, { log: warnLog });
    try {
      assert.deepEqual(host.control.proxy('sub')!.all, ['ss-ok']);
      assert.ok(lines.some((l) => /dialer-proxy cycle: provider prov -> sub -> provider prov \(proxy "ss-p"\)/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /dialer-proxy "nowhere" not found \(proxy "ss-lost"\)/.test(l)), lines.join('\n'));
      await hashedEcho(mixed);
    } finally {
      await host.close(0);
    }
  });
});

describe('profile.store-selected', () => {
  test('a choice survives a restart (selected.json in the home dir) and a reload; store-selected: false stops writing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'clash-ts-home-'));
    const yaml = chainYaml(0, ['  - { name: pick, type: select, proxies: [ms, ss, DIRECT] }', 'rules:', '  - MATCH,pick']).replace(/^mixed-port: 0\n/, '');
    let host = await Host.start(yaml, { log: createLogger('silent'), homeDir: home });
    assert.equal(host.control.proxy('pick')!.now, 'ms');
    assert.equal(await host.control.select('pick', 'DIRECT'), true);
    const file = join(home, SELECTED_FILE);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).selected, { pick: 'DIRECT' });
    await host.reload(yaml);
    assert.equal(host.control.proxy('pick')!.now, 'DIRECT');
    await host.close(0);
    host = await Host.start(yaml, { log: createLogger('silent'), homeDir: home });
    assert.equal(host.control.proxy('pick')!.now, 'DIRECT', 'read back at start');
    await host.reload(`profile: { store-selected: false }\n${yaml}`);
    assert.equal(await host.control.select('pick', 'ss'), true);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).selected, { pick: 'DIRECT' }, 'not written');
    await host.close(0);
    assert.ok(!existsSync(`${file}.${process.pid}.tmp`));
  });
});

/**
 * One loopback server that is every proxy (an HTTP CONNECT answer) and the test URL (a 204):
 * counts the tests it served and the most sockets open at once.
 */
async function proxyAndTestServer(): Promise<{ port: number; served: number; peak: number; close(): void }> {
  let open = 0;
  const server = net.createServer((s) => {
    open++;
    probe.peak = Math.max(probe.peak, open);
    s.on('close', () => open--);
    s.on('error', () => {});
    let connected = false;
    s.on('data', (b: Buffer) => {
      if (!b.includes('\r\n\r\n')) return;
      if (!connected) {
        connected = true;
        setTimeout(() => s.write('HTTP/1.1 200 Connection established\r\n\r\n'), 5);
      } else {
        probe.served++;
        s.end('HTTP/1.1 204 No Content\r\n\r\n');
      }
    });
  });
  const probe = { port: 0, served: 0, peak: 0, close: () => void server.close() };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  probe.port = (server.address() as net.AddressInfo).port;
  return probe;
}

describe('a large config', () => {
  test('2,000 proxies in 50 url-test groups load in well under a second; their checks are staggered', async () => {
    const probe = await proxyAndTestServer();
    const port = probe.port;
    const lines = ['log-level: silent', 'proxies:'];
    for (let i = 0; i < 2000; i++) lines.push(`  - { name: n${i}, type: http, server: 127.0.0.1, port: ${port} }`);
    lines.push('proxy-groups:');
    for (let g = 0; g < 50; g++) {
      const members = Array.from({ length: 40 }, (_, j) => `n${g * 40 + j}`).join(', ');
      lines.push(`  - { name: g${g}, type: url-test, proxies: [${members}], url: "http://127.0.0.1:${port}/", interval: 600, lazy: false }`);
    }
    lines.push('rules:', '  - MATCH,g0', '');
    const t0 = performance.now();
    const host = await Host.start(lines.join('\n'), { log: createLogger('silent') });
    const ms = performance.now() - t0;
    console.log(`# 2,000 proxies in 50 groups: started in ${ms.toFixed(0)} ms`);
    try {
      assert.ok(ms < 5000, `took ${ms} ms`);
      assert.equal(host.control.proxies().length, 2000 + 50 + 6);
      assert.ok(await eventually(() => probe.served >= 2000, 30_000), `served ${probe.served}`);
      const limit = new ProbeQueue().limit;
      // seen from the server, a finished test's socket closes a moment after the next one opens
      assert.ok(probe.peak <= limit + 4, `peak ${probe.peak} test connections at once (limit ${limit})`);
      console.log(`# peak ${probe.peak} test connections at once for 2,000 checks (queue limit ${limit})`);
      assert.ok(host.control.proxy('n1999')!.history.length >= 1);
    } finally {
      await host.close(0);
      probe.close();
    }
  });
});

describe('a large provider', () => {
  test('2,000 proxies of one inline provider with a health-check: every proxy tested, staggered by the generation\'s queue', async () => {
    const probe = await proxyAndTestServer();
    const port = probe.port;
    const payload = Array.from({ length: 2000 }, (_, i) => `{ name: n${i}, type: http, server: 127.0.0.1, port: ${port} }`).join(', ');
    const yaml = [
      'log-level: silent',
      'proxy-providers:',
      `  big: { type: inline, health-check: { enable: true, url: "http://127.0.0.1:${port}/", interval: 600, lazy: false }, payload: [${payload}] }`,
      'proxy-groups:',
      '  - { name: all, type: select, use: [big] }',
      'rules:',
      '  - MATCH,all',
      '',
    ].join('\n');
    const host = await Host.start(yaml, { log: createLogger('silent') });
    try {
      assert.equal(host.control.providers()[0].proxies!.length, 2000);
      assert.ok(await eventually(() => probe.served >= 2000, 60_000), `served ${probe.served}`);
      const limit = new ProbeQueue().limit;
      assert.ok(probe.peak <= limit + 4, `peak ${probe.peak} test connections at once (limit ${limit})`);
      console.log(`# provider of 2,000 proxies: peak ${probe.peak} test connections at once (queue limit ${limit})`);
      assert.ok(await eventually(() => host.control.proxy('n1999')!.history.length >= 1 && host.control.proxy('n0')!.alive));
    } finally {
      await host.close(0);
      probe.close();
    }
  });
});
