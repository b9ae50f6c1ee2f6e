// The HTTP (CONNECT) outbound against tinyproxy and squid, with and without Basic auth, through
// the shared conformance suite; TLS to the proxy by a small Node terminator in front of tinyproxy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { hasCode } from '../../src/core/errors.js';
import type { Outbound } from '../../src/core/outbound.js';
import { createSystemResolver, type SystemResolver } from '../../src/dns/system-resolver.js';
import { httpSchema } from '../../src/protocol/http/options.js';
import { createHttpOutbound, httpDefinition } from '../../src/protocol/http/outbound.js';
import type { OutboundDeps } from '../../src/protocol/registry.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { warmPoolLookup } from '../../src/transport/warm-connect.js';
import { conformance, metaFor } from '../conformance/suite.js';
import { testCerts } from '../support/certs.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { holdFinUntilEchoed } from '../support/fin-after-echo.js';
import { freePort } from '../support/ports.js';
import { tcpEcho } from '../support/servers.js';
import { testWarmPool } from '../support/warm.js';
import { startTlsFront } from '../support/tls-front.js';

const USER = 'alice';
const PASS = 's3cret-pw';

function makeDeps(): { deps: OutboundDeps; resolver: SystemResolver } {
  const resolver = createSystemResolver({ ipv6: true });
  return { resolver, deps: { resolver, log: createLogger('silent'), dialer: createSystemDialer({ resolver }) } };
}

