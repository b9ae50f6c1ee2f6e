import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.js';
import { hardNofile, spawnPeer, type BenchProc, type Pin } from './proc.js';

/** The HTTP target: Debian's nginx serving a small and a large file on 127.0.0.1. */
export interface Target {
  readonly port: number;
  readonly proc: BenchProc;
  readonly smallSize: number;
  readonly bigSize: number;
}

/** Writes `size` random bytes to `file` in 1 MiB pieces (no large buffer held). */
function writeRandom(file: string, size: number): void {
  const fd = openSync(file, 'w');
  const piece = randomBytes(Math.min(size, 1 << 20));
  for (let left = size; left > 0; left -= piece.length) writeSync(fd, piece, 0, Math.min(left, piece.length));
  closeSync(fd);
}

/**
 * Starts nginx with its own prefix and config on a probed free port: one worker, room for
 * 10,000+ held connections, idle keep-alive kept for 5 minutes (held tunnels must survive).
 */
export async function startTarget(dir: string, pin: Pin, bigSize: number, live: Set<BenchProc>): Promise<Target> {
  const prefix = join(dir, 'nginx');
  const www = join(prefix, 'www');
  mkdirSync(www, { recursive: true });
  const smallSize = 1024;
  writeRandom(join(www, 'small.bin'), smallSize);
  writeRandom(join(www, 'big.bin'), bigSize);
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, www, '127.0.0.1', port));
  const proc = await spawnPeer({
    live,
    name: 'nginx',
    command: '/usr/sbin/nginx',
    args: ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')],
    pin,
    readyPort: port,
    logFile: join(prefix, 'stdout.log'),
  });
  return { port, proc, smallSize, bigSize };
}

/** An ECDSA P-256 certificate for localhost: cheap handshakes, so the TLS rows measure the proxies. */
export interface BenchCert {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes a self-signed ECDSA certificate with Debian's openssl. */
export function makeCert(dir: string): BenchCert {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}

/**
 * The bench's nginx config: one worker under `prefix`, serving `www` on host:port, room for
 * 10,000+ held connections, idle keep-alive kept for 5 minutes (held tunnels must survive).
 */
export function nginxConf(prefix: string, www: string, host: string, port: number): string {
  return `worker_processes 1;
daemon off;
master_process off;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log error;
worker_rlimit_nofile ${hardNofile()};
events { worker_connections 30000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_header_timeout 300s;
  sendfile on;
  tcp_nopush on;
  server {
    listen ${host}:${port} backlog=4096;
    root ${www};
    location / { }
  }
}
`;
}
