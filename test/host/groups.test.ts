/**
 * Group types over real proxies on loopback (small CONNECT proxies whose delay the test sets,
 * stops and restarts): url-test follows the fastest within one interval and honours tolerance,
 * fallback leaves a dead proxy and comes back to it, load-balance spreads and pins connections,
 * health checks are components that a reload closes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import type { Metadata } from '../../src/core/metadata.js';
import type { HealthCheck } from '../../src/group/common/health.js';
import { Host } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { socks5Connect } from '../support/socks-client.js';

let web: http.Server;
let url: string;
let echo: Local;
const proxies: ConnectProxy[] = [];

before(async () => {
  web = http.createServer((_req, res) => {
    res.writeHead(204);
    res.end();
  });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  url = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}/generate_204`;
  echo = await tcpEcho();
  for (const d of [300, 150, 20]) proxies.push(await startConnectProxy(d));
});
after(async () => {
  for (const p of proxies) await p.stop();
  await echo?.close();
  web?.closeAllConnections();
  web?.close();
});

const proxyLines = () => ['proxies:', ...proxies.map((p, i) => `  - { name: p${i + 1}, type: http, server: 127.0.0.1, port: ${p.port} }`)];

async function hostWith(groups: string[], target: string): Promise<{ host: Host; mixed: number }> {
  const mixed = await freePort();
  const yaml = [`mixed-port: ${mixed}`, 'log-level: silent', ...proxyLines(), 'proxy-groups:', ...groups, 'rules:', `  - MATCH,${target}`, ''].join('\n');
  return { host: await Host.start(yaml, { log: createLogger('silent') }), mixed };
}

/** One echo exchange through the host's mixed port. */
async function exchange(mixed: number): Promise<void> {
  const s = await socks5Connect(mixed, '127.0.0.1', echo.port);
  s.write('ping');
  const [b] = (await once(s, 'data')) as [Buffer];
  assert.equal(b.toString(), 'ping');
  s.destroy();
}

function healthOf(host: Host, group: string): HealthCheck {
  const c = host.generation.components.find((x) => x.label === `health-check(${group})`);
  assert.ok(c, `no health check for ${group}`);
  return c as HealthCheck;
}

function meta(src: string, dst: string): Metadata {
  return { id: 'x', network: 'tcp', inbound: { type: 'SOCKS5', name: 'm', port: 1 }, source: { host: src, port: 40000 }, destination: { host: dst, port: 443 } };
}

describe('url-test', () => {
  test('picks the fastest of three proxies, follows a change within one interval, honours tolerance', async () => {
    const { host, mixed } = await hostWith(
      [
        `  - { name: auto, type: url-test, proxies: [p1, p2, p3], url: "${url}", interval: 1, lazy: false, timeout: 2000 }`,
        `  - { name: steady, type: url-test, proxies: [p1, p2, p3], url: "${url}", interval: 1, lazy: false, timeout: 2000, tolerance: 400 }`,
      ],
      'auto',
    );
    try {
      assert.ok(await eventually(() => host.control.proxy('auto')?.now === 'p3', 5000), `now: ${host.control.proxy('auto')?.now}`);
      assert.equal(host.control.proxy('steady')?.now, 'p3');
      const before3 = proxies[2].count;
      await exchange(mixed);
      assert.ok(proxies[2].count > before3, 'the connection went through p3');
      // the history the API shows has the checks
      assert.ok(host.control.proxy('p3')!.history.length >= 1);
      assert.equal(host.control.proxy('auto')!.type, 'URLTest');
      // p3 slows down: auto moves to p2 within an interval (+ the check's time); steady stays (within tolerance)
      proxies[2].delayMs = 250;
      // "within one interval" counted in check rounds, not wall time, so a loaded machine cannot fail it
      const autoRounds = healthOf(host, 'auto').rounds;
      assert.ok(await eventually(() => host.control.proxy('auto')?.now === 'p2', 10_000), `now: ${host.control.proxy('auto')?.now}`);
      const followedIn = healthOf(host, 'auto').rounds - autoRounds;
      assert.ok(followedIn <= 2, `followed after ${followedIn} check rounds`);
      const rounds = healthOf(host, 'steady').rounds;
      assert.ok(await eventually(() => healthOf(host, 'steady').rounds >= rounds + 1, 4000));
      assert.equal(host.control.proxy('steady')?.now, 'p3', 'within tolerance: kept');
    } finally {
      proxies[2].delayMs = 20;
      await host.close(0);
    }
  });
});