/** tinyproxy in the foreground; no ConnectPort line means CONNECT to any port is allowed. */
async function startTinyproxy(auth: boolean): Promise<{ peer: Peer; port: number }> {
  const port = await freePort();
  const dir = peerDir('tinyproxy');
  const conf = writePeerFile(
    dir,
    'tinyproxy.conf',
    [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', 'MaxClients 100', 'Allow 127.0.0.1', 'LogLevel Warning', ...(auth ? [`BasicAuth ${USER} ${PASS}`] : []), ''].join('\n'),
  );
  return { peer: await startPeer({ name: 'tinyproxy', command: 'tinyproxy', args: ['-d', '-c', conf], readyPort: port }), port };
}

/**
 * squid without a daemon (-N), its pid, logs and cache dir in a temp dir it can write after
 * dropping to its own user. CONNECT goes to any port except 1, which is denied so that a 403
 * can be seen. Auth: basic_ncsa_auth with an htpasswd file made by openssl.
 */
async function startSquid(auth: boolean): Promise<{ peer: Peer; port: number }> {
  const port = await freePort();
  const dir = peerDir('squid');
  chmodSync(dir, 0o777);
  const lines = [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${dir}/squid.pid`,
    `cache_log ${dir}/cache.log`,
    'access_log none',
    'cache deny all',
    `coredump_dir ${dir}`,
    'pinger_enable off',
    'shutdown_lifetime 0 seconds',
    'acl blocked port 1',
    'http_access deny blocked',
  ];
  if (auth) {
    const hash = execFileSync('openssl', ['passwd', '-apr1', PASS]).toString().trim();
    const passwd = writePeerFile(dir, 'passwd', `${USER}:${hash}\n`);
    chmodSync(passwd, 0o644);
    lines.push(`auth_param basic program /usr/lib/squid/basic_ncsa_auth ${passwd}`, 'acl authed proxy_auth REQUIRED', 'http_access allow localhost authed');
  } else {
    lines.push('http_access allow localhost');
  }
  lines.push('http_access deny all', '');
  const conf = writePeerFile(dir, 'squid.conf', lines.join('\n'));
  return { peer: await startPeer({ name: 'squid', command: 'squid', args: ['-N', '-f', conf], readyPort: port }), port };
}

/** An outbound built the way a config builds it: YAML mapping → schema → definition. */
function fromYaml(deps: OutboundDeps, mapping: Record<string, unknown>): Outbound {
  return httpDefinition.create(httpSchema.parse({ type: 'http', server: '127.0.0.1', ...mapping }), deps);
}

for (const auth of [false, true]) {
  conformance(`HTTP CONNECT against tinyproxy${auth ? ' (Basic auth)' : ''}`, async () => {
    const { peer, port } = await startTinyproxy(auth);
    const { deps, resolver } = makeDeps();
    const make = (password: string): Outbound => fromYaml(deps, { name: 'tp', port, ...(auth ? { username: USER, password } : {}) });
    return {
      outbound: holdFinUntilEchoed(make(PASS)),
      ...(auth ? { wrongCredentials: make('wrong') } : {}),
      udp: false,
      // tinyproxy and squid end a CONNECT tunnel on the first EOF from either side, so a FIN
      // either way closes both directions; see holdFinUntilEchoed
      serverHalfClose: false,
      killServer: () => peer.kill(),
      async teardown() {
        await peer.stop();
        resolver.close();
      },
    };
  });

  conformance(`HTTP CONNECT against squid${auth ? ' (Basic auth, basic_ncsa_auth)' : ''}`, async () => {
    const { peer, port } = await startSquid(auth);
    const { deps, resolver } = makeDeps();
    const make = (password: string): Outbound => fromYaml(deps, { name: 'squid', port, ...(auth ? { username: USER, password } : {}) });
    return {
      outbound: holdFinUntilEchoed(make(PASS)),
      ...(auth ? { wrongCredentials: make('wrong') } : {}),
      udp: false,
      // tinyproxy and squid end a CONNECT tunnel on the first EOF from either side, so a FIN
      // either way closes both directions; see holdFinUntilEchoed
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
  conformance(`HTTP CONNECT over TLS (terminator in front of tinyproxy; sni + test CA)${warm ? ', warm pool on' : ''}`, async () => {
    const { peer, port } = await startTinyproxy(true);
    const front = await startTlsFront(port);
    const { deps, resolver } = makeDeps();
    const tls = { serverName: 'localhost', ca: testCerts().caPem };
    const pools = testWarmPool(deps, warm);
    const warmPool = warmPoolLookup(pools.registry, { server: '127.0.0.1', port: front.port, tls }, {});
    // `ca` is not a mihomo key: the test reaches it through the factory, not the YAML schema
    const make = (password: string): Outbound =>
      createHttpOutbound({
        name: 'tp-tls',
        server: { host: '127.0.0.1', port: front.port },
        dialer: deps.dialer,
        connect: { auth: { username: USER, password } },
        tls,
        warmPool,
      });
    return {
      outbound: holdFinUntilEchoed(make(PASS)),
      wrongCredentials: make('wrong'),
      udp: false,
      serverHalfClose: false, // tinyproxy: see above
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

describe('HTTP outbound against real proxies: refusals and TLS options', () => {
  let deps: OutboundDeps;
  let resolver: SystemResolver;
  const stops: (() => Promise<void>)[] = [];
  before(() => ({ deps, resolver } = makeDeps()));
  after(async () => {
    for (const s of stops.reverse()) await s();
    resolver.close();
  });
  const dial = (o: Outbound, port = 9) => o.dialTcp(metaFor({ host: '127.0.0.1', port }), { signal: AbortSignal.timeout(8000) });

  test('tinyproxy: 401/407 with wrong or missing credentials, in one clear message', async () => {
    const { peer, port } = await startTinyproxy(true);
    stops.push(() => peer.stop());
    for (const extra of [{ username: USER, password: 'wrong' }, {}]) {
      await assert.rejects(dial(fromYaml(deps, { name: 'tp', port, ...extra })), (e: unknown) => {
        assert.ok(hasCode(e, 'AUTH'));
        // tinyproxy answers a CONNECT with bad credentials 401, not 407
        assert.match((e as Error).message, /^proxy "tp": upstream answered (401 Unauthorized|407 Proxy Authentication Required)$/);
        return true;
      });
    }
  });

  test('squid: 403 for a denied port, 503 for a refused destination, 407 without credentials', async () => {
    const { peer, port } = await startSquid(false);
    stops.push(() => peer.stop());
    await assert.rejects(dial(fromYaml(deps, { name: 'sq', port }), 1), /^ProxyError: proxy "sq": upstream answered 403 Forbidden$/);
    await assert.rejects(dial(fromYaml(deps, { name: 'sq', port }), await freePort()), (e: unknown) => {
      assert.ok(hasCode(e, 'DIAL_FAILED'));
      assert.match((e as Error).message, /^proxy "sq": upstream answered 503 Service Unavailable$/);
      return true;
    });
    const authed = await startSquid(true);
    stops.push(() => authed.peer.stop());
    await assert.rejects(dial(fromYaml(deps, { name: 'sq', port: authed.port })), /proxy "sq": upstream answered 407 Proxy Authentication Required/);
  });

  test('TLS: sni is sent, fingerprint pins, a wrong pin and an unverifiable certificate fail clearly', async () => {
    const { peer, port } = await startTinyproxy(false);
    const front = await startTlsFront(port);
    stops.push(async () => {
      await front.close();
      await peer.stop();
    });
    const base = { name: 'tls', port: front.port, tls: true };
    const fp = testCerts().fingerprint;
    // pinned by fingerprint (colon form accepted), SNI from `sni`; then a destination through it
    const pinned = fromYaml(deps, { ...base, sni: 'proxy.example', fingerprint: fp.match(/../g)!.join(':').toUpperCase() });
    const d = await tcpEcho('127.0.0.1');
    const s = await dial(pinned, d.port);
    s.write('over tls');
    const [echoed] = (await once(s, 'data')) as [Buffer];
    s.destroy();
    assert.equal(echoed.toString(), 'over tls');
    await d.close();
    assert.equal(front.serverNames.at(-1), 'proxy.example');
    // default SNI is the server; an IP literal sends none
    await dial(fromYaml(deps, { ...base, server: 'localhost', 'skip-cert-verify': true }), 9).catch(() => undefined);
    assert.equal(front.serverNames.at(-1), 'localhost');
    await assert.rejects(dial(fromYaml(deps, { ...base, fingerprint: 'ab'.repeat(32) })), (e: unknown) => {
      assert.ok(hasCode(e, 'DIAL_FAILED'));
      assert.match((e as Error).message, /^proxy "tls": TLS certificate fingerprint mismatch \(got [0-9a-f]{64}\)$/);
      return true;
    });
    await assert.rejects(dial(fromYaml(deps, { ...base, sni: 'localhost' })), /^ProxyError: proxy "tls": TLS handshake: .*certificate/);
    // skip-cert-verify: the TLS passes; tinyproxy cannot reach port 9 and says so
    await assert.rejects(dial(fromYaml(deps, { ...base, 'skip-cert-verify': true })), /proxy "tls": upstream answered 5\d\d/);
  });
});

