// Fault: the proxy server accepts TCP and never answers a byte (a SOCKS5 server that never
// greets back, a Trojan server that never completes TLS). Through the built CLI: every dial
// fails within the 5 s dial bound (mihomo's DefaultTCPTimeout covers the whole dial, TLS and
// protocol handshake included), the client gets a failure reply, and nothing piles up: the
// upstream sees each of our sockets closed, and the CLI's fds go back to where they started.
// (warm-pool off here: its pre-dials have their own 10 s handshake bound, and would blur the count.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { socks5Connect } from '../support/socks-client.js';
import { fdCount, liveConnections, settle, tcpServer, tempHome } from './probe.js';

const PER_PROXY = 30;

let cli: RunningCli | undefined;
let silent: Awaited<ReturnType<typeof tcpServer>>;
let ctlPort: number;
let accepted = 0;

before(async () => {
  // never writes a byte; reads (and drops) only to see our FIN, which closes its side
  silent = await tcpServer((s) => {
    accepted++;
    s.resume();
    s.on('end', () => s.destroy());
  });
  ctlPort = await freePort();
  cli = await startCli(
    [
      `mixed-port: ${await freePort()}`,
      `external-controller: 127.0.0.1:${ctlPort}`,
      'proxies:',
      `  - { name: s5, type: socks5, server: 127.0.0.1, port: ${silent.port} }`,
      `  - { name: tj, type: trojan, server: 127.0.0.1, port: ${silent.port}, password: x, sni: example.com, skip-cert-verify: true, warm-pool: false }`,
      `  - { name: vl, type: vless, server: 127.0.0.1, port: ${silent.port}, uuid: 6f1e0a44-54d2-4c4e-9a4b-0b2a1c8e2f11, tls: true, servername: example.com, skip-cert-verify: true, network: ws, ws-opts: { path: /x }, warm-pool: false }`,
      'rules:',
      '  - DST-PORT,1001,s5',
      '  - DST-PORT,1002,tj',
      '  - DST-PORT,1003,vl',
      '  - MATCH,DIRECT',
      '',
    ].join('\n'),
    1,
    ['-d', tempHome('silent')],
  );
  await cli.waitForLine(/RESTful API listening at/);
});

after(async () => {
  await cli?.stop();
  await silent?.close();
});

/** One SOCKS5 CONNECT through the CLI: how long until it failed, and how (REP code or a close). */
async function attempt(port: number, destPort: number): Promise<{ ms: number; outcome: string }> {
  const t0 = Date.now();
  try {
    const s = await Promise.race([
      socks5Connect(port, '127.0.0.1', destPort),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), 15_000).unref()),
    ]);
    s.destroy();
    return { ms: Date.now() - t0, outcome: 'connected' };
  } catch (err) {
    const rep = (err as { rep?: number }).rep;
    return { ms: Date.now() - t0, outcome: rep !== undefined ? `rep ${rep}` : (err as Error).message };
  }
}

test(`a server that accepts and never answers: ${PER_PROXY} dials per proxy fail within the dial bound, nothing left open`, async () => {
  const port = cli!.ports.get('Mixed(http+socks)')!;
  // warm the process up (first-use allocations), then take the baseline
  await attempt(port, 1001);
  await settle(() => silent.sockets.size, (n) => n === 0, 5000);
  const fdsBefore = fdCount(cli!.pid);
  accepted = 0;

  const runs = await Promise.all([1001, 1002, 1003].flatMap((p) => Array.from({ length: PER_PROXY }, () => attempt(port, p))));
  const worst = Math.max(...runs.map((r) => r.ms));
  const outcomes = new Set(runs.map((r) => r.outcome));
  // SOCKS5 REP 6 (TTL expired) is how a dial timeout is answered
  assert.deepEqual([...outcomes], ['rep 6'], `outcomes: ${[...outcomes].join(', ')}`);
  assert.ok(worst < 8000, `the slowest failure took ${worst} ms`);
  assert.equal(accepted, 3 * PER_PROXY, 'every dial reached the silent server');

  // nothing piles up: the upstream saw every socket closed, the tracker is empty, fds are back
  assert.equal(await settle(() => silent.sockets.size, (n) => n === 0, 5000), 0, 'sockets to the silent server left open');
  assert.equal(await liveConnections(ctlPort), 0);
  const fdsAfter = await settle(() => fdCount(cli!.pid), (n) => n <= fdsBefore + 2, 5000);
  assert.ok(fdsAfter <= fdsBefore + 2, `fds ${fdsBefore} → ${fdsAfter}`);
  // one warning per failed dial, naming the timeout
  const timeouts = cli!.lines.filter((l) => /level=warning/.test(l) && /timeout/i.test(l));
  assert.ok(timeouts.length >= 3 * PER_PROXY, `${timeouts.length} timeout lines:\n${cli!.lines.slice(-5).join('\n')}`);
});

test('a client that resets while the dial hangs: the upstream socket is closed at once (a FIN alone is a half-close: the dial runs to its bound)', async () => {
  const port = cli!.ports.get('Mixed(http+socks)')!;
  const before = accepted;
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => {});
  await once(c, 'connect');
  c.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 1002 >> 8, 1002 & 0xff]));
  await settle(() => accepted, (n) => n > before, 3000);
  c.resetAndDestroy();
  assert.equal(await settle(() => silent.sockets.size, (n) => n === 0, 1500), 0, 'the dial outlived its client');
});