describe('fallback', () => {
  test('the first alive proxy; the current one dies: the next within one interval; it comes back: the group returns', async () => {
    const { host, mixed } = await hostWith([`  - { name: fb, type: fallback, proxies: [p2, p3], url: "${url}", interval: 1, timeout: 1000 }`], 'fb');
    try {
      assert.equal(host.control.proxy('fb')!.now, 'p2');
      await exchange(mixed); // used: the lazy check starts
      assert.ok(await eventually(() => healthOf(host, 'fb').rounds >= 1, 4000));
      await proxies[1].stop();
      const fbRounds = healthOf(host, 'fb').rounds;
      // the first connection may fail (refused: it starts a check at once); the next ones go to p3
      await exchange(mixed).catch(() => undefined);
      assert.ok(await eventually(() => host.control.proxy('fb')!.now === 'p3', 10_000), `now: ${host.control.proxy('fb')!.now}`);
      // within one interval, counted in check rounds (wall time fails on a loaded machine)
      const switchedIn = healthOf(host, 'fb').rounds - fbRounds;
      assert.ok(switchedIn <= 2, `switched after ${switchedIn} check rounds`);
      const before3 = proxies[2].count;
      await exchange(mixed);
      // at least this connection (a health check through p3 may run at the same moment: one more)
      assert.ok(proxies[2].count >= before3 + 1, `p3 carried ${proxies[2].count - before3}`);
      await proxies[1].start();
      assert.ok(await eventually(() => host.control.proxy('fb')!.now === 'p2', 10_000), 'returned to p2');
      await exchange(mixed);
    } finally {
      await proxies[1].start();
      await host.close(0);
    }
  });
});

describe('load-balance', () => {
  test('round-robin, consistent-hashing and sticky-sessions over 1,000 connections each', async () => {
    const { host, mixed } = await hostWith(
      [
        `  - { name: rr, type: load-balance, strategy: round-robin, proxies: [p1, p2, p3], url: "${url}" }`,
        `  - { name: ch, type: load-balance, proxies: [p1, p2, p3], url: "${url}" }`,
        `  - { name: ss, type: load-balance, strategy: sticky-sessions, proxies: [p1, p2, p3], url: "${url}" }`,
      ],
      'rr',
    );
    try {
      const gen = host.generation;
      const spread = (group: string, m: (i: number) => Metadata) => {
        const g = gen.outbounds.get(group) as unknown as { pick(meta: Metadata): { name: string } };
        const counts: Record<string, number> = {};
        const by = new Map<string, string>();
        for (let i = 0; i < 1000; i++) {
          const md = m(i);
          const name = g.pick(md).name;
          counts[name] = (counts[name] ?? 0) + 1;
          const key = `${md.source.host}>${md.destination.host}`;
          if (by.has(key)) assert.equal(by.get(key), name, `${group}: ${key} moved`);
          by.set(key, name);
        }
        return counts;
      };
      const rr = spread('rr', (i) => meta('10.0.0.1', `h${i}.example`));
      assert.deepEqual(Object.values(rr).sort(), [333, 333, 334], JSON.stringify(rr));
      // consistent-hashing: one site (eTLD+1), one proxy; many sites spread over all three
      const ch = spread('ch', (i) => meta(`10.0.${i % 7}.1`, `www.site${i % 300}.com`));
      assert.equal(Object.keys(ch).length, 3, JSON.stringify(ch));
      for (const n of Object.values(ch)) assert.ok(n > 150, JSON.stringify(ch));
      const g = gen.outbounds.get('ch') as unknown as { pick(meta: Metadata): { name: string } };
      assert.equal(g.pick(meta('1.1.1.1', 'a.site5.co.uk')).name, g.pick(meta('2.2.2.2', 'www.site5.co.uk')).name);
      // sticky-sessions: one source+destination pair stays on one proxy
      const ss = spread('ss', (i) => meta(`10.1.${i % 20}.1`, `s${i % 40}.org`));
      assert.equal(Object.keys(ss).length, 3, JSON.stringify(ss));
      // and real traffic: 30 connections round-robin through all three proxies (once the lazy
      // checks the picks above started are done, so only these connections are counted)
      assert.ok(await eventually(() => ['rr', 'ch', 'ss'].every((n) => healthOf(host, n).rounds >= 1), 4000));
      const before = proxies.map((p) => p.count);
      for (let i = 0; i < 30; i++) await exchange(mixed);
      const used = proxies.map((p, i) => p.count - before[i]);
      assert.deepEqual(used, [10, 10, 10]);
    } finally {
      await host.close(0);
    }
  });
});

describe('health checks are components', () => {
  test('a reload closes the old checks (no timer survives); -t builds them without touching the network', async () => {
    const group = `  - { name: auto, type: url-test, proxies: [p1, p2, p3], url: "${url}", interval: 1, lazy: false }`;
    const counts = proxies.map((p) => p.count);
    await Host.check(['mixed-port: 0', ...proxyLines(), 'proxy-groups:', group, 'rules:', '  - MATCH,auto', ''].join('\n'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(proxies.map((p) => p.count), counts, '-t dialed');
    const { host } = await hostWith([group], 'auto');
    try {
      const old = healthOf(host, 'auto');
      assert.ok(await eventually(() => old.rounds >= 1, 4000));
      await host.reload(host.configText!.replace('interval: 1', 'interval: 2'));
      assert.equal(old.closed, true);
      const rounds = old.rounds;
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(old.rounds, rounds, 'the retired check ran again');
    } finally {
      await host.close(0);
    }
  });
});
