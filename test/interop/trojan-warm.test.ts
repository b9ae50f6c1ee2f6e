// Trojan against trojan-gfw with the TLS warm pool on: the shared conformance suite (the
// protocol header must ride as the first bytes of an already-handshaken TLS connection), plus
// checks that warm connections are really used and that a killed server's are never handed out.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { createTrojan } from '../../src/protocol/trojan/outbound.js';
import { trojanSchema } from '../../src/protocol/trojan/options.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { WarmPoolRegistry } from '../../src/transport/warm-pool-registry.js';
import { conformance, metaFor } from '../conformance/suite.js';
import { testCerts } from '../support/certs.js';
import { peerDir, startPeer, writePeerFile } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { tcpEcho } from '../support/servers.js';

/** trojan-gfw on a free port, with an HTTP fallback that drops non-HTTP. */
async function startTrojan(password: string) {
  const certs = testCerts();
  const fallback = http.createServer((_q, res) => res.end('fallback'));
  fallback.on('clientError', (_e, s) => s.destroy());
  fallback.listen(0, '127.0.0.1');
  await once(fallback, 'listening');
  const port = await freePort();
  const config = {
    run_type: 'server',
    local_addr: '127.0.0.1',
    local_port: port,
    remote_addr: '127.0.0.1',
    remote_port: (fallback.address() as AddressInfo).port,
    password: [password],
    log_level: 2,
    ssl: { cert: certs.certFile, key: certs.keyFile, alpn: ['http/1.1'], reuse_session: true, session_ticket: false },
    tcp: { no_delay: true, keep_alive: true, fast_open: false },
  };
  const file = writePeerFile(peerDir('trojan-warm'), 'config.json', JSON.stringify(config));
  const peer = await startPeer({ name: 'trojan', command: 'trojan', args: ['-c', file], readyPort: port });
  const closeFallback = async () => {
    fallback.closeAllConnections();
    await new Promise((r) => fallback.close(r));
  };
  return { port, peer, closeFallback };
}

/** Trojan outbounds whose deps carry a warm pool registry (min 2 so the pool is warm early). */
function outbounds(port: number) {
  const resolver = createSystemResolver({ ipv6: true });
  const log = createLogger('silent');
  const dialer = createSystemDialer({ resolver });
  const warmPool = new WarmPoolRegistry({ log, dialer, defaults: { enable: true, min: 2, max: 4, maxIdleMs: 3000 }, tuning: { tickMs: 50 } });
  const deps = { resolver, log, dialer, warmPool };
  const make = (password: string) =>
    createTrojan(trojanSchema.parse({ name: 't', type: 'trojan', server: '127.0.0.1', port, password, sni: 'localhost', fingerprint: testCerts().fingerprint, udp: true }), deps);
  return { make, warmPool, close: () => (warmPool.close(), resolver.close()) };
}

conformance('Trojan tls against trojan-gfw, warm pool on', async () => {
  const password = randomBytes(12).toString('hex');
  const s = await startTrojan(password);
  const o = outbounds(s.port);
  return {
    outbound: o.make(password),
    wrongCredentials: o.make('not-the-password'),
    udp: true,
    clientHalfClose: false,
    serverHalfClose: false,
    killServer: () => s.peer.kill(),
    async teardown() {
      o.close();
      await s.peer.stop();
      await s.closeFallback();
    },
  };
});

async function roundTrip(outbound: ReturnType<ReturnType<typeof outbounds>['make']>, port: number): Promise<void> {
  const c = await outbound.dialTcp(metaFor({ host: '127.0.0.1', port }), { signal: AbortSignal.timeout(5000) });
  c.on('error', () => {});
  const msg = randomBytes(64);
  c.write(msg);
  const got: Buffer[] = [];
  let n = 0;
  for await (const chunk of c) {
    got.push(chunk as Buffer);
    n += (chunk as Buffer).length;
    if (n >= msg.length) break;
  }
  assert.deepEqual(Buffer.concat(got), msg);
  c.destroy();
}

test('warm connections are used (hits), and after a server kill none is handed out', async () => {
  const password = randomBytes(12).toString('hex');
  const s = await startTrojan(password);
  const echo = await tcpEcho();
  const o = outbounds(s.port);
  const out = o.make(password);
  try {
    for (let k = 0; k < 8; k++) {
      await roundTrip(out, echo.port);
      await new Promise((r) => setTimeout(r, 60));
    }
    const m = o.warmPool.metrics();
    assert.equal(m.length, 1);
    assert.ok((m[0]?.hits ?? 0) >= 5, `hits ${m[0]?.hits}`);
    await s.peer.kill();
    const dead = Date.now() + 3000;
    while ((o.warmPool.metrics()[0]?.size ?? 0) > 0 && Date.now() < dead) await new Promise((r) => setTimeout(r, 20));
    assert.equal(o.warmPool.metrics()[0]?.size, 0, 'parked connections of a killed server are dropped');
    await assert.rejects(roundTrip(out, echo.port));
  } finally {
    o.close();
    await s.peer.stop();
    await s.closeFallback();
    await echo.close();
  }
});
