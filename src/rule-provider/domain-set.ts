import type { DomainSet } from '../core/geo.js';
import { BASE, DomainTable, EXACT, UNDER } from '../common/domain-table.js';
import { isTrimSpace } from './payload.js';

/** A node of the wildcard label trie (entries with a `*` label, rare in real sets). */
interface WildNode {
  children?: Map<string, WildNode>;
  /** an entry ends here */
  end?: boolean;
  /** a `+.`/`.` entry ends here: every deeper name matches */
  deep?: boolean;
}

/**
 * Why mihomo's domain trie refuses an entry (component/trie ValidAndSplitDomain): a trailing
 * dot, surrounding white space, an empty label other than a leading one, a slash (the rule
 * strategy's own check). undefined = valid.
 */
export function invalidDomainEntry(entry: string, from = 0, to = entry.length): string | undefined {
  const n = to - from;
  if (n <= 0) return 'empty';
  const last = entry.charCodeAt(to - 1);
  if (last === 0x2e) return 'trailing dot';
  if (isTrimSpace(entry.charCodeAt(from)) || isTrimSpace(last)) return 'white space';
  for (let i = from; i < to; i++) {
    const c = entry.charCodeAt(i);
    if (c === 0x2f) return 'slash';
    // an empty label: two dots in a row (a leading dot is the `.x` form)
    if (c === 0x2e && i + 1 < to && entry.charCodeAt(i + 1) === 0x2e) return 'empty label';
  }
  return undefined;
}

/** true when every character is ASCII and none is upper case */
function plainLower(s: string, from = 0, to = s.length): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || (c >= 0x41 && c <= 0x5a)) return false;
  }
  return true;
}

/** true when text[from, to) is lower-case ASCII without a `*` */
function plainName(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || (c >= 0x41 && c <= 0x5a) || c === 0x2a) return false;
  }
  return true;
}

/**
 * A domain rule-set as mihomo's domain behaviour reads it, by hashed names rather than a scan:
 * - `example.com` matches that name only;
 * - `+.example.com` matches it and every name under it;
 * - `.example.com` matches every name under it, not itself;
 * - `*.example.com` matches exactly one label in place of the `*` (a `*` label anywhere).
 * A lookup costs one hash probe per label of the name (plus a short label-trie walk when the set
 * holds `*` entries).
 */
export class HashedDomainSet implements DomainSet {
  /** ASCII names: exact (EXACT) and those whose strict subdomains match (UNDER) */
  readonly #table = new DomainTable();
  /** the rare non-ASCII names (a punycode failure kept as text) */
  readonly #exact = new Set<string>();
  readonly #under = new Set<string>();
  #wild: WildNode | undefined;
  #count = 0;

  /** entries accepted (as mihomo counts them: `+.x` is one) */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds the entry text[from, to) (a payload's line, unsliced); returns why it was refused, or
   * undefined when added. Plain lower-case ASCII names without `*` (nearly all) go straight
   * into the table from the text; the rest take the string way.
   */
  insertRange(text: string, from: number, to: number): string | undefined {
    if (to - from > 0xffff || !plainName(text, from, to)) {
      return this.insert(text.slice(from, to));
    }
    const why = invalidDomainEntry(text, from, to);
    if (why !== undefined) return why;
    this.#count++;
    const c0 = text.charCodeAt(from);
    if (c0 === 0x2b /* + */ && text.charCodeAt(from + 1) === 0x2e) this.#table.add(text, EXACT | UNDER, from + 2, to);
    else if (c0 === 0x2e) this.#table.add(text, UNDER, from + 1, to);
    else this.#table.add(text, EXACT, from, to);
    return undefined;
  }

  /** Adds one entry; returns why it was refused, or undefined when added. */
  insert(raw: string): string | undefined {
    const why = invalidDomainEntry(raw);
    if (why !== undefined) return why;
    const entry = plainLower(raw) ? raw : raw.toLowerCase();
    this.#count++;
    const c0 = entry.charCodeAt(0);
    if (c0 === 0x2b /* + */ && entry.charCodeAt(1) === 0x2e) this.#add(entry.slice(2), EXACT | UNDER);
    else if (c0 === 0x2e) this.#add(entry.slice(1), UNDER);
    else this.#add(entry, EXACT);
    return undefined;
  }

  /**
   * Adds one key as an mrs file stores it. A `+.x` key counts for x itself too: files in the
   * wild hold `+.x` alone for a DOMAIN-SUFFIX (mihomo's own writer adds an `x` key beside it),
   * so reading it as "strictly under x" would drop every suffix's base name. Written back, it
   * stays `+.x` alone.
   */
  insertMrsKey(key: string): string | undefined {
    if (key.startsWith('+.')) {
      const why = invalidDomainEntry(key);
      if (why !== undefined) return why;
      this.#count++;
      this.#add(key.slice(2).toLowerCase(), UNDER | BASE);
      return undefined;
    }
    return this.insert(key);
  }

  #add(name: string, flags: number): void {
    if (name.indexOf('*') >= 0 && (name === '*' || name.startsWith('*.') || name.includes('.*.') || name.endsWith('.*'))) {
      let node = (this.#wild ??= {});
      const labels = name.split('.');
      for (let i = labels.length - 1; i >= 0; i--) {
        node.children ??= new Map();
        let next = node.children.get(labels[i]);
        if (!next) node.children.set(labels[i], (next = {}));
        node = next;
      }
      if (flags & UNDER) node.deep = true;
      if (flags & (EXACT | BASE)) node.end = true;
      return;
    }
    if (name.length <= 0xffff && plainLower(name)) this.#table.add(name, flags);
    else {
      if (flags & (EXACT | BASE)) this.#exact.add(name);
      if (flags & UNDER) this.#under.add(name);
    }
  }

  has(domain: string): boolean {
    const name = domain.length > 0 && domain.charCodeAt(domain.length - 1) === 0x2e ? domain.slice(0, -1) : domain;
    if (name === '') return false;
    if (this.#table.matches(name)) return true;
    if (this.#exact.has(name)) return true;
    const under = this.#under;
    if (under.size > 0) {
      for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
        if (under.has(name.slice(dot + 1))) return true;
      }
    }
    if (this.#wild === undefined) return false;
    const labels = name.split('.');
    return wildHas(this.#wild, labels, labels.length - 1);
  }

  /**
   * Every entry in mihomo's DomainSet key form: `x` (exact), `+.x` (strictly under x; mihomo's
   * set writes `+.x` for both `.x` and the deep half of `+.x`), `*.x`. For the mrs writer.
   */
  *keys(): Generator<string> {
    for (const [name, flags] of this.#table.entries()) {
      if (flags & EXACT) yield name;
      if (flags & UNDER) yield `+.${name}`;
    }
    yield* this.#exact;
    for (const u of this.#under) yield `+.${u}`;
    if (this.#wild) yield* wildKeys(this.#wild, []);
  }
}

function wildHas(node: WildNode, labels: readonly string[], i: number): boolean {
  if (i < 0) return node.end === true;
  if (node.deep) return true;
  const c = node.children;
  if (!c) return false;
  const exact = c.get(labels[i]);
  if (exact && wildHas(exact, labels, i - 1)) return true;
  const star = c.get('*');
  return star !== undefined && wildHas(star, labels, i - 1);
}

function* wildKeys(node: WildNode, path: string[]): Generator<string> {
  const name = path.join('.');
  if (node.end) yield name;
  if (node.deep) yield `+.${name}`;
  for (const [label, child] of node.children ?? []) yield* wildKeys(child, [label, ...path]);
}
