import { DomainTable, EXACT, UNDER } from '../common/domain-table.js';
import type { DomainSet } from '../core/geo.js';
import { DOMAIN_DOMAIN, DOMAIN_FULL, DOMAIN_PLAIN, DOMAIN_REGEX } from './dat-schema.js';

/** true when every character is ASCII and none is upper case */
function plainLower(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || (c >= 0x41 && c <= 0x5a)) return false;
  }
  return true;
}

/**
 * A GeoSite category (or any domain list) as hashed names: `full` names match exactly, `domain`
 * names match themselves and every subdomain (probed label by label: one hash lookup per dot of
 * the host, whatever the list's size), keywords match as substrings and regexes as written.
 * Keyword and regex entries are few in real lists and are scanned. ASCII names sit in one packed
 * table (common/domain-table.ts: no string kept per name); the rare others in Sets.
 */
export class SiteSet implements DomainSet {
  readonly #table = new DomainTable();
  readonly #full = new Set<string>();
  readonly #suffix = new Set<string>();
  readonly #keywords: string[] = [];
  readonly #regexes: RegExp[] = [];
  /** entries dropped because their regex does not compile in JavaScript */
  skipped = 0;
  /** entries kept */
  count = 0;

  addFull(name: string): void {
    const n = plainLower(name) ? name : name.toLowerCase();
    if (n.length <= 0xffff && plainLower(n)) this.#table.add(n, EXACT);
    else this.#full.add(n);
    this.count++;
  }

  addSuffix(name: string): void {
    const n = plainLower(name) ? name : name.toLowerCase();
    if (n.length > 0 && n.length <= 0xffff && plainLower(n)) this.#table.add(n, EXACT | UNDER);
    else this.#suffix.add(n);
    this.count++;
  }

  addKeyword(word: string): void {
    this.#keywords.push(word.toLowerCase());
    this.count++;
  }

  addRegex(pattern: string): void {
    try {
      this.#regexes.push(new RegExp(pattern));
      this.count++;
    } catch {
      this.skipped++;
    }
  }

  /** One GeoSite.dat domain entry, by its type. */
  add(type: number, value: string): void {
    if (type === DOMAIN_FULL) this.addFull(value);
    else if (type === DOMAIN_DOMAIN) this.addSuffix(value);
    else if (type === DOMAIN_PLAIN) this.addKeyword(value);
    else if (type === DOMAIN_REGEX) this.addRegex(value);
    else this.skipped++;
  }


  has(domain: string): boolean {
    if (domain.length === 0) return false;
    if (this.#table.matches(domain)) return true;
    if (this.#full.has(domain)) return true;
    if (this.#suffix.size > 0) {
      if (this.#suffix.has(domain)) return true;
      for (let dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        if (this.#suffix.has(domain.slice(dot + 1))) return true;
      }
    }
    for (const k of this.#keywords) if (domain.includes(k)) return true;
    for (const r of this.#regexes) if (r.test(domain)) return true;
    return false;
  }
}

/** `!category`: every domain the inner set does not hold. */
export class NotSiteSet implements DomainSet {
  constructor(readonly inner: DomainSet) {}
  has(domain: string): boolean {
    return domain.length > 0 && !this.inner.has(domain);
  }
}
