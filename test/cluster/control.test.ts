/**
 * The primary in this test process (the same code the CLI's primary runs), its workers forked
 * from the built worker entry (dist/cluster/worker-main.js): totals, connections, selections and
 * replacement, asserted with real traffic through the workers' shared SOCKS5 port.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { ClusterControl } from '../../src/cluster/primary.js';
import { freePort } from '../support/ports.js';
import { socks5Connect } from '../support/socks-client.js';
import { eventually, exchange, inParallel, sinkReply, type SinkReply } from './load.js';

const dist = (p: string): string => new URL(`../../dist/${p}`, import.meta.url).href;
const UP = 3000;
const DOWN = 5000;

describe('cluster control (workers: 2)', () => {
  let control: ClusterControl;
  let port: number;
  let sink: SinkReply;
  let baseYaml: string;

  before(async () => {
    const { startCluster } = (await import(dist('cluster/primary.js'))) as typeof import('../../src/cluster/primary.js');
    const { loadConfig } = (await import(dist('config/load.js'))) as typeof import('../../src/config/load.js');
    const { createRegistry } = (await import(dist('protocol/index.js'))) as typeof import('../../src/protocol/index.js');
    const { createLogger } = (await import(dist('common/log.js'))) as typeof import('../../src/common/log.js');
    sink = await sinkReply(DOWN);
    port = await freePort();
    const yaml = [
      `mixed-port: ${port}`,
      'bind-address: 127.0.0.1',
      'log-level: warning',
      'workers: 2',
      'proxy-groups:',
      '  - { name: sel, type: select, proxies: [DIRECT, REJECT] }',
      'rules:',
      '  - MATCH,sel',
      '',
    ].join('\n');
    baseYaml = yaml;
    const config = loadConfig(yaml, { registry: createRegistry() }).config;
    control = await startCluster({ yaml, config, overrides: {}, count: 2, log: createLogger('warning'), reportMs: 50, execArgv: [] });
  });
  after(async () => {
    await control?.stop(1000);
    await sink?.close();
  });

  test('both workers serve, and the primary totals match the bytes moved', async () => {
    let n = 0;
    // bounded: at most 50 rounds of 8 parallel connections until each worker reported one
    for (let round = 0; round < 50; round++) {
      const got = await inParallel(8, 8, () => exchange(port, sink.port, UP));
      n += got.length;
      for (const g of got) assert.equal(g, DOWN);
      await eventually(() => control.totals().upload >= n * UP, 5000);
      if (control.workers().every((w) => w.upload > 0)) break;
    }
    const ws = control.workers();
    assert.equal(ws.length, 2);
    assert.ok(ws.every((w) => w.upload > 0), `each worker served: ${JSON.stringify(ws)}`);
    assert.equal(sink.received, n * UP);
    const expected = { upload: n * UP, download: n * DOWN };
    await eventually(() => control.totals().upload === expected.upload && control.totals().download === expected.download);
    assert.deepEqual(control.totals(), expected);
    assert.equal(ws.reduce((s, w) => s + w.upload, 0), expected.upload);
  });

  test('live connections are listed with their worker, and one can be closed', async () => {
    const socks = await inParallel(6, 6, () => socks5Connect(port, '127.0.0.1', sink.port));
    try {
      for (const s of socks) s.write(Buffer.alloc(10));
      const mine = () => control.connections().filter((c) => c.destination.port === sink.port && c.upload === 10);
      assert.ok(await eventually(() => mine().length === 6), JSON.stringify(control.connections()));
      for (const c of mine()) {
        assert.deepEqual(c.chains, ['DIRECT', 'sel']);
        assert.equal(c.inbound.name, 'DEFAULT-MIXED');
        assert.ok(control.workers().some((w) => w.id === c.worker));
      }
      const victim = mine()[0]!;
      // the proxy ends the client's leg (a FIN or a reset): either shows on one of the sockets
      const closedOne = Promise.race(socks.flatMap((s) => [once(s, 'end'), once(s, 'close')]));
      assert.equal(await control.closeConnection(victim.id), true);
      await closedOne;
      assert.ok(await eventually(() => mine().length === 5));
      assert.equal(await control.closeConnection('no-such-id'), false);
    } finally {
      for (const s of socks) s.destroy();
    }
    assert.ok(await eventually(() => control.connections().length === 0));
  });

  test('a selection made through the control applies in every worker, and in a replacement', async () => {
    assert.equal(control.proxy('sel')?.now, 'DIRECT');
    assert.equal(await control.select('sel', 'nope'), false);
    assert.equal(await control.select('nope', 'DIRECT'), false);
    assert.equal(await control.select('sel', 'REJECT'), true);
    assert.equal(control.proxy('sel')?.now, 'REJECT');
    const refusals = async (): Promise<unknown[]> =>
      inParallel(40, 8, async () => {
        try {
          (await socks5Connect(port, '127.0.0.1', sink.port)).destroy();
          return 'connected';
        } catch (err) {
          return (err as { rep?: number }).rep;
        }
      });
    // 40 connections spread over both workers: every one is refused (REJECT: SOCKS5 reply 2)
    assert.deepEqual(new Set(await refusals()), new Set([2]));

    const before = control.workers();
    const victim = before[0]!;
    process.kill(victim.pid, 'SIGKILL');
    assert.ok(
      await eventually(() => {
        const now = control.workers();
        return now.length === 2 && now.every((w) => w.ready) && !now.some((w) => w.id === victim.id);
      }, 20_000),
      'the killed worker was replaced',
    );
    assert.deepEqual(new Set(await refusals()), new Set([2]), 'the replacement started with REJECT selected');

    assert.equal(await control.select('sel', 'DIRECT'), true);
    const got = await inParallel(16, 8, () => exchange(port, sink.port, UP));
    assert.deepEqual(new Set(got), new Set([DOWN]));
  });

  test('a reload through the control reaches every worker; a broken one changes nothing', async () => {
    const refusals = async (): Promise<Set<unknown>> =>
      new Set(
        await inParallel(40, 8, async () => {
          try {
            (await socks5Connect(port, '127.0.0.1', sink.port)).destroy();
            return 0;
          } catch (err) {
            return (err as { rep?: number }).rep;
          }
        }),
      );
    assert.equal(await control.select('sel', 'REJECT'), true);
    // the same config again: the selection carries over in the primary and in both workers
    const r = await control.reload(baseYaml);
    assert.equal(r.generation, 2);
    assert.equal(control.proxy('sel')?.now, 'REJECT');
    assert.deepEqual(await refusals(), new Set([2]));
    // new rules: everything DIRECT, in both workers (40 connections spread over them)
    await control.reload(baseYaml.replace('  - MATCH,sel', `  - DST-PORT,${sink.port},DIRECT\n  - MATCH,sel`));
    assert.deepEqual(control.rules().map((x) => x.proxy), ['DIRECT', 'sel']);
    assert.deepEqual(await refusals(), new Set([0]));
    await assert.rejects(control.reload(baseYaml.replace('MATCH,sel', 'MATCH,nowhere')), /nowhere/);
    assert.deepEqual(control.rules().map((x) => x.proxy), ['DIRECT', 'sel']);
    assert.deepEqual(await refusals(), new Set([0]));
    // mode changes live in every worker
    await control.patchConfig({ mode: 'direct' });
    assert.equal(control.config().mode, 'direct');
    // ipv6 too: every worker acknowledges the patch (a refusal would reject)
    await control.patchConfig({ ipv6: false });
    assert.equal(control.config().ipv6, false);
    assert.deepEqual((await control.dnsQuery('::1', 'AAAA')).answers, []);
    await control.patchConfig({ ipv6: true });
    assert.deepEqual((await control.dnsQuery('::1', 'AAAA')).answers, ['::1']);
    await control.reload(baseYaml);
    assert.deepEqual(await refusals(), new Set([2]), 'back to the first rules, REJECT still selected');
    assert.equal(await control.select('sel', 'DIRECT'), true);
  });
});
