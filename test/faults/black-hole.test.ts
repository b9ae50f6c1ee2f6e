// Fault: an upstream that completes its exchange, then black-holes (stops reading and writing;
// its kernel still ACKs, so TCP keep-alive never trips). Through the built CLI with
// `tcp-idle-timeout: 2s`: the relay closes both legs once no byte moved for 2 s; the client sees
// its close, the destination sees our FIN, the controller lists nothing, fds are back.
// Directly and through Shadowsocks (Debian's ss-server).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type net from 'node:net';
import { startCli, type RunningCli } from '../support/cli.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { readN, socks5Connect } from '../support/socks-client.js';
import { drain, fdCount, liveConnections, pattern, settle, sha256, tcpServer, tempHome } from './probe.js';

const IDLE_MS = 2000;
const HELLO = 16 << 10;

let cli: RunningCli | undefined;
let ss: Peer | undefined;
let ctlPort: number;
let hole: Awaited<ReturnType<typeof tcpServer>>;
let hole2: Awaited<ReturnType<typeof tcpServer>>;
const held: net.Socket[] = [];

before(async () => {
  // echoes the first HELLO bytes, then stops reading and writing; the test resumes it later
  const blackHole = (s: net.Socket): void => {
    let n = 0;
    const onData = (c: Buffer): void => {
      s.write(c);
      n += c.length;
      if (n >= HELLO) {
        s.off('data', onData);
        s.pause();
        held.push(s);
      }
    };
    s.on('data', onData);
  };
  hole = await tcpServer(blackHole); // reached DIRECT
  hole2 = await tcpServer(blackHole); // reached through ss-server
  const ssPort = await freePort();
  ss = await startPeer({ name: 'ss-server', command: 'ss-server', args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', 'hole', '-m', 'aes-128-gcm', '-t', '60'], readyPort: ssPort });
  ctlPort = await freePort();
  cli = await startCli(
    [
      `mixed-port: ${await freePort()}`,
      `external-controller: 127.0.0.1:${ctlPort}`,
      `tcp-idle-timeout: ${IDLE_MS}ms`,
      'proxies:',
      `  - { name: ss, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: hole }`,
      'rules:',
      `  - DST-PORT,${hole2.port},ss`,
      '  - MATCH,DIRECT',
      '',
    ].join('\n'),
    1,
    ['-d', tempHome('hole')],
  );
  await cli.waitForLine(/RESTful API listening at/);
});

after(async () => {
  await cli?.stop();
  await ss?.stop();
  await hole?.close();
  await hole2?.close();
});

for (const [label, server] of [
  ['DIRECT', () => hole.port],
  ['Shadowsocks (ss-server)', () => hole2.port],
] as const) {
  test(`black hole after the exchange, ${label}: both legs closed after the idle timeout`, async () => {
    const port = cli!.ports.get('Mixed(http+socks)')!;
    const fdsBefore = fdCount(cli!.pid);
    held.length = 0;
    const c = await socks5Connect(port, '127.0.0.1', server());
    const hello = pattern(3, HELLO);
    c.write(hello);
    assert.equal(sha256(await readN(c, HELLO)), sha256(hello), 'the exchange before the black hole');
    await settle(() => held.length, (n) => n === 1, 3000);
    assert.equal(held.length, 1, 'the destination went silent');
    const silentAt = Date.now();
    const end = await drain(c, IDLE_MS + 5000);
    const took = Date.now() - silentAt;
    assert.notEqual(end.how, 'timeout', 'the client leg was never closed');
    assert.ok(took >= IDLE_MS - 200, `closed after ${took} ms, before the idle timeout`);
    assert.ok(took < IDLE_MS + 3000, `closed after ${took} ms`);
    // the far leg: what the destination reads once it looks again is our FIN (or a reset), at once
    const far = held[0];
    const farEnd = await drain(far.resume(), 3000);
    assert.notEqual(farEnd.how, 'timeout', 'the destination leg is still open');
    c.destroy();
    assert.equal(await settle(() => liveConnections(ctlPort), (n) => n === 0, 3000), 0);
    const fdsAfter = await settle(() => fdCount(cli!.pid), (n) => n <= fdsBefore + 2, 5000);
    assert.ok(fdsAfter <= fdsBefore + 2, `fds ${fdsBefore} → ${fdsAfter}`);
  });
}
