import { parse as parseYaml } from 'yaml';

/** mihomo's rule-provider formats. */
export type RuleFormat = 'yaml' | 'text' | 'mrs';

/** The entries of a yaml or text payload, and the lines skipped (for warnings). */
export interface PayloadEntries {
  readonly entries: string[];
  /** `line N: why` of lines that are not entries, the first few only */
  readonly skipped: string[];
  /** how many lines were skipped in all */
  readonly skippedCount: number;
}

/** Skipped lines named in warnings; the rest are counted. */
export const MAX_NAMED_SKIPS = 20;

function unquote(value: string): string | undefined {
  const q = value[0];
  if (q !== '"' && q !== "'") {
    // a plain scalar: a ` #` starts a comment
    const hash = value.search(/\s#/);
    return (hash >= 0 ? value.slice(0, hash) : value).trim();
  }
  try {
    const v: unknown = parseYaml(value);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Shortens a line for a warning. */
export function showLine(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}

/** White space as String.prototype.trim sees it. */
export function isTrimSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Calls `each(text, from, to)` for every entry of a text payload, one a line, trimmed; blank
 * lines and `#` or `//` comments skipped (as mihomo's TextRule). One scan of the text, no
 * string per line: a million-line payload becomes a set without a million strings.
 */
export function forEachTextEntry(text: string, each: (text: string, from: number, to: number) => void): void {
  const n = text.length;
  for (let start = 0; start <= n; ) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = n;
    let from = start;
    let to = nl;
    while (from < to && isTrimSpace(text.charCodeAt(from))) from++;
    while (to > from && isTrimSpace(text.charCodeAt(to - 1))) to--;
    const c = text.charCodeAt(from);
    if (from < to && c !== 0x23 /* # */ && !(c === 0x2f && text.charCodeAt(from + 1) === 0x2f)) each(text, from, to);
    start = nl + 1;
  }
}

/** The entries of a text payload as strings (see forEachTextEntry). */
export function textEntries(text: string): PayloadEntries {
  const entries: string[] = [];
  forEachTextEntry(text, (t, from, to) => entries.push(t.slice(from, to)));
  return { entries, skipped: [], skippedCount: 0 };
}

/**
 * The entries of a yaml payload: the list under `payload:` (or `rules:`), read line by line as
 * mihomo does so a million entries need no YAML document in memory. A flow list
 * (`payload: [a, b]`) is read with the YAML parser. Lines in the list that are not `- entry`
 * are skipped and named. Throws when there is no payload.
 */
export function yamlEntries(text: string): PayloadEntries {
  const lines = text.split('\n');
  let head = -1;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#')) continue;
    if (/^(payload|rules)\s*:\s*(#.*)?$/.test(lines[i].trimEnd())) {
      head = i;
      break;
    }
    if (/^(payload|rules)\s*:/.test(lines[i])) return flowEntries(text);
  }
  if (head < 0) throw new Error('file must have a `payload` field');
  const entries: string[] = [];
  const skipped: string[] = [];
  let skippedCount = 0;
  const skip = (i: number, why: string): void => {
    skippedCount++;
    if (skipped.length < MAX_NAMED_SKIPS) skipped.push(`line ${i + 1} ${showLine(lines[i].trim())}: ${why}`);
  };
  for (let i = head + 1; i < lines.length; i++) {
    const raw = lines[i];
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    // the list ends at the next top-level key
    if (!/^\s/.test(raw) && !t.startsWith('-')) break;
    if (t[0] !== '-' || (t.length > 1 && t[1] !== ' ' && t[1] !== '\t')) {
      skip(i, 'not a list entry');
      continue;
    }
    const value = unquote(t.slice(1).trim());
    if (value === undefined) skip(i, 'not a string');
    else if (value !== '') entries.push(value);
  }
  return { entries, skipped, skippedCount };
}

function flowEntries(text: string): PayloadEntries {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`YAML: ${(err as Error).message}`);
  }
  const rec = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
  const list = rec.payload ?? rec.rules;
  if (!Array.isArray(list)) throw new Error('file must have a `payload` field');
  const entries: string[] = [];
  const skipped: string[] = [];
  let skippedCount = 0;
  list.forEach((v, i) => {
    if (typeof v === 'string' || typeof v === 'number') {
      if (String(v) !== '') entries.push(String(v));
      return;
    }
    skippedCount++;
    if (skipped.length < MAX_NAMED_SKIPS) skipped.push(`entry ${i + 1} ${showLine(JSON.stringify(v) ?? String(v))}: not a string`);
  });
  return { entries, skipped, skippedCount };
}
