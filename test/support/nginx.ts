import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

/** A real nginx (Debian's) serving static files on 127.0.0.1 and [::1]. */
export interface Nginx {
  readonly port: number;
  readonly pid: number;
  /** served files: name → content */
  readonly files: ReadonlyMap<string, Buffer>;
  stop(): Promise<void>;
}

const NGINX = '/usr/sbin/nginx';

/** Starts nginx with its own prefix, config and a probed free port; files of random bytes. */
export async function startNginx(fileSizes: Record<string, number> = { 'small.bin': 1024, 'big.bin': 4 << 20 }): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'clash-ts-nginx-'));
  const www = join(prefix, 'www');
  mkdirSync(www);
  const files = new Map<string, Buffer>();
  for (const [name, size] of Object.entries(fileSizes)) {
    const data = randomBytes(size);
    writeFileSync(join(www, name), data);
    files.set(name, data);
  }
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
master_process on;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 10000;
  server {
    listen 127.0.0.1:${port};
    listen [::1]:${port};
    root ${www};
    location / { }
  }
}
`,
  );
  const proc: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  try {
    await Promise.race([
      waitForPort(port),
      exited.then(() => {
        throw new Error(`nginx exited at startup: ${stderr}`);
      }),
    ]);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    pid: proc.pid!,
    files,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
