/**
 * A process regex as mihomo compiles it (regexp2 with IgnoreCase): case-insensitive; a leading
 * `(?i)` is dropped (JavaScript cannot write it and it only repeats the flag).
 */
export function compileFilterLike(source: string): RegExp {
  return new RegExp(source.startsWith('(?i)') ? source.slice(4) : source, 'i');
}
