/**
 * A DoH nameserver with a `#proxy` suffix: `https://127.0.0.1:<unbound DoH>/dns-query#ss-proxy`
 * reaches unbound's DoH (HTTP/2 over TLS, a private CA) through our Shadowsocks outbound and a
 * real ss-server: dig against our listener gets unbound's answer, ss-server's verbose log shows
 * the connection to unbound's DoH port, and with ss-server gone the query fails (SERVFAIL) at
 * once: the kept HTTP/2 session over the proxy is dropped when the proxy's stream ends.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { testCerts } from '../support/certs.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { dig } from './dig.js';
import { startUnbound, type Unbound } from './peers.js';

const PASS = 'doh-through-ss';
let unbound: Unbound;
let ss: Peer;
let ssPort: number;

before(async () => {
  unbound = await startUnbound({ 'a.test': '10.7.7.1', 'b.test': '10.7.7.2' });
  ssPort = await freePort();
  ss = await startPeer({
    name: 'ss-server',
    command: 'ss-server',
    args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', PASS, '-m', 'chacha20-ietf-poly1305', '-t', '10', '-v'],
    readyPort: ssPort,
  });
});

after(async () => {
  await ss?.stop();
  await unbound?.stop();
});

test('DoH through #ss-proxy: answered by unbound via a real ss-server; without ss-server the query fails', async () => {
  const dns = await freePort();
  const log = createLogger('silent');
  const host = await Host.start(
    [
      `mixed-port: ${await freePort()}`,
      'proxies:',
      `  - { name: ss-proxy, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: chacha20-ietf-poly1305, password: ${PASS} }`,
      'dns:',
      '  enable: true',
      `  listen: 127.0.0.1:${dns}`,
      `  nameserver: ['https://127.0.0.1:${unbound.dohPort}/dns-query#ss-proxy']`,
      'rules:',
      '  - MATCH,DIRECT',
    ].join('\n'),
    { log, probeCa: testCerts().caPem },
  );
  try {
    const a = await dig(dns, 'a.test');
    assert.deepEqual(a.answers, ['10.7.7.1'], a.raw);
    // ss-server -v logs each connection it makes: the DoH port of unbound
    assert.match(ss.output(), new RegExp(`connect to 127\\.0\\.0\\.1:${unbound.dohPort}`), ss.output());
    // several more names over the kept session
    for (let i = 0; i < 5; i++) assert.deepEqual((await dig(dns, 'b.test')).answers, ['10.7.7.2']);
    await ss.stop();
    await host.control.flushDnsCache();
    const t0 = Date.now();
    const ex = await host.control.dnsExchange!('b.test', 'A').then((m) => m.status, (e: Error) => e.message);
    assert.equal(ex, 2, 'SERVFAIL');
    // the kept h2 session died with the proxy: the query fails at once, not after the 5 s timeout
    assert.ok(Date.now() - t0 < 2000, `failed in ${Date.now() - t0} ms`);
    const gone = await dig(dns, 'b.test');
    assert.equal(gone.status, 'SERVFAIL', gone.raw);
  } finally {
    await host.close(0);
  }
});
