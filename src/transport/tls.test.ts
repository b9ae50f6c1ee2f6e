import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { testCerts } from '../../test/support/certs.js';
import { peerDir } from '../../test/support/peer.js';
import { connectTls } from './tls.js';

/** A certificate signed by the test CA that names only `other.test` (no IP, no localhost). */
function otherNameCert(): { cert: string; key: string } {
  const c = testCerts();
  const dir = peerDir('tls-other');
  const p = (f: string) => join(dir, f);
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=other.test', '-keyout', p('k.pem'), '-out', p('r.csr')], { stdio: 'pipe' });
  writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:other.test\n');
  execFileSync('openssl', ['x509', '-req', '-in', p('r.csr'), '-CA', c.caFile, '-CAkey', join(c.dir, 'ca.key'), '-CAcreateserial', '-days', '1', '-extfile', p('ext.cnf'), '-out', p('c.pem')], { stdio: 'pipe' });
  return { cert: readFileSync(p('c.pem'), 'utf8'), key: readFileSync(p('k.pem'), 'utf8') };
}

async function tlsServer(cert: string, key: string): Promise<{ port: number; close(): void }> {
  const server = tls.createServer({ cert, key }, (s) => {
    s.on('error', () => {});
    s.end('hi');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function handshake(port: number, opts: Parameters<typeof connectTls>[1]): Promise<void> {
  const raw = net.connect({ port, host: '127.0.0.1' });
  const s = await connectTls(raw, opts, AbortSignal.timeout(5000));
  s.destroy();
}

test('an IP server name is checked against the certificate IP SANs, not "localhost"', async () => {
  const c = testCerts();
  const good = await tlsServer(c.certPem, c.keyPem); // SANs: localhost, 127.0.0.1, ::1
  const other = otherNameCert();
  const bad = await tlsServer(other.cert, other.key);
  try {
    await handshake(good.port, { serverName: '127.0.0.1', ca: c.caPem });
    await handshake(good.port, { serverName: 'localhost', ca: c.caPem });
    await assert.rejects(handshake(bad.port, { serverName: '127.0.0.1', ca: c.caPem }), /IP: 127\.0\.0\.1 is not in the cert's list|does not match/);
    await assert.rejects(handshake(bad.port, { serverName: 'localhost', ca: c.caPem }), /localhost/);
    await handshake(bad.port, { serverName: '127.0.0.1', skipCertVerify: true });
    await assert.rejects(handshake(good.port, { serverName: '127.0.0.1', fingerprint: '00'.repeat(32) }), /fingerprint mismatch/);
    await handshake(good.port, { serverName: '127.0.0.1', fingerprint: c.fingerprint });
  } finally {
    good.close();
    bad.close();
  }
});
