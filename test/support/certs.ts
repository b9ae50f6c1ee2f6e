import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerDir } from './peer.js';

/** A test CA and a server certificate for `localhost`, 127.0.0.1 and ::1, as files and PEM. */
export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the server certificate (DER), lower-case hex: mihomo's `fingerprint` */
  readonly fingerprint: string;
}

const EXTENSIONS = [
  'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  'basicConstraints=CA:FALSE',
  'keyUsage=digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  '',
].join('\n');

let cached: TestCerts | undefined;

/** Makes (once per process) a CA and a server certificate with Debian's openssl. */
export function testCerts(): TestCerts {
  if (cached) return cached;
  const dir = peerDir('certs');
  const p = (f: string) => join(dir, f);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=clash-ts test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', p('server.key'), '-out', p('server.csr')]);
  writeFileSync(p('ext.cnf'), EXTENSIONS);
  run(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('ext.cnf'), '-out', p('server.pem')]);
  const certPem = readFileSync(p('server.pem'), 'utf8');
  const fingerprint = createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
  cached = {
    dir,
    caFile: p('ca.pem'),
    certFile: p('server.pem'),
    keyFile: p('server.key'),
    caPem: readFileSync(p('ca.pem'), 'utf8'),
    certPem,
    keyPem: readFileSync(p('server.key'), 'utf8'),
    fingerprint,
  };
  return cached;
}
