/**
 * DNS with the built CLI and `workers: 2`: the primary runs dns.listen and owns the one fake-ip
 * pool; every worker has each mapping before the answer leaves, so a connection to a fake IP is
 * routed by its name in whichever worker accepts it (both do, seen with `ss -tnp`). The API's
 * /dns/query is answered from the same pool, /cache/fakeip/flush empties it everywhere,
 * /cache/dns/flush answers 204.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { eventually } from './load.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { readN, socks5Connect } from '../support/socks-client.js';
import { dig } from '../dns/dig.js';
import { startDnsmasq, type Dnsmasq } from '../dns/peers.js';

const NAMES = 40;
const READY = /cluster: worker (\d+) \(pid (\d+)\) ready/;

/** The pids owning established TCP connections to 127.0.0.1:port (ss -tnp). */
function ownersOf(port: number): Map<number, number> {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `dst 127.0.0.1:${port}`], { encoding: 'utf8' });
  const pids = new Map<number, number>();
  for (const m of out.matchAll(/pid=(\d+)/g)) pids.set(Number(m[1]), (pids.get(Number(m[1])) ?? 0) + 1);
  return pids;
}

/** Through SOCKS5 to host:port, 4 KiB both ways, hashed; the socket stays open. */
async function echoThrough(proxy: number, host: string, port: number): Promise<net.Socket> {
  const s = await socks5Connect(proxy, host, port);
  const data = randomBytes(4096);
  s.write(data);
  const back = await readN(s, data.length);
  assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
  return s;
}

describe('DNS with workers: 2 (the CLI)', () => {
  let dnsmasq: Dnsmasq;
  let echo: Local;
  let cli: RunningCli;
  let mixed: number;
  let dns: number;
  let api: number;
  const open: net.Socket[] = [];

  before(async () => {
    const records: Record<string, string> = {};
    for (let i = 0; i < NAMES; i++) records[`n${i}.test`] = '127.0.0.1';
    records['api-first.test'] = '127.0.0.1';
    dnsmasq = await startDnsmasq(records);
    echo = await tcpEcho();
    mixed = await freePort();
    dns = await freePort();
    api = await freePort();
    cli = await startCli(
      [
        `mixed-port: ${mixed}`,
        'bind-address: 127.0.0.1',
        'workers: 2',
        'log-level: info',
        `external-controller: 127.0.0.1:${api}`,
        'dns:',
        '  enable: true',
        `  listen: 127.0.0.1:${dns}`,
        '  enhanced-mode: fake-ip',
        '  fake-ip-range: 198.18.0.1/16',
        `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
        'rules:',
        '  - DOMAIN-SUFFIX,test,DIRECT',
        '  - MATCH,REJECT',
        '',
      ].join('\n'),
    );
    await cli.waitForLine(/Initial configuration complete/, 20_000);
  });

  after(async () => {
    for (const s of open) s.destroy();
    if (cli && cli.proc.exitCode === null) await cli.stop();
    await echo?.close();
    await dnsmasq?.stop();
  });

  test('one DNS listener (the primary); a fake IP from it maps back in both workers', async () => {
    assert.equal(cli.lines.filter((l) => l.includes(`DNS server(UDP) listening at: 127.0.0.1:${dns}`)).length, 1, cli.lines.join('\n'));
    const workers = new Set(cli.lines.map((l) => READY.exec(l)?.[2]).filter(Boolean).map(Number));
    assert.equal(workers.size, 2);
    const fakes: string[] = [];
    for (let i = 0; i < NAMES; i++) {
      const a = await dig(dns, `n${i}.test`);
      assert.match(a.answers[0] ?? '', /^198\.18\./, a.raw);
      fakes.push(a.answers[0]);
    }
    assert.equal(new Set(fakes).size, NAMES, 'one address per name');
    // each connection right after its own answer: the worker that takes it must already know it
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < NAMES; i++) {
        const fresh = (await dig(dns, `r${round}x${i}.n${i}.test`)).answers[0];
        assert.match(fresh ?? '', /^198\.18\./);
        open.push(await echoThrough(mixed, fakes[i], echo.port));
      }
      const owners = ownersOf(echo.port);
      if ([...owners.keys()].filter((p) => workers.has(p)).length === 2) break;
    }
    const owners = ownersOf(echo.port);
    assert.deepEqual(new Set([...owners.keys()].filter((p) => workers.has(p))), workers, `connections by worker pid: ${JSON.stringify([...owners])}`);
    for (let i = 0; i < NAMES; i++) assert.ok(cli.lines.some((l) => l.includes(`--> n${i}.test:${echo.port} match DomainSuffix(test) using DIRECT`)), `n${i}.test routed by name`);
    assert.equal(cli.lines.filter((l) => /match Match using REJECT/.test(l)).length, 0, 'no fake IP was routed as a bare IP');
    for (const s of open.splice(0)) s.destroy();
  });

  test('/dns/query answers from the same pool; a name first asked there maps back in the workers', async () => {
    const viaDig = (await dig(dns, 'n1.test')).answers[0];
    const q = await fetch(`http://127.0.0.1:${api}/dns/query?name=n1.test&type=A`);
    assert.equal(q.status, 200);
    const body = (await q.json()) as { Status: number; Answer?: { data: string }[] };
    assert.equal(body.Status, 0);
    assert.equal(body.Answer?.[0]?.data, viaDig);
    const fresh = (await (await fetch(`http://127.0.0.1:${api}/dns/query?name=api-first.test`)).json()) as { Answer?: { data: string }[] };
    const ip = fresh.Answer?.[0]?.data ?? '';
    assert.match(ip, /^198\.18\./);
    for (let i = 0; i < 10; i++) (await echoThrough(mixed, ip, echo.port)).destroy();
    assert.ok(cli.lines.some((l) => l.includes(`--> api-first.test:${echo.port} match DomainSuffix(test) using DIRECT`)));
  });

  test('/cache/fakeip/flush empties the pool in the primary and every worker; /cache/dns/flush answers 204', async () => {
    const old = (await dig(dns, 'n3.test')).answers[0];
    const r = await fetch(`http://127.0.0.1:${api}/cache/fakeip/flush`, { method: 'POST' });
    assert.equal(r.status, 204);
    const rejectsBefore = cli.lines.filter((l) => l.includes(`--> ${old}:${echo.port} match Match using REJECT`)).length;
    for (let i = 0; i < 10; i++) {
      const s = await socks5Connect(mixed, old, echo.port).catch((err: Error) => err);
      if (!(s instanceof Error)) {
        s.write('x');
        const closed = await Promise.race([once(s, 'close').then(() => true), new Promise((res) => setTimeout(() => res(false), 2000))]);
        s.destroy();
        assert.ok(closed, 'an unmapped fake IP is not relayed');
      }
    }
    const rejects = () => cli.lines.filter((l) => l.includes(`--> ${old}:${echo.port} match Match using REJECT`)).length - rejectsBefore;
    // the workers' log lines reach the CLI's stdout a moment later
    assert.ok(await eventually(() => rejects() === 10, 5000), `every worker forgot the mapping: routed as the bare IP (${rejects()} of 10)`);
    assert.equal((await dig(dns, 'after-flush.test')).answers[0], '198.18.0.2', 'the pool starts over');
    assert.equal((await fetch(`http://127.0.0.1:${api}/cache/dns/flush`, { method: 'POST' })).status, 204);
  });
});
