/**
 * The built CLI with `workers: 2`: two workers start on one shared port, UDP ASSOCIATE works and
 * keeps each flow in one worker, a killed worker is logged and replaced (the UDP role too),
 * SIGTERM exits 0 and leaves no worker behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { runCli, startCli, writeConfig, type RunningCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { Local } from '../support/servers.js';
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

/** A UDP server on 127.0.0.1:0 that answers each datagram with the source port it came from. */
async function portEcho(): Promise<Local> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (_msg, r) => sock.send(String(r.port), r.port, r.address));
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

/**
 * Four associations of 20 datagrams each: every datagram is answered, and all datagrams of one
 * association reach the server from one source port (handled by one worker's NAT session).
 */
async function udpFlows(proxyPort: number, serverPort: number): Promise<void> {
  for (let a = 0; a < 4; a++) {
    const udp = await socks5UdpAssociate(proxyPort);
    try {
      const sources = new Set<string>();
      for (let i = 0; i < 20; i++) {
        udp.send(Buffer.from(`dgram ${a}.${i}`), '127.0.0.1', serverPort);
        const r = await udp.receive(5000);
        assert.equal(r.port, serverPort);
        sources.add(r.data.toString());
      }
      assert.equal(sources.size, 1, `one flow left from ${[...sources].join(', ')}`);
    } finally {
      udp.close();
    }
  }
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
    uecho = await portEcho();
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

  test('SOCKS5 UDP ASSOCIATE works, and each UDP flow stays in one worker (one source port)', async () => {
    await udpFlows(port, uecho.port);
  });

  test('a killed worker (the UDP one) is logged and replaced; TCP and UDP keep working', async () => {
    const owner = cli.lines.map((l) => /cluster: worker (\d+) \(pid (\d+)\) ready, it binds the UDP relays/.exec(l)).find(Boolean);
    assert.ok(owner, 'one worker binds the UDP relays');
    const [victimId, victimPid] = [Number(owner[1]), Number(owner[2])];
    process.kill(victimPid, 'SIGKILL');
    await cli.waitForLine(new RegExp(`worker ${victimId} \\(pid ${victimPid}\\) exited with signal SIGKILL, starting a replacement`));
    assert.ok(await eventually(() => readyWorkers(cli).size === 3, 20_000), cli.lines.join('\n'));
    for (const pid of readyWorkers(cli).values()) seenPids.add(pid);
    const got = await inParallel(20, 5, () => exchange(port, sink.port, 100));
    assert.deepEqual(new Set(got), new Set([2048]));
    assert.ok(cli.lines.some((l) => /ready, it binds the UDP relays/.test(l) && !l.includes(`pid ${victimPid})`)), 'the replacement took the UDP role');
    await udpFlows(port, uecho.port);
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
