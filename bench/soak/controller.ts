/** A client of the clash-ts controller for the soak: one fresh connection per request (no keep-alive fd). */
import http from 'node:http';

/** One sample of a Prometheus text exposition. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Controller {
  constructor(
    readonly port: number,
    readonly secret: string,
  ) {}

  /** A bounded request; resolves with status and body. */
  request(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: false,
          headers: {
            Authorization: `Bearer ${this.secret}`,
            Connection: 'close',
            ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timeout after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  async metrics(): Promise<PromSample[]> {
    const r = await this.request('GET', '/metrics');
    if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
    return parseProm(r.body);
  }

  /** live connections in the tracker (GET /connections) */
  async connections(): Promise<number> {
    const r = await this.request('GET', '/connections');
    if (r.status !== 200) throw new Error(`GET /connections: ${r.status}`);
    return ((JSON.parse(r.body) as { connections: unknown[] | null }).connections ?? []).length;
  }
}

/** Reads the sample lines of a Prometheus text exposition (comments skipped). */
export function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a family's samples whose labels include `match`. */
export function sum(samples: readonly PromSample[], name: string, match: Record<string, string> = {}): number {
  let n = 0;
  for (const s of samples) if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) n += s.value;
  return n;
}
