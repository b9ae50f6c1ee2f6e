/**
 * Marked sections of docs/benchmarks.md owned by the separate benches (warm pool, simulated RTT,
 * multi-core). Each writes only its own section, between `<!-- section:ID -->` and
 * `<!-- /section:ID -->`; the main report keeps every section it finds when it rewrites the
 * file, so running one bench never erases another's results.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const OPEN = (id: string): string => `<!-- section:${id} -->`;
const CLOSE = (id: string): string => `<!-- /section:${id} -->`;
const PATTERN = /<!-- section:([a-z0-9-]+) -->\n([\s\S]*?)<!-- \/section:\1 -->\n?/g;

/** Every marked section of `md`, by id, in file order (bodies without the markers). */
export function readSections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of md.matchAll(PATTERN)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** The markdown of one section with its markers. */
export function renderSection(id: string, body: string): string {
  return `${OPEN(id)}\n${body.trimEnd()}\n${CLOSE(id)}\n`;
}

/** Replaces section `id` of the report at `file` (or appends it; creates the file if missing). */
export function writeSection(file: string, id: string, body: string): void {
  const md = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const block = renderSection(id, body);
  let found = false;
  const next = md.replace(PATTERN, (whole, got: string) => {
    if (got !== id) return whole;
    found = true;
    return block;
  });
  writeFileSync(file, found ? next : `${md.trimEnd()}\n\n${block}`);
}

/** The sections of the report already at `file` (empty when there is none), for a rewrite to keep. */
export function sectionsOf(file: string): Map<string, string> {
  return existsSync(file) ? readSections(readFileSync(file, 'utf8')) : new Map();
}
