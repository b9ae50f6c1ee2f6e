import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { testCerts } from '../../test/support/certs.js';
import { createLogger } from '../common/log.js';
import { createSystemResolver } from '../dns/system-resolver.js';
import { buildTransport, transportShape } from './build.js';
import { z } from 'zod';
import { createSystemDialer } from './system-dialer.js';
import { WarmPoolRegistry } from './warm-pool-registry.js';

const schema = z.looseObject(transportShape);

async function echoOnce(s: import('node:stream').Duplex): Promise<void> {
  s.write('hi');
  const [chunk] = (await once(s, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'hi');
  s.destroy();
}

test('buildTransport takes warm TLS connections when a registry is given, honours warm-pool: false', async () => {
  const c = testCerts();
  const server = tls.createServer({ key: c.keyPem, cert: c.certPem }, (s) => void s.on('error', () => {}).pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const resolver = createSystemResolver({ ipv6: true });
  const log = createLogger('silent');
  const dialer = createSystemDialer({ resolver });
  const warmPool = new WarmPoolRegistry({ log, dialer, defaults: { min: 2, max: 2 }, tuning: { tickMs: 20 } });
  const ctx = { server: '127.0.0.1', port, proxyName: 'p', log, ca: c.caPem, warmPool };
  try {
    const t = buildTransport(schema.parse({ tls: true, sni: 'localhost' }), ctx);
    for (let k = 0; k < 4; k++) {
      await echoOnce(await t.connect(dialer, AbortSignal.timeout(3000)));
      await new Promise((r) => setTimeout(r, 100));
    }
    const [m] = warmPool.metrics();
    assert.ok(m && m.hits >= 2 && m.misses >= 1, JSON.stringify(m));
    // disabled per proxy: dials as before, no second pool appears
    const off = buildTransport(schema.parse({ tls: true, sni: 'localhost', 'warm-pool': false }), ctx);
    await echoOnce(await off.connect(dialer, AbortSignal.timeout(3000)));
    assert.equal(warmPool.metrics().length, 1);
    // h2 and grpc never pool: an h2 server's SETTINGS would drop every parked connection
    for (const network of ['h2', 'grpc']) {
      const t2 = buildTransport(schema.parse({ tls: true, sni: 'localhost', network }), ctx);
      await t2.connect(dialer, AbortSignal.timeout(3000)).then((s) => s.destroy(), () => undefined);
      assert.equal(warmPool.metrics().length, 1, network);
    }
    // per-proxy keys parse (seconds or units) and a bad one is refused
    assert.deepEqual(schema.parse({ 'warm-pool': { max: '3', 'max-idle': '1500ms' } })['warm-pool'], { max: 3, 'max-idle': 1500 });
    assert.equal(schema.safeParse({ 'warm-pool': { 'max-idle': 'soon' } }).success, false);
  } finally {
    warmPool.close();
    resolver.close();
    server.close();
  }
});
