// The SOCKS5 outbound against microsocks and dante-server (danted), through the shared
// conformance suite; TLS in front of microsocks by a small Node terminator.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { hasCode } from '../../src/core/errors.js';
import type { Outbound } from '../../src/core/outbound.js';
import { createSystemResolver, type SystemResolver } from '../../src/dns/system-resolver.js';
import type { OutboundDeps } from '../../src/protocol/registry.js';
import { socks5Schema } from '../../src/protocol/socks5/options.js';
import { createSocks5Outbound, socks5Definition } from '../../src/protocol/socks5/outbound.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import type { TlsOptions } from '../../src/transport/tls.js';
import { conformance, metaFor } from '../conformance/suite.js';
import { testCerts } from '../support/certs.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { holdFinUntilEchoed } from '../support/fin-after-echo.js';
import { freePort } from '../support/ports.js';
import { startTlsFront } from '../support/tls-front.js';
import { testWarmPool } from '../support/warm.js';

const USER = 'alice';
const PASS = 's3cret-pw';

function makeDeps(): { deps: OutboundDeps; resolver: SystemResolver } {
  const resolver = createSystemResolver({ ipv6: true });
  return { resolver, deps: { resolver, log: createLogger('silent'), dialer: createSystemDialer({ resolver }) } };
}

async function startMicrosocks(auth: boolean): Promise<{ peer: Peer; port: number }> {
  const port = await freePort();
  const args = ['-i', '127.0.0.1', '-p', String(port), ...(auth ? ['-u', USER, '-P', PASS] : [])];
  return { peer: await startPeer({ name: 'microsocks', command: 'microsocks', args, readyPort: port }), port };
}

/**
 * danted forks a process per role (negotiate, request, io). It is started under `setsid` (which
 * execs, keeping the PID) so it leads its own process group: killing that group is the only
 * way to stop the io child holding a relayed connection, as "server killed" needs.
 * `passwd`: a directory with passwd/shadow files to bind-mount over /etc in a private mount
 * namespace, for `socksmethod: username` (which checks system accounts).
 */
