import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';

/** Result of one curl run: exit code, HTTP status, body hash and length, stderr. */
export interface CurlResult {
  readonly code: number | null;
  readonly status: number;
  readonly sha256: string;
  readonly length: number;
  readonly body: Buffer;
  readonly stderr: string;
}

/** Runs Debian's curl with `args` (bounded by --max-time) and hashes what it received. */
export function curl(args: string[], timeoutSec = 20): Promise<CurlResult> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', String(timeoutSec), '-o', '-', '-w', '\n%{http_code}', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (code) => {
      const all = Buffer.concat(out);
      const nl = all.lastIndexOf(0x0a);
      const body = all.subarray(0, nl);
      const status = Number(all.subarray(nl + 1).toString());
      resolve({ code, status, body, length: body.length, sha256: createHash('sha256').update(body).digest('hex'), stderr });
    });
  });
}

/** sha256 hex of a buffer. */
export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
