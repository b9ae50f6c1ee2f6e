/**
 * proxy-providers in a cluster (workers: 2), the primary in this test process and its workers
 * forked from the built worker entry (dist/): the home dir reaches the workers (each reads the
 * provider's copy there while the subscription fails), and an update through the control plane
 * reaches every worker (traffic through both workers then uses the new set only). Which proxy
 * carried a connection is told by two counting CONNECT proxies, the old set's and the new one's.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClusterControl } from '../../src/cluster/primary.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { freePort } from '../support/ports.js';
import { once } from 'node:events';
import { tcpEcho, type Local } from '../support/servers.js';
import { socks5Connect } from '../support/socks-client.js';
import { eventually, inParallel } from './load.js';

const dist = (p: string): string => new URL(`../../dist/${p}`, import.meta.url).href;
const UP = 2000;

/** UP bytes echoed through the cluster's port (the CONNECT proxies do not half-close, so no FIN is sent first). */
async function echoed(proxyPort: number, echoPort: number): Promise<number> {
  const s = await socks5Connect(proxyPort, '127.0.0.1', echoPort);
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (b: Buffer) => {
      got += b.length;
      if (got >= UP) resolve();
    });
    s.on('close', () => (got >= UP ? resolve() : reject(new Error(`closed after ${got} bytes`))));
    setTimeout(() => reject(new Error('echo timed out')), 10_000).unref();
  });
  s.write(Buffer.alloc(UP, 0xa5));
  await done;
  s.destroy();
  await once(s, 'close');
  return got;
}

const payload = (name: string, port: number) => `proxies:\n  - { name: ${name}, type: http, server: 127.0.0.1, port: ${port} }\n`;

describe('providers in a cluster (workers: 2)', () => {
  let control: ClusterControl;
  let port: number;
  let sink: Local;
  let oldProxy: ConnectProxy;
  let newProxy: ConnectProxy;
  let sub: http.Server;
  let answer: string | undefined; // undefined: 500
  let fetches = 0;
  let home: string;

  before(async () => {
    const { startCluster } = (await import(dist('cluster/primary.js'))) as typeof import('../../src/cluster/primary.js');
    const { loadText } = (await import(dist('host/host.js'))) as typeof import('../../src/host/host.js');
    const { createLogger } = (await import(dist('common/log.js'))) as typeof import('../../src/common/log.js');
    sink = await tcpEcho();
    oldProxy = await startConnectProxy(0);
    newProxy = await startConnectProxy(0);
    sub = http.createServer((_req, res) => {
      fetches++;
      if (answer === undefined) res.writeHead(500).end();
      else res.end(answer);
    });
    sub.listen(0, '127.0.0.1');
    await new Promise((r) => sub.once('listening', r));
    const url = `http://127.0.0.1:${(sub.address() as AddressInfo).port}/sub`;
    // the copy in the home dir: the only place the workers can find the old set (the server fails)
    home = mkdtempSync(join(tmpdir(), 'clash-ts-cluster-prov-'));
    mkdirSync(join(home, 'proxies'));
    writeFileSync(join(home, 'proxies', createHash('md5').update(url).digest('hex')), payload('old', oldProxy.port));
    port = await freePort();
    const yaml = [
      `mixed-port: ${port}`,
      'bind-address: 127.0.0.1',
      'log-level: silent',
      'workers: 2',
      'proxy-providers:',
      `  sub: { type: http, url: "${url}", interval: 3600 }`,
      'proxy-groups:',
      '  - { name: g, type: select, use: [sub] }',
      `  - { name: fx, type: url-test, proxies: [DIRECT, REJECT], url: "${url}", interval: 3600 }`,
      'rules:',
      '  - MATCH,g',
      '',
    ].join('\n');
    const loaded = loadText(yaml);
    control = await startCluster({ yaml, config: loaded.config, loaded, overrides: {}, count: 2, log: createLogger('silent'), reportMs: 50, execArgv: [], homeDir: home });
  });
  after(async () => {
    await control?.stop(1000);
    await sink?.close();
    await oldProxy?.stop();
    await newProxy?.stop();
    sub?.closeAllConnections();
    sub?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** Connections in rounds until every worker carried one since `since` (bounded: 40 rounds of 8). */
  async function throughEveryWorker(): Promise<number> {
    const before = new Map(control.workers().map((w) => [w.id, w.upload]));
    let n = 0;
    for (let round = 0; round < 40; round++) {
      const got = await inParallel(8, 8, () => echoed(port, sink.port));
      for (const g of got) assert.equal(g, UP);
      n += got.length;
      await eventually(() => control.workers().reduce((s, w) => s + w.upload - (before.get(w.id) ?? 0), 0) >= n * UP, 5000);
      if (control.workers().every((w) => w.upload > (before.get(w.id) ?? 0))) return n;
    }
    assert.fail(`not every worker carried a connection: ${JSON.stringify(control.workers())}`);
  }

  test('every worker reads the copy in the home dir (the subscription fails), and an update reaches them all', async () => {
    assert.deepEqual(control.providers()[0].proxies, ['old']);
    const n1 = await throughEveryWorker();
    assert.equal(oldProxy.count, n1, 'every connection through the old set, in both workers');
    assert.equal(newProxy.count, 0);
    // the subscription now has the new set; one update through the control plane
    answer = payload('new', newProxy.port);
    const f0 = fetches;
    assert.equal(await control.updateProvider('sub'), true);
    assert.equal(fetches - f0, 3, 'the primary and both workers fetched');
    assert.deepEqual(control.providers()[0].proxies, ['new']);
    const oldCount = oldProxy.count;
    const n2 = await throughEveryWorker();
    assert.equal(newProxy.count, n2, 'every connection through the new set, in both workers');
    assert.equal(oldProxy.count, oldCount);
    // a failed update names the workers and leaves the set
    answer = undefined;
    await assert.rejects(control.updateProvider('sub'), /HTTP 500/);
    assert.deepEqual(control.providers()[0].proxies, ['new']);
    assert.equal(await control.updateProvider('nobody'), false);
  });

  test('a fixed choice is made and cleared in every worker (each acknowledges it); a provider check runs in the primary', async () => {
    assert.equal(await control.select('fx', 'REJECT'), true);
    assert.equal(control.proxy('fx')!.fixed, 'REJECT');
    assert.equal(await control.unfix('fx'), true, 'every worker had the group and cleared it');
    assert.equal(control.proxy('fx')!.fixed, '');
    assert.equal(await control.unfix('g'), false, 'a select group has no fixed choice');
    assert.equal(await control.unfix('nobody'), false);
    assert.equal(await control.healthCheckProvider('sub'), true);
    assert.equal(await control.healthCheckProvider('nobody'), false);
  });
});
