/**
 * Provider health checks and fixed choices, through the REST controller with curl, over real
 * proxies on loopback (small CONNECT proxies the test stops and restarts) and a local test URL:
 * a lazy provider check waits for its group to be used, an eager one runs at start, one with
 * `enable: false` runs only when asked; GET /providers/proxies/:name/healthcheck and
 * …/:proxy/healthcheck answer as mihomo's; /proxies/:name/delay finds provider proxies; a
 * url-test / fallback choice is fixed by PUT, kept (url-test) or dropped (fallback) when the
 * member dies, cleared by DELETE; each group type's JSON has mihomo's fields.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControllerService } from '../../src/api/service.js';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { curl, json } from '../api/client.js';
import { eventually } from '../cluster/load.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { socks5Connect } from '../support/socks-client.js';

let web: http.Server;
let testUrl: string;
let echo: Local;
const proxies: ConnectProxy[] = [];
let deadPort: number;
let home: string;
let host: Host;
let base: string;
let mixed: number;

const get = async (path: string) => curl([`${base}${path}`]);
const put = async (path: string, body: unknown) => curl(['-X', 'PUT', '-H', 'Content-Type: application/json', '-d', JSON.stringify(body), `${base}${path}`]);
const del = async (path: string) => curl(['-X', 'DELETE', `${base}${path}`]);
const proxyJson = async (name: string) => json(await get(`/proxies/${encodeURIComponent(name)}`));

before(async () => {
  web = http.createServer((_req, res) => res.writeHead(204).end());
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  testUrl = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}/generate_204`;
  echo = await tcpEcho();
  for (const d of [200, 100, 10]) proxies.push(await startConnectProxy(d));
  deadPort = await freePort();
  home = mkdtempSync(join(tmpdir(), 'clash-ts-phc-'));
  mixed = await freePort();
  const api = await freePort();
  base = `http://127.0.0.1:${api}`;
  const hc = (extra: string) => `{ enable: true, url: "${testUrl}", interval: 1, timeout: 2000${extra} }`;
  const yaml = [
    `mixed-port: ${mixed}`,
    `external-controller: 127.0.0.1:${api}`,
    'log-level: silent',
    'proxies:',
    ...proxies.map((p, i) => `  - { name: p${i + 1}, type: http, server: 127.0.0.1, port: ${p.port} }`),
    'proxy-providers:',
    `  lazyp: { type: inline, health-check: ${hc(', lazy: true, expected-status: 204')}, payload: [`,
    `      { name: q-live, type: http, server: 127.0.0.1, port: ${proxies[2].port} },`,
    `      { name: q-dead, type: http, server: 127.0.0.1, port: ${deadPort} } ] }`,
    `  eager: { type: inline, health-check: ${hc(', lazy: false')}, payload: [{ name: e1, type: http, server: 127.0.0.1, port: ${proxies[1].port} }] }`,
    `  manual: { type: inline, health-check: { enable: false, url: "${testUrl}" }, payload: [{ name: m1, type: http, server: 127.0.0.1, port: ${proxies[1].port} }] }`,
    'proxy-groups:',
    `  - { name: auto, type: url-test, proxies: [p1, p2, p3], url: "${testUrl}", interval: 1, lazy: false, timeout: 2000 }`,
    `  - { name: fb, type: fallback, proxies: [p1, p2, p3], url: "${testUrl}", interval: 1, lazy: false, timeout: 2000 }`,
    '  - { name: sub, type: select, use: [lazyp] }',
    '  - { name: eg, type: select, use: [eager] }',
    '  - { name: inherit, type: url-test, use: [manual] }',
    `  - { name: lb, type: load-balance, proxies: [p1, p2], url: "${testUrl}", hidden: true, icon: "https://icons.test/lb.png", expected-status: "200-299" }`,
    '  - { name: chain, type: relay, proxies: [p1, p2] }',
    'rules:',
    `  - DST-PORT,${echo.port},sub`,
    '  - MATCH,DIRECT',
    '',
  ].join('\n');
  const log = createLogger('silent');
  const ctl = new ControllerService({ log, homeDir: home, configFile: join(home, 'config.yaml'), restart: async () => undefined });
  host = await Host.start(yaml, { log, services: [ctl], homeDir: home });
  ctl.serve(host.control);
});
after(async () => {
  await host?.close(0);
  for (const p of proxies) await p.stop();
  await echo?.close();
  web?.closeAllConnections();
  web?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('provider health-check', () => {
  test('lazy waits for a group using it; eager runs at start; enable: false runs only when asked', async () => {
    // the eager provider checks at start, every second
    assert.ok(await eventually(() => (host.control.proxy('e1')?.history.length ?? 0) >= 2, 8000), 'eager provider checked twice');
    // the lazy one has not: no group using it was used
    assert.equal(host.control.proxy('q-live')!.history.length, 0, 'lazy: untouched');
    assert.equal(host.control.proxy('q-dead')!.history.length, 0);
    assert.equal(host.control.proxy('m1')!.history.length, 0, 'enable: false: no timer');
    // one connection through `sub` (select over lazyp: q-live first) starts it
    const s = await socks5Connect(mixed, '127.0.0.1', echo.port);
    s.write('ping');
    const [b] = (await once(s, 'data')) as [Buffer];
    assert.equal(b.toString(), 'ping');
    s.destroy();
    assert.ok(await eventually(() => host.control.proxy('q-live')!.history.length > 0 && host.control.proxy('q-dead')!.history.length > 0, 8000));
    assert.equal(host.control.proxy('q-live')!.alive, true);
    assert.ok(host.control.proxy('q-live')!.history.at(-1)!.delay >= 10);
    assert.equal(host.control.proxy('q-dead')!.alive, false, 'failure marked');
    assert.equal(host.control.proxy('q-dead')!.history.at(-1)!.delay, 0);
    // the API shows them, each with its provider
    const view = json(await get('/providers/proxies/lazyp'));
    assert.equal(view.testUrl, testUrl);
    assert.equal(view.expectedStatus, '204');
    const dead = view.proxies.find((p: { name: string }) => p.name === 'q-dead');
    assert.equal(dead.alive, false);
    assert.equal(dead['provider-name'], 'lazyp');
    assert.equal(json(await get('/providers/proxies/manual')).expectedStatus, '*');
  });

  test('GET /providers/proxies/:name/healthcheck runs the check and answers 204 once it is done', async () => {
    assert.equal(host.control.proxy('m1')!.history.length, 0);
    const r = await get('/providers/proxies/manual/healthcheck');
    assert.equal(r.status, 204);
    assert.equal(host.control.proxy('m1')!.history.length, 1, 'done before the answer');
    assert.ok(host.control.proxy('m1')!.history[0].delay >= 100, 'through p2, 100 ms');
    assert.equal((await get('/providers/proxies/nobody/healthcheck')).status, 404);
  });

  test('GET /providers/proxies/:name/:proxy/healthcheck and /proxies/:name/delay test a provider proxy', async () => {
    const q = `url=${encodeURIComponent(testUrl)}&timeout=2000`;
    const ok = await get(`/providers/proxies/lazyp/q-live/healthcheck?${q}`);
    assert.equal(ok.status, 200, ok.body);
    assert.ok(json(ok).delay >= 10);
    const dead = await get(`/providers/proxies/lazyp/q-dead/healthcheck?${q}`);
    assert.equal(dead.status, 503);
    assert.equal(json(dead).message, 'An error occurred in the delay test');
    assert.equal((await get(`/providers/proxies/lazyp/e1/healthcheck?${q}`)).status, 404, 'another provider\'s proxy');
    assert.equal((await get(`/providers/proxies/lazyp/q-live/healthcheck?url=${encodeURIComponent(testUrl)}`)).status, 400, 'no timeout');
    // the same proxy through /proxies (it lives only in the provider)
    const d = await get(`/proxies/q-live/delay?${q}`);
    assert.equal(d.status, 200, d.body);
    assert.ok(json(d).delay >= 10);
    assert.equal((await get(`/proxies/q-dead/delay?${q}`)).status, 503);
    // a group's delay tests provider members too
    const gd = json(await get(`/group/sub/delay?${q}`));
    assert.deepEqual(Object.keys(gd), ['q-live']);
  });

  test('a group using a provider, without a url of its own, tests the provider\'s url (mihomo)', async () => {
    const g = await proxyJson('inherit');
    assert.equal(g.testUrl, testUrl);
    assert.equal(g.expectedStatus, '*');
  });
});

describe('fixed choices and group JSON', () => {
  test('url-test: PUT fixes a member, used while alive and kept while dead; DELETE clears it', async () => {
    assert.ok(await eventually(() => host.control.proxy('auto')!.now === 'p3', 8000), 'fastest first');
    assert.equal((await put('/proxies/auto', { name: 'p1' })).status, 204);
    let g = await proxyJson('auto');
    assert.equal(g.now, 'p1');
    assert.equal(g.fixed, 'p1');
    assert.equal(g.testUrl, testUrl);
    assert.equal(g.expectedStatus, '*');
    assert.equal(g.hidden, false);
    await proxies[0].stop();
    try {
      assert.ok(await eventually(() => host.control.proxy('auto')!.now === 'p3', 8000), 'a dead fixed member is not used');
      assert.equal((await proxyJson('auto')).fixed, 'p1', 'but stays fixed');
    } finally {
      await proxies[0].start();
    }
    assert.ok(await eventually(() => host.control.proxy('auto')!.now === 'p1', 8000), 'back once alive');
    assert.equal((await del('/proxies/auto')).status, 204);
    g = await proxyJson('auto');
    assert.equal(g.fixed, '');
    assert.equal(g.now, 'p3');
    assert.equal((await put('/proxies/auto', { name: 'nobody' })).status, 400);
  });

  test('fallback: a fixed member is dropped once it fails; DELETE on a select group is 400', async () => {
    assert.ok(await eventually(() => host.control.proxy('fb')!.now === 'p1', 8000));
    assert.equal((await put('/proxies/fb', { name: 'p2' })).status, 204);
    assert.equal((await proxyJson('fb')).now, 'p2');
    assert.equal((await proxyJson('fb')).fixed, 'p2');
    await proxies[1].stop();
    try {
      assert.ok(await eventually(() => host.control.proxy('fb')!.now === 'p1', 8000));
      assert.equal((await proxyJson('fb')).fixed, '', 'dropped, as mihomo');
    } finally {
      await proxies[1].start();
    }
    // a dead member chosen is tested at once (mihomo's Fallback.Set): here p2, alive again
    assert.equal((await put('/proxies/fb', { name: 'p2' })).status, 204);
    assert.equal((await proxyJson('fb')).now, 'p2');
    assert.equal((await del('/proxies/fb')).status, 204);
    assert.equal((await proxyJson('fb')).fixed, '');
    assert.equal((await del('/proxies/sub')).status, 400, 'a select group has nothing to unfix');
    assert.equal((await del('/proxies/p1')).status, 400);
    assert.equal((await put('/proxies/lb', { name: 'p1' })).status, 400, 'load-balance takes no choice');
  });

  test('each group type has mihomo\'s fields: load-balance and relay have no now', async () => {
    const lb = await proxyJson('lb');
    assert.equal(lb.type, 'LoadBalance');
    assert.equal('now' in lb, false);
    assert.equal(lb.hidden, true);
    assert.equal(lb.icon, 'https://icons.test/lb.png');
    assert.equal(lb.testUrl, testUrl);
    assert.equal(lb.expectedStatus, '200-299');
    assert.equal('fixed' in lb, false);
    const relay = await proxyJson('chain');
    assert.equal(relay.type, 'Relay');
    assert.equal('now' in relay, false);
    assert.equal('testUrl' in relay, false);
    assert.deepEqual(relay.all, ['p1', 'p2']);
    const sel = await proxyJson('sub');
    assert.equal(sel.type, 'Selector');
    assert.equal(sel.now, 'q-live');
    assert.equal('testUrl' in sel, false);
    assert.equal('fixed' in sel, false);
  });
});
