/**
 * The soak's periodic actions, each bounded and counted: a config reload (PUT /configs?force=true
 * with the config text), a selector switch (PUT /proxies/sel), a bulk download from nginx through
 * a protocol row (its sha256 checked).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Row, SoakConfig } from './config.js';
import type { Controller } from './controller.js';
import { errorKind, type LoadStats } from './stats.js';

/** PUT /configs?force=true with the next generation's text: 204 expected. */
export async function reload(ctl: Controller, cfg: SoakConfig, generation: number, stats: LoadStats): Promise<void> {
  try {
    const r = await ctl.request('PUT', '/configs?force=true', { payload: cfg.yaml(generation) }, 30_000);
    if (r.status !== 204) throw new Error(`HTTP ${r.status} ${r.body.slice(0, 200)}`);
    stats.reloads++;
  } catch (err) {
    stats.error(errorKind('reload', err), String((err as Error)?.message ?? err));
  }
}

/** PUT /proxies/:group to the member after the current one: 204 expected. */
export async function switchSelector(ctl: Controller, cfg: SoakConfig, turn: number, stats: LoadStats): Promise<void> {
  const name = cfg.group.members[turn % cfg.group.members.length];
  try {
    const r = await ctl.request('PUT', `/proxies/${encodeURIComponent(cfg.group.name)}`, { name });
    if (r.status !== 204) throw new Error(`HTTP ${r.status} ${r.body.slice(0, 200)}`);
    stats.switches++;
  } catch (err) {
    stats.error(errorKind('switch', err), String((err as Error)?.message ?? err));
  }
}

/** GET http://127.0.0.1:nginx/file as a forward-proxy request through `row`; the body's hash checked. */
export function bulkDownload(row: Row, nginxPort: number, file: string, expected: Buffer, stats: LoadStats, timeoutMs = 120_000): Promise<void> {
  const want = createHash('sha256').update(expected).digest('hex');
  return new Promise<void>((resolve) => {
    const fail = (err: unknown): void => {
      stats.error(errorKind(`bulk ${row.name}`, err), String((err as Error)?.message ?? err));
      resolve();
    };
    const req = http.request(
      { host: '127.0.0.1', port: row.port, method: 'GET', path: `http://127.0.0.1:${nginxPort}/${file}`, agent: false, headers: { Host: `127.0.0.1:${nginxPort}`, Connection: 'close' }, timeout: timeoutMs },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(new Error(`HTTP ${res.statusCode}`));
          return;
        }
        const h = createHash('sha256');
        let n = 0;
        res.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        res.on('error', fail);
        res.on('end', () => {
          if (n === expected.length && h.digest('hex') === want) {
            stats.bytesVerified += n;
            stats.bulkOk++;
          } else {
            stats.bytesCorrupted += n;
            stats.error(`bulk ${row.name}: mismatch`, `${n} of ${expected.length} bytes, hash differs`);
          }
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('bulk timeout'), { code: 'timeout' })));
    req.on('error', fail);
    req.end();
  });
}
