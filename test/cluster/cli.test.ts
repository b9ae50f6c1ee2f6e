/**
 * The built CLI with `workers: 2`: two workers start on one shared port, UDP ASSOCIATE works
 * through the shared relay socket, a killed worker is logged and replaced, SIGTERM exits 0 and
 * leaves no worker behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { once } from 'node:events';
import net from 'node:net';
import { runCli, startCli, writeConfig, type RunningCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { udpEcho, type Local } from '../support/servers.js';
import { socks5UdpAssociate } from '../support/socks-client.js';
import { eventually, exchange, inParallel, sinkReply, type SinkReply } from './load.js';

const READY = /cluster: worker (\d+) \(pid (\d+)\) ready/;

function readyWorkers(cli: RunningCli): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of cli.lines) {
    const m = READY.exec(l);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('CLI with workers: 2', () => {
  let cli: RunningCli;
  let port: number;
  let sink: SinkReply;
  let uecho: Local;
  const seenPids = new Set<number>();

  before(async () => {
    sink = await sinkReply(2048);
    uecho = await udpEcho('127.0.0.1');
    port = await freePort();
    cli = await startCli([`mixed-port: ${port}`, 'bind-address: 127.0.0.1', 'workers: 2', 'log-level: info', 'rules: ["MATCH,DIRECT"]', ''].join('\n'));
    await cli.waitForLine(/Initial configuration complete/, 20_000);
    for (const pid of readyWorkers(cli).values()) seenPids.add(pid);
  });
  after(async () => {
    if (cli && cli.proc.exitCode === null) await cli.stop();
    await sink?.close();
    await uecho?.close();
  });

  test('two workers listen on the one configured port and carry TCP', async () => {
    assert.equal(readyWorkers(cli).size, 2);
    const listening = cli.lines.filter((l) => l.includes(`proxy listening at: 127.0.0.1:${port}`));
    assert.equal(listening.length, 2, 'each worker bound the shared port');
    const got = await inParallel(20, 5, () => exchange(port, sink.port, 100));
    assert.deepEqual(new Set(got), new Set([2048]));
  });

  test('SOCKS5 UDP ASSOCIATE works through the shared relay socket', async () => {
    // several associations: their control connections land on either worker
    for (let a = 0; a < 4; a++) {
      const udp = await socks5UdpAssociate(port);
      try {
        for (let i = 0; i < 10; i++) {
          const payload = Buffer.from(`dgram ${a}.${i}`);
          udp.send(payload, '127.0.0.1', uecho.port);
          const r = await udp.receive(5000);
          assert.deepEqual(r.data, payload);
          assert.equal(r.port, uecho.port);
        }
      } finally {
        udp.close();
      }
    }
  });

  test('a killed worker is logged and replaced; the port keeps serving', async () => {
    const [victimId, victimPid] = [...readyWorkers(cli)][0]!;
    process.kill(victimPid, 'SIGKILL');
    await cli.waitForLine(new RegExp(`worker ${victimId} \\(pid ${victimPid}\\) exited with signal SIGKILL, starting a replacement`));
    assert.ok(await eventually(() => readyWorkers(cli).size === 3, 20_000), cli.lines.join('\n'));
    for (const pid of readyWorkers(cli).values()) seenPids.add(pid);
    const got = await inParallel(20, 5, () => exchange(port, sink.port, 100));
    assert.deepEqual(new Set(got), new Set([2048]));
  });

  test('SIGTERM stops every worker and exits 0', async () => {
    assert.equal(seenPids.size, 3);
    assert.equal(await cli.stop(), 0);
    assert.ok(cli.lines.some((l) => l.includes('received SIGTERM, shutting down')));
    // workers exit before the primary does: none is left
    for (const pid of seenPids) assert.equal(alive(pid), false, `worker pid ${pid} still running`);
  });
});

test('workers that cannot bind: the error is reported, exit 1, no worker left', async () => {
  const busy = net.createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  try {
    const port = (busy.address() as net.AddressInfo).port;
    const file = writeConfig([`mixed-port: ${port}`, 'bind-address: 127.0.0.1', 'workers: 2', 'rules: ["MATCH,DIRECT"]', ''].join('\n'));
    const r = await runCli(['-f', file], 30_000);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`start failed: bind EADDRINUSE 127.0.0.1:${port}`));
    const pids = [...r.stdout.matchAll(/worker \d+ \(pid (\d+)\) failed to start/g)].map((m) => Number(m[1]));
    assert.ok(pids.length >= 1, r.stdout);
    for (const pid of pids) assert.equal(alive(pid), false, `worker pid ${pid} still running`);
  } finally {
    busy.close();
  }
});
