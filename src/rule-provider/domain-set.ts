import type { DomainSet } from '../core/geo.js';

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
export function invalidDomainEntry(entry: string): string | undefined {
  if (entry === '') return 'empty';
  if (entry.endsWith('.')) return 'trailing dot';
  if (/^\s|\s$/.test(entry)) return 'white space';
  if (entry.includes('/')) return 'slash';
  const labels = entry.split('.');
  if (labels.length === 1 && labels[0] === '') return 'empty';
  for (let i = 1; i < labels.length; i++) if (labels[i] === '') return 'empty label';
  return undefined;
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
  readonly #exact = new Set<string>();
  /** names whose strict subdomains match */
  readonly #under = new Set<string>();
  #wild: WildNode | undefined;
  #count = 0;

  /** entries accepted (as mihomo counts them: `+.x` is one) */
  get count(): number {
    return this.#count;
  }

  /** Adds one entry; returns why it was refused, or undefined when added. */
  insert(raw: string): string | undefined {
    const why = invalidDomainEntry(raw);
    if (why !== undefined) return why;
    const entry = raw.toLowerCase();
    this.#count++;
    if (entry.startsWith('+.')) {
      this.#add(entry.slice(2), false);
      this.#add(entry.slice(2), true);
    } else if (entry.startsWith('.')) {
      this.#add(entry.slice(1), true);
    } else {
      this.#add(entry, false);
    }
    return undefined;
  }

  #add(name: string, under: boolean): void {
    if (name === '*' || name.startsWith('*.') || name.includes('.*.') || name.endsWith('.*')) {
      let node = (this.#wild ??= {});
      const labels = name.split('.');
      for (let i = labels.length - 1; i >= 0; i--) {
        node.children ??= new Map();
        let next = node.children.get(labels[i]);
        if (!next) node.children.set(labels[i], (next = {}));
        node = next;
      }
      if (under) node.deep = true;
      else node.end = true;
      return;
    }
    (under ? this.#under : this.#exact).add(name);
  }

  has(domain: string): boolean {
    const name = domain.length > 0 && domain.charCodeAt(domain.length - 1) === 0x2e ? domain.slice(0, -1) : domain;
    if (name === '') return false;
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
