/**
 * zashboard (an unmodified build from ../shared/dashboards, a test peer like the Debian servers)
 * served as external-ui, opened in Debian's Chromium through playwright-core and connected with
 * the secret. What a user does: the proxies page lists every group with its type and members, a
 * click switches a selector and the next connection follows it, a group's latency test shows
 * numbers (the test URL is a local server), the connections page shows a live connection and
 * its close button closes the socket, the logs page streams new lines, the mode switch works,
 * the rules page lists the rules. Every request the page makes off the controller is aborted
 * (the dashboard asks IP-info services and favicons on the internet). A failing step leaves a
 * screenshot in the test's temp dir.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ControllerService } from '../../src/api/service.js';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { HashedTunnel } from '../host/tunnels.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARDS = join(REPO, '..', 'shared', 'dashboards');
const SECRET = 'zash-s3cret';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('zashboard in Chromium against the controller', { timeout: 180_000 }, () => {
  let host: Host;
  let echo: Local;
  let target: Server;
  let targetPort = 0;
  let targetHits = 0;
  let browser: BrowserContext;
  let page: Page;
  let api: number;
  let mixed: number;
  const shots = mkdtempSync(join(tmpdir(), 'clash-ts-zashboard-'));
  const tunnels: HashedTunnel[] = [];

  /** Runs a step; on failure leaves a screenshot named after it and says where. */
  async function step(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const path = join(shots, `${name}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => {});
      throw Object.assign(err as Error, { message: `${(err as Error).message}\n(screenshot: ${path})` });
    }
  }

  before(async () => {
    assert.ok(existsSync(join(DASHBOARDS, 'zashboard', 'index.html')), `the dashboards are at ${DASHBOARDS}`);
    echo = await tcpEcho();
    // the latency test URL: a local server that answers 204 and counts the tests that reached it
    target = createServer((_req, res) => {
      targetHits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetPort = (target.address() as { port: number }).port;
    api = await freePort();
    mixed = await freePort();
    const log = createLogger('info', () => {});
    const ctl = new ControllerService({ log, homeDir: mkdtempSync(join(tmpdir(), 'clash-ts-zash-')) });
    const yaml = [
      `mixed-port: ${mixed}`,
      `external-controller: 127.0.0.1:${api}`,
      `secret: ${SECRET}`,
      `external-ui: ${DASHBOARDS}`,
      'external-ui-name: zashboard',
      'proxies:',
      '  - { name: second-direct, type: direct }',
      '  - { name: far-away, type: ss, server: 127.0.0.1, port: 1, cipher: aes-128-gcm, password: x }',
      'proxy-groups:',
      `  - { name: pick, type: select, proxies: [DIRECT, second-direct], url: "http://127.0.0.1:${targetPort}/" }`,
      `  - { name: fastest, type: url-test, proxies: [second-direct, far-away], url: "http://127.0.0.1:${targetPort}/", interval: 3600 }`,
      'rules:',
      `  - DST-PORT,${echo.port},pick`,
      '  - DOMAIN-SUFFIX,example.test,fastest',
      '  - MATCH,DIRECT',
      '',
    ].join('\n');
    host = await Host.start(yaml, { log, services: [ctl] });
    ctl.serve(host.control);
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'clash-ts-chromium-')), { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    // nothing leaves loopback: the controller and the test URL only (IP-info APIs, favicons,
    // release checks and the default backend on :9090 are aborted)
    const allowed = [`http://127.0.0.1:${api}/`, `http://127.0.0.1:${targetPort}/`];
    await browser.route('**/*', (route) => (allowed.some((a) => route.request().url().startsWith(a)) ? route.continue() : route.abort()));
    // the latency test URL, as the user sets it in the settings
    await browser.addInitScript((url) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('config/speedtest-url', url), `http://127.0.0.1:${targetPort}/`);
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${api}/ui/?hostname=127.0.0.1&port=${api}&secret=${SECRET}&disableUpgradeCore=1#/proxies`);
  });
  after(async () => {
    for (const t of tunnels) t.socket.destroy();
    await browser?.close();
    await host?.close(0);
    await echo?.close();
    await new Promise((r) => target?.close(r));
  });

  /** `p`, or a failure naming `what` after `ms` */
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

  const go = async (route: string) => {
    await page.evaluate((r) => ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/${r}`), route);
  };

  const group = (name: string) => page.locator(`[data-group-name="${name}"]`).first();

  test('the proxies page lists every group with its type and members', () =>
    step('proxies', async () => {
      await go('proxies');
      for (const [name, type] of [
        ['pick', /Selector · \d+\/2/i],
        ['fastest', /URLTest · \d+\/2/i],
        ['GLOBAL', /Selector · \d+\/6/i],
      ] as const) {
        await group(name).waitFor({ timeout: 20_000 });
        assert.match(await group(name).innerText(), type);
      }
      await group('pick').locator('.collapse-title').click();
      await group('pick').getByText('second-direct', { exact: true }).first().waitFor({ timeout: 10_000 });
      await group('fastest').locator('.collapse-title').click();
      await group('fastest').getByText('far-away', { exact: true }).first().waitFor({ timeout: 10_000 });
    }));

  test('a click switches the selector; the next connection follows it', () =>
    step('select', async () => {
      const chainsOf = (t: HashedTunnel) => host.control.connections().find((c) => c.source.port === t.socket.localPort)?.chains;
      const before = await HashedTunnel.open(mixed, echo.port);
      tunnels.push(before);
      await before.round(512);
      assert.deepEqual(chainsOf(before), ['DIRECT', 'pick']);
      await group('pick').getByText('second-direct', { exact: true }).first().click();
      assert.ok(await eventually(() => host.control.proxy('pick')?.now === 'second-direct'), `now: ${host.control.proxy('pick')?.now}`);
      const next = await HashedTunnel.open(mixed, echo.port);
      tunnels.push(next);
      await next.round(512);
      assert.deepEqual(chainsOf(next), ['second-direct', 'pick']);
      assert.ok(next.verify().ok);
      // (zashboard's "automatic disconnection", on by default, may close `before` meanwhile)
      before.socket.destroy();
      await next.end();
      assert.ok(await eventually(() => host.control.connections().length === 0));
    }));

  test("a group's latency test shows numbers", () =>
    step('latency', async () => {
      const hits = targetHits;
      const tested = () => host.control.proxy('second-direct')?.history.at(-1)?.time ?? 0;
      const since = tested();
      await group('fastest').locator('.collapse-title .latency-tag').first().click();
      assert.ok(await eventually(() => tested() > since, 20_000), 'second-direct was tested');
      assert.ok(targetHits > hits, 'the tests reached the local URL');
      const delay = host.control.proxy('second-direct')!.history.at(-1)!.delay;
      assert.ok(delay > 0, `delay ${delay}`);
      // the member's latency tag shows the number the core measured
      const tag = group('fastest').locator('.latency-tag', { hasText: /^\s*\d+\s*$/ }).first();
      await tag.waitFor({ timeout: 15_000 });
      assert.match(await tag.innerText(), /^\s*\d+\s*$/);
    }));

  test('the connections page shows a live connection; its close button closes the socket', () =>
    step('connections', async () => {
      const t = await HashedTunnel.open(mixed, echo.port);
      tunnels.push(t);
      await t.round(7777); // the row shows 7.78 kB each way: the earlier tests' rows may linger a second
      // the tunnel's socket is half-open capable: the core closing its side shows as 'end' (or a reset's 'close')
      const closed = new Promise<void>((r) => {
        t.socket.once('end', () => r());
        t.socket.once('close', () => r());
      });
      await go('connections');
      const row = page.locator('tr', { hasText: `127.0.0.1:${echo.port}` }).filter({ hasText: '7.78 kB' }).first();
      await row.waitFor({ timeout: 20_000 });
      assert.match(await row.innerText(), /Socks5/);
      assert.match(await row.innerText(), /second-direct/);
      await row.locator('button').first().click();
      await within(closed, 15_000, 'the socket closed');
      assert.ok(await eventually(() => host.control.connections().length === 0), 'the connection is gone from the core');
    }));

  test('the logs page shows new lines', () =>
    step('logs', async () => {
      await go('logs');
      await page.waitForTimeout(1500);
      host.log.warn('a line for zashboard');
      await page.getByText('a line for zashboard').first().waitFor({ timeout: 15_000 });
      host.log.info('and another one');
      await page.getByText('and another one').first().waitFor({ timeout: 15_000 });
    }));

  test('the rules page lists the rules', () =>
    step('rules', async () => {
      await go('rules');
      await page.getByText('example.test').first().waitFor({ timeout: 15_000 });
      const text = await page.locator('body').innerText();
      assert.match(text, new RegExp(`DstPort\\s*:\\s*${echo.port}`));
      assert.match(text, /Match/);
    }));

  test('the mode switch changes the mode', () =>
    step('mode', async () => {
      await go('proxies');
      const select = page.locator('button[role="combobox"]', { hasText: /^\s*Rule\s*$/ }).first();
      await select.waitFor({ timeout: 15_000 });
      await select.click();
      await page.getByRole('option', { name: /global/i }).first().click();
      assert.ok(await eventually(() => host.mode === 'global'), `mode: ${host.mode}`);
      await page.locator('button[role="combobox"]', { hasText: /Global/i }).first().click();
      await page.getByRole('option', { name: /rule/i }).first().click();
      assert.ok(await eventually(() => host.mode === 'rule'), `mode: ${host.mode}`);
    }));
});
