// Fault: the remote proxy server (Debian's ss-server) is killed with SIGKILL in the middle of a
// transfer through the built CLI, then restarted on the same port. The client must see its
// tunnel end promptly (not hang), the core must drop the connection, and new connections must
// work again without restarting clash-ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { socks5Connect } from '../support/socks-client.js';
import { drain, echoThrough, fdCount, liveConnections, pattern, settle, sha256, tcpServer, tempHome } from './probe.js';

const PASS = 'faults-pass';
const METHOD = 'chacha20-ietf-poly1305';

let ssPort: number;
let ctlPort: number;
let ss: Peer | undefined;
let cli: RunningCli | undefined;
let source: Awaited<ReturnType<typeof tcpServer>>;
let echo: Awaited<ReturnType<typeof tcpServer>>;

function startSs(): Promise<Peer> {
  return startPeer({ name: 'ss-server', command: 'ss-server', args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', PASS, '-m', METHOD, '-t', '3'], readyPort: ssPort });
}

before(async () => {
  // a source that streams pattern bytes until the client goes (64 KiB every 5 ms: a transfer
  // that is surely still running when the server dies)
  source = await tcpServer((s) => {
    let off = 0;
    const t = setInterval(() => {
      if (s.destroyed || s.writableEnded) return clearInterval(t);
      s.write(pattern(off, 65536));
      off += 65536;
    }, 5);
    s.on('close', () => clearInterval(t));
  });
  echo = await tcpServer((s) => s.pipe(s));
  ssPort = await freePort();
  ctlPort = await freePort();
  ss = await startSs();
  cli = await startCli(
    [
      `mixed-port: ${await freePort()}`,
      `external-controller: 127.0.0.1:${ctlPort}`,
      'log-level: info',
      'proxies:',
      `  - { name: ss, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: ${METHOD}, password: ${PASS} }`,
      'rules:',
      '  - MATCH,ss',
      '',
    ].join('\n'),
    1,
    ['-d', tempHome('kill')],
  );
  await cli.waitForLine(/RESTful API listening at/);
});

after(async () => {
  await cli?.stop();
  await ss?.stop();
  await source?.close();
  await echo?.close();
});

test('SIGKILL of ss-server mid-transfer: the tunnel ends within 3 s, then new tunnels work after the restart', async () => {
  const port = cli!.ports.get('Mixed(http+socks)')!;
  const fdsBefore = fdCount(cli!.pid);

  // a few live transfers at once
  const socks = await Promise.all([0, 1, 2].map(() => socks5Connect(port, '127.0.0.1', source.port)));
  const ends = socks.map((s) => drain(s, 10_000));
  await new Promise((r) => setTimeout(r, 300)); // bytes are flowing
  assert.equal(await liveConnections(ctlPort), 3);
  const killedAt = Date.now();
  await ss!.kill();
  const results = await Promise.all(ends);
  const took = Date.now() - killedAt;
  for (const r of results) {
    assert.notEqual(r.how, 'timeout', 'a tunnel hung after its server died');
    assert.ok(r.bytes.length > 0, 'bytes flowed before the kill');
    // every byte that did arrive is the source's, in order (nothing corrupted at the cut)
    assert.equal(sha256(r.bytes), sha256(pattern(0, r.bytes.length)));
  }
  assert.ok(took < 3000, `tunnels ended ${took} ms after the kill`);
  for (const s of socks) s.destroy();
  assert.equal(await settle(() => liveConnections(ctlPort), (n) => n === 0, 5000), 0, 'the core still lists dead tunnels');

  // while the server is down: a clean failure, not a hang
  await assert.rejects(socks5Connect(port, '127.0.0.1', echo.port).then((s) => echoThrough(s, pattern(0, 1000), 5000)).then((b) => {
    if (b.length !== 1000) throw new Error(`echo short: ${b.length}`);
  }));

  // the same port again: the next connections recover, clash-ts untouched
  ss = await startSs();
  for (let i = 0; i < 5; i++) {
    const body = pattern(i * 7, 256 << 10);
    const back = await echoThrough(await socks5Connect(port, '127.0.0.1', echo.port), body);
    assert.equal(sha256(back), sha256(body), `echo ${i} after the restart`);
  }
  assert.equal(await settle(() => liveConnections(ctlPort), (n) => n === 0, 5000), 0);
  const fdsAfter = await settle(() => fdCount(cli!.pid), (n) => n <= fdsBefore + 2, 5000);
  assert.ok(fdsAfter <= fdsBefore + 2, `fds ${fdsBefore} → ${fdsAfter}`);
  assert.equal(cli!.proc.exitCode, null, 'clash-ts is still running');
});
