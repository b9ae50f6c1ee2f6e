// What the controller tests drive it with: Debian's curl (a real HTTP client) and the `ws` package.
import { execFile } from 'node:child_process';
import { WebSocket } from 'ws';

export interface CurlResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Runs curl with `args` and returns status, headers (last response, lower-case) and body. */
export function curl(args: readonly string[], timeoutSec = 20): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-i', '--max-time', String(timeoutSec), '--noproxy', '*', ...args],
      { maxBuffer: 64 << 20, encoding: 'latin1' },
      (err, stdout) => {
        if (err && !stdout) return reject(err);
        const text = Buffer.from(stdout, 'latin1').toString('utf8');
        // the last header block (skip 100 Continue)
        let rest = text;
        let head = '';
        for (;;) {
          const cut = rest.indexOf('\r\n\r\n');
          if (cut < 0) break;
          head = rest.slice(0, cut);
          rest = rest.slice(cut + 4);
          if (!/^HTTP\/\S+ 100/.test(head)) break;
        }
        const lines = head.split('\r\n');
        const status = Number(/^HTTP\/\S+ (\d+)/.exec(lines[0] ?? '')?.[1] ?? 0);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        resolve({ status, headers, body: rest });
      },
    );
  });
}

/** JSON of a curl answer. */
export function json<T = any>(r: CurlResult): T {
  return JSON.parse(r.body) as T;
}

/** Opens a WebSocket and collects its first `n` messages (parsed), bounded by `timeoutMs`. */
export function wsMessages(url: string, n: number, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: opts.headers });
    const got: any[] = [];
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${url}: ${got.length} of ${n} messages in ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5000);
    ws.on('message', (m) => {
      got.push(JSON.parse(m.toString()));
      if (got.length >= n) {
        clearTimeout(t);
        ws.close();
        resolve(got);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(t);
      reject(Object.assign(new Error(`${url}: HTTP ${res.statusCode}`), { status: res.statusCode }));
    });
    ws.on('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

/** The HTTP status a WebSocket handshake was refused with (0 = it opened). */
export async function wsStatus(url: string, headers?: Record<string, string>): Promise<number> {
  try {
    await wsMessages(url, 1, { headers, timeoutMs: 3000 });
    return 0;
  } catch (err) {
    const s = (err as { status?: number }).status;
    if (s === undefined) throw err;
    return s;
  }
}
