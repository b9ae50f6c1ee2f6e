/**
 * Retirement: a replaced generation lives while its connections do, then closes everything it
 * owned (a component's timer, a proxy's warm TLS pool and its parked sockets): open fds and
 * active handles come back to what the process had before that generation existed.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import type { Component } from '../../src/core/component.js';
import { createGroupRegistry } from '../../src/group/index.js';
import { selectDefinition } from '../../src/group/select/group.js';
import { Host } from '../../src/host/host.js';
import { testCerts } from '../support/certs.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { eventually } from '../cluster/load.js';
import { holdPort, openTunnels } from './tunnels.js';

/** A component whose only job is a timer: visible in the active handles while it runs. */
class Ticker implements Component {
  readonly label = 'ticker';
  started = 0;
  closed = 0;
  ticks = 0;
  #timer: NodeJS.Timeout | undefined;
  start(): void {
    this.started++;
    this.#timer = setInterval(() => this.ticks++, 20);
  }
  close(): void {
    this.closed++;
    clearInterval(this.#timer);
  }
}

const tickers: Ticker[] = [];
/** A test-only group type (a select group with a ticking component), registered like a real one. */
const groups = createGroupRegistry().register({
  type: 'ticker',
  create(spec, ctx) {
    const t = new Ticker();
    tickers.push(t);
    return { group: selectDefinition.create(spec, ctx).group, components: [t] };
  },
});

function fds(): number {
  return readdirSync('/proc/self/fd').length;
}

function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

let echo: Local;
let host: Host;

before(async () => {
  echo = await tcpEcho();
});
after(async () => {
  await host?.close(0);
  await echo?.close();
});

test('a retired generation closes its components and drains its warm pools once its last connection ends', async () => {
  const certs = testCerts();
  const [mixed, trojanPort] = [await freePort(), await freePort()];
  const common = [
    `mixed-port: ${mixed}`,
    'log-level: silent',
    'listeners:',
    `  - { name: tjs, type: trojan, listen: 127.0.0.1, port: ${trojanPort}, users: [{ username: a, password: pw }], certificate: ${certs.certFile}, private-key: ${certs.keyFile} }`,
  ];
  const plain = [...common, 'rules:', '  - MATCH,DIRECT', ''].join('\n');
  const withPool = [
    ...common,
    'proxies:',
    `  - { name: tj, type: trojan, server: 127.0.0.1, port: ${trojanPort}, password: pw, sni: localhost, skip-cert-verify: true, warm-pool: { min: 2, max: 4, max-idle: 60s } }`,
    'proxy-groups:',
    '  - { name: tick, type: ticker, proxies: [tj, DIRECT] }',
    'rules:',
    '  - IN-NAME,tjs,DIRECT',
    '  - MATCH,tick',
    '',
  ].join('\n');

  host = await Host.start(plain, { log: createLogger('silent'), groups });
  // the process before the pooled generation exists
  await new Promise((r) => setTimeout(r, 200));
  const baseFds = fds();
  const baseHandles = handles();

  await host.reload(withPool);
  const pooled = host.generation;
  assert.equal(tickers.length, 1);
  assert.ok(await eventually(() => tickers[0].started === 1), 'the component started with its generation');
  const tunnels = await openTunnels(20, 10, mixed, echo.port);
  for (const t of tunnels) await t.round(3000);
  assert.ok(host.control.connections().some((c) => c.chains.join(',') === 'tj,tick'), 'routed through the trojan proxy');
  // the pool parks connections beyond the ones in use
  assert.ok(await eventually(() => host.warmPools.metrics().some((m) => m.size > 0), 10_000), JSON.stringify(host.warmPools.metrics()));

  await host.reload(plain);
  assert.equal(pooled.retiring, true);
  for (const t of tunnels) await t.round(3000);
  assert.equal(pooled.live, 40, 'the old generation still carries its 20 tunnels and their 20 legs into the trojan listener');
  const ticks = tickers[0].ticks;
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(tickers[0].ticks > ticks, 'its component runs until it retires');
  assert.equal(tickers[0].closed, 0);

  for (const t of tunnels) assert.ok(t.verify().ok);
  await Promise.all(tunnels.map((t) => t.end()));
  await pooled.closed;
  assert.equal(tickers[0].closed, 1);
  assert.deepEqual(host.warmPools.metrics(), [], 'its pool is gone');
  assert.ok(await eventually(() => fds() === baseFds, 10_000), `fds back to ${baseFds}: ${fds()}`);
  assert.ok(
    await eventually(() => JSON.stringify(handles()) === JSON.stringify(baseHandles), 10_000),
    `handles back to ${JSON.stringify(baseHandles)}: ${JSON.stringify(handles())}`,
  );
});

test('a config that fails to build starts nothing', async () => {
  const before = tickers.length;
  const bad = [`mixed-port: 0`, 'proxy-groups:', '  - { name: tick, type: ticker, proxies: [DIRECT] }', 'rules:', '  - MATCH,nowhere', ''].join('\n');
  await assert.rejects(host.reload(bad), /nowhere/);
  assert.equal(tickers.length, before, 'the loader refused it before any group was built');
  // a listener that cannot bind fails after the build: the built generation is closed unstarted
  const held = await holdPort();
  const taken = held.port;
  const blocked = [`mixed-port: ${taken}`, 'proxy-groups:', '  - { name: tick, type: ticker, proxies: [DIRECT] }', 'rules:', '  - MATCH,tick', ''].join('\n');
  try {
    await assert.rejects(host.reload(blocked), /EADDRINUSE/);
  } finally {
    held.release();
  }
  const t = tickers[tickers.length - 1];
  assert.equal(t.started, 0, 'never started');
  assert.equal(t.closed, 1, 'closed with its generation');
});
