import { domainToASCII } from 'node:url';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { ruleHost } from './destination.js';
import { payloadError } from './rule-error.js';

/**
 * A domain payload as mihomo keeps it: lower case, international names in punycode. A name
 * punycode refuses is kept lower-cased rather than rejected, as mihomo ignores that error too.
 */
export function normaliseDomain(text: string): string {
  const lower = text.toLowerCase();
  if (!/[^\x00-\x7f]/.test(lower)) return lower; // plain ASCII: punycode would change nothing
  return domainToASCII(lower) || lower;
}

/** DOMAIN: the destination domain equals the payload. */
export class DomainRule implements Rule {
  readonly type = 'Domain';
  readonly needsIp = false;
  /** the normalised domain, also the key of the engine's domain index */
  readonly payload: string;
  constructor(
    domain: string,
    readonly target: string,
  ) {
    this.payload = normaliseDomain(domain);
  }
  match(meta: Metadata): boolean {
    return ruleHost(meta) === this.payload;
  }
}

/** DOMAIN-SUFFIX: the domain is the payload or ends in `.payload`. */
export class DomainSuffixRule implements Rule {
  readonly type = 'DomainSuffix';
  readonly needsIp = false;
  readonly payload: string;
  readonly #dotted: string;
  constructor(
    suffix: string,
    readonly target: string,
  ) {
    this.payload = normaliseDomain(suffix);
    this.#dotted = `.${this.payload}`;
  }
  match(meta: Metadata): boolean {
    const host = ruleHost(meta);
    return host === this.payload || host.endsWith(this.#dotted);
  }
}

/** DOMAIN-KEYWORD: the domain contains the payload. */
export class DomainKeywordRule implements Rule {
  readonly type = 'DomainKeyword';
  readonly needsIp = false;
  readonly payload: string;
  constructor(
    keyword: string,
    readonly target: string,
  ) {
    this.payload = normaliseDomain(keyword);
  }
  match(meta: Metadata): boolean {
    return ruleHost(meta).includes(this.payload);
  }
}

/**
 * DOMAIN-REGEX: the domain matches the expression, case-insensitively (mihomo compiles with
 * IgnoreCase). mihomo's engine is .NET-flavoured; a leading `(?i)` is dropped because JS
 * cannot write it and it only repeats the flag. A catastrophic pattern is the user's own.
 */
export class DomainRegexRule implements Rule {
  readonly type = 'DomainRegex';
  readonly needsIp = false;
  readonly payload: string;
  readonly #re: RegExp;
  constructor(
    pattern: string,
    readonly target: string,
  ) {
    this.payload = pattern;
    try {
      this.#re = new RegExp(pattern.startsWith('(?i)') ? pattern.slice(4) : pattern, 'i');
    } catch (err) {
      throw payloadError('DOMAIN-REGEX', pattern, (err as Error).message);
    }
  }
  match(meta: Metadata): boolean {
    return this.#re.test(ruleHost(meta));
  }
}
