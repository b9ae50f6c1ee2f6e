import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { createLogger } from '../../common/log.js';
import type { Metadata } from '../../core/metadata.js';
import { hasCode } from '../../core/errors.js';
import type { Dialer } from '../../core/outbound.js';
import { createTrojan } from './outbound.js';
import { trojanSchema } from './options.js';
import { testCerts } from '../../../test/support/certs.js';

const meta = (host: string, port: number): Metadata => ({
  id: '1',
  network: 'tcp',
  inbound: { type: 'SOCKS5', name: 'test', port: 0 },
  source: { host: '127.0.0.1', port: 1 },
  destination: { host, port },
});

/** A dialer of loopback sockets (no resolver involved). */
const dialer: Dialer = {
  dialTcp: (to) =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: to.host, port: to.port, allowHalfOpen: true });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }),
  dialUdp: () => Promise.reject(new Error('no udp')),
};
const deps = { dialer, log: createLogger('silent'), resolver: { resolve4: async () => [], resolve6: async () => [], resolveIp: async () => undefined } };

test('the request and the first bytes arrive as one TLS record, then bytes flow both ways', async () => {
  const certs = testCerts();
  const records: Buffer[] = [];
  const server = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, (s) => {
    s.once('data', (b: Buffer) => {
      records.push(b);
      s.end('pong');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const o = createTrojan(trojanSchema.parse({ name: 't', type: 'trojan', server: '127.0.0.1', port, password: 'password', fingerprint: certs.fingerprint }), deps);
  const c = await o.dialTcp(meta('example.com', 80), { signal: AbortSignal.timeout(5000) });
  const parts: Buffer[] = [];
  c.on('data', (b: Buffer) => parts.push(b));
  c.write('ping');
  await once(c, 'end');
  assert.equal(Buffer.concat(parts).toString(), 'pong');
  const first = records[0];
  assert.equal(first.subarray(0, 56).toString(), 'd63dc919e201d7bc4c825630d2cf25fdc93d4b2f0d46706d29038d01');
  assert.equal(first.subarray(56).toString('hex'), '0d0a01030b' + Buffer.from('example.com').toString('hex') + '00500d0a' + Buffer.from('ping').toString('hex'));
  c.destroy();
  server.close();
});

test('a dead server is a DIAL_FAILED naming the server address', async () => {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const o = createTrojan(trojanSchema.parse({ name: 't', type: 'trojan', server: '127.0.0.1', port, password: 'x' }), deps);
  await assert.rejects(o.dialTcp(meta('example.com', 80), { signal: AbortSignal.timeout(5000) }), (e) => {
    assert.ok(hasCode(e, 'DIAL_FAILED'));
    assert.match((e as Error).message, new RegExp(`^127\\.0\\.0\\.1:${port} connect error`));
    return true;
  });
});
