/**
 * mihomo's member filters, as JS regular expressions: `filter` is several patterns joined by a
 * backtick (a name matching any of them is kept), `exclude-filter` one pattern, `exclude-type`
 * adapter type names joined by `|` (compared case-insensitively). mihomo's regexp2 takes inline
 * flags such as a leading `(?i)`, which JS does not: a leading flag group becomes the flags.
 */
export function compilePattern(text: string): RegExp {
  const m = /^\(\?([imsx]+)\)/.exec(text);
  if (!m) return new RegExp(text);
  const flags = [...new Set(m[1].replace('x', ''))].join('');
  return new RegExp(text.slice(m[0].length), flags);
}

/** The `filter` patterns: split on backticks, empty parts dropped. Throws on a bad pattern. */
export function compileFilter(text: string | undefined): RegExp[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split('`').map((p) => p.trim()).filter((p) => p !== '').map(compilePattern);
}

/** The `exclude-type` names, lower-cased. */
export function excludedTypes(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split('|').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

/** `names` kept by the filter patterns, in pattern order then name order (mihomo's order), each once. */
export function filterNames(names: readonly string[], patterns: readonly RegExp[]): string[] {
  if (patterns.length === 0) return [...names];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const re of patterns) {
    for (const n of names) {
      if (!seen.has(n) && re.test(n)) {
        seen.add(n);
        out.push(n);
      }
    }
  }
  return out;
}
