import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

/**
 * The functions with the most self time in the newest V8 .cpuprofile under `dir` (as written by
 * `node --cpu-prof`), as "share  function file:line" lines, then one line with the share of
 * clash-ts's own code (functions in dist/); idle time is left out of the shares.
 */
export function topFunctions(dir: string, count = 15): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  } catch {
    return [];
  }
  const last = files.at(-1);
  if (!last) return [];
  const p = JSON.parse(readFileSync(join(dir, last), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let own = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i])?.callFrame;
    if (!cf || cf.functionName === '(idle)') continue;
    if (cf.url.includes('/dist/')) own += p.timeDeltas[i] ?? 0;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    const dt = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const share = (t: number): string => `${((t / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;
  return [
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([k, t]) => `${share(t)}  ${k}`),
    `${share(own)}  (all of clash-ts's own functions, dist/*, together)`,
  ];
}
