/**
 * SOCKS5 UDP through proxy chains, with real servers nobody here wrote: a relay group
 * [dante-server, ss-server] and an ss proxy with `dialer-proxy` through dante (each ss datagram
 * rides dante's UDP ASSOCIATE to ss-server -u, which sends it on to a UDP echo server),
 * datagrams hashed both ways; without dante neither carries a datagram. A relay whose last hop
 * has no UDP (microsocks) says so: the API shows udp false, a rule naming it is skipped for UDP
 * as mihomo does, and dialing it for UDP fails with the hop named.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { innerMetadata } from '../../src/core/metadata.js';
import { Host } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { udpEcho, type Local } from '../support/servers.js';
import { socks5UdpAssociate } from '../support/socks-client.js';

const PASS = 'udp-chain-pass';
let echo: Local;
let dante: Peer;
let ss: Peer;
let socksOnly: Peer;
let dantePort: number;
let ssPort: number;
let msPort: number;

/** danted with UDP ASSOCIATE on loopback, leading its own process group (its io children die with it). */
async function startDante(port: number): Promise<Peer> {
  const conf = writePeerFile(
    peerDir('danted-udp-chain'),
    'danted.conf',
    [
      'logoutput: stderr',
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      'socksmethod: none',
      'clientmethod: none',
      'user.privileged: root',
      'user.unprivileged: nobody',
      'client pass {\n  from: 127.0.0.0/8 to: 0/0\n}',
      'socks pass {\n  from: 127.0.0.0/8 to: 0/0\n  command: connect udpassociate bindreply udpreply\n}',
      '',
    ].join('\n'),
  );
  const peer = await startPeer({ name: 'danted', command: 'setsid', args: ['danted', '-f', conf, '-N', '1'], readyPort: port });
  const killGroup = async (): Promise<void> => {
    try {
      process.kill(-peer.pid, 'SIGKILL');
    } catch {
      // gone already
    }
    await peer.kill();
  };
  return { ...peer, stop: killGroup, kill: killGroup };
}

before(async () => {
  echo = await udpEcho();
  dantePort = await freePort();
  dante = await startDante(dantePort);
  ssPort = await freePort();
  ss = await startPeer({ name: 'ss-server', command: 'ss-server', args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', PASS, '-m', 'aes-128-gcm', '-u', '-t', '5'], readyPort: ssPort });
  msPort = await freePort();
  socksOnly = await startPeer({ name: 'microsocks', command: 'microsocks', args: ['-i', '127.0.0.1', '-p', String(msPort)], readyPort: msPort });
});
after(async () => {
  await socksOnly?.stop();
  await ss?.stop();
  await dante?.stop();
  await echo?.close();
});

function yaml(mixed: number, target: string): string {
  return [
    `mixed-port: ${mixed}`,
    'log-level: silent',
    'proxies:',
    `  - { name: dante, type: socks5, server: 127.0.0.1, port: ${dantePort}, udp: true }`,
    `  - { name: ss, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS}, udp: true }`,
    `  - { name: ss-via, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-128-gcm, password: ${PASS}, udp: true, dialer-proxy: dante }`,
    `  - { name: ms, type: socks5, server: 127.0.0.1, port: ${msPort} }`,
    'proxy-groups:',
    '  - { name: chain, type: relay, proxies: [dante, ss] }',
    '  - { name: no-udp, type: relay, proxies: [ss, ms] }',
    'rules:',
    `  - MATCH,${target}`,
    '',
  ].join('\n');
}

/** 30 datagrams of 1,200 random bytes, one at a time, each echoed; the hashes of both directions compared. */
async function hashedDatagrams(mixed: number): Promise<void> {
  const udp = await socks5UdpAssociate(mixed);
  try {
    const sent = createHash('sha256');
    const got = createHash('sha256');
    for (let i = 0; i < 30; i++) {
      const d = randomBytes(1200);
      sent.update(d);
      udp.send(d, '127.0.0.1', echo.port);
      const r = await udp.receive(3000);
      assert.equal(r.port, echo.port, 'from the echo server');
      got.update(r.data);
    }
    assert.equal(got.digest('hex'), sent.digest('hex'));
  } finally {
    udp.close();
  }
}

describe('UDP through chains', () => {
  test('relay [dante, ss-server] and ss with dialer-proxy dante carry datagrams intact; without dante neither does', async () => {
    const mixed = await freePort();
    const host = await Host.start(yaml(mixed, 'chain'), { log: createLogger('silent') });
    try {
      assert.equal(host.control.proxy('chain')!.udp, true);
      await hashedDatagrams(mixed);
      assert.ok(await eventually(() => host.control.connections().some((c) => c.network === 'udp' && c.chains.join(',') === 'ss,chain')), JSON.stringify(host.control.connections().map((c) => c.chains)));
      await host.reload(yaml(mixed, 'ss-via'));
      await hashedDatagrams(mixed);
      // both went through dante: without it no datagram comes back (a new association, a new session)
      await dante.kill();
      await assert.rejects(hashedDatagrams(mixed), /no UDP reply/);
      await host.reload(yaml(mixed, 'chain'));
      await assert.rejects(hashedDatagrams(mixed), /no UDP reply/);
    } finally {
      await host.close(0);
      dante = await startDante(dantePort);
    }
  });

  test('a relay whose last hop has no UDP: udp false, skipped by the rule for UDP (mihomo), and a direct UDP dial names the hop', async () => {
    const mixed = await freePort();
    const host = await Host.start(yaml(mixed, 'no-udp'), { log: createLogger('silent') });
    try {
      assert.equal(host.control.proxy('no-udp')!.udp, false);
      // the only rule names it: the flow falls through to mihomo's end-of-rules DIRECT, never through the relay
      await hashedDatagrams(mixed);
      assert.ok(await eventually(() => host.control.connections().some((c) => c.network === 'udp')));
      for (const c of host.control.connections().filter((x) => x.network === 'udp')) assert.deepEqual(c.chains, ['DIRECT']);
      const relay = host.generation.outbounds.get('no-udp')!;
      await assert.rejects(relay.dialUdp(innerMetadata({ host: '127.0.0.1', port: echo.port }, 'udp'), { signal: AbortSignal.timeout(3000) }), /relay no-udp: ms has no UDP/);
    } finally {
      await host.close(0);
    }
  });
});
