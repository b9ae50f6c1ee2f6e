import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { Row } from '../rows.js';
import { CLASH_CLI, clashTestYaml } from './peers.js';

interface RegistryLike {
  get(type: string): unknown;
}

/**
 * Which rows cannot run yet, with the reason. A row runs once every outbound type it needs is
 * in the built registry (dist/protocol/index.js) and `clash-ts -t` accepts its config (which
 * also catches a missing transport such as ws).
 */
export async function availability(rows: readonly Row[], dir: string): Promise<Map<string, string>> {
  const reg = fileURLToPath(new URL('../../dist/protocol/index.js', import.meta.url));
  const mod = (await import(pathToFileURL(reg).href)) as { createRegistry(): RegistryLike };
  const registry = mod.createRegistry();
  const out = new Map<string, string>();
  for (const row of rows) {
    const missing = row.requires.filter((t) => registry.get(t) === undefined);
    if (missing.length > 0) {
      out.set(row.id, `clash-ts has no ${missing.join(', ')} outbound yet`);
      continue;
    }
    const proxy = row.clash(1);
    if (!proxy) continue;
    const file = join(dir, `check-${row.id}.yaml`);
    writeFileSync(file, clashTestYaml(proxy));
    const r = spawnSync(process.execPath, [CLASH_CLI, '-t', '-f', file], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) {
      const why = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' / ');
      out.set(row.id, `clash-ts -t refuses the config: ${why.slice(0, 240)}`);
    }
  }
  return out;
}