async function startDante(auth: boolean, passwdDir?: string): Promise<{ peer: Peer; port: number; killGroup: () => Promise<void> }> {
  const port = await freePort();
  const dir = peerDir('danted');
  const conf = writePeerFile(
    dir,
    'danted.conf',
    [
      'logoutput: stderr',
      `internal: 127.0.0.1 port = ${port}`,
      // UDP relays are bound on the external address: loopback, where the destinations are
      'external: 127.0.0.1',
      'external: ::1',
      `socksmethod: ${auth ? 'username' : 'none'}`,
      'clientmethod: none',
      'user.privileged: root',
      'user.unprivileged: nobody',
      'client pass {\n  from: 127.0.0.0/8 to: 0/0\n}',
      'socks pass {\n  from: 127.0.0.0/8 to: 0/0\n  command: connect udpassociate bindreply udpreply\n}',
      '',
    ].join('\n'),
  );
  const danted = ['danted', '-f', conf, '-N', '1'];
  const args = passwdDir
    ? [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind ${join(passwdDir, 'passwd')} /etc/passwd && mount --bind ${join(passwdDir, 'shadow')} /etc/shadow && exec "$@"`,
        'sh',
        ...danted,
      ]
    : danted;
  const peer = await startPeer({ name: 'danted', command: 'setsid', args, readyPort: port });
  const killGroup = async (): Promise<void> => {
    try {
      process.kill(-peer.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await peer.kill();
  };
  const stop = async (): Promise<void> => {
    await peer.stop();
    // children exit with their mother; this only catches stragglers
    await killGroup();
  };
  return { peer: { ...peer, stop }, port, killGroup };
}

/** Whether this host lets us bind-mount in a private mount namespace (root with CAP_SYS_ADMIN). */
function canUnshareMount(): boolean {
  try {
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** passwd/shadow with root, nobody and the test user, for dante's username method. */
function fakeAccounts(): string {
  const dir = peerDir('dante-accounts');
  const hash = execFileSync('openssl', ['passwd', '-6', PASS]).toString().trim();
  writeFileSync(join(dir, 'passwd'), `root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n${USER}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n`);
  writeFileSync(join(dir, 'shadow'), `root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n${USER}:${hash}:19000:0:99999:7:::\n`, { mode: 0o640 });
  return dir;
}

for (const auth of [false, true]) {
  conformance(`SOCKS5 against microsocks${auth ? ' (username/password)' : ''}`, async () => {
    const { peer, port } = await startMicrosocks(auth);
    const { deps, resolver } = makeDeps();
    const make = (password: string): Outbound =>
      socks5Definition.create(
        socks5Schema.parse({ name: 'ms', type: 'socks5', server: '127.0.0.1', port, ...(auth ? { username: USER, password } : {}) }),
        deps,
      );
    return {
      outbound: holdFinUntilEchoed(make(PASS)),
      ...(auth ? { wrongCredentials: make('wrong') } : {}),
      udp: false, // microsocks has no UDP ASSOCIATE
      // microsocks ends the whole relay on the first EOF from either side (its copy loop returns
      // on a zero read): a FIN either way closes both directions; see holdFinUntilEchoed
      serverHalfClose: false,
      killServer: () => peer.kill(),
      async teardown() {
        await peer.stop();
        resolver.close();
      },
    };
  });
}

for (const warm of [false, true]) {
  conformance(`SOCKS5 over TLS (Node terminator in front of microsocks, fingerprint pin)${warm ? ', warm pool on' : ''}`, async () => {
    const { peer, port } = await startMicrosocks(true);
    const front = await startTlsFront(port);
    const { deps: plain, resolver } = makeDeps();
    const pools = testWarmPool(plain, warm);
    const deps = pools.deps;
    const make = (password: string): Outbound =>
      socks5Definition.create(
        socks5Schema.parse({
          name: 'ms-tls',
          type: 'socks5',
          server: '127.0.0.1',
          port: front.port,
          username: USER,
          password,
          tls: true,
          fingerprint: testCerts().fingerprint,
        }),
        deps,
      );
    return {
      outbound: holdFinUntilEchoed(make(PASS)),
      wrongCredentials: make('wrong'),
      udp: false,
      serverHalfClose: false, // microsocks: see above
      killServer: () => peer.kill(),
      releaseHeld: pools.releaseHeld,
      async teardown() {
        pools.close();
        await front.close();
        await peer.stop();
        resolver.close();
      },
    };
  });
}

for (const host of ['127.0.0.1', '::1']) {
  conformance(
    `SOCKS5 against dante-server (UDP ASSOCIATE), destinations on ${host}`,
    async () => {
      const { peer, port, killGroup } = await startDante(false);
      const { deps, resolver } = makeDeps();
      const outbound = socks5Definition.create(socks5Schema.parse({ name: 'dante', type: 'socks5', server: '127.0.0.1', port, udp: true }), deps);
      return {
        outbound,
        // dante relays IPv4 UDP only from its loopback external address; the IPv6 run checks TCP
        udp: host === '127.0.0.1',
        killServer: killGroup,
        async teardown() {
          await peer.stop();
          resolver.close();
        },
      };
    },
    { destinationHost: host },
  );
}

const unshareOk = canUnshareMount();
if (unshareOk) {
  conformance('SOCKS5 against dante-server (username/password, UDP)', async () => {
    const accounts = fakeAccounts();
    const { peer, port, killGroup } = await startDante(true, accounts);
    const { deps, resolver } = makeDeps();
    const make = (password: string): Outbound =>
      socks5Definition.create(socks5Schema.parse({ name: 'dante-auth', type: 'socks5', server: 'localhost', port, username: USER, password, udp: true }), deps);
    return {
      outbound: make(PASS),
      wrongCredentials: make('wrong'),
      udp: true,
      killServer: killGroup,
      async teardown() {
        await peer.stop();
        resolver.close();
      },
    };
  });
} else {
  // dante's username method checks system accounts (getpwnam/shadow); without a private mount
  // namespace we would have to add a real user to this host, which a test must not do
  test('SOCKS5 against dante-server with username/password', { skip: 'needs root to bind-mount test accounts in a private mount namespace' }, () => {});
}

test('TLS to the SOCKS5 server: wrong pin and unknown CA fail clearly; the test CA passes', async () => {
  const { peer, port } = await startMicrosocks(false);
  const front = await startTlsFront(port);
  const { deps, resolver } = makeDeps();
  const dial = (tls: TlsOptions) =>
    createSocks5Outbound({ name: 's', server: { host: '127.0.0.1', port: front.port }, dialer: deps.dialer, tls, udp: false }).dialTcp(
      metaFor({ host: '127.0.0.1', port: 9 }),
      { signal: AbortSignal.timeout(5000) },
    );
  try {
    await assert.rejects(dial({ serverName: '127.0.0.1', fingerprint: 'ab'.repeat(32) }), (e: unknown) => {
      assert.ok(hasCode(e, 'DIAL_FAILED'));
      assert.match((e as Error).message, /^proxy "s": TLS certificate fingerprint mismatch/);
      return true;
    });
    await assert.rejects(dial({ serverName: 'localhost' }), /proxy "s": TLS handshake: .*(self.signed|unable to get local issuer|certificate)/i);
    // with the CA the TLS handshake passes; port 9 is closed, so microsocks refuses the CONNECT
    await assert.rejects(dial({ serverName: 'localhost', ca: testCerts().caPem }), /proxy "s": SOCKS5 server replied: (connection refused \(5\)|general SOCKS server failure \(1\))/);
  } finally {
    await front.close();
    await peer.stop();
    resolver.close();
  }
});
