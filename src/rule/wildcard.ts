import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { ruleHost } from './destination.js';
import { normaliseDomain } from './domain.js';
import { payloadError } from './rule-error.js';

/**
 * Whether `name` matches the glob `pattern`: `*` stands for any run of characters (dots
 * included), `?` for exactly one. One backtrack point: at worst pattern × name steps, never
 * exponential, so a hostile pattern cannot blow up.
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    const c = pattern.charCodeAt(p);
    if (p < pattern.length && (c === 0x3f /* ? */ || c === name.charCodeAt(n))) {
      p++;
      n++;
    } else if (p < pattern.length && c === 0x2a /* * */) {
      star = p++;
      mark = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 0x2a) p++;
  return p === pattern.length;
}

/**
 * DOMAIN-WILDCARD,pattern,TARGET: the destination domain matches the glob (`*` any characters,
 * `?` one), case-insensitively. An IP destination has no domain and never matches.
 */
export class DomainWildcardRule implements Rule {
  readonly type = 'DomainWildcard';
  readonly needsIp = false;
  readonly payload: string;
  constructor(
    pattern: string,
    readonly target: string,
  ) {
    if (pattern === '') throw payloadError('DOMAIN-WILDCARD', pattern, 'empty pattern');
    this.payload = normaliseDomain(pattern);
  }
  match(meta: Metadata): boolean {
    const host = ruleHost(meta);
    return host !== '' && globMatch(this.payload, host);
  }
}
