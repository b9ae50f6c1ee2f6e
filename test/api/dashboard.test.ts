/**
 * A real dashboard in a real browser: yacd-meta (an unmodified build from ../shared/dashboards,
 * a test peer like the Debian servers) served as external-ui, opened in Debian's Chromium through
 * playwright-core, connected with the secret. What a user does: the proxies page lists the
 * groups and their members, a click switches a selector, a live connection shows, logs stream,
 * the rules list, the mode changes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
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
const SECRET = 'dash-s3cret';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('yacd-meta in Chromium against the controller', { timeout: 120_000 }, () => {
  let host: Host;
  let echo: Local;
  let browser: BrowserContext;
  let page: Page;
  let api: number;
  let mixed: number;
  let tunnel: HashedTunnel | undefined;

  before(async () => {
    assert.ok(existsSync(join(DASHBOARDS, 'yacd-meta', 'index.html')), `the dashboards are at ${DASHBOARDS}`);
    echo = await tcpEcho();
    api = await freePort();
    mixed = await freePort();
    const log = createLogger('info', () => {});
    const ctl = new ControllerService({ log, homeDir: mkdtempSync(join(tmpdir(), 'clash-ts-dash-')) });
    const yaml = [
      `mixed-port: ${mixed}`,
      `external-controller: 127.0.0.1:${api}`,
      `secret: ${SECRET}`,
      `external-ui: ${DASHBOARDS}`,
      'external-ui-name: yacd-meta',
      'proxies:',
      '  - { name: far-away, type: ss, server: 127.0.0.1, port: 1, cipher: aes-128-gcm, password: x }',
      'proxy-groups:',
      // a loopback health-check URL (a group's default is on the internet)
      `  - { name: pick, type: select, proxies: [DIRECT, far-away], url: "http://127.0.0.1:${echo.port}/" }`,
      'rules:',
      `  - DST-PORT,${echo.port},DIRECT`,
      '  - DOMAIN-SUFFIX,example.test,pick',
      '  - MATCH,pick',
      '',
    ].join('\n');
    host = await Host.start(yaml, { log, services: [ctl] });
    ctl.serve(host.control);
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'clash-ts-chromium-')), { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    // nothing leaves loopback but the controller
    await browser.route('**/*', (route) => (route.request().url().startsWith(`http://127.0.0.1:${api}/`) ? route.continue() : route.abort()));
    page = await browser.newPage();
  });
  after(async () => {
    tunnel?.socket.destroy();
    await browser?.close();
    await host?.close(0);
    await echo?.close();
  });

  const open = (route: string) => page.goto(`http://127.0.0.1:${api}/ui/?hostname=127.0.0.1&port=${api}&secret=${SECRET}#/${route}`);

  test('the proxies page lists the groups with their members; a click switches the selector', async () => {
    await open('proxies');
    await page.getByText('pick', { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.getByText('GLOBAL', { exact: true }).first().waitFor();
    await page.getByText('pick', { exact: true }).first().click();
    const member = page.getByText('far-away', { exact: true }).first();
    await member.waitFor({ timeout: 10_000 });
    await member.click();
    assert.ok(await eventually(() => host.control.proxy('pick')?.now === 'far-away'), `now: ${host.control.proxy('pick')?.now}`);
  });

  test('the connections page shows a live connection', async () => {
    tunnel = await HashedTunnel.open(mixed, echo.port);
    await tunnel.round(2048);
    await open('connections');
    await page.getByText(`127.0.0.1:${echo.port}`).first().waitFor({ timeout: 15_000 });
  });

  test('the logs page streams log lines', async () => {
    await open('logs');
    await page.waitForTimeout(1500);
    host.log.warn('a line for the dashboard');
    await page.getByText('a line for the dashboard').first().waitFor({ timeout: 15_000 });
  });

  test('the rules page lists the rules', async () => {
    await open('rules');
    await page.getByText('example.test').first().waitFor({ timeout: 15_000 });
  });

  test('the mode switch changes the mode', async () => {
    await open('configs');
    // yacd's mode control is a <select> with rule / global / direct
    const select = page.locator('select:has(option[value="global"])').first();
    await select.waitFor({ timeout: 15_000 });
    await select.selectOption('global');
    assert.ok(await eventually(() => host.mode === 'global'), `mode: ${host.mode}`);
  });
});
